"""Eval-leakage filter: exact normalised prompts and hashed word 13-grams of evaluation data.

The index holds two kinds of evaluation prompt:

- ``eval``: every task's dev and test items and every capability's gold evaluation items.
  A pool prompt leaks if its normalised form is one of them (``eval_prompt``) or, for
  free-text pools, if it shares any word 13-gram with one (``eval_ngram``; GPT-3's
  decontamination unit).
- ``probe``: the probe sets. They are drawn from the very pools generation samples, so
  only the exact prompt counts (``probe_prompt``): every fill of a template shares its
  scaffold's 13-grams with every other.

Prompts are normalised to lowercase words and symbols with sentence punctuation and
layout dropped, so ``What is 3 + 4?`` and ``what is 3 + 4`` match but ``3 - 4`` does not.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from read.errors import bad_input
from read.io import read_json, write_json

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_PUNCTUATION = frozenset(".,;:!?'\"`")
N = 13
REASONS = ("eval_prompt", "eval_ngram", "probe_prompt")


def normalise_prompt(text: str) -> str:
    """Lowercase words and symbols joined by single spaces (sentence punctuation dropped)."""
    return " ".join(t for t in _TOKEN.findall(text.lower()) if t not in _PUNCTUATION)


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ngrams(text: str, n: int = N) -> set[str]:
    """Hashes (16 hex chars) of the word n-grams of the normalised text (empty if shorter)."""
    w = normalise_prompt(text).split()
    return {_h(" ".join(w[i:i + n]))[:16] for i in range(len(w) - n + 1)}


@dataclass(frozen=True)
class LeakageIndex:
    """Evaluation prompts (hashes and n-gram hashes) and probe prompts (hashes); see the module docstring."""

    prompt_hashes: frozenset[str]
    ngram_hashes: frozenset[str]
    n: int = N
    probe_hashes: frozenset[str] = frozenset()

    @classmethod
    def build(cls, eval_prompts: Iterable[str], n: int = N, probe_prompts: Iterable[str] = ()) -> LeakageIndex:
        prompts = list(eval_prompts)
        grams: set[str] = set()
        for p in prompts:
            grams |= ngrams(p, n)
        return cls(frozenset(_h(normalise_prompt(p)) for p in prompts), frozenset(grams), n,
                   frozenset(_h(normalise_prompt(p)) for p in probe_prompts))

    def reason(self, prompt: str, *, use_ngrams: bool = True) -> str | None:
        """Why ``prompt`` leaks (one of REASONS), or None."""
        h = _h(normalise_prompt(prompt))
        if h in self.prompt_hashes:
            return "eval_prompt"
        if h in self.probe_hashes:
            return "probe_prompt"
        if use_ngrams and not ngrams(prompt, self.n).isdisjoint(self.ngram_hashes):
            return "eval_ngram"
        return None

    def leaks(self, prompt: str, *, use_ngrams: bool = True) -> bool:
        return self.reason(prompt, use_ngrams=use_ngrams) is not None

    def filter(self, items: Iterable[Any], *, use_ngrams: bool = True) -> tuple[list[Any], dict[str, int]]:
        """(items whose prompt does not leak, removed count per reason); the counts go in the manifest."""
        kept, removed = [], dict.fromkeys(REASONS, 0)
        for it in items:
            why = self.reason(it.prompt, use_ngrams=use_ngrams)
            if why is None:
                kept.append(it)
            else:
                removed[why] += 1
        return kept, removed

    def to_json(self) -> dict:
        return {"version": 2, "n": self.n, "prompt_hashes": sorted(self.prompt_hashes),
                "ngram_hashes": sorted(self.ngram_hashes), "probe_hashes": sorted(self.probe_hashes)}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "eval hashes") -> LeakageIndex:
        if obj.get("version") != 2:
            raise bad_input(where, f"unsupported version {obj.get('version')!r}", "rebuild the eval hashes")
        return cls(frozenset(obj["prompt_hashes"]), frozenset(obj["ngram_hashes"]), int(obj["n"]),
                   frozenset(obj["probe_hashes"]))

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> LeakageIndex:
        return cls.from_json(read_json(path), str(path))


def filter_leaks(items: Sequence[Any], index: LeakageIndex, *, use_ngrams: bool = True) -> tuple[list[Any], dict]:
    """Module-level alias of :meth:`LeakageIndex.filter`."""
    return index.filter(items, use_ngrams=use_ngrams)
