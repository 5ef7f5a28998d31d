"""The item type and the nesting machinery every capability generator shares.

A generator module exposes two functions, both pure given their ``random.Random``:

- ``generate(r, tier, nest) -> Item | None``: an outer item at ``tier``; with a
  :class:`Nest`, exactly one slot of a type ``nest.accepts`` is filled by ``nest.fill``.
  ``None`` means "this draw did not work out, draw again" (e.g. no inner capability can
  produce the chosen value).
- ``produce(r, value_type, value) -> Item | None``: an easy, unnested item whose answer is
  ``value`` (for ``"text"`` any answer), or ``None`` if this capability cannot say it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from read.capabilities import CAPABILITIES, check_capability
from read.embedded.spec import SPEC, TIERS
from read.errors import bad_input
from read.prompting import render_response

ROW_KEYS = ("capability", "prompt", "answer", "scratch", "rationale", "template", "features", "inner")


@dataclass(frozen=True)
class Item:
    """One verifiable world item. ``features`` holds raw difficulty features (floats)."""

    capability: str
    prompt: str
    answer: str
    scratch: str | None
    rationale: str
    template: str
    features: dict = field(hash=False)
    inner: str | None = None

    def response(self, cot: bool = False) -> str:
        """Target text: `` scratch => answer`` (nested) or `` answer``; CoT uses the rationale."""
        return render_response(self.answer, self.rationale if cot else self.scratch)

    def to_row(self) -> dict:
        return {k: (dict(self.features) if k == "features" else getattr(self, k)) for k in ROW_KEYS}

    @classmethod
    def from_row(cls, row: dict, where: str) -> Item:
        if not isinstance(row, dict):
            raise bad_input(where, f"an item row must be an object, got {type(row).__name__}", "write one JSON object per line")
        missing = [k for k in ROW_KEYS if k not in row]
        if missing:
            raise bad_input(where, f"item row lacks {missing}", f"give every key of {list(ROW_KEYS)}")
        check_capability(row["capability"], f"{where}.capability")
        for key in ("prompt", "answer", "rationale", "template"):
            if not isinstance(row[key], str) or not row[key]:
                raise bad_input(f"{where}.{key}", f"must be a non-empty string, got {row[key]!r}", "fix the row")
        for key in ("scratch", "inner"):
            if row[key] is not None and not isinstance(row[key], str):
                raise bad_input(f"{where}.{key}", f"must be a string or null, got {row[key]!r}", "fix the row")
        if (row["scratch"] is None) != (row["inner"] is None):
            raise bad_input(where, "scratch and inner must both be set (nested item) or both null", "fix the row")
        if row["inner"] is not None:
            check_capability(row["inner"], f"{where}.inner")
        feats = row["features"]
        if not isinstance(feats, dict) or not all(isinstance(v, (int, float)) for v in feats.values()):
            raise bad_input(f"{where}.features", f"must map names to numbers, got {feats!r}", "fix the row")
        return cls(row["capability"], row["prompt"], row["answer"], row["scratch"], row["rationale"],
                   row["template"], {k: float(v) for k, v in feats.items()}, row["inner"])


class Nest:
    """A request to fill one slot of an outer item with another capability's sub-question.

    ``inner`` forces the inner capability (composite tasks); otherwise the inner one is
    drawn uniformly among the other capabilities that can produce the slot's value.
    ``generators`` is the registry capability -> generator module (``read.embedded.generators.GENERATORS``),
    passed in because that registry imports this module.
    """

    def __init__(self, r: random.Random, outer: str, inner: str | None = None, *, generators):
        self.r, self.outer, self.forced, self.generators = r, outer, inner, generators
        self.item: Item | None = None

    def candidates(self, value_type: str) -> list[str]:
        if self.forced is not None:
            return [self.forced] if value_type in SPEC[self.forced].produces else []
        return [c for c in CAPABILITIES if c != self.outer and value_type in SPEC[c].produces]

    def accepts(self, value_type: str) -> bool:
        return bool(self.candidates(value_type))

    def fill(self, value_type: str, value: str | None = None) -> str | None:
        """``"[<inner prompt>]"`` for an inner item answering ``value``, or None if none can."""
        order = self.candidates(value_type)
        self.r.shuffle(order)  # first capable one in a random order = uniform among the capable
        for cap in order:
            item = self.generators[cap].produce(self.r, value_type, value)
            if item is not None:
                self.item = item
                return f"[{item.prompt}]"
        return None


def make_item(cap: str, prompt: str, answer: str, rationale: str, template: str, features: dict,
              nest: Nest | None, tier: str) -> Item:
    """Assemble an item; a filled ``nest`` adds scratch, inner, and its rationale first."""
    feats = {k: float(v) for k, v in features.items()}
    feats["level"] = float(TIERS.index(tier))
    inner = nest.item if nest is not None else None
    feats["nested"] = 0.0 if inner is None else 1.0
    if inner is None:
        return Item(cap, prompt, answer, None, rationale, template, feats, None)
    return Item(cap, prompt, answer, inner.answer, f"{inner.rationale}; {rationale}",
                f"{template}[{inner.template}]", feats, inner.capability)


def span(r: random.Random, lo_hi: tuple[int, int]) -> int:
    return r.randint(lo_hi[0], lo_hi[1])


def with_digits(r: random.Random, digits: int) -> int:
    """A uniform integer with exactly ``digits`` digits (1 digit includes 0)."""
    return r.randint(0, 9) if digits == 1 else r.randint(10 ** (digits - 1), 10**digits - 1)


def digits_of(n: int) -> int:
    return len(str(abs(n)))
