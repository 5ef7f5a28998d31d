"""Prompt pools: one sampling interface over template files, prompt files and the embedded world.

Every pool is a :class:`CurriculumPool` (difficulty, curriculum mix, template cap):

- :class:`JsonlPool`: typed-slot template files (one file per capability);
- :class:`PromptFilePool`: a local JSONL of prompts per capability (benchmark training
  prompts, say), with some lines held out as the probe set;
- :class:`EmbeddedPool`: the embedded world's ``pool`` split.

:class:`CapabilityPools` puts one pool per capability behind the same interface. A pool
also says whether word 13-grams are a sign of leakage for it (``ngram_leakage``): free-text
prompts, yes; prompts generated from scaffolds, no, because every fill of a scaffold
shares its 13-grams with every other (exact prompts still count, see ``read.templates.leakage``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from read.capabilities import CAPABILITIES
from read.errors import ReadError, bad_input
from read.io import read_jsonl
from read.templates.curriculum import CurriculumConfig, DifficultyScale, curriculum_mix, level_counts, select
from read.templates.spec import PoolItem, load_templates

log = logging.getLogger(__name__)


class TemplatePool(Protocol):
    """What the interval's data rule needs: n prompts of one capability at run ``progress``."""

    def capabilities(self) -> tuple[str, ...]: ...

    def sample(self, capability: str, n: int, rng: np.random.Generator, progress: float) -> list[PoolItem]: ...


class CurriculumPool:
    """Shared sampling: draw candidates, score d_c, select by curriculum mix and template cap.

    ``ngram_leakage``: whether the eval-leakage filter matches word 13-grams on this pool's
    prompts (True for free text) or exact prompts only (scaffold-generated prompts).

    Subclasses implement ``capabilities()`` and ``draw(capability, m, rng)`` (m raw
    candidates with ``.features``, in random order). ``scale`` fixes d_c's min/max and
    tertile cuts; without one it is fitted on :meth:`reference` (seed 0) on first use.
    When fewer distinct prompts exist than asked for, ``on_exhausted="repeat"`` repeats
    earlier picks (logged) and ``"error"`` raises.
    """

    ngram_leakage = False

    def __init__(self, scale: DifficultyScale | None = None, cfg: CurriculumConfig | None = None,
                 on_exhausted: str = "repeat"):
        if on_exhausted not in ("repeat", "error"):
            raise bad_input("templates.on_exhausted", f"unknown value {on_exhausted!r}", "choose 'repeat' or 'error'")
        self.cfg = cfg or CurriculumConfig()
        self.on_exhausted = on_exhausted
        self._scale = scale

    def capabilities(self) -> tuple[str, ...]:
        raise NotImplementedError

    def draw(self, capability: str, m: int, rng: np.random.Generator) -> list[Any]:
        raise NotImplementedError

    def reference(self, n: int = 256, seed: int = 0) -> dict[str, list[Any]]:
        """The reference sample Q_c per capability (raw candidates, no curriculum)."""
        from read.rng import rng_for

        return {c: self.draw(c, n, rng_for(seed, "difficulty-reference", c)) for c in self.capabilities()}

    @property
    def scale(self) -> DifficultyScale:
        if self._scale is None:
            self._scale = DifficultyScale.fit(self.reference())
        return self._scale

    def score(self, items: Iterable[Any]) -> list[PoolItem]:
        """Wrap raw items with d_c and their level."""
        out = []
        for it in items:
            d = self.scale.score(it.capability, it.features)
            out.append(PoolItem.wrap(it, self.scale.level(it.capability, d), d))
        return out

    def sample(self, capability: str, n: int, rng: np.random.Generator, progress: float) -> list[PoolItem]:
        """n items of ``capability``: distinct prompts, curriculum mix at ``progress``, template cap."""
        if capability not in self.capabilities():
            raise bad_input(f"template pool: {capability}", "no templates for this capability",
                            f"use one of {list(self.capabilities())}")
        if n < 0:
            raise bad_input("template pool", f"n must be >= 0, got {n}", "ask for a non-negative count")
        if n == 0:
            return []
        need = level_counts(curriculum_mix(progress, self.cfg.schedule), n)
        cands = self.score(self.draw(capability, n * self.cfg.oversample, rng))
        picked = select(cands, need, self.cfg)
        if len(picked) < n:
            if self.on_exhausted == "error" or not picked:
                raise bad_input(f"template pool: {capability}", f"only {len(picked)} distinct prompts for {n} items",
                                "add templates, widen slot ranges, or lower the budget")
            log.warning("template pool %s: %d distinct prompts for %d items; repeating", capability, len(picked), n)
            picked += [picked[i % len(picked)] for i in range(n - len(picked))]
        return picked


