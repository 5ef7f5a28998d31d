"""Difficulty d_c(x), tertile levels, the curriculum mix, and selection under the template cap."""

from __future__ import annotations

import logging
import math
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from read.config import from_mapping
from read.errors import bad_input
from read.io import read_json, write_json
from read.templates.spec import PoolItem

log = logging.getLogger(__name__)

LEVELS: tuple[str, ...] = ("easy", "medium", "hard")
EPS = 1e-9
# Paper §6.11 (released code): (progress upper bound, easy, medium, hard).
DEFAULT_SCHEDULE: tuple[tuple[float, float, float, float], ...] = (
    (0.3, 0.10, 0.80, 0.10),
    (0.7, 0.10, 0.50, 0.40),
    (1.0, 0.05, 0.20, 0.75),
)


@dataclass(frozen=True)
class DifficultyScale:
    """Per capability: feature min/max over a reference sample Q_c and tertile cuts of d_c.

    ``ranges[cap][f] = (min, max)``, ``cuts[cap] = (q1, q2)``: d <= q1 easy, d <= q2
    medium, else hard. Features a capability's sample never showed are ignored.
    """

    ranges: dict[str, dict[str, tuple[float, float]]]
    cuts: dict[str, tuple[float, float]]

    def score(self, capability: str, features: Mapping[str, float]) -> float:
        """d_c(x): mean of min-max normalised features (missing = the minimum), clipped to [0, 1]."""
        rng = self.ranges.get(capability)
        if not rng:
            raise bad_input(f"difficulty scale: {capability}", "no reference range", "refit the scale on this pool")
        vals = [(float(features.get(f, lo)) - lo) / (hi - lo + EPS) for f, (lo, hi) in rng.items()]
        return float(np.clip(np.mean(vals), 0.0, 1.0))

    def level(self, capability: str, d: float) -> str:
        q1, q2 = self.cuts[capability]
        return "easy" if d <= q1 else "medium" if d <= q2 else "hard"

    @classmethod
    def fit(cls, items_by_cap: Mapping[str, Sequence[Any]]) -> DifficultyScale:
        """Fit on reference samples (items with ``.features``), one list per capability."""
        ranges, cuts = {}, {}
        for cap, items in items_by_cap.items():
            if not items:
                raise bad_input(f"difficulty reference for {cap}", "empty sample", "draw at least a few items")
            names = sorted({f for it in items for f in it.features})
            mat = np.array([[float(it.features.get(f, np.nan)) for f in names] for it in items])
            lo, hi = np.nanmin(mat, axis=0), np.nanmax(mat, axis=0)
            ranges[cap] = {f: (float(a), float(b)) for f, a, b in zip(names, lo, hi)}
            scale = cls(ranges={cap: ranges[cap]}, cuts={})
            d = np.array([scale.score(cap, it.features) for it in items])
            q1, q2 = np.quantile(d, [1 / 3, 2 / 3])
            cuts[cap] = (float(q1), float(q2))
        return cls(ranges, cuts)

    def to_json(self) -> dict:
        return {"version": 1, "ranges": {c: {f: list(v) for f, v in r.items()} for c, r in self.ranges.items()},
                "cuts": {c: list(v) for c, v in self.cuts.items()}}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], where: str = "difficulty scale") -> DifficultyScale:
        if obj.get("version") != 1:
            raise bad_input(where, f"unsupported version {obj.get('version')!r}", "refit the scale")
        return cls({c: {f: (float(a), float(b)) for f, (a, b) in r.items()} for c, r in obj["ranges"].items()},
                   {c: (float(a), float(b)) for c, (a, b) in obj["cuts"].items()})

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> DifficultyScale:
        return cls.from_json(read_json(path), str(path))


