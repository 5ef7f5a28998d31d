"""multilingual: numbers 0..999 between digits and English, Spanish and French words, and a
small table of everyday words (the easy tier's other half)."""

from __future__ import annotations

import random

from read.embedded.generators.base import Item, Nest, digits_of, make_item, span
from read.embedded.spec import LANGUAGES, SPEC
from read.embedded.values import VOCAB, number_word, vocab_word

CAP = "multilingual"
TO_WORDS = ("Write {n} in {dst}.", "How do you say {n} in {dst}?", "What is {n} in {dst}?", "Spell {n} in {dst}.",
            "Give the {dst} word for {n}.", "Say {n} in {dst}.")
TRANSLATE = ("Translate '{w}' from {src} to {dst}.", "Say the {src} number '{w}' in {dst}.", "What is '{w}' in {dst}?",
             "Give the {dst} for the {src} number '{w}'.", "Turn the {src} number '{w}' into {dst}.")
TO_DIGITS = ("What number is '{w}'?", "Write '{w}' as digits.", "Give '{w}' in digits.", "Which number is '{w}'?",
             "Write the number '{w}' in digits.")


def parts(n: int) -> str:
    """Place-value decomposition used in rationales: 245 -> '200+40+5'."""
    h, t, u = n // 100 * 100, n % 100 // 10 * 10, n % 10
    bits = [str(x) for x in (h, t, u) if x]
    return "+".join(bits) if bits else "0"


def _to_words(r: random.Random, n: int, nest: Nest | None, tier: str) -> Item | None:
    dst = r.choice(LANGUAGES)
    text = nest.fill("number", str(n)) if nest is not None else str(n)
    if text is None:
        return None
    answer = number_word(n, dst)
    feats = {"digits": digits_of(n), "n_words": len(answer.replace("-", " ").split())}
    return make_item(CAP, r.choice(TO_WORDS).format(n=text, dst=dst), answer, f"{n} = {parts(n)} in {dst}",
                     "multi/to_words", feats, nest, tier)


def _translate(r: random.Random, n: int, tier: str) -> Item:
    src, dst = r.sample(LANGUAGES, 2)
    w, answer = number_word(n, src), number_word(n, dst)
    feats = {"digits": digits_of(n), "n_words": len(answer.replace("-", " ").split())}
    return make_item(CAP, r.choice(TRANSLATE).format(w=w, src=src, dst=dst), answer,
                     f"'{w}' = {parts(n)}" + (f" = {n}" if parts(n) != str(n) else ""), "multi/translate", feats,
                     None, tier)


def _to_digits(r: random.Random, n: int, tier: str) -> Item:
    src = r.choice(LANGUAGES)
    w = number_word(n, src)
    feats = {"digits": digits_of(n), "n_words": len(w.replace("-", " ").split())}
    return make_item(CAP, r.choice(TO_DIGITS).format(w=w), str(n), f"'{w}' is {src}: {parts(n)}",
                     "multi/to_digits", feats, None, tier)


def _word(r: random.Random, english: str, src: str, dst: str, tier: str) -> Item:
    w, answer = vocab_word(english, src), vocab_word(english, dst)
    feats = {"digits": 0, "n_words": 1}
    return make_item(CAP, r.choice(TRANSLATE).format(w=w, src=src, dst=dst).replace(" number", " word"), answer,
                     f"'{w}' is {src} for {english}", "multi/word", feats, None, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    p = SPEC[CAP].tiers[tier]
    n = span(r, p["value"])
    if nest is not None:
        return _to_words(r, n, nest, tier) if nest.accepts("number") else None
    if r.random() < p["vocab_share"]:
        return _word(r, r.choice(list(VOCAB)), *r.sample(LANGUAGES, 2), tier)
    kind = r.randrange(3)
    if kind == 0:
        return _to_words(r, n, None, tier)
    return _translate(r, n, tier) if kind == 1 else _to_digits(r, n, tier)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type == "number" and 0 <= int(value) <= 999:
        return _to_digits(r, int(value), "easy")
    if value_type == "word" and value in VOCAB:
        return _word(r, value, r.choice(LANGUAGES[1:]), "English", "easy")
    return None