class JsonlPool(CurriculumPool):
    """Typed-slot template files: a directory of ``<cap>.jsonl``, or a mapping capability -> file."""

    def __init__(self, directory: str | Path | Mapping[str, str | Path], scale: DifficultyScale | None = None,
                 cfg: CurriculumConfig | None = None, on_exhausted: str = "repeat"):
        super().__init__(scale, cfg, on_exhausted)
        if isinstance(directory, Mapping):
            self.templates = {c: load_templates(path, c) for c, path in directory.items()}
            return
        directory = Path(directory)
        if not directory.is_dir():
            raise bad_input(str(directory), "template directory not found", "check the templates path in the config")
        self.templates = {c: load_templates(directory / f"{c}.jsonl")
                          for c in CAPABILITIES if (directory / f"{c}.jsonl").is_file()}
        stray = sorted(p.name for p in directory.glob("*.jsonl") if p.stem not in CAPABILITIES)
        if stray:
            raise bad_input(str(directory), f"file(s) {stray} are not named after a capability",
                            f"name them <capability>.jsonl with one of {list(CAPABILITIES)}")
        if not self.templates:
            raise bad_input(str(directory), "no <capability>.jsonl files", "add template files")

    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.templates)

    def draw(self, capability: str, m: int, rng: np.random.Generator) -> list[PoolItem]:
        """m fills: a uniformly random template each, then its slots, all from ``rng``."""
        ts = self.templates[capability]
        return [ts[int(rng.integers(len(ts)))].fill(rng) for _ in range(m)]


PROMPT_KEYS = ("prompt", "answer", "template", "features")


def read_prompt_file(path: str | Path, capability: str) -> list[PoolItem]:
    """A prompt pool file: one ``{"prompt", "answer"?, "template"?, "features"?}`` object per line.

    ``template`` names the line's origin for the share cap (default: the file's name);
    ``features`` are difficulty features (numbers); ``words`` (prompt length) is always added.
    A bad line is an error naming file:line.
    """
    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "prompt file not found", f"fix capabilities.{capability}.path")
    rows = read_jsonl(path, required=("prompt",))
    lines = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    items = []
    for lineno, row in zip(lines, rows):
        where = f"{path}:{lineno}"
        unknown = sorted(set(row) - set(PROMPT_KEYS))
        if unknown:
            raise bad_input(where, f"unknown key(s) {unknown}", f"use only {list(PROMPT_KEYS)}")
        prompt, answer, origin = row["prompt"], row.get("answer"), row.get("template", path.stem)
        if not isinstance(prompt, str) or not prompt.strip():
            raise bad_input(where, f"'prompt' must be a non-empty string, got {prompt!r}", "fix the line")
        if answer is not None and not isinstance(answer, str):
            raise bad_input(where, f"'answer' must be a string or absent, got {answer!r}", "fix the line")
        if not isinstance(origin, str) or not origin:
            raise bad_input(where, f"'template' must be a non-empty string, got {origin!r}", "fix the line")
        feats = row.get("features", {})
        if not isinstance(feats, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in feats.values()):
            raise bad_input(where, "'features' must map names to finite numbers", "fix the line")
        features = {"words": float(len(prompt.split())), **{k: float(v) for k, v in feats.items()}}
        items.append(PoolItem(capability, prompt, answer, origin, features, difficulty="", d=float("nan")))
    if not items:
        raise bad_input(str(path), "no prompts", "add prompt lines")
    return items


