"""Template lines: typed slots, format constraints, features; one parsed :class:`Template` each."""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from read.capabilities import check_capability
from read.errors import bad_input
from read.io import read_jsonl
from read.prompting import render_response

SLOT_TYPES = ("int", "float", "choice", "str")


@dataclass(frozen=True)
class PoolItem:
    """One sampled prompt; duck-types ``read.embedded.Item`` plus its difficulty.

    ``answer`` is the gold answer or None (paper-scale templates are answered by the
    teacher only). ``d`` is d_c(x) in [0, 1], ``difficulty`` its tertile level.
    """

    capability: str
    prompt: str
    answer: str | None
    template: str
    features: dict[str, float]
    difficulty: str
    d: float
    scratch: str | None = None
    rationale: str = ""
    inner: str | None = None

    def response(self, cot: bool = False) -> str:
        """Gold response text (as ``Item.response``); needs a gold answer."""
        if self.answer is None:
            raise bad_input(self.template, "template has no gold answer", "ask the teacher for the response")
        return render_response(self.answer, (self.rationale or None) if cot else self.scratch)

    @classmethod
    def wrap(cls, item: Any, difficulty: str, d: float) -> PoolItem:
        return cls(
            capability=item.capability,
            prompt=item.prompt,
            answer=item.answer,
            template=item.template,
            features=dict(item.features),
            difficulty=difficulty,
            d=float(d),
            scratch=getattr(item, "scratch", None),
            rationale=getattr(item, "rationale", "") or "",
            inner=getattr(item, "inner", None),
        )


@dataclass(frozen=True)
class Slot:
    """A typed slot. ``int``/``float``: [lo, hi]; ``choice``: choices; ``str``: letters of length [lo, hi]."""

    name: str
    type: str
    lo: float = 0
    hi: float = 0
    decimals: int = 2
    choices: tuple[Any, ...] = ()
    alphabet: str = string.ascii_lowercase

    def fill(self, rng: np.random.Generator) -> Any:
        if self.type == "int":
            return int(rng.integers(int(self.lo), int(self.hi) + 1))
        if self.type == "float":
            return round(float(rng.uniform(self.lo, self.hi)), self.decimals)
        if self.type == "choice":
            return self.choices[int(rng.integers(len(self.choices)))]
        n = int(rng.integers(int(self.lo), int(self.hi) + 1))
        return "".join(self.alphabet[i] for i in rng.integers(len(self.alphabet), size=n))


@dataclass(frozen=True)
class Template:
    """One parsed template line; see the module docstring for the JSONL format."""

    id: str
    capability: str
    scaffold: str
    slots: tuple[Slot, ...]
    constraints: tuple[str, ...] = ()
    features: tuple[tuple[str, float | str], ...] = ()
    answer: str | None = None

    def fill(self, rng: np.random.Generator) -> PoolItem:
        """Fill every slot (in declaration order, so a seed fixes the prompt); level unset."""
        values = {s.name: s.fill(rng) for s in self.slots}
        prompt = " ".join(t.format(**values) for t in (self.scaffold, *self.constraints))
        feats = {"words": float(len(prompt.split())), "constraints": float(len(self.constraints))}
        for name, spec in self.features:
            if isinstance(spec, str):
                v = values[spec]
                feats[name] = float(v) if isinstance(v, (int, float)) else float(len(str(v)))
            else:
                feats[name] = float(spec)
        answer = self.answer.format(**values) if self.answer is not None else None
        return PoolItem(self.capability, prompt, answer, self.id, feats, difficulty="", d=float("nan"))


def _fields(text: str, where: str) -> set[str]:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as err:
        raise bad_input(where, f"bad format string {text!r} ({err})", "write literal braces as {{ and }}") from None
    bad = [n for n in names if not n.isidentifier()]
    if bad:
        raise bad_input(where, f"slot references must be plain names, got {bad}", "use {name} with no index or format spec")
    return names


