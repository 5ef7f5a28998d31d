"""The embedded synthetic world: 8 verifiable capabilities, composite tasks, disjoint splits.

Pure Python and numpy; the structure lives in :mod:`read.embedded.spec`.
"""

from __future__ import annotations

from read.capabilities import CAPABILITIES, check_capability
from read.embedded.generators import Item
from read.embedded.spec import NEST_RATE, SPEC, TIERS
from read.embedded.splits import SPLITS, check_split, collect, draw, fast_random, split_of
from read.embedded.tasks import TASKS, TaskCard, task_items
from read.prompting import exact_match, render_prompt

__all__ = [
    "Item", "SPLITS", "TASKS", "TaskCard", "NEST_RATE", "TIERS", "sample_items", "task_items", "is_correct",
    "difficulty_features", "difficulty", "world_corpus", "split_of", "prompt_space_size",
]


def sample_items(capability: str, split: str, n: int, seed: int) -> list[Item]:
    """``n`` items of ``capability`` with distinct prompts, all in ``split``.

    Tiers follow TIER_PROBS and a NEST_RATE share is nested; deterministic per seed.
    """
    where = f"sample_items({capability!r}, {split!r})"
    check_capability(capability, where)
    check_split(split, where)
    r = fast_random(seed, "world", split, capability)
    return collect(r, lambda r, tier, nested: draw(r, capability, tier, nested), split, n, where)


def is_correct(prediction_text: str, item: Item) -> bool:
    """Exact match of the prediction's final answer (after the last ``=>``) with the item's."""
    return exact_match(prediction_text, item.answer)


def difficulty_features(capability: str) -> tuple[str, ...]:
    """Names of the raw difficulty features every item of ``capability`` carries."""
    return SPEC[check_capability(capability, "difficulty_features")].features


def difficulty(item: Item) -> str:
    """The tier (easy, medium, hard) the item was drawn at."""
    return TIERS[int(item.features["level"])]


def world_corpus(n_per_capability: int, seed: int) -> list[str]:
    """Rendered prompt + response texts from the pretrain split (every other one with CoT),
    for training a tokenizer that covers everything the world can say."""
    texts = []
    for cap in CAPABILITIES:
        for i, item in enumerate(sample_items(cap, "pretrain", n_per_capability, seed)):
            cot = i % 2 == 1
            texts.append(render_prompt(item.prompt, cot=cot) + item.response(cot))
    return texts


def prompt_space_size(capability: str, split: str = "pool", draws: int = 20000, seed: int = 0) -> dict[str, float]:
    """Estimated number of distinct prompts of ``capability`` in ``split``, per tier and in total.

    A diagnostic: ``draws`` raw draws per tier (nested at NEST_RATE), and the bias-corrected
    Chao1 estimate S_obs + f1(f1-1)/(2(f2+1)) from the counts of prompts seen once (f1) and
    twice (f2). It is a lower-bound-style estimate; a tier far above what a run samples
    from it will not run dry.
    """
    from collections import Counter

    from read.prompting import normalise

    where = f"prompt_space_size({capability!r}, {split!r})"
    check_capability(capability, where)
    check_split(split, where)
    r = fast_random(seed, "world", "space", split, capability)
    out = {}
    for tier in TIERS:
        seen = Counter()
        for _ in range(draws):
            item = draw(r, capability, tier, r.random() < NEST_RATE)
            if item is not None and split_of(item.prompt) == split:
                seen[normalise(item.prompt)] += 1
        f = Counter(seen.values())
        out[tier] = len(seen) + f[1] * (f[1] - 1) / (2 * (f[2] + 1))
    out["total"] = sum(out[t] for t in TIERS)
    return out
