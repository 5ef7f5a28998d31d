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


def parse_call(text: str) -> tuple[str, dict] | None:
    """A function call as ``(name, {argument: value})``, or None if ``text`` is not one.

    Two spellings: Python call syntax with literal arguments, ``get_weather(city="Oslo",
    days=3)`` (positional arguments are keyed ``"0"``, ``"1"``, ...), and JSON in the
    OpenAI/BFCL style, ``{"name": "get_weather", "arguments": {...}}`` (``arguments`` may be
    a JSON string).
    """
    import ast
    import json

    text = text.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            return None
        args = obj.get("arguments", obj.get("parameters", {})) if isinstance(obj, dict) else None
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return None
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not isinstance(args, dict):
            return None
        return obj["name"], args
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call):
        return None
    try:
        name = ast.unparse(node.func)
        args = {str(i): ast.literal_eval(a) for i, a in enumerate(node.args)}
        args.update({kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg is not None})
    except ValueError:  # a non-literal argument
        return None
    return name, args


def same_value(a, b) -> bool:
    """Equal by value: numbers across int and float (but not bool), containers element by
    element, mapping keys in any order; strings exactly, apart from surrounding space."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


@register("function_call")
def function_call() -> Scorer:
    """1 if the prediction's final answer calls the same function with the same arguments by
    value (argument order free, 3 and 3.0 alike, no argument missing or extra) as the gold call."""

    def score(prediction: str, reference: str) -> float:
        gold = parse_call(final_answer(reference))
        if gold is None:
            raise bad_input("function_call scorer", f"the gold answer {reference!r} is not a function call",
                            'write it as name(arg=value) or {"name": ..., "arguments": {...}}')
        got = parse_call(final_answer(prediction))
        return float(got is not None and got[0] == gold[0] and same_value(got[1], gold[1]))

    return score