class PromptFilePool(CurriculumPool):
    """Prompt files, capability -> path (:func:`read_prompt_file`), minus held-out lines.

    ``held_out[cap]`` are line indices (0-based, blank lines not counted) kept out of
    sampling: the capability's probe set.
    """

    ngram_leakage = True

    def __init__(self, files: Mapping[str, str | Path], held_out: Mapping[str, Sequence[int]] | None = None,
                 scale: DifficultyScale | None = None, cfg: CurriculumConfig | None = None,
                 on_exhausted: str = "repeat"):
        super().__init__(scale, cfg, on_exhausted)
        held_out = held_out or {}
        self.items = {}
        for c, path in files.items():
            lines = read_prompt_file(path, c)
            skip = set(held_out.get(c, ()))
            self.items[c] = [it for i, it in enumerate(lines) if i not in skip]
            if not self.items[c]:
                raise bad_input(str(path), f"all {len(lines)} prompts are held out as probes",
                                "add prompts or lower probes.n_per_capability")

    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.items)

    def draw(self, capability: str, m: int, rng: np.random.Generator) -> list[PoolItem]:
        """m lines drawn uniformly with replacement (``select`` keeps distinct prompts)."""
        lines = self.items[capability]
        return [lines[int(i)] for i in rng.integers(len(lines), size=m)]


class CapabilityPools:
    """One pool per capability behind the pool interface; the pools share one difficulty scale."""

    def __init__(self, pools: Mapping[str, CurriculumPool]):
        for c, pool in pools.items():
            if c not in pool.capabilities():
                raise bad_input(f"pool for {c}", "the pool has no prompts of this capability", "fix the capability data")
        self.pools = dict(pools)

    def capabilities(self) -> tuple[str, ...]:
        return tuple(c for c in CAPABILITIES if c in self.pools)

    def sample(self, capability: str, n: int, rng: np.random.Generator, progress: float) -> list[PoolItem]:
        if capability not in self.pools:
            raise bad_input(f"capability pools: {capability}", "no pool for this capability",
                            f"use one of {list(self.capabilities())}")
        return self.pools[capability].sample(capability, n, rng, progress)

    def ngram_leakage(self, capability: str) -> bool:
        return self.pools[capability].ngram_leakage


class EmbeddedPool(CurriculumPool):
    """The embedded world's ``pool`` split behind the template-pool interface.

    Candidates come from ``sampler(capability, split, m, seed)`` (default
    ``read.embedded.sample_items``) with a seed drawn from ``rng``, so the same rng state
    gives the same items. The sampler returns distinct prompts of that split, or raises
    ReadError when the split holds fewer than asked; then half as many are asked for.
    """

    def __init__(self, split: str = "pool", scale: DifficultyScale | None = None,
                 cfg: CurriculumConfig | None = None, on_exhausted: str = "repeat",
                 sampler: Callable[[str, str, int, int], Sequence[Any]] | None = None):
        super().__init__(scale, cfg, on_exhausted)
        self.split = split
        self._sampler = sampler

    def capabilities(self) -> tuple[str, ...]:
        return CAPABILITIES

    def draw(self, capability: str, m: int, rng: np.random.Generator) -> list[Any]:
        sampler = self._sampler
        if sampler is None:
            from read.embedded import sample_items as sampler
        seed = int(rng.integers(2**31))
        while True:  # a small split may not hold m distinct prompts: ask for fewer
            try:
                return list(sampler(capability, self.split, m, seed))
            except ReadError:
                if m <= 1:
                    raise
                m //= 2


def make_pool(source: str | Path, *, scale: DifficultyScale | str | Path | None = None,
              cfg: CurriculumConfig | None = None, on_exhausted: str = "repeat") -> CurriculumPool:
    """``"embedded"`` -> the embedded world's pool split; anything else -> a template directory.

    ``scale`` is a DifficultyScale or the path of one saved with ``DifficultyScale.save``
    (the setup rule fits it once: ``DifficultyScale.fit(pool.reference(n, seed))``); None
    fits it on first use with seed 0.
    """
    if isinstance(scale, (str, Path)):
        scale = DifficultyScale.load(scale)
    if str(source) == "embedded":
        return EmbeddedPool("pool", scale, cfg, on_exhausted)
    return JsonlPool(source, scale, cfg, on_exhausted)