@dataclass(frozen=True)
class CurriculumConfig:
    """`templates:` sampling section.

    schedule: rows (progress upper bound, easy, medium, hard); bounds increasing, last 1.0,
        each mix sums to 1. Default: paper §6.11.
    template_cap: max share of one template in any ``window`` consecutive items, in (0, 1].
    window: window length >= 1 (default 128).
    oversample: candidates drawn per requested item before relaxing the mix (>= 1).
    """

    schedule: tuple[tuple[float, float, float, float], ...] = DEFAULT_SCHEDULE
    template_cap: float = 0.25
    window: int = 128
    oversample: int = 4

    def __post_init__(self):
        where = "templates.schedule"
        try:  # YAML gives lists; keep the frozen config hashable
            object.__setattr__(self, "schedule", tuple(tuple(float(v) for v in row) for row in self.schedule))
        except (TypeError, ValueError):
            raise bad_input(where, f"expected rows of numbers, got {self.schedule!r}", "fix the schedule") from None
        if not self.schedule or any(len(row) != 4 for row in self.schedule):
            raise bad_input(where, "needs rows (bound, easy, medium, hard)", "fix the schedule")
        bounds = [row[0] for row in self.schedule]
        if bounds != sorted(set(bounds)) or bounds[-1] != 1.0 or bounds[0] <= 0:
            raise bad_input(where, f"progress bounds must increase to 1.0, got {bounds}", "fix the schedule")
        for row in self.schedule:
            if min(row[1:]) < 0 or abs(sum(row[1:]) - 1) > 1e-6:
                raise bad_input(where, f"row {list(row)} needs (bound, easy, medium, hard) summing to 1", "fix it")
        if not 0 < self.template_cap <= 1:
            raise bad_input("templates.template_cap", f"must be in (0, 1], got {self.template_cap}", "fix it")
        if self.window < 1 or self.oversample < 1:
            raise bad_input("templates.window/oversample", "must be >= 1", "fix them")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "templates") -> CurriculumConfig:
        """Build from a config mapping; unknown keys are an error listing the valid ones."""
        return from_mapping(cls, d, where)


def curriculum_mix(progress: float, schedule=DEFAULT_SCHEDULE) -> dict[str, float]:
    """The easy/medium/hard mix for run progress in [0, 1] (first row whose bound >= progress)."""
    if not 0 <= progress <= 1:
        raise bad_input("curriculum", f"progress must be in [0, 1], got {progress}", "pass (k-1)/N or similar")
    row = next(r for r in schedule if progress <= r[0] + 1e-12)
    return dict(zip(LEVELS, row[1:]))


def level_counts(mix: Mapping[str, float], n: int) -> dict[str, int]:
    """Integer counts summing to n (largest remainder, ties in LEVELS order)."""
    raw = {lv: mix[lv] * n for lv in LEVELS}
    counts = {lv: int(math.floor(v)) for lv, v in raw.items()}
    order = sorted(LEVELS, key=lambda lv: (-(raw[lv] - counts[lv]), LEVELS.index(lv)))
    for lv in order[: n - sum(counts.values())]:
        counts[lv] += 1
    return counts


def select(candidates: Sequence[PoolItem], need: Mapping[str, int], cfg: CurriculumConfig) -> list[PoolItem]:
    """Pick items in candidate order: distinct prompts, level counts ``need``, template cap.

    The cap is an upper bound on any template's count within every ``window`` consecutive
    picks; it is raised to 1/(templates among the candidates) when too few exist to meet it.
    Passes: (1) exact level and cap; (2) any level, cap kept; (3) any level, no cap.
    Later passes only run when candidates run out, and are logged.
    """
    n = sum(need.values())
    n_templates = len({it.template for it in candidates})
    limit = max(1, math.floor(max(cfg.template_cap, 1 / max(n_templates, 1)) * cfg.window + 1e-9))
    picked: list[PoolItem] = []
    seen: set[str] = set()
    left = dict(need)
    recent: deque[str] = deque()  # templates of the last window-1 picks
    in_window: Counter[str] = Counter()
    for relax in (0, 1, 2):
        for it in candidates:
            if len(picked) == n:
                break
            if it.prompt in seen:
                continue
            if relax == 0 and left[it.difficulty] == 0:
                continue
            if relax < 2 and in_window[it.template] + 1 > limit:
                continue
            picked.append(it)
            seen.add(it.prompt)
            recent.append(it.template)
            in_window[it.template] += 1
            if len(recent) > cfg.window - 1:
                in_window[recent.popleft()] -= 1
            lv = it.difficulty if left[it.difficulty] > 0 else max(LEVELS, key=lambda x: left[x])
            left[lv] -= 1
        if len(picked) == n:
            break
        # a handful of items (a budget's last round) cannot follow a mix: not worth a warning
        log.log(logging.WARNING if n >= 16 else logging.DEBUG, "template sampling: only %d/%d items after pass %d; "
                "relaxing %s", len(picked), n, relax, "the difficulty mix" if relax == 0 else "the template cap")
    return picked
