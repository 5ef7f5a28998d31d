"""How small a difference a grid can detect: power of the Welch and paired item-level tests.

    python -m read.aggregate.power --runs results/pilot/runs/<task>/*/B<B>/seed*/final/eval.json

reads pilot runs (two or more methods at one budget, several seeds), estimates the spread
each test sees, and prints the smallest difference in task score each detects at the
requested seeds and test items (two-sided α, power 1 − β):

* Welch over seeds (the paper's test): σ = the pooled standard deviation over seeds of
  each method's task score; n seeds per method; the noncentral t gives the power.
* paired over test items: σ_d = the standard deviation over items of the difference
  between two methods' per-item scores (each item's mean over seeds); N items. Fewer or
  more items scale the standard error by sqrt(N_pilot / N).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


def welch_power(delta: float, sigma: float, n: int, alpha: float = 0.05) -> float:
    """Power of a two-sided two-sample t test (equal n and σ) to detect a true difference ``delta``."""
    from scipy import stats

    if n < 2 or sigma <= 0:
        return float("nan")
    df = 2 * n - 2
    ncp = delta / (sigma * np.sqrt(2.0 / n))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


def paired_power(delta: float, sigma_d: float, n_items: int, alpha: float = 0.05) -> float:
    """Power of a two-sided paired t test over ``n_items`` items with per-item difference SD ``sigma_d``."""
    from scipy import stats

    if n_items < 2 or sigma_d <= 0:
        return float("nan")
    df = n_items - 1
    ncp = delta / (sigma_d / np.sqrt(n_items))
    crit = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


def detectable(power_of, target: float = 0.8, hi: float = 100.0) -> float:
    """The smallest difference (points) ``power_of(delta)`` detects with power ``target`` (bisection)."""
    lo = 0.0
    if not power_of(hi) >= target:
        return float("inf")
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if power_of(mid) < target else (lo, mid)
    return hi


@dataclass(frozen=True)
class PowerReport:
    """What a pilot says about the study's power (scores in points)."""

    budget: int
    methods: list[str]
    seeds_per_method: list[int]
    sigma_seeds: float
    sigma_items: float
    pilot_items: int
    welch_detectable: dict[int, float]
    paired_detectable: dict[int, float]


def from_runs(evals: Sequence[dict], seeds: Sequence[int] = (3, 5, 8), items: Sequence[int] = (200, 1000, 2000),
              alpha: float = 0.05, power: float = 0.8) -> PowerReport:
    """A :class:`PowerReport` from eval.json dicts of two or more methods at one budget."""
    budgets = {int(e["budget"]) for e in evals}
    if len(budgets) != 1:
        raise ValueError(f"pilot runs must share one budget, got {sorted(budgets)}")
    by_method: dict[str, list[dict]] = {}
    for e in evals:
        by_method.setdefault(e["method"], []).append(e)
    methods = sorted(by_method)
    if len(methods) < 2 or min(len(v) for v in by_method.values()) < 2:
        raise ValueError("need two or more methods with two or more seeds each")
    scores = {m: 100 * np.array([e["task_score"] for e in v]) for m, v in by_method.items()}
    dof = sum(len(s) - 1 for s in scores.values())
    sigma = float(np.sqrt(sum(((s - s.mean()) ** 2).sum() for s in scores.values()) / dof))
    per_item = {m: 100 * np.mean([e["task_items"]["correct"] for e in v], axis=0) for m, v in by_method.items()}
    a, b = (per_item[m] for m in methods[:2])
    sigma_d, n_pilot = float(np.std(a - b, ddof=1)), len(a)
    return PowerReport(
        budget=budgets.pop(), methods=methods, seeds_per_method=[len(by_method[m]) for m in methods],
        sigma_seeds=sigma, sigma_items=sigma_d, pilot_items=n_pilot,
        welch_detectable={n: detectable(lambda d, n=n: welch_power(d, sigma, n, alpha), power) for n in seeds},
        paired_detectable={n: detectable(lambda d, n=n: paired_power(d, sigma_d, n, alpha), power) for n in items},
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m read.aggregate.power", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", nargs="+", required=True, help="final/eval.json files of the pilot runs")
    ap.add_argument("--seeds", nargs="+", type=int, default=[3, 5, 8])
    ap.add_argument("--items", nargs="+", type=int, default=[200, 1000, 2000])
    args = ap.parse_args(argv)
    evals = [json.loads(open(p, encoding="utf-8").read()) for p in args.runs]
    print(json.dumps(asdict(from_runs(evals, args.seeds, args.items)), indent=2))


if __name__ == "__main__":
    main()
