"""Split assignment by prompt hash, and the sampler that draws distinct prompts per split.

A prompt's split is fixed by the SHA-256 of its normalised text, so two splits can never
share a prompt, whoever draws it. Each (seed, split, capability or task) also has its own
random stream, so adding draws to one split never moves another.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from itertools import accumulate

from read.embedded.generators import GENERATORS, Item, Nest
from read.embedded.spec import NEST_RATE, PREFIX_RATE, PREFIXES, SPLIT_FRACTIONS, TIER_PROBS, TIERS
from read.errors import bad_input
from read.prompting import normalise
from read.rng import rng_for

SPLITS: tuple[str, ...] = tuple(SPLIT_FRACTIONS)
_EDGES: tuple[tuple[int, str], ...] = tuple(
    (round(edge * 2**64), name) for edge, name in zip(accumulate(SPLIT_FRACTIONS.values()), SPLIT_FRACTIONS)
)
"""Upper bounds of each split's share of the 64-bit hash prefix."""
EXHAUSTED_STREAK = 400
"""A (tier, nested) cell whose last this-many in-split draws were all repeats is used up."""


def split_of(prompt: str) -> str:
    """The split a prompt belongs to: SHA-256 of ``normalise(prompt)`` against SPLIT_FRACTIONS."""
    return _split_of_key(normalise(prompt))


def _split_of_key(key: str) -> str:
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    for edge, name in _EDGES:
        if h < edge:
            return name
    return _EDGES[-1][1]


def check_split(split: str, where: str) -> str:
    if split not in SPLIT_FRACTIONS:
        raise bad_input(where, f"unknown split {split!r}", f"use one of {list(SPLITS)}")
    return split


def fast_random(seed: int, *keys: str | int) -> random.Random:
    """A ``random.Random`` seeded from ``rng_for(seed, *keys)``: same stream discipline,
    but ~10x cheaper per draw than numpy for the many tiny choices a generator makes."""
    return random.Random(int(rng_for(seed, *keys).integers(2**63)))


def draw(r: random.Random, capability: str, tier: str, nested: bool, inner: str | None = None) -> Item | None:
    """One candidate item (any split); None when the draw has to be redone."""
    nest = Nest(r, capability, inner, generators=GENERATORS) if nested else None
    item = GENERATORS[capability].generate(r, tier, nest)
    if item is None or nested != (item.inner is not None):
        return None
    if r.random() < PREFIX_RATE:
        return Item(item.capability, r.choice(PREFIXES) + item.prompt, item.answer, item.scratch, item.rationale,
                    item.template, item.features, item.inner)
    return item


def cells(nest_rate: float, tier_probs: tuple[float, ...] = TIER_PROBS) -> dict[tuple[str, bool], float]:
    """(tier, nested) -> probability: ``tier_probs`` times the nesting rate."""
    return {(t, nested): p * (nest_rate if nested else 1 - nest_rate)
            for t, p in zip(TIERS, tier_probs) for nested in (False, True) if (nest_rate if nested else 1 - nest_rate) > 0}


def collect(r: random.Random, draw_one: Callable[[random.Random, str, bool], Item | None], split: str, n: int,
            where: str, nest_rate: float = NEST_RATE, tier_probs: tuple[float, ...] = TIER_PROBS) -> list[Item]:
    """``n`` items with distinct prompts, all in ``split``.

    Each item first draws its cell (tier with ``tier_probs``, nested with ``nest_rate``), then
    draws prompts of that cell until a new one of ``split`` turns up, so the mix holds at
    any ``n``. A cell whose space in this split is used up (EXHAUSTED_STREAK repeats in a
    row) drops out and the others share its probability; if all are, a ReadError says so.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise bad_input(where, f"n must be an integer >= 0, got {n!r}", "ask for a non-negative count")
    alive = cells(nest_rate, tier_probs)
    seen: set[str] = set()
    out: list[Item] = []
    limit, attempts = 1000 + int(60 * n / SPLIT_FRACTIONS[split]), 0
    while len(out) < n:
        if not alive:
            raise bad_input(where, f"found only {len(out)} distinct {split!r} prompts of the {n} asked",
                            "ask for fewer items or use a larger split")
        cell = r.choices(list(alive), list(alive.values()))[0]
        streak = 0
        while streak < EXHAUSTED_STREAK:
            attempts += 1
            if attempts > limit:
                raise bad_input(where, f"found only {len(out)} distinct {split!r} prompts of the {n} asked "
                                f"in {limit} draws", "ask for fewer items or use a larger split")
            item = draw_one(r, *cell)
            if item is None:
                continue
            key = normalise(item.prompt)
            if _split_of_key(key) != split:
                continue
            if key in seen:
                streak += 1
                continue
            seen.add(key)
            out.append(item)
            break
        else:
            del alive[cell]
    return out
