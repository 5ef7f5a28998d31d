"""Template pools: one sampling interface over JSONL template files and the embedded world."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from read.capabilities import CAPABILITIES
from read.errors import ReadError, bad_input
from read.templates.curriculum import CurriculumConfig, DifficultyScale, curriculum_mix, level_counts, select
from read.templates.spec import PoolItem, load_templates

log = logging.getLogger(__name__)


class TemplatePool(Protocol):
    """What the interval's data rule needs: n prompts of one capability at run ``progress``."""

    def capabilities(self) -> tuple[str, ...]: ...

    def sample(self, capability: str, n: int, rng: np.random.Generator, progress: float) -> list[PoolItem]: ...


class CurriculumPool:
    """Shared sampling: draw candidates, score d_c, select by curriculum mix and template cap.

    Subclasses implement ``capabilities()`` and ``draw(capability, m, rng)`` (m raw
    candidates with ``.features``, in random order). ``scale`` fixes d_c's min/max and
    tertile cuts; without one it is fitted on :meth:`reference` (seed 0) on first use.
    When fewer distinct prompts exist than asked for, ``on_exhausted="repeat"`` repeats
    earlier picks (logged) and ``"error"`` raises.
    """

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
    """Template files ``<dir>/<cap>.jsonl`` (only the capabilities that have a file)."""

    def __init__(self, directory: str | Path, scale: DifficultyScale | None = None,
                 cfg: CurriculumConfig | None = None, on_exhausted: str = "repeat"):
        super().__init__(scale, cfg, on_exhausted)
        directory = Path(directory)
        if not directory.is_dir():
            raise bad_input(str(directory), "template directory not found", "check templates.dir in the config")
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
