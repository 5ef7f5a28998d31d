"""read.aggregate: collecting run files, pure estimators and summary tables, on tiny
hand-made run trees whose answers can be checked by hand (values in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from read.aggregate import (
    collect_allocations,
    collect_profiles,
    collect_reference,
    collect_runs,
    collect_task_items,
    transfer,
)
from read.aggregate import diagnostics as dg
from read.aggregate import tables as tb
from read.aggregate.stats import (
    holm,
    mean_std,
    paired_t,
    stars,
    tokens_to_match,
    welch_t,
    welch_t_from_stats,
    wilson_interval,
)
from read.capabilities import CAPABILITIES
from read.errors import ReadError
from read.io import write_json

S0_ACC, S0_LL = 0.5, -1.0  # every capability, every run
REQ = {"A": {"tool_use": 0.5, "general_knowledge": 0.5}}


def write_eval(root, task, method, budget, seed, score, *, acc=None, ll=None, task_ll=-1.5, items=None):
    """One final/eval.json: S0 has acc 0.5 and ll -1.0 on every capability, task score 0.2.
    ``items``: per-test-item task values ``{"correct": [...], "ll": [...]}`` (none by default,
    like eval files written before they were kept)."""
    acc = {c: S0_ACC for c in CAPABILITIES} | (acc or {})
    ll = {c: S0_LL for c in CAPABILITIES} | (ll or {})
    path = root / "runs" / task / method / f"B{budget}" / f"seed{seed}" / "final" / "eval.json"
    write_json(path, {
        "task": task, "method": method, "budget": budget, "seed": seed, "task_score": score,
        "task_ll": task_ll, "n_test": 10, "profile": {"acc": acc, "ll": ll},
        "tokens": {"budget": budget, "generated": budget // 4, "trained": budget // 2, "profiling": 7},
        "initial": {"task_score": 0.2, "task_ll": -2.0,
                    "profile": {"acc": {c: S0_ACC for c in CAPABILITIES}, "ll": {c: S0_LL for c in CAPABILITIES}}},
    } | ({"task_items": items} if items is not None else {}))
    return path


def write_item_evals(root, per_method: dict) -> list:
    """eval.json files of task A at budget 100 from ``{method: [per-seed 0/1 lists]}``; each
    item's ll is -1 if right, -2 if wrong, and the task scores are the lists' means."""
    paths = []
    for method, per_seed in per_method.items():
        for seed, correct in enumerate(per_seed):
            items = {"correct": correct, "ll": [-1.0 if c else -2.0 for c in correct]}
            paths.append(write_eval(root, "A", method, 100, seed, float(np.mean(correct)),
                                    task_ll=float(np.mean(items["ll"])), items=items))
    return paths


@pytest.fixture
def tree(tmp_path):
    """Task A. read: 60±10 @100, 80±0 @400. uniform: 40 / 50 / 70 @100 / 400 / 1600.
    no_identifier: 50 @100. onehot:math (2 seeds) @100: math +10/+20, code 0, tool +5, rest -5."""
    paths = []
    read_acc = {"tool_use": 0.6, "general_knowledge": 0.55, "math": 0.4}  # on +10/+5, off: math -10
    for seed, s in enumerate((0.5, 0.6, 0.7)):
        paths.append(write_eval(tmp_path, "A", "read", 100, seed, s, acc=read_acc))
        paths.append(write_eval(tmp_path, "A", "read", 400, seed, 0.8, acc=read_acc))
    for budget, scores in ((100, (0.3, 0.4, 0.5)), (400, (0.4, 0.5, 0.6)), (1600, (0.6, 0.7, 0.8))):
        paths += [write_eval(tmp_path, "A", "uniform", budget, seed, s) for seed, s in enumerate(scores)]
    paths += [write_eval(tmp_path, "A", "no_identifier", 100, seed, s) for seed, s in enumerate((0.4, 0.5, 0.6))]
    off = {c: 0.45 for c in CAPABILITIES} | {"code": 0.5, "tool_use": 0.55}
    for seed, m in enumerate((0.6, 0.7)):
        paths.append(write_eval(tmp_path, "A", "onehot:math", 100, seed, 0.1, acc=off | {"math": m}))
    return tmp_path, paths


# --- pure estimators ---------------------------------------------------------------------

def test_mean_std_uses_sample_std_and_nan_for_one_value():
    assert mean_std([0.5, 0.6, 0.7])[0] == 3
    assert mean_std([0.5, 0.6, 0.7])[1:] == pytest.approx((0.6, 0.1))
    n, m, s = mean_std([3.0])
    assert (n, m) == (1, 3.0) and math.isnan(s)


def test_welch_matches_scipy_unequal_variance_t_test():
    rng = np.random.default_rng(0)
    x, y = rng.normal(1.0, 1.0, 3), rng.normal(0.0, 3.0, 5)
    ref = sps.ttest_ind(x, y, equal_var=False)
    w = welch_t(x, y)
    assert w.t == pytest.approx(ref.statistic, rel=1e-12)
    assert w.p == pytest.approx(ref.pvalue, rel=1e-10)
    assert w.df == pytest.approx(ref.df, rel=1e-12)


def test_welch_from_summary_stats_equals_welch_from_values():
    x, y = [35.02, 35.40, 34.60], [34.02, 33.80, 34.30]
    (n1, m1, s1), (n2, m2, s2) = mean_std(x), mean_std(y)
    assert welch_t_from_stats(m1, s1, n1, m2, s2, n2) == pytest.approx(tuple(welch_t(x, y)))


def test_welch_by_hand_equal_spread():
    # means 60 and 40, both std 10, n=3: t = 20 / sqrt(100/3 + 100/3) = 2.4495, df = 4.
    w = welch_t_from_stats(60, 10, 3, 40, 10, 3)
    assert w.t == pytest.approx(20 / math.sqrt(200 / 3))
    assert w.df == pytest.approx(4.0)
    assert w.p == pytest.approx(2 * sps.t.sf(w.t, 4))


def test_welch_is_nan_when_undefined():
    assert all(math.isnan(v) for v in welch_t([1.0, 1.0], [2.0, 2.0]))  # zero variance
    assert all(math.isnan(v) for v in welch_t([1.0], [2.0, 3.0]))  # one seed


def test_paired_t_matches_scipy_related_samples_t_test():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0.3, 1.0, 40), rng.normal(0.0, 1.0, 40)
    ref = sps.ttest_rel(x, y)
    w = paired_t(x - y)
    assert w.t == pytest.approx(ref.statistic, rel=1e-12)
    assert w.p == pytest.approx(ref.pvalue, rel=1e-10)
    assert w.df == 39


def test_paired_t_is_nan_when_undefined():
    assert all(math.isnan(v) for v in paired_t([0.5, 0.5, 0.5]))  # every difference the same
    assert all(math.isnan(v) for v in paired_t([1.0]))  # one pair


def test_wilson_interval_matches_scipy_and_stays_in_bounds():
    from scipy.stats import binomtest

    for k, n in [(0, 200), (12, 200), (73, 200), (500, 500), (1, 3)]:
        ref = binomtest(k, n).proportion_ci(0.95, method="wilson")
        lo, hi = wilson_interval(k / n, n)
        assert abs(lo - ref.low) < 1e-9 and abs(hi - ref.high) < 1e-9 and 0 <= lo <= hi <= 1
    assert wilson_interval(0.5, 0) == (0.0, 1.0)


def test_holm_by_hand():
    # sorted: .005*4=.02, .01*3=.03, .03*2=.06, .04*1=.04 -> monotone .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_skips_nan_and_caps_at_one():
    out = holm([0.6, float("nan"), 0.02])  # m = 2: .02*2 = .04, then max(.04, .6*1)
    assert out[0] == pytest.approx(0.6) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert holm([0.6, 0.55]) == [1.0, 1.0]  # .55*2 = 1.1 -> 1


def test_stars_thresholds():
    assert [stars(p) for p in (0.001, 0.0099, 0.01, 0.049, 0.05, float("nan"))] == ["**", "**", "*", "*", "", ""]


def test_tokens_to_match_log_linear_and_linear_by_hand():
    # scores 40/50/70 at 100/400/1600, target 60: halfway between 400 and 1600.
    assert tokens_to_match([100, 400, 1600], [40, 50, 70], 60) == (pytest.approx(800.0), "interpolated")
    assert tokens_to_match([100, 400, 1600], [40, 50, 70], 60, log=False) == (pytest.approx(1000.0), "interpolated")


def test_tokens_to_match_reports_not_reached_and_already_matched():
    assert tokens_to_match([20, 150], [10, 12], 13) == (math.inf, "not_reached")
    assert tokens_to_match([20, 150], [10, 12], 9) == (20.0, "at_min")


# --- collect -----------------------------------------------------------------------------

def test_collect_runs_is_tidy_and_independent_of_input_order(tree):
    _, paths = tree
    runs = collect_runs(paths)
    assert list(runs.columns) == ["task", "method", "budget", "seed", "metric", "capability", "value"]
    per_run = 4 + 1 + 4 + 4 * len(CAPABILITIES)  # task metrics, n_test, tokens, 4 profile metrics
    assert len(runs) == len(paths) * per_run
    assert runs.equals(collect_runs(reversed(paths)))
    assert list(runs["method"].drop_duplicates()) == ["read", "uniform", "no_identifier", "onehot:math"]
    first = runs.iloc[0]
    assert (first["method"], first["budget"], first["seed"], first["metric"], first["value"]) == \
        ("read", 100, 0, "task_score", 0.5)


def test_collect_runs_accepts_run_directories(tree):
    _, paths = tree
    assert collect_runs([p.parent.parent for p in paths]).equals(collect_runs(paths))


def test_collect_runs_rejects_the_same_run_twice(tree):
    _, paths = tree
    with pytest.raises(ReadError, match="appears twice"):
        collect_runs([paths[0], paths[0]])


def test_collect_runs_names_the_file_and_key_of_bad_values(tmp_path):
    path = write_eval(tmp_path, "A", "read", 100, 0, 0.5)
    bad = path.read_text().replace('"task_score": 0.5', '"task_score": "high"')
    path.write_text(bad)
    with pytest.raises(ReadError, match=r"eval\.json\.task_score: expected a finite number"):
        collect_runs([path])


def test_collect_runs_rejects_unknown_capabilities(tmp_path):
    path = write_eval(tmp_path, "A", "read", 100, 0, 0.5, acc={"juggling": 1.0})
    with pytest.raises(ReadError, match="unknown capability 'juggling'"):
        collect_runs([path])


def _alloc(root, k, w, method="read", k_in_file=None):
    path = root / "runs" / "A" / method / "B100" / "seed0" / f"i{k}" / "allocation.json"
    write_json(path, {"w": w, "method": method, "k": k if k_in_file is None else k_in_file})
    return path


def test_collect_allocations_reads_keys_from_path_and_fills_missing_capabilities(tmp_path):
    _alloc(tmp_path, 2, {"math": 1.0})
    _alloc(tmp_path, 1, {"math": 0.25, "code": 0.75})
    run_dir = tmp_path / "runs" / "A" / "read" / "B100" / "seed0"
    df = collect_allocations([run_dir])
    assert len(df) == 2 * len(CAPABILITIES)
    assert list(df["k"].drop_duplicates()) == [1, 2]
    assert df[(df["k"] == 1) & (df["capability"] == "code")]["w"].item() == 0.75
    assert df[(df["k"] == 1) & (df["capability"] == "general_knowledge")]["w"].item() == 0.0
    assert set(df["task"]) == {"A"} and set(df["budget"]) == {100} and set(df["seed"]) == {0}


def test_collect_allocations_rejects_k_that_disagrees_with_the_folder(tmp_path):
    path = _alloc(tmp_path, 3, {"math": 1.0}, k_in_file=2)
    with pytest.raises(ReadError, match="sits in i3"):
        collect_allocations([path])


def test_collect_allocations_rejects_paths_without_run_keys(tmp_path):
    path = tmp_path / "allocation.json"
    write_json(path, {"w": {"math": 1.0}, "method": "read", "k": 1})
    with pytest.raises(ReadError, match="does not name its run"):
        collect_allocations([path])


def test_collect_profiles_one_row_per_interval_metric_capability(tmp_path):
    base = tmp_path / "runs" / "A" / "onehot:math" / "B100" / "seed1"
    for k in (1, 2):
        write_json(base / f"i{k}" / "profile.json", {"acc": {"math": 0.1 * k}, "ll": {"math": -1.0 / k},
                                                     "n": {"math": 5}})
    df = collect_profiles([base])
    assert df[["k", "metric", "value"]].values.tolist() == [[1, "acc", 0.1], [1, "ll", -1.0],
                                                            [2, "acc", 0.2], [2, "ll", -0.5]]
    assert set(df["method"]) == {"onehot:math"} and set(df["seed"]) == {1}


# --- tables ------------------------------------------------------------------------------

def test_budget_vs_score_mean_std_in_points(tree):
    table = tb.budget_vs_score(collect_runs(tree[1]))
    row = table[(table["method"] == "read") & (table["budget"] == 100) & (table["metric"] == "task_score")]
    assert row[["n", "mean", "std"]].values.tolist() == [[3, pytest.approx(60.0), pytest.approx(10.0)]]
    assert row["unit"].item() == "points"
    ll = table[(table["method"] == "read") & (table["budget"] == 400) & (table["metric"] == "task_ll")]
    assert ll[["mean", "std"]].values.tolist() == [[-1.5, 0.0]] and ll["unit"].item() == "nats/token"
    assert list(table.columns) == tb.BUDGET_COLUMNS


def write_reference(root, task, acc, ll=-0.2, score=0.7):
    """A teacher eval file of ``task``, shaped like setup/tasks/<task>/s0_eval.json."""
    path = root / "teacher" / task / "eval.json"
    write_json(path, {"task": task, "task_score": score, "task_ll": -0.5, "n_test": 10,
                      "profile": {"acc": {c: acc for c in CAPABILITIES}, "ll": {c: ll for c in CAPABILITIES}}})
    return path


def test_capability_profile_has_s0_and_teacher_rows(tree):
    teacher = collect_reference([write_reference(tree[0], "A", 0.9)])
    table = tb.capability_profile(collect_runs(tree[1]), teacher=teacher)
    acc = table[table["metric"] == "acc"]
    assert list(acc["method"].iloc[[0, 8]]) == ["teacher", "S0"]  # reference rows first
    s0 = acc[acc["method"] == "S0"]
    assert (s0["mean"] == 50.0).all() and (s0["std"] == 0.0).all() and (s0["n"] == 3).all()
    t = acc[acc["method"] == "teacher"]
    assert (t["mean"] == 90.0).all() and t["std"].isna().all()
    tool = acc[(acc["method"] == "read") & (acc["budget"] == 100) & (acc["capability"] == "tool_use")]
    assert tool["mean"].item() == pytest.approx(60.0)


def test_transfer_matrix_entries_by_hand(tree):
    table = transfer.transfer_matrix(collect_runs(tree[1]), metrics=("acc",))
    cell = {(r.target, r.capability): r for r in table.itertuples()}
    assert set(table["target"]) == {"math"} and len(table) == len(CAPABILITIES)
    assert cell["math", "math"].mean == pytest.approx(15.0)  # deltas +10, +20
    assert cell["math", "math"].std == pytest.approx(math.sqrt(50.0))
    assert cell["math", "code"].mean == pytest.approx(0.0)
    assert cell["math", "tool_use"].mean == pytest.approx(5.0)
    assert cell["math", "reasoning"].mean == pytest.approx(-5.0)


def test_ablations_delta_vs_read(tree):
    table = tb.ablations(collect_runs(tree[1]))
    row = table[(table["method"] == "no_identifier") & (table["metric"] == "task_score")]
    assert row[["budget", "mean", "delta_vs_reference"]].values.tolist() == [[100, pytest.approx(50.0),
                                                                               pytest.approx(-10.0)]]
    prof = table[(table["method"] == "read") & (table["budget"] == 100) & (table["metric"] == "profile_acc")]
    assert prof["mean"].item() == pytest.approx(50.0 + (10 + 5 - 10) / 8)
    assert table[table["method"] == "read"]["delta_vs_reference"].isna().all()


def test_allocation_schedule_means_over_seeds(tmp_path):
    for seed, w in ((0, {"math": 1.0}), (1, {"code": 1.0})):
        write_json(tmp_path / "runs" / "A" / "read" / "B100" / f"seed{seed}" / "i1" / "allocation.json",
                   {"w": w, "method": "read", "k": 1})
    table = tb.allocation_schedule(collect_allocations(tmp_path.glob("runs/*/*/*/*/i*/allocation.json")))
    w = dict(zip(table["capability"], table["mean"]))
    assert w["math"] == 0.5 and w["code"] == 0.5 and w["reasoning"] == 0.0


# --- diagnostics -------------------------------------------------------------------------

def test_equivalent_budget_interpolates_the_strongest_baseline(tree):
    table = dg.equivalent_budget(collect_runs(tree[1]))
    task = table[table["target"] == "task_score"].iloc[0]
    # read@100 = 60; uniform (40, 50, 70 @ 100, 400, 1600) beats onehot:math (10) at B0.
    assert (task["baseline"], task["ref_budget"], task["ref_score"]) == ("uniform", 100, pytest.approx(60.0))
    assert task["tokens_loglinear"] == pytest.approx(800.0) and task["ratio_loglinear"] == pytest.approx(8.0)
    assert task["tokens_linear"] == pytest.approx(1000.0) and task["status"] == "interpolated"
    math_row = table[table["target"] == "math"].iloc[0]  # read math 40 < onehot math 65 at B0
    assert (math_row["baseline"], math_row["status"]) == ("onehot:math", "at_min")
    assert list(table["target"]) == ["task_score", "math"]  # no one-hot runs for the other capabilities


def test_equivalent_budget_not_reached(tmp_path):
    paths = [write_eval(tmp_path, "A", "read", 100, s, 0.9) for s in range(2)]
    paths += [write_eval(tmp_path, "A", "uniform", b, s, 0.5) for b in (100, 1000) for s in range(2)]
    row = dg.equivalent_budget(collect_runs(paths)).iloc[0]
    assert (row["status"], row["tokens_loglinear"], row["baseline_max_budget"]) == ("not_reached", math.inf, 1000)


def test_spillover_by_hand(tree):
    table = dg.spillover(collect_runs(tree[1]), REQ, top_k=3, metrics=("acc",))

    def q(method, quantity):
        rows = table[(table["method"] == method) & (table["quantity"] == quantity) & (table["budget"] == 100)]
        return rows["mean"].item()

    # onehot:math: on = (10+20)/2; off = (5·(-5) + 0 + 5)/7; 5 of 7 off-target capabilities fell.
    assert q("onehot:math", "on_target_gain") == pytest.approx(15.0)
    assert q("onehot:math", "off_target_change") == pytest.approx(-20 / 7)
    assert q("onehot:math", "negative_transfer_rate") == pytest.approx(5 / 7)
    # read on task A (C_ess = {general_knowledge, tool_use}): on = (5+10)/2, off = -10/6, 1 of 6 fell.
    assert q("read", "on_target_gain") == pytest.approx(7.5)
    assert q("read", "off_target_change") == pytest.approx(-10 / 6)
    assert q("read", "negative_transfer_rate") == pytest.approx(1 / 6)
    assert q("onehot", "on_target_gain") == pytest.approx(15.0)  # pooled over the one one-hot target
    assert set(table.loc[table["method"] == "read", "targets"]) == {"general_knowledge+tool_use"}


def test_spillover_needs_a_requirement_for_non_onehot_runs(tree):
    with pytest.raises(ReadError, match="no requirement vector"):
        dg.spillover(collect_runs(tree[1]), None)


def test_essential_takes_top_k_positive_weights_in_capability_order():
    r = {"math": 0.5, "code": 0.3, "tool_use": 0.2, "reasoning": 0.0}
    assert dg.essential(r, 2) == ("math", "code")
    assert dg.essential(r, 8) == ("math", "code", "tool_use")


def test_significance_matches_scipy_and_holm_within_budget(tree):
    table = dg.significance(collect_runs(tree[1]), metrics=("task_score",))
    block = table[table["budget"] == 100].set_index("competitor")
    assert set(block.index) == {"uniform", "no_identifier", "onehot:math"}
    ref = sps.ttest_ind([50, 60, 70], [30, 40, 50], equal_var=False)
    assert block.loc["uniform", "t"] == pytest.approx(ref.statistic)
    assert block.loc["uniform", "p"] == pytest.approx(ref.pvalue)
    assert block.loc["uniform", "delta"] == pytest.approx(20.0)
    assert list(block["p_holm"]) == pytest.approx(holm(list(block["p"])))
    assert table[table["budget"] == 400]["competitor"].tolist() == ["uniform"]
    assert table[table["budget"] == 400]["p_holm"].item() == pytest.approx(table[table["budget"] == 400]["p"].item())


def test_significance_from_summary_equals_per_seed(tree):
    runs = collect_runs(tree[1])
    a = dg.significance(runs, from_summary=False).drop(columns="source")
    b = dg.significance(runs, from_summary=True).drop(columns="source")
    assert np.allclose(a["t"], b["t"], equal_nan=True) and np.allclose(a["p_holm"], b["p_holm"], equal_nan=True)


# --- tests paired on test items ------------------------------------------------------------

ITEMS = {  # task A at budget 100, 6 test items, 2 seeds each
    "read": [[1, 1, 0, 1, 0, 1], [1, 0, 1, 1, 1, 1]],
    "uniform": [[1, 0, 0, 0, 0, 1], [0, 0, 1, 1, 0, 0]],
    "task_static": [[1, 1, 0, 1, 0, 0], [1, 0, 1, 1, 0, 1]],
}


def test_collect_task_items_one_row_per_item_and_none_for_old_files(tmp_path):
    paths = write_item_evals(tmp_path, ITEMS) + [write_eval(tmp_path, "A", "read", 400, 0, 0.5)]
    items = collect_task_items(paths)
    assert len(items) == 3 * 2 * 6 * 2  # methods x seeds x items x {task_score, task_ll}
    read0 = items[(items["method"] == "read") & (items["seed"] == 0) & (items["metric"] == "task_score")]
    assert list(read0["value"]) == ITEMS["read"][0] and list(read0["item"]) == list(range(6))
    assert 400 not in set(items["budget"])  # that run kept no per-item values


def test_collect_task_items_names_the_file_and_index_of_a_bad_value(tmp_path):
    path = write_eval(tmp_path, "A", "read", 100, 0, 0.5, items={"correct": [1, "yes"], "ll": [-1.0, -1.0]})
    with pytest.raises(ReadError, match=r"eval\.json\.task_items\.correct\[1\]: expected a finite number"):
        collect_task_items([path])


def test_significance_paired_on_items_by_hand(tmp_path):
    paths = write_item_evals(tmp_path, ITEMS)
    runs = collect_runs(paths)
    table = dg.significance(runs, metrics=("task_score",), items=collect_task_items(paths))
    seeds = table[table["source"] == "seeds"].set_index("competitor")
    paired = table[table["source"] == "items"].set_index("competitor")
    # the seed-level rows are the same as without per-item values
    alone = dg.significance(runs, metrics=("task_score",)).set_index("competitor")
    assert list(seeds["p"]) == pytest.approx(list(alone["p"]), nan_ok=True)
    # per item, read's seed mean minus uniform's: .5 .5 0 .5 .5 .5 (points: x100)
    ref = sps.ttest_rel(np.mean(ITEMS["read"], 0) * 100, np.mean(ITEMS["uniform"], 0) * 100)
    assert paired.loc["uniform", "t"] == pytest.approx(ref.statistic)
    assert paired.loc["uniform", "p"] == pytest.approx(ref.pvalue)
    assert paired.loc["uniform", "delta"] == pytest.approx(seeds.loc["uniform", "delta"]) == pytest.approx(250 / 6)
    assert paired.loc["uniform", "df"] == 5 and paired.loc["uniform", "n_ref"] == 2
    assert list(paired["p_holm"]) == pytest.approx(holm(list(paired["p"])))  # its own family
    assert list(table["source"]) == ["seeds", "seeds", "items", "items"]


def test_significance_rejects_runs_scored_on_different_items(tmp_path):
    paths = write_item_evals(tmp_path, {"read": [[1, 0, 1]], "uniform": [[1, 0]]})
    with pytest.raises(ReadError, match="different test items"):
        dg.significance(collect_runs(paths), metrics=("task_score",), items=collect_task_items(paths))
