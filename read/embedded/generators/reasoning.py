"""reasoning: who is the most/least X, from stated numbers or from a chain of comparisons."""

from __future__ import annotations

import random

from read.embedded.generators.base import Item, Nest, make_item, span
from read.embedded.spec import SPEC
from read.embedded.values import names

CAP = "reasoning"
# (unit heading, more, less, most, least)
RELATIONS = (("Ages", "older", "younger", "oldest", "youngest"),
             ("Heights", "taller", "shorter", "tallest", "shortest"),
             ("Speeds", "faster", "slower", "fastest", "slowest"),
             ("Savings", "richer", "poorer", "richest", "poorest"))
COMPARE = ("{unit}: {ctx}. Who is {q}?", "Who is {q}? {unit}: {ctx}.", "{ctx} ({low}). Who is {q}?")


def _question(rel: tuple, n: int, more: bool) -> str:
    return rel[1 if more else 2] if n == 2 else rel[3 if more else 4]


def _compare(r: random.Random, people: list[str], vals: list[int], nest: Nest | None, tier: str) -> Item | None:
    rel, more = r.choice(RELATIONS), r.random() < 0.5
    texts = [str(v) for v in vals]
    if nest is not None:
        i = r.randrange(len(vals))
        texts[i] = nest.fill("number", texts[i])
        if texts[i] is None:
            return None
    ctx = ", ".join(f"{p} {t}" for p, t in zip(people, texts))
    q = _question(rel, len(people), more)
    prompt = r.choice(COMPARE).format(unit=rel[0], low=rel[0].lower(), ctx=ctx, q=q)
    best = (max if more else min)(range(len(vals)), key=vals.__getitem__)
    rationale = f"{'max' if more else 'min'} of {' '.join(map(str, vals))} is {vals[best]}: {people[best]}"
    feats = {"n_people": len(people), "hops": 0, "digits": max(len(str(v)) for v in vals)}
    return make_item(CAP, prompt, people[best], rationale, "reas/compare", feats, nest, tier)


def _chain(r: random.Random, order: list[str], shuffle: bool, tier: str, more: bool | None = None) -> Item:
    """``order`` runs from most to least; statements link neighbours; ``more`` asks for the top."""
    rel = r.choice(RELATIONS)
    more = r.random() < 0.5 if more is None else more
    facts = []
    for hi, lo in zip(order, order[1:]):
        facts.append(f"{hi} is {rel[1]} than {lo}." if r.random() < 0.5 else f"{lo} is {rel[2]} than {hi}.")
    if shuffle:
        r.shuffle(facts)
    q = _question(rel, len(order), more)
    answer = order[0] if more else order[-1]
    prompt = f"{' '.join(facts)} Who is {q}?"
    feats = {"n_people": len(order), "hops": len(order) - 1, "digits": 0}
    return make_item(CAP, prompt, answer, f"{' > '.join(order)} by {rel[1]}: {q} is {answer}",
                     "reas/chain", feats, None, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    p = SPEC[CAP].tiers[tier]
    n = span(r, p["n_people"])
    people = r.sample(names(), n)
    if nest is not None or r.random() < 0.5:
        if nest is not None and not nest.accepts("number"):
            return None
        vals = r.sample(range(p["age"][0], p["age"][1] + 1), n)
        return _compare(r, people, vals, nest, tier)
    return _chain(r, people, tier == "hard", tier)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type != "word":
        return None
    other = r.choice(names())
    while other == value:
        other = r.choice(names())
    more = r.random() < 0.5
    return _chain(r, [value, other] if more else [other, value], False, "easy", more)
