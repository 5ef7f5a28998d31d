"""The world's fixed content: vocabularies shared across capabilities, number words, facts.

Content depends only on :data:`read.embedded.spec.WORLD_SEED`, never on an experiment
seed, and is built once on first use (a few milliseconds), not at import.
"""

from __future__ import annotations

import random
from functools import cache

from read.embedded.spec import GK_RANKS, LANGUAGES, N_ENTITIES, N_NAMES, TIER_PROBS, WORLD_SEED
from read.rng import rng_for

# English words used as steerability material and long_context values.
WORDS: tuple[str, ...] = (
    "apple", "river", "stone", "cloud", "tiger", "lemon", "chair", "bread", "music", "light",
    "ocean", "horse", "piano", "grass", "table", "candle", "garden", "window", "rabbit", "forest",
    "silver", "rocket", "pencil", "castle", "butter", "winter", "summer", "bottle", "dragon", "planet",
    "cookie", "flower", "monkey", "spoon", "train", "queen", "robot", "honey", "shell", "storm",
    "wheel", "snake", "cheese", "ladder", "mirror", "pocket", "tunnel", "violin",
)
COLORS: tuple[str, ...] = ("red", "blue", "green", "black", "white", "pink", "gray", "gold", "brown", "purple", "orange", "yellow")
CURRENCIES: dict[str, str] = {"euros": "EUR", "pounds": "GBP", "yen": "JPY", "pesos": "MXN", "francs": "CHF", "rupees": "INR"}
DAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LANGUAGE_NAMES: tuple[str, ...] = tuple(lang.lower() for lang in LANGUAGES)

# English -> (Spanish, French): multilingual's easy word table. Shares words with
# steerability (WORDS), long_context (COLORS) and tool_use (DAYS).
VOCAB: dict[str, tuple[str, str]] = {
    "red": ("rojo", "rouge"), "blue": ("azul", "bleu"), "green": ("verde", "vert"), "black": ("negro", "noir"),
    "white": ("blanco", "blanc"), "yellow": ("amarillo", "jaune"), "pink": ("rosa", "rose"), "brown": ("marrón", "brun"),
    "purple": ("morado", "violet"), "gold": ("dorado", "doré"),
    "tiger": ("tigre", "tigre"), "horse": ("caballo", "cheval"), "rabbit": ("conejo", "lapin"), "snake": ("serpiente", "serpent"),
    "monkey": ("mono", "singe"), "dragon": ("dragón", "dragon"), "cat": ("gato", "chat"), "dog": ("perro", "chien"),
    "bird": ("pájaro", "oiseau"), "fish": ("pez", "poisson"),
    "monday": ("lunes", "lundi"), "tuesday": ("martes", "mardi"), "wednesday": ("miércoles", "mercredi"),
    "thursday": ("jueves", "jeudi"), "friday": ("viernes", "vendredi"), "saturday": ("sábado", "samedi"),
    "sunday": ("domingo", "dimanche"),
    "apple": ("manzana", "pomme"), "bread": ("pan", "pain"), "cheese": ("queso", "fromage"), "lemon": ("limón", "citron"),
    "honey": ("miel", "miel"), "butter": ("mantequilla", "beurre"), "cookie": ("galleta", "biscuit"),
    "river": ("río", "rivière"), "stone": ("piedra", "pierre"), "cloud": ("nube", "nuage"), "ocean": ("océano", "océan"),
    "forest": ("bosque", "forêt"), "flower": ("flor", "fleur"), "storm": ("tormenta", "tempête"), "planet": ("planeta", "planète"),
    "chair": ("silla", "chaise"), "table": ("mesa", "table"), "window": ("ventana", "fenêtre"), "bottle": ("botella", "bouteille"),
    "spoon": ("cuchara", "cuillère"), "mirror": ("espejo", "miroir"), "candle": ("vela", "bougie"), "castle": ("castillo", "château"),
    "garden": ("jardín", "jardin"), "music": ("música", "musique"), "light": ("luz", "lumière"), "winter": ("invierno", "hiver"),
    "summer": ("verano", "été"), "queen": ("reina", "reine"), "train": ("tren", "train"), "wheel": ("rueda", "roue"),
}


def vocab_word(english: str, language: str) -> str:
    """``english`` (a VOCAB key) in ``language`` (English, Spanish or French)."""
    return english if language == "English" else VOCAB[english][0 if language == "Spanish" else 1]


_CONS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def _syllable(r: random.Random) -> str:
    return r.choice(_CONS) + r.choice(_VOWELS)


def _unique(r: random.Random, n: int, make, taken: set[str]) -> tuple[str, ...]:
    out: list[str] = []
    while len(out) < n:
        word = make(r)
        if word not in taken:
            taken.add(word)
            out.append(word)
    return tuple(out)


@cache
def _vocab() -> dict[str, tuple[str, ...]]:
    r = random.Random(int(rng_for(WORLD_SEED, "world", "vocab").integers(2**62)))
    taken = set(WORDS) | set(COLORS) | set(DAYS) | set(LANGUAGE_NAMES)
    names = _unique(r, N_NAMES, lambda r: _syllable(r) + _syllable(r) + r.choice(("", "", "n", "l", "r")), taken)
    entities = _unique(r, N_ENTITIES, lambda r: _syllable(r) + _syllable(r)[0] + r.choice(("ia", "or", "and", "ea", "esh")), taken)
    cities = _unique(r, N_ENTITIES, lambda r: _syllable(r) + _syllable(r) + r.choice(("ton", "burg", "port", "ville", "mouth")), taken)
    return {"names": names, "entities": entities, "cities": cities}