def _parse_slot(name: str, spec: Any, where: str) -> Slot:
    w = f"{where}: slot {name!r}"
    if not isinstance(spec, dict) or spec.get("type") not in SLOT_TYPES:
        raise bad_input(w, f"needs an object with type in {list(SLOT_TYPES)}, got {spec!r}", "fix the slot spec")
    kind = spec["type"]
    if kind == "choice":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise bad_input(w, "choice slot needs a non-empty 'choices' list", "add choices")
        return Slot(name, kind, choices=tuple(choices))
    lo_key, hi_key = ("min_len", "max_len") if kind == "str" else ("min", "max")
    lo, hi = spec.get(lo_key), spec.get(hi_key)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi))
    if not numeric or lo > hi or (kind != "float" and (int(lo) != lo or int(hi) != hi)):
        raise bad_input(w, f"needs numbers {lo_key} <= {hi_key} (integers for {kind}), got {lo!r}, {hi!r}", "fix the range")
    if kind == "str" and lo < 1:
        raise bad_input(w, f"min_len must be >= 1, got {lo}", "fix the range")
    alphabet = spec.get("alphabet", string.ascii_lowercase)
    if not isinstance(alphabet, str) or not alphabet:
        raise bad_input(w, "alphabet must be a non-empty string", "fix the alphabet")
    decimals = spec.get("decimals", 2)
    if not isinstance(decimals, int) or decimals < 0:
        raise bad_input(w, f"decimals must be an integer >= 0, got {decimals!r}", "fix decimals")
    return Slot(name, kind, lo=lo, hi=hi, decimals=decimals, alphabet=alphabet)


def parse_template(row: Mapping[str, Any], where: str) -> Template:
    """Validate one JSONL row; every problem is a ReadError naming ``where`` (file:line)."""
    for key, kind in (("id", str), ("capability", str), ("scaffold", str)):
        if not isinstance(row.get(key), kind) or not row[key]:
            raise bad_input(where, f"{key!r} must be a non-empty string, got {row.get(key)!r}", f"set {key}")
    check_capability(row["capability"], f"{where}: capability")
    unknown = set(row) - {"id", "capability", "scaffold", "slots", "constraints", "features", "answer"}
    if unknown:
        raise bad_input(where, f"unknown key(s) {sorted(unknown)}", "remove them (see read/templates.py)")
    slots_spec = row.get("slots", {})
    if not isinstance(slots_spec, dict):
        raise bad_input(where, "'slots' must be an object name -> spec", "fix slots")
    slots = tuple(_parse_slot(n, s, where) for n, s in slots_spec.items())
    names = {s.name for s in slots}
    constraints = row.get("constraints", [])
    if not isinstance(constraints, list) or not all(isinstance(c, str) and c for c in constraints):
        raise bad_input(where, "'constraints' must be a list of non-empty strings", "fix constraints")
    used = set().union(*(_fields(t, where) for t in (row["scaffold"], *constraints)))
    if used - names:
        raise bad_input(where, f"prompt uses undeclared slot(s) {sorted(used - names)}", "declare them under 'slots'")
    if names - used:
        raise bad_input(where, f"slot(s) {sorted(names - used)} never appear in the scaffold or constraints", "use or remove them")
    feats = row.get("features", {})
    if not isinstance(feats, dict):
        raise bad_input(where, "'features' must be an object name -> number or slot name", "fix features")
    for fname, spec in feats.items():
        if fname in ("words", "constraints"):
            raise bad_input(where, f"feature {fname!r} is built in", "rename it")
        ok = spec in names if isinstance(spec, str) else isinstance(spec, (int, float)) and math.isfinite(spec)
        if not ok or isinstance(spec, bool):
            raise bad_input(where, f"feature {fname!r} must be a finite number or a slot name, got {spec!r}", "fix it")
    answer = row.get("answer")
    if answer is not None:
        if not isinstance(answer, str):
            raise bad_input(where, f"'answer' must be a format string or null, got {answer!r}", "fix answer")
        if _fields(answer, where) - names:
            raise bad_input(where, f"answer uses undeclared slot(s) {sorted(_fields(answer, where) - names)}", "fix answer")
    return Template(row["id"], row["capability"], row["scaffold"], slots, tuple(constraints),
                    tuple(feats.items()), answer)


def load_templates(path: str | Path, capability: str | None = None) -> list[Template]:
    """Parse one template file; every line's capability must be ``capability`` (default: the
    file's name, ``<cap>.jsonl``), and ids must be unique."""
    path = Path(path)
    capability = capability or path.stem
    out: list[Template] = []
    rows = read_jsonl(path, required=("id", "capability", "scaffold"))
    lines = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    for lineno, row in zip(lines, rows):
        where = f"{path}:{lineno}"
        t = parse_template(row, where)
        if t.capability != capability:
            raise bad_input(where, f"capability {t.capability!r} in a {capability} template file",
                            f"move it to the {t.capability} templates")
        if any(t.id == o.id for o in out):
            raise bad_input(where, f"duplicate template id {t.id!r}", "give every template a unique id")
        out.append(t)
    if not out:
        raise bad_input(str(path), "no templates", "add at least one template line")
    return out
