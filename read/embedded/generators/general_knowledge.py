"""general_knowledge: facts about 200 pseudo-countries, asked in many phrasings.

Every phrasing keeps "the <relation> of <entity>" adjacent, so a fact learned in one
phrasing can be recalled in another. Popular entities (low rank) are asked about more.
"""

from __future__ import annotations

import math as _m
import random

from read.embedded.generators.base import Item, Nest, make_item, span
from read.embedded.spec import N_ENTITIES, SPEC
from read.embedded.values import ATTRIBUTES, entities, entities_with, facts, inverse_facts, rank_of

CAP = "general_knowledge"
FRAMES = ("What is the {rel} of {e}?", "Name the {rel} of {e}.", "Tell me the {rel} of {e}.",
          "The {rel} of {e} is?", "Do you know the {rel} of {e}?", "Give the {rel} of {e}.",
          "Which is the {rel} of {e}?", "I need the {rel} of {e}.", "Recall the {rel} of {e}.",
          "State the {rel} of {e}.")
TWO_HOP = ("What is the {rel2} of the country whose {rel1} is {v}?",
           "Name the {rel2} of the country whose {rel1} is {v}.",
           "The country whose {rel1} is {v}: what is its {rel2}?")
RELATION = {"capital": ("capital", "capital city", "seat of government"), "leader": ("leader", "ruler", "head"),
            "language": ("language", "main language", "spoken language"),
            "provinces": ("number of provinces", "province count", "count of provinces")}
VALUE_BITS = {"capital": _m.log2(N_ENTITIES), "leader": _m.log2(N_ENTITIES), "language": _m.log2(3),
              "provinces": _m.log2(28)}


def _fact(r: random.Random, e: str, attr: str, text: str, nest: Nest | None, tier: str, rank: int) -> Item:
    prompt = r.choice(FRAMES).format(rel=r.choice(RELATION[attr]), e=text)
    answer = facts()[e][attr]
    feats = {"rarity": rank / (N_ENTITIES - 1), "hops": 1, "value_bits": VALUE_BITS[attr]}
    return make_item(CAP, prompt, answer, f"{e} {attr}: {answer}", "gk/fact", feats, nest, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    p = SPEC[CAP].tiers[tier]
    if nest is not None and not nest.accepts("word"):
        return None
    rank = span(r, p["rank"])
    e = entities()[rank]
    if span(r, p["hops"]) == 1:
        attr = r.choice(ATTRIBUTES)
        text = nest.fill("word", e) if nest is not None else e
        return None if text is None else _fact(r, e, attr, text, nest, tier, rank)
    rel1 = r.choice(("capital", "leader"))
    attr = r.choice([a for a in ATTRIBUTES if a != rel1])
    v = facts()[e][rel1]
    text = nest.fill("word", v) if nest is not None else v
    if text is None:
        return None
    prompt = r.choice(TWO_HOP).format(rel1=r.choice(RELATION[rel1]), rel2=r.choice(RELATION[attr]), v=text)
    answer = facts()[e][attr]
    feats = {"rarity": rank / (N_ENTITIES - 1), "hops": 2, "value_bits": VALUE_BITS[attr]}
    return make_item(CAP, prompt, answer, f"{rel1} {v}: {e}; {e} {attr}: {answer}", "gk/two_hop", feats, nest, tier)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type == "number":
        options = [(e, "provinces") for e in entities_with("provinces", value)]
    elif value_type == "word":
        inv = inverse_facts()
        options = [(inv[a][value], a) for a in ("capital", "leader") if value in inv[a]]
        options += [(e, "language") for e in entities_with("language", value)]
    else:
        return None
    if not options:
        return None
    best = min(rank_of()[e] for e, _ in options)  # inner items are easy: the most popular fitting country
    e, attr = r.choice([(e, a) for e, a in options if rank_of()[e] == best])
    return _fact(r, e, attr, e, None, "easy", best)
