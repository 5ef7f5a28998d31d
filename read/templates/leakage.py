"""Eval-leakage filter: sha256 of the normalised prompt plus hashed word 13-grams."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from read.errors import bad_input
from read.io import read_json, write_json

_WORD = re.compile(r"\w+", re.UNICODE)


def normalise_prompt(text: str) -> str:
    """Lowercase words joined by single spaces (punctuation and layout dropped)."""
    return " ".join(_WORD.findall(text.lower()))


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ngrams(text: str, n: int) -> set[str]:
    """Hashes (16 hex chars) of the word n-grams of the normalised text (empty if shorter)."""
    w = normalise_prompt(text).split()
    return {_h(" ".join(w[i:i + n]))[:16] for i in range(len(w) - n + 1)}


@dataclass(frozen=True)
class LeakageIndex:
    """Evaluation prompts as sha256 of the normalised prompt plus hashed word n-grams (n=13)."""

    prompt_hashes: frozenset[str]
    ngram_hashes: frozenset[str]
    n: int = 13

    @classmethod
    def build(cls, eval_prompts: Iterable[str], n: int = 13) -> LeakageIndex:
        prompts = list(eval_prompts)
        grams: set[str] = set()
        for p in prompts:
            grams |= ngrams(p, n)
        return cls(frozenset(_h(normalise_prompt(p)) for p in prompts), frozenset(grams), n)

    def leaks(self, prompt: str) -> bool:
        return _h(normalise_prompt(prompt)) in self.prompt_hashes or not ngrams(prompt, self.n).isdisjoint(self.ngram_hashes)

    def filter(self, items: Iterable[Any]) -> tuple[list[Any], int]:
        """(items whose prompt does not leak, number removed) — the count goes in the manifest."""
        kept, removed = [], 0
        for it in items:
            if self.leaks(it.prompt):
                removed += 1
            else:
                kept.append(it)
        return kept, removed

    def to_json(self) -> dict:
        return {"version": 1, "n": self.n, "prompt_hashes": sorted(self.prompt_hashes),
                "ngram_hashes": sorted(self.ngram_hashes)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "eval hashes") -> LeakageIndex:
        if obj.get("version") != 1:
            raise bad_input(where, f"unsupported version {obj.get('version')!r}", "rebuild the eval hashes")
        return cls(frozenset(obj["prompt_hashes"]), frozenset(obj["ngram_hashes"]), int(obj["n"]))

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> LeakageIndex:
        return cls.from_json(read_json(path), str(path))


def filter_leaks(items: Sequence[Any], index: LeakageIndex) -> tuple[list[Any], int]:
    """Module-level alias of :meth:`LeakageIndex.filter`."""
    return index.filter(items)
