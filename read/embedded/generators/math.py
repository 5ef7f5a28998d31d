"""math: one or two integer operations; operands sometimes written as number words."""

from __future__ import annotations

import random

from read.embedded.generators.base import Item, Nest, digits_of, make_item, span, with_digits
from read.embedded.spec import LANGUAGES, SPEC, WORD_OPERAND_RATE
from read.embedded.values import number_word

CAP = "math"
PHRASES = {
    "+": ("What is {a} plus {b}?", "{a} + {b} = ?", "Compute {a} + {b}.", "Add {a} and {b}."),
    "-": ("What is {a} minus {b}?", "{a} - {b} = ?", "Compute {a} - {b}.", "Subtract {b} from {a}."),
    "*": ("What is {a} times {b}?", "{a} * {b} = ?", "Compute {a} * {b}.", "Multiply {a} by {b}."),
}
CHAIN = ("What is {a} {w1} {b} {w2} {c}?", "{a} {o1} {b} {o2} {c} = ?", "Compute {a} {o1} {b} {o2} {c}.")
WORD = {"+": "plus", "-": "minus"}
TEMPLATE = {"+": "math/add", "-": "math/sub", "*": "math/mul"}


def _apply(x: int, op: str, y: int) -> int:
    return x + y if op == "+" else x - y if op == "-" else x * y


def _column(a: int, op: str, b: int) -> tuple[str, int]:
    """Digit-by-digit rationale for a +/- b (a >= b for -) and the number of carries/borrows."""
    if a < 10 and b < 10 or op == "*":
        return f"{a}{op}{b}={_apply(a, op, b)}", 0
    steps, carry, n_carries, da, db = [], 0, 0, str(a)[::-1], str(b)[::-1]
    for i in range(max(len(da), len(db))):
        x, y = (int(da[i]) if i < len(da) else 0), (int(db[i]) if i < len(db) else 0)
        if op == "+":
            s = x + y + carry
            steps.append(f"{x}+{y}{'+1' if carry else ''}={s}")
            carry = int(s >= 10)
        else:
            x -= carry
            carry = int(x < y)
            steps.append(f"{x + 10 * carry}-{y}={x + 10 * carry - y}")
        n_carries += carry
    return f"{a}{op}{b}: {', '.join(steps)}, so {_apply(a, op, b)}", n_carries


def _render(r: random.Random, v: int, nest: Nest | None, slot: bool) -> tuple[str, str | None, bool]:
    """Operand text, a rationale prefix, and whether it was written as a word."""
    if slot:
        return nest.fill("number", str(v)), None, False
    if v <= 999 and r.random() < WORD_OPERAND_RATE:
        w = number_word(v, r.choice(LANGUAGES))
        return f"'{w}'", f"'{w}'={v}", True
    return str(v), None, False


def _build(r: random.Random, terms: list[int], ops: list[str], nest: Nest | None, tier: str,
           max_carries: int | None = None) -> Item | None:
    """The item for ``terms`` joined by ``ops``, or None (draw again) past ``max_carries``."""
    slot = r.randrange(len(terms)) if nest is not None else -1
    texts, notes, n_words = [], [], 0
    for i, v in enumerate(terms):
        text, note, is_word = _render(r, v, nest, i == slot)
        if text is None:
            return None
        texts.append(text)
        notes += [note] if note else []
        n_words += is_word
    if len(ops) == 1:
        op = ops[0]
        prompt = r.choice(PHRASES[op]).format(a=texts[0], b=texts[1])
        rationale, carries = _column(terms[0], op, terms[1])
        template = TEMPLATE[op]
    else:
        mid = _apply(terms[0], ops[0], terms[1])
        prompt = r.choice(CHAIN).format(a=texts[0], b=texts[1], c=texts[2], o1=ops[0], o2=ops[1],
                                        w1=WORD[ops[0]], w2=WORD[ops[1]])
        r1, c1 = _column(terms[0], ops[0], terms[1])
        r2, c2 = _column(mid, ops[1], terms[2])
        rationale, carries, template = f"{r1}; {r2}", c1 + c2, "math/chain"
    if max_carries is not None and carries > max_carries:
        return None
    answer = terms[0]
    for op, v in zip(ops, terms[1:]):
        answer = _apply(answer, op, v)
    feats = {"digits": max(digits_of(v) for v in terms), "n_ops": len(ops), "carries": carries, "word_operands": n_words}
    return make_item(CAP, prompt, str(answer), "; ".join([*notes, rationale]), template, feats, nest, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    p = SPEC[CAP].tiers[tier]
    if nest is not None and not nest.accepts("number"):
        return None
    if span(r, p["n_ops"]) == 1:
        op = r.choice(p["ops"])
        a_digits = 1 if op == "*" else span(r, p["a_digits"])
        a, b = with_digits(r, a_digits), with_digits(r, span(r, p["b_digits"]))
        if op == "-" and a < b or op == "+" and r.random() < 0.5:
            a, b = b, a
        return _build(r, [a, b], [op], nest, tier, p["max_carries"])
    a, b, c = with_digits(r, span(r, p["a_digits"])), with_digits(r, 1), with_digits(r, 1)
    o1, o2 = r.choice("+-"), r.choice("+-")
    if a - b < 0:
        o1 = "+"
    if _apply(_apply(a, o1, b), o2, c) < 0:
        o2 = "+"
    return _build(r, [a, b, c], [o1, o2], nest, tier, p["max_carries"])


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type != "number":
        return None
    v = int(value)
    if v <= 18 and r.random() < 0.5:  # a 1-digit addition fact
        a = r.randint(max(0, v - 9), min(9, v))
        return _build(r, [a, v - a], ["+"], None, "easy")
    units = v % 10
    if r.random() < 0.5 or v + 9 - units > 999:  # (v - b) + b with b <= units: no carry
        b = r.randint(0, units)
        return _build(r, [v - b, b], ["+"], None, "easy")
    b = r.randint(0, 9 - units)  # (v + b) - b with units + b <= 9: no borrow
    return _build(r, [v + b, b], ["-"], None, "easy")