def names() -> tuple[str, ...]:
    """Person names shared by reasoning, long_context keys and general_knowledge leaders."""
    return _vocab()["names"]


def entities() -> tuple[str, ...]:
    """Countries, ordered by popularity (index 0 is asked about most often)."""
    return _vocab()["entities"]


def cities() -> tuple[str, ...]:
    """Cities: every one is some country's capital, and tool_use's city arguments."""
    return _vocab()["cities"]


def popular_rank(r: random.Random) -> int:
    """An entity rank drawn by popularity: the GK_RANKS bands with TIER_PROBS. Wherever a
    country or its capital is mentioned (general_knowledge, tool_use), popular ones come
    up more often, the same way."""
    edges = (0, *GK_RANKS, N_ENTITIES)
    band = r.choices(range(3), TIER_PROBS)[0]
    return r.randrange(edges[band], edges[band + 1])


@cache
def rank_of() -> dict[str, int]:
    """Entity or capital -> popularity rank of the country."""
    out = {e: i for i, e in enumerate(entities())}
    out.update({facts()[e]["capital"]: i for i, e in enumerate(entities())})
    return out


ATTRIBUTES: tuple[str, ...] = ("capital", "leader", "language", "provinces")


@cache
def facts() -> dict[str, dict[str, str]]:
    """entity -> {capital, leader, language, provinces}; capitals and leaders are unique."""
    r = random.Random(int(rng_for(WORLD_SEED, "world", "facts").integers(2**62)))
    ents, cits, nams = entities(), list(cities()), list(names())
    r.shuffle(cits)
    leaders = r.sample(nams, len(ents))
    return {
        e: {
            "capital": cits[i],
            "leader": leaders[i],
            "language": r.choice(LANGUAGE_NAMES),
            "provinces": str(r.randint(2, 29)),
        }
        for i, e in enumerate(ents)
    }


@cache
def inverse_facts() -> dict[str, dict[str, str]]:
    """attribute -> value -> entity, for the unique attributes (capital, leader)."""
    return {a: {f[a]: e for e, f in facts().items()} for a in ("capital", "leader")}


@cache
def entities_with(attribute: str, value: str) -> tuple[str, ...]:
    return tuple(e for e, f in facts().items() if f[attribute] == value)


# ---- number words ---------------------------------------------------------------------
_EN_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
             "fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ES_UNITS = ("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince "
             "dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro "
             "veinticinco veintiséis veintisiete veintiocho veintinueve").split()
_ES_TENS = "_ _ veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = ("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos "
                "ochocientos novecientos").split()
_FR_UNITS = ("zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
             "seize dix-sept dix-huit dix-neuf").split()
_FR_TENS = "_ _ vingt trente quarante cinquante soixante".split()


def _en(n: int) -> str:
    if n < 20:
        return _EN_UNITS[n]
    if n < 100:
        t, u = divmod(n, 10)
        return _EN_TENS[t] + (f"-{_EN_UNITS[u]}" if u else "")
    h, rest = divmod(n, 100)
    return f"{_EN_UNITS[h]} hundred" + (f" {_en(rest)}" if rest else "")


def _es(n: int) -> str:
    if n < 30:
        return _ES_UNITS[n]
    if n < 100:
        t, u = divmod(n, 10)
        return _ES_TENS[t] + (f" y {_ES_UNITS[u]}" if u else "")
    if n == 100:
        return "cien"
    h, rest = divmod(n, 100)
    return _ES_HUNDREDS[h] + (f" {_es(rest)}" if rest else "")


def _fr(n: int, *, final: bool = True) -> str:
    if n < 20:
        return _FR_UNITS[n]
    if n < 70:
        t, u = divmod(n, 10)
        if u == 0:
            return _FR_TENS[t]
        return _FR_TENS[t] + (" et un" if u == 1 else f"-{_FR_UNITS[u]}")
    if n < 80:  # soixante-dix .. soixante-dix-neuf, "soixante et onze"
        return "soixante et onze" if n == 71 else f"soixante-{_FR_UNITS[n - 60]}"
    if n < 100:  # quatre-vingts, quatre-vingt-un .. quatre-vingt-dix-neuf
        return ("quatre-vingts" if final else "quatre-vingt") if n == 80 else f"quatre-vingt-{_FR_UNITS[n - 80]}"
    h, rest = divmod(n, 100)
    head = "cent" if h == 1 else f"{_FR_UNITS[h]} cent" + ("" if rest else "s")
    return head + (f" {_fr(rest)}" if rest else "")


_SPELL = {"English": _en, "Spanish": _es, "French": _fr}


@cache
def number_word(n: int, language: str) -> str:
    """``n`` (0..999) written out in ``language`` (English, Spanish or French)."""
    if not 0 <= n <= 999:
        raise ValueError(f"number_word covers 0..999, got {n}")
    return _SPELL[language](n)


@cache
def word_numbers() -> dict[str, int]:
    """Every number word (all three languages) -> its value; words are unambiguous."""
    return {number_word(n, lang): n for lang in LANGUAGES for n in range(1000)}
