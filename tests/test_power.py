"""Power of the study's tests (read.aggregate.power), checked against closed forms."""

from __future__ import annotations

import math

import pytest

from read.aggregate.power import detectable, from_runs, paired_power, welch_power


def test_with_no_true_difference_the_power_is_the_false_positive_rate():
    assert welch_power(0.0, 2.0, 3) == pytest.approx(0.05, abs=1e-9)
    assert paired_power(0.0, 10.0, 500) == pytest.approx(0.05, abs=1e-9)


def test_many_items_match_the_normal_approximation():
    # (z_.975 + z_.8) · σ_d / √N = (1.95996 + 0.84162) · 40 / √10000 = 1.1206
    assert detectable(lambda d: paired_power(d, 40.0, 10_000)) == pytest.approx(1.1206, abs=0.002)


def test_three_seeds_need_about_three_standard_deviations():
    # two-sample t, n = 3 per group, α = .05, power .8: d = Δ/σ ≈ 3.07 (noncentral t, df 4)
    assert detectable(lambda d: welch_power(d, 1.0, 3)) == pytest.approx(3.07, abs=0.03)
    assert detectable(lambda d: welch_power(d, 1.0, 8)) < 1.6


def test_a_pilot_gives_the_spread_over_seeds_and_items():
    def run(method, seed, score, correct):
        return {"method": method, "budget": 100, "seed": seed, "task_score": score,
                "task_items": {"correct": correct}}
    evals = [run("a", 0, 0.50, [1, 1, 0, 0]), run("a", 1, 0.60, [1, 1, 1, 0]),
             run("b", 0, 0.20, [1, 0, 0, 0]), run("b", 1, 0.40, [1, 1, 0, 0])]
    out = from_runs(evals, seeds=[3], items=[4])
    # pooled SD of {50, 60} and {20, 40}: sqrt((50 + 200) / 2) = 11.18
    assert out.sigma_seeds == pytest.approx(math.sqrt(125), rel=1e-9)
    # per-item means a = [100, 100, 50, 0], b = [100, 50, 0, 0]; d = [0, 50, 50, 0], SD 28.87
    assert out.sigma_items == pytest.approx(28.8675, rel=1e-4) and out.pilot_items == 4
    with pytest.raises(ValueError, match="one budget"):
        from_runs(evals + [run("a", 2, 0.5, [1, 1, 1, 1]) | {"budget": 200}])


def _eval(task, method, budget, seed, score, s0=0.10, items=None):
    items = items if items is not None else [1] * int(round(score * 10)) + [0] * (10 - int(round(score * 10)))
    return {"task": task, "method": method, "budget": budget, "seed": seed, "task_score": score,
            "initial": {"task_score": s0}, "task_items": {"correct": items}}


RULES = {"min_fixed_gain": 10.0, "fixed_methods": ["task_static", "uniform"], "min_intervals": 5, "min_seeds": 3,
         "min_budget_ratio": 10.0, "min_budget_steps": 3, "detect_points": 2.0, "alpha": 0.05, "power": 0.8}


def test_preconditions_read_only_the_fixed_allocations():
    from read.aggregate.preconditions import StudyRules, all_met, check

    evals = [_eval("t", m, b, s, score) for b in (10, 30, 100) for s in (0, 1, 2)
             for m, score in (("task_static", 0.3), ("uniform", 0.2))]
    # a striking ReAD number must not change any verdict
    evals += [_eval("t", "read", 100, s, 0.9) for s in (0, 1, 2)]
    rows = {r["check"]: r for r in check(evals, n_intervals=5, rules=StudyRules.from_dict(RULES))}
    # best fixed: task_static 30.0 vs S0 10.0 -> +20 >= 10
    assert rows["fixed_gain"]["value"] == 20.0 and rows["fixed_gain"]["met"]
    assert rows["budget_range"]["value"] == 10.0 and rows["budget_range"]["met"]
    assert rows["seeds"]["met"] and rows["intervals"]["met"]
    # 10 test items: per-item difference [0, 0, 100, 0, ...] cannot detect 2 points
    assert rows["paired_power"]["met"] is False and not all_met(list(rows.values()))
    assert rows["welch_power"]["met"] is None


def test_too_few_intervals_or_budget_steps_fail_their_checks():
    from read.aggregate.preconditions import StudyRules, check

    evals = [_eval("t", m, b, s, 0.3) for b in (10, 100) for s in (0, 1, 2) for m in ("task_static", "uniform")]
    rows = {r["check"]: r for r in check(evals, n_intervals=2, rules=StudyRules.from_dict(RULES))}
    assert not rows["intervals"]["met"] and not rows["budget_range"]["met"]
