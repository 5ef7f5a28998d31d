"""steerability: follow word-level format constraints (wrap, repeat, reorder, select, count).

Constraints are word-level on purpose: exact match is case-insensitive, and tiny models
do not learn character-level transforms in minutes.
"""

from __future__ import annotations

import json
import random

from read.embedded.generators.base import Item, Nest, make_item, span
from read.embedded.spec import SPEC
from read.embedded.values import WORDS

CAP = "steerability"
PHRASES = {
    "json": ("Reply in JSON: {t}", "Answer as JSON: {t}", "Format as JSON: {t}"),
    "quote": ("Reply in quotes: {t}", "Wrap in quotes: {t}", "Quote this: {t}"),
    "brackets": ("Reply in brackets: {t}", "Wrap in brackets: {t}", "Put in brackets: {t}"),
    "repeat": ("Repeat {k} times: {t}", "Say {k} times: {t}", "Write {k} times: {t}"),
    "first": ("Give only the first word: {t}", "First word only: {t}", "Reply with the first word of: {t}"),
    "last": ("Give only the last word: {t}", "Last word only: {t}", "Reply with the last word of: {t}"),
    "reverse": ("Reverse the word order: {t}", "Say these words backwards: {t}", "Reverse the words: {t}"),
    "join": ("Join with dashes: {t}", "Connect the words with dashes: {t}", "Join the words using dashes: {t}"),
    "count": ("Count the words: {t}", "How many words: {t}", "Number of words in: {t}"),
}
STEP = {"reverse": "reverse the word order", "join": "join with dashes", "repeat": "repeat it {k} times",
        "json": "reply in JSON", "quote": "reply in quotes", "brackets": "reply in brackets"}
WHOLE = ("json", "quote", "brackets", "repeat")  # act on the text as a whole: any answer fits


def apply(op: str, text: str, k: int) -> str:
    words = text.split()
    if op == "json":
        return json.dumps({"answer": text}, ensure_ascii=False)
    if op == "quote":
        return f'"{text}"'
    if op == "brackets":
        return f"({text})"
    if op == "repeat":
        return " ".join([text] * k)
    if op == "first":
        return words[0]
    if op == "last":
        return words[-1]
    if op == "reverse":
        return " ".join(words[::-1])
    if op == "join":
        return "-".join(words)
    return str(len(words))  # count


def _build(r: random.Random, ops: list[str], text: str, shown: str, tier: str, nest: Nest | None) -> Item:
    k = r.randint(2, 3)
    out, steps = text, []
    for op in ops:
        out = apply(op, out, k)
        steps.append(f"{op} {out}" if op != "json" else "json")
    if len(ops) == 1:
        prompt = r.choice(PHRASES[ops[0]]).format(t=shown, k=k)
        template = f"steer/{ops[0]}"
    else:
        first = STEP[ops[0]].format(k=k)
        prompt = f"{first[0].upper()}{first[1:]}, then {STEP[ops[1]]}: {shown}"
        template = "steer/combo"
    feats = {"n_words": len(text.split()), "n_constraints": len(ops)}
    return make_item(CAP, prompt, out, f"text {text}; " + "; ".join(steps), template, feats, nest, tier)


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    p = SPEC[CAP].tiers[tier]
    n_words, n_cons = span(r, p["n_words"]), span(r, p["n_constraints"])
    if nest is not None:
        allowed = [op for op in p["ops"] if op in WHOLE]
        if not allowed or not nest.accepts("text"):
            return None
        shown = nest.fill("text")
        text = nest.item.answer
    else:
        text = " ".join(r.choice(WORDS) for _ in range(n_words))
        shown = text
        allowed = [op for op in p["ops"] if n_words > 1 or op not in ("first", "last", "reverse", "join", "count")]
    ops = [r.choice(allowed)]
    if n_cons == 2:  # a second, wrapping constraint on top of the first
        ops.append(r.choice(p["then"]))
    return _build(r, ops, text, shown, tier, nest)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    if value_type == "text":
        return generate(r, "easy", None)
    if value_type == "word":
        text = f"{r.choice(WORDS)} {value}"
        return _build(r, ["last"], text, text, "easy", None)
    if value_type == "number" and 1 <= int(value) <= 6:
        text = " ".join(r.choice(WORDS) for _ in range(int(value)))
        return _build(r, ["count"], text, text, "easy", None)
    return None
