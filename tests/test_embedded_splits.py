"""Splits are disjoint by prompt hash, large enough, and composite tasks live in them too."""

from __future__ import annotations

import itertools

import pytest

import read.embedded as E
from read.capabilities import CAPABILITIES
from read.embedded.spec import SPLIT_FRACTIONS
from read.prompting import normalise

SIZES = {"pretrain": 1000, "pool": 1000, "probe": 150, "dev": 150, "test": 500}


def _assert_disjoint(by_split: dict[str, list]) -> None:
    for split, items in by_split.items():
        assert all(E.split_of(i.prompt) == split for i in items)
        assert len({normalise(i.prompt) for i in items}) == len(items)
    for a, b in itertools.combinations(by_split, 2):
        assert not {normalise(i.prompt) for i in by_split[a]} & {normalise(i.prompt) for i in by_split[b]}, (a, b)


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_capability_splits_share_no_prompt(cap):
    _assert_disjoint({s: E.sample_items(cap, s, n, seed=0) for s, n in SIZES.items()})


@pytest.mark.parametrize("task", sorted(E.TASKS))
def test_task_splits_share_no_prompt_and_hold_500_test_and_200_dev_items(task):
    by_split = {s: E.task_items(task, s, n, seed=0) for s, n in {**SIZES, "test": 500, "dev": 200}.items()}
    _assert_disjoint(by_split)
    card = E.TASKS[task]
    for item in by_split["test"]:
        assert item.capability == card.outer and item.inner == card.inner
        assert item.response() == f" {item.scratch} => {item.answer}" and E.is_correct(item.response(), item)


def test_split_fractions_hold_for_the_hash():
    prompts = [i.prompt for i in E.sample_items("math", "pretrain", 2000, seed=1)]
    # re-bucket unrelated strings: the hash spreads them as SPLIT_FRACTIONS says
    counts = {s: 0 for s in SPLIT_FRACTIONS}
    for k in range(20000):
        counts[E.split_of(f"probe string {k}")] += 1
    for s, frac in SPLIT_FRACTIONS.items():
        assert abs(counts[s] / 20000 - frac) < 0.01, (s, counts[s])
    assert all(E.split_of(p) == E.split_of(p.upper() + "  ") for p in prompts[:200])  # normalised first


def test_different_splits_use_different_streams():
    a = E.sample_items("tool_use", "dev", 30, seed=0)
    b = E.sample_items("tool_use", "probe", 30, seed=0)
    assert [i.template for i in a] != [i.template for i in b]


def test_task_cards_are_complete():
    assert len(E.TASKS) >= 3
    for name, card in E.TASKS.items():
        assert card.name == name and card.description and card.io_format and card.eval_type == "exact_match"
        assert set(card.requirement) == {card.outer, card.inner} and abs(sum(card.requirement.values()) - 1) < 1e-9
        shots = card.exemplars()
        assert len(shots) == 3
        assert all(E.split_of(s["prompt"].removeprefix("Q: ").removesuffix("\nA:")) == "pretrain" for s in shots)
        assert all("=>" in s["response"] and s["response"].endswith(s["answer"]) for s in shots)
        assert card.to_dict()["requirement"] == card.requirement


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_every_capability_has_1000_test_prompts(cap):
    assert len(E.sample_items(cap, "test", 1000, seed=5)) == 1000


@pytest.mark.slow
@pytest.mark.parametrize("cap", CAPABILITIES)
def test_every_capability_has_20k_pool_prompts(cap):
    assert len({i.prompt for i in E.sample_items(cap, "pool", 20000, seed=5)}) == 20000
