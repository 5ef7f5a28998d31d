"""long_context: a list of key-value pairs, then the value of one key."""

from __future__ import annotations

import random

from read.embedded.generators.base import Item, Nest, make_item, span
from read.embedded.spec import SPEC
from read.embedded.values import COLORS, WORDS, cities, names

CAP = "long_context"
# template -> (phrasings, key type, value kind)
TEMPLATES = {
    "lc/name_num": (("Notes: {ctx}. What number does {k} have?", "Numbers: {ctx}. What is the number of {k}?",
                     "{ctx}. Give the number of {k}."), "word", "number"),
    "lc/box_word": (("Boxes: {ctx}. What is in box {k}?", "{ctx}. What does box {k} hold?",
                     "Box list: {ctx}. Box {k} has what?"), "number", "thing"),
    "lc/name_tag": (("Homes: {ctx}. Where does {k} live?", "{ctx}. Which city is home to {k}?",
                     "Addresses: {ctx}. What is the city of {k}?"), "word", "city"),
}
THINGS = WORDS + COLORS


def _keys(r: random.Random, key_type: str, n: int) -> list[str]:
    return r.sample(names(), n) if key_type == "word" else [str(k) for k in r.sample(range(1, 100), n)]


def _values(r: random.Random, kind: str, n: int) -> list[str]:
    if kind == "number":
        return [str(r.randrange(100)) for _ in range(n)]
    return [r.choice(THINGS if kind == "thing" else cities()) for _ in range(n)]


def _build(r: random.Random, template: str, keys: list[str], vals: list[str], q: int, nest: Nest | None,
           tier: str) -> Item | None:
    phrases, key_type, _ = TEMPLATES[template]
    k = keys[q]
    if nest is not None:
        k = nest.fill(key_type, keys[q])
        if k is None:
            return None
    ctx = ", ".join(f"{a} {b}" for a, b in zip(keys, vals))
    feats = {"n_pairs": len(keys), "distance": len(keys) - 1 - q}  # pairs between the answer and the question
    return make_item(CAP, r.choice(phrases).format(ctx=ctx, k=k), vals[q], f"{keys[q]} {vals[q]}",
                     template, feats, nest, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    n = span(r, SPEC[CAP].tiers[tier]["n_pairs"])
    options = [t for t, (_, kt, _) in TEMPLATES.items() if nest is None or nest.accepts(kt)]
    if not options:
        return None
    template = r.choice(options)
    _, key_type, kind = TEMPLATES[template]
    return _build(r, template, _keys(r, key_type, n), _values(r, kind, n), r.randrange(n), nest, tier)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type not in ("number", "word"):
        return None
    template = "lc/name_num" if value_type == "number" else "lc/box_word"
    _, key_type, kind = TEMPLATES[template]
    n = SPEC[CAP].tiers["easy"]["n_pairs"][0]
    keys, vals, q = _keys(r, key_type, n), _values(r, kind, n), r.randrange(n)
    vals[q] = value
    return _build(r, template, keys, vals, q, None, "easy")
