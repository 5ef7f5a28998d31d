"""Does a grid's regime let it answer the paper's questions? Checked before comparing methods.

Every check is method-agnostic: it reads the config and the runs of the FIXED allocations
only (``fixed_methods``: task-static and uniform), never ReAD's or another adaptive
method's numbers, so a regime can be chosen on it without looking at the comparison.

=================  =====================================================================
check              met when
=================  =====================================================================
``fixed_gain``     per task: the best fixed allocation's mean task score at the largest
                   budget is at least ``min_fixed_gain`` points above S0
``intervals``      N >= ``min_intervals`` (the paper uses 20), so adaptation has room
``seeds``          every task has >= ``min_seeds`` seeds at the largest budget
``budget_range``   the budgets span >= ``min_budget_ratio`` x in >= ``min_budget_steps`` steps
``paired_power``   per task: the paired item-level test detects ``detect_points`` with
                   power ``power`` at two-sided ``alpha``, with σ_d from the two fixed
                   allocations' per-item scores on the task's N test items
``welch_power``    reported, not required: the difference the Welch test over seeds
                   detects with the study's seeds and the fixed allocations' σ over seeds
=================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from read.aggregate.power import detectable, paired_power, welch_power
from read.config import from_mapping


@dataclass(frozen=True)
class StudyRules:
    """`preconditions:` the thresholds a study regime must meet (the defaults are issue #25's)."""

    min_fixed_gain: float = 10.0
    fixed_methods: tuple[str, ...] = ("task_static", "uniform")
    min_intervals: int = 5
    min_seeds: int = 3
    min_budget_ratio: float = 10.0
    min_budget_steps: int = 3
    detect_points: float = 2.0
    alpha: float = 0.05
    power: float = 0.8

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> StudyRules:
        d = dict(d or {})
        if "fixed_methods" in d:
            d["fixed_methods"] = tuple(d["fixed_methods"])
        return from_mapping(cls, d, "preconditions")


def _row(check: str, task: str, value: float, threshold: float, met: bool | None, note: str) -> dict:
    return {"check": check, "task": task, "value": round(float(value), 3) if np.isfinite(value) else value,
            "threshold": threshold, "met": met, "note": note}


def check(evals: Iterable[Mapping], *, n_intervals: int, rules: StudyRules) -> list[dict]:
    """One row per check (and task): value, threshold, met, and what the value is."""
    evals = [e for e in evals if e["method"] in rules.fixed_methods]
    if not evals:
        return []
    budgets = sorted({int(e["budget"]) for e in evals})
    out = [_row("intervals", "", n_intervals, rules.min_intervals, n_intervals >= rules.min_intervals,
                "decision intervals N")]
    ratio = budgets[-1] / budgets[0] if budgets else float("nan")
    out.append(_row("budget_range", "", ratio, rules.min_budget_ratio,
                    bool(budgets) and ratio >= rules.min_budget_ratio and len(budgets) >= rules.min_budget_steps,
                    f"B_max / B_min over {len(budgets)} budgets (need {rules.min_budget_steps})"))
    for task in sorted({e["task"] for e in evals}):
        top = [e for e in evals if e["task"] == task and int(e["budget"]) == budgets[-1]]
        by_method: dict[str, list[Mapping]] = {}
        for e in top:
            by_method.setdefault(e["method"], []).append(e)
        s0 = 100 * float(top[0]["initial"]["task_score"])
        means = {m: 100 * float(np.mean([e["task_score"] for e in v])) for m, v in by_method.items()}
        best = max(means, key=means.get)
        out.append(_row("fixed_gain", task, means[best] - s0, rules.min_fixed_gain,
                        means[best] - s0 >= rules.min_fixed_gain,
                        f"{best} {means[best]:.1f} vs S0 {s0:.1f} at B = {budgets[-1]}"))
        n_seeds = min(len(v) for v in by_method.values())
        out.append(_row("seeds", task, n_seeds, rules.min_seeds, n_seeds >= rules.min_seeds,
                        f"fewest seeds of {sorted(by_method)} at B = {budgets[-1]}"))
        out += _power_rows(task, by_method, rules)
    return out


def _power_rows(task: str, by_method: Mapping[str, Sequence[Mapping]], rules: StudyRules) -> list[dict]:
    if len(by_method) < 2 or min(len(v) for v in by_method.values()) < 2:
        return [_row("paired_power", task, float("nan"), rules.detect_points, None,
                     "needs two fixed allocations with two or more seeds each")]
    scores = [100 * np.array([e["task_score"] for e in v]) for v in by_method.values()]
    sigma = float(np.sqrt(sum(((s - s.mean()) ** 2).sum() for s in scores) / sum(len(s) - 1 for s in scores)))
    a, b = (100 * np.mean([e["task_items"]["correct"] for e in v], axis=0) for v in list(by_method.values())[:2])
    sigma_d, n_items = float(np.std(a - b, ddof=1)), len(a)
    n_seeds = min(len(v) for v in by_method.values())
    paired = detectable(lambda d: paired_power(d, sigma_d, n_items, rules.alpha), rules.power)
    welch = detectable(lambda d: welch_power(d, sigma, n_seeds, rules.alpha), rules.power)
    return [
        _row("paired_power", task, paired, rules.detect_points, paired <= rules.detect_points,
             f"smallest detectable difference, points: σ_d {sigma_d:.1f} over {n_items} test items"),
        _row("welch_power", task, welch, rules.detect_points, None,
             f"reported only: σ {sigma:.2f} points over {n_seeds} seeds"),
    ]


def all_met(rows: Sequence[Mapping]) -> bool:
    """Whether every required check (``met`` not None) holds."""
    return all(r["met"] for r in rows if r["met"] is not None)


__all__ = ["StudyRules", "all_met", "check"]
