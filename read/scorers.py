"""Task scorers: how a generated answer is compared with the gold one. One registry.

A task card names its scorer with ``eval`` (and options with ``eval_options``). A scorer
is built once per evaluation, ``make_scorer(name, **options)``, and then called as
``score(prediction, reference) -> float`` in [0, 1]. The task score is the mean over the
test items, in points in the tables.

To add one, register a factory here (the one place the workflow looks)::

    @register("starts_with")
    def starts_with():
        return lambda prediction, reference: float(normalise(prediction).startswith(normalise(reference)))

Every scorer compares :func:`read.prompting.final_answer` of the prediction (the text after
the last ``=>``; the whole text when there is none), so rationales never count.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from read.errors import bad_input
from read.prompting import exact_match as _exact_match
from read.prompting import final_answer, normalise

Scorer = Callable[[str, str], float]
SCORERS: dict[str, Callable[..., Scorer]] = {}

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")


def register(name: str) -> Callable[[Callable[..., Scorer]], Callable[..., Scorer]]:
    """Decorator: add a scorer factory under ``name`` (a task card's ``eval``)."""

    def add(factory: Callable[..., Scorer]) -> Callable[..., Scorer]:
        if name in SCORERS:
            raise ValueError(f"scorer {name!r} is registered twice")
        SCORERS[name] = factory
        return factory

    return add


def make_scorer(name: str, where: str = "eval", **options) -> Scorer:
    """The scorer ``name`` with its options; an unknown name or option is one clear error."""
    if name not in SCORERS:
        raise bad_input(where, f"unknown scorer {name!r}", f"choose from {sorted(SCORERS)} or register one in read/scorers.py")
    try:
        return SCORERS[name](**options)
    except TypeError as err:
        raise bad_input(f"{where}_options", f"scorer {name!r} does not take these options ({err})",
                        "see its factory in read/scorers.py") from None


def parse_number(text: str) -> float | None:
    """The last number in ``text`` (thousands commas allowed), or None if there is none."""
    found = _NUMBER.findall(text)
    return float(found[-1].replace(",", "")) if found else None


@register("exact_match")
def exact_match() -> Scorer:
    """1 if the final answers are equal after case, space and trailing-punctuation folding."""
    return lambda prediction, reference: float(_exact_match(prediction, reference))


@register("numeric")
def numeric(tolerance: float = 1e-6) -> Scorer:
    """1 if the last number of the prediction's final answer is within ``tolerance · max(1, |gold|)``.

    The gold is the last number of the reference; a reference without one is an error (a
    numeric task needs numeric answers), a prediction without one scores 0.
    """
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0 and math.isfinite(tolerance)):
        raise bad_input("eval_options.tolerance", f"must be a finite number >= 0, got {tolerance!r}", "use e.g. 1e-6")

    def score(prediction: str, reference: str) -> float:
        gold = parse_number(final_answer(reference))
        if gold is None:
            raise bad_input("numeric scorer", f"the gold answer {reference!r} holds no number",
                            "use eval: exact_match for non-numeric answers")
        got = parse_number(final_answer(prediction))
        return float(got is not None and abs(got - gold) <= tolerance * max(1.0, abs(gold)))

    return score


@register("contains")
def contains() -> Scorer:
    """1 if the folded gold answer occurs in the folded final answer (for answers in a sentence)."""
    return lambda prediction, reference: float(normalise(final_answer(reference)) in normalise(final_answer(prediction)))
