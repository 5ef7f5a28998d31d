"""code: what a one- or two-statement Python snippet over a short integer list prints."""

from __future__ import annotations

import random

from read.embedded.generators.base import Item, Nest, make_item, span, with_digits
from read.embedded.spec import SPEC

CAP = "code"
WRAP = ("What does this print? {code}", "Output of: {code}", "Run: {code}", "{code} prints what?")


def _show(xs: list[int]) -> str:
    return "[" + ", ".join(map(str, xs)) + "]"


def _words(xs: list[int]) -> str:
    return " ".join(map(str, xs))


def _build(r: random.Random, op: str, xs: list[int], extra: int, nest: Nest | None, tier: str) -> Item | None:
    """``extra`` is the index for ``index`` and the appended value for ``append``."""
    texts = [str(x) for x in xs]
    if op == "append":
        texts.append(str(extra))
    if nest is not None:
        i = r.randrange(len(texts))
        texts[i] = nest.fill("number", texts[i])
        if texts[i] is None:
            return None
    lst = "[" + ", ".join(texts[: len(xs)]) + "]"
    if op in ("max", "min", "len", "sorted"):
        code, n_stmts = f"print({op}({lst}))", 1
    elif op == "index":
        code, n_stmts = f"print({lst}[{extra}])", 1
    elif op == "reversed":
        code, n_stmts = f"print({lst}[::-1])", 1
    else:
        code, n_stmts = f"x = {lst}; x.append({texts[-1]}); print(x)", 2
    if op == "max" or op == "min":
        v = max(xs) if op == "max" else min(xs)
        answer, rationale = str(v), f"{op} of {_words(xs)} is {v}"
    elif op == "len":
        answer, rationale = str(len(xs)), f"items {_words(xs)}: {len(xs)}"
    elif op == "index":
        answer, rationale = str(xs[extra]), f"index {extra} of {_words(xs)}: {xs[extra]}"
    elif op == "sorted":
        answer, rationale = _show(sorted(xs)), f"sorted {_words(sorted(xs))}"
    elif op == "reversed":
        answer, rationale = _show(xs[::-1]), f"reversed {_words(xs[::-1])}"
    else:
        answer, rationale = _show([*xs, extra]), f"after append {_words([*xs, extra])}"
    feats = {"list_len": len(xs), "n_stmts": n_stmts, "digits": max(len(str(x)) for x in [*xs, extra])}
    return make_item(CAP, r.choice(WRAP).format(code=code), answer, rationale, f"code/{op}", feats, nest, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    p = SPEC[CAP].tiers[tier]
    if nest is not None and not nest.accepts("number"):
        return None
    n = span(r, p["list_len"])
    xs = [with_digits(r, span(r, p["digits"])) for _ in range(n)]
    op = r.choice(p["ops"])
    extra = r.randrange(n) if op == "index" else with_digits(r, span(r, p["digits"]))
    return _build(r, op, xs, extra, nest, tier)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type != "number":
        return None
    v, kind = int(value), r.randrange(3)
    if kind == 0 and v > 0:  # max of a list whose other items are smaller
        xs = [v, r.randrange(min(v, 10))]
        r.shuffle(xs)
        return _build(r, "max", xs, 0, None, "easy")
    if kind == 1:  # min of a list whose other items are larger
        xs = [v, v + 1 + r.randrange(9)]
        r.shuffle(xs)
        return _build(r, "min", xs, 0, None, "easy")
    xs = [v, r.randrange(10)]
    i = r.randrange(2)
    if i:
        xs.reverse()
    return _build(r, "index", xs, i, None, "easy")
