"""read.aggregate study artefacts (Figure 1c/d, Figure 3, Figure 4c, Figure 5b, scaling, the
strongest-baseline significance blocks, profiling charged to B): tiny hand-made runs whose
answers are worked out by hand in the comments. S0 scores 0.5 (50 points) on every capability."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from read.aggregate import (
    ARTEFACT_OPTIONS,
    ARTEFACTS,
    WRITERS,
    collect_reference,
    collect_runs,
    transfer,
    write_budget_curves,
    write_diminishing_returns,
    write_gap_closed,
    write_rising_spillover,
    write_scaling,
    write_schedule_utility,
    write_spillover,
    write_transfer_matrix,
)
from read.aggregate import diagnostics as dg
from read.aggregate import tables as tb
from read.aggregate.collect import method_key, onehot_target, split_signal
from read.aggregate.render import method_label
from read.capabilities import CAPABILITIES
from read.errors import ReadError
from read.io import write_json

S0 = 0.5


def write_eval(root, task, method, budget, seed, *, score=0.2, acc=None, profiling=0):
    """One final/eval.json; capabilities not in ``acc`` stay at S0's 0.5."""
    acc = {c: S0 for c in CAPABILITIES} | (acc or {})
    path = root / "runs" / task / method / f"B{budget}" / f"seed{seed}" / "final" / "eval.json"
    write_json(path, {
        "task": task, "method": method, "budget": budget, "seed": seed, "task_score": score, "task_ll": -1.0,
        "profile": {"acc": acc, "ll": {c: -1.0 for c in CAPABILITIES}},
        "tokens": {"budget": budget, "generated": budget // 4, "trained": budget // 2, "profiling": profiling},
        "initial": {"task_score": 0.2, "task_ll": -2.0,
                    "profile": {"acc": {c: S0 for c in CAPABILITIES}, "ll": {c: -1.0 for c in CAPABILITIES}}},
    })
    return path


def write_teacher(root, task, acc, score=0.6):
    """The teacher scored on the test split, shaped like setup/tasks/<task>/s0_eval.json."""
    path = root / "teacher" / f"{task}.json"
    write_json(path, {"task": task, "task_score": score, "task_ll": -0.5, "n_test": 10,
                      "profile": {"acc": {c: 0.6 for c in CAPABILITIES} | acc, "ll": {c: -0.5 for c in CAPABILITIES}}})
    return path


def png_shape(path):
    from matplotlib.image import imread

    img = imread(path)
    assert img.reshape(-1, img.shape[-1]).std(axis=0).max() > 0, f"{path.name} is one flat colour"
    return img.shape


# --- method names ----------------------------------------------------------------------------

def test_onehot_target_is_the_part_between_onehot_and_plus():
    assert onehot_target("onehot:math+logit-kd") == "math" and onehot_target("onehot:math") == "math"
    assert onehot_target("uniform+cot-sft") is None and onehot_target("onehot+logit-kd") is None
    assert split_signal("uniform+cot-sft") == ("uniform", "cot-sft") and split_signal("read") == ("read", "")
    with pytest.raises(ReadError, match="expected <policy>\\+<signal>"):  # read.methods names the valid ones
        split_signal("uniform+magic")


def test_signal_variant_is_its_own_method_sorted_after_the_plain_one():
    assert method_label("onehot:math+logit-kd") == "One-hot Math (Logit-KD)"
    assert method_label("uniform+cot-sft") == "Uniform (CoT-SFT)"
    ordered = sorted(["uniform+cot-sft", "onehot:math", "uniform", "read", "onehot:math+logit-kd"], key=method_key)
    assert ordered == ["read", "uniform", "uniform+cot-sft", "onehot:math", "onehot:math+logit-kd"]


# --- Figure 1c: diminishing returns ------------------------------------------------------------

@pytest.fixture
def onehot_runs(tmp_path):
    """onehot:math exact match (S0 50) per budget and seed:
    B100: 60, 62 (T = 10, 12); B400: 70, 66, 80 (T = 20, 16, 30; seed 2 only at B400);
    B1600: 74, 70 (T = 24, 20). onehot:code at B100 only; onehot:math+logit-kd at B100 and B400."""
    paths = []
    for budget, per_seed in ((100, (0.60, 0.62)), (400, (0.70, 0.66, 0.80)), (1600, (0.74, 0.70))):
        paths += [write_eval(tmp_path, "A", "onehot:math", budget, s, acc={"math": m}) for s, m in enumerate(per_seed)]
    paths += [write_eval(tmp_path, "A", "onehot:code", 100, s, acc={"code": 0.55}) for s in (0, 1)]
    for budget, m in ((100, 0.52), (400, 0.56)):
        paths += [write_eval(tmp_path, "A", "onehot:math+logit-kd", budget, s, acc={"math": m}) for s in (0, 1)]
    return tmp_path, paths


def test_marginal_gain_is_per_seed_between_consecutive_budgets(onehot_runs):
    table = transfer.diminishing_returns(collect_runs(onehot_runs[1]))
    plain = table[(table["signal"] == "") & (table["target"] == "math")]
    got = {(r.quantity, r.budget_from, r.budget_to): (r.n, r.mean, r.std) for r in plain.itertuples()}
    # on-target gain: T = 10, 12 -> 11 ± sqrt(2); 20, 16, 30 -> 22 ± sqrt(52); 24, 20 -> 22 ± sqrt(8)
    assert got["on_target_gain", 0, 100] == (2, pytest.approx(11.0), pytest.approx(math.sqrt(2)))
    assert got["on_target_gain", 0, 400] == (3, pytest.approx(22.0), pytest.approx(math.sqrt(52)))
    # 100 -> 400, seeds 0 and 1 only: 20 - 10 = 10, 16 - 12 = 4 -> 7 ± sqrt(18) (not 22 - 11 = 11)
    assert got["marginal_gain", 100, 400] == (2, pytest.approx(7.0), pytest.approx(math.sqrt(18)))
    # 400 -> 1600: 24 - 20 = 4, 20 - 16 = 4 -> 4 ± 0: returns diminish
    assert got["marginal_gain", 400, 1600] == (2, pytest.approx(4.0), pytest.approx(0.0))
    assert len(got) == 5  # 3 gains + 2 steps; no step from S0


def test_diminishing_returns_keeps_teacher_signals_and_targets_apart(onehot_runs):
    table = transfer.diminishing_returns(collect_runs(onehot_runs[1]))
    kd = table[(table["signal"] == "logit-kd") & (table["quantity"] == "marginal_gain")]
    assert kd[["target", "budget_from", "budget_to", "mean"]].values.tolist() == [["math", 100, 400,
                                                                                   pytest.approx(4.0)]]  # 6 - 2
    code = table[table["target"] == "code"]
    assert code[["quantity", "mean"]].values.tolist() == [["on_target_gain", pytest.approx(5.0)]]


def test_diminishing_returns_figure_has_its_size_and_says_error_bars(onehot_runs, tmp_path):
    out = tmp_path / "d.png"
    write_diminishing_returns(onehot_runs[1], out_png=out, out_md=tmp_path / "d.md")
    # two signal panels of 6.0 x 3.2 in, one column, at 200 dpi
    assert png_shape(out) == (2 * 640, 1200, 4)
    md = (tmp_path / "d.md").read_text()
    assert "| Math | +11.00 ± 1.41 | +22.00 ± 7.21 | +22.00 ± 2.83 | +7.00 ± 4.24 | +4.00 ± 0.00 |" in md


# --- Figure 1d: rising spillover ---------------------------------------------------------------

@pytest.fixture
def spill_runs(tmp_path):
    """B100, one-hot math and code, 7 off-diagonal entries each (14 per seed), in points:
    seed 0: math run code -10, tool +5; code run math -4 -> min(T, 0) sums to -14, 2 negative;
    seed 1: math run code -6, gen -2; code run all 0 -> sums to -8, 2 negative.
    B400, seed 0 only: math run code -14 -> -14 / 7 = -2 (just one target)."""
    paths = [write_eval(tmp_path, "A", "onehot:math", 100, 0, acc={"math": 0.6, "code": 0.4, "tool_use": 0.55}),
             write_eval(tmp_path, "A", "onehot:code", 100, 0, acc={"code": 0.6, "math": 0.46}),
             write_eval(tmp_path, "A", "onehot:math", 100, 1, acc={"math": 0.6, "code": 0.44,
                                                                   "general_knowledge": 0.48}),
             write_eval(tmp_path, "A", "onehot:code", 100, 1, acc={"code": 0.6}),
             write_eval(tmp_path, "A", "onehot:math", 400, 0, acc={"math": 0.7, "code": 0.36})]
    return tmp_path, paths


def test_rising_spillover_by_hand(spill_runs):
    table = transfer.rising_spillover(collect_runs(spill_runs[1]))
    got = {(r.budget, r.quantity): (r.n_targets, r.n, r.mean, r.std) for r in table.itertuples()}
    # per seed -14/14 = -1 and -8/14 = -4/7: mean -11/14, std (3/7)/sqrt(2)
    assert got[100, "negative_spillover"] == (2, 2, pytest.approx(-11 / 14), pytest.approx(3 / 7 / math.sqrt(2)))
    assert got[100, "negative_share"] == (2, 2, pytest.approx(1 / 7), pytest.approx(0.0))  # 2 of 14 each
    assert got[400, "negative_spillover"][:3] == (1, 1, pytest.approx(-2.0))
    assert math.isnan(got[400, "negative_spillover"][3])  # one seed: no std
    assert got[400, "negative_share"][2] == pytest.approx(1 / 7)
    assert set(table.loc[table["quantity"] == "negative_share", "unit"]) == {"fraction"}


def test_rising_spillover_figure_has_its_size(spill_runs, tmp_path):
    write_rising_spillover(spill_runs[1], out_png=tmp_path / "r.png")
    assert png_shape(tmp_path / "r.png") == (600, 1600, 4)  # two 4.0 x 3.0 in panels side by side


# --- Figure 1a/b: transfer matrix ----------------------------------------------------------------

def test_transfer_matrix_has_every_budget_a_full_8x8_and_signals_apart(onehot_runs, tmp_path):
    md, png = tmp_path / "t.md", tmp_path / "t.png"
    table = write_transfer_matrix(onehot_runs[1], out_md=md, out_png=png)
    acc = table[table["metric"] == "acc"]
    assert sorted(set(zip(acc["signal"], acc["budget"]))) == [("", 100), ("", 400), ("", 1600), ("logit-kd", 100),
                                                              ("logit-kd", 400)]
    text = md.read_text()
    assert text.count("| Distilled \\ measured |") == 2 * 5  # acc and ll, 5 (signal, budget) matrices
    assert "| Gen | – | – | – | – | – | – | – | – |" in text  # a target without runs: a full row of "–"
    # 5 heatmaps of 5.0 x 4.2 in, two per row -> 3 rows: 10.0 x 12.6 in
    assert png_shape(png) == (2520, 2000, 4)


# --- Figure 3: budget curves ------------------------------------------------------------------

def test_budget_curves_have_task_and_capability_rows_with_s0_and_teacher(tmp_path):
    paths = [write_eval(tmp_path, task, "read", b, s, score=0.3 + 0.1 * s, acc={"math": 0.6 + 0.1 * s})
             for task in ("A", "B") for b in (100, 400) for s in (0, 1)]
    teacher = [write_teacher(tmp_path, t, {"math": 0.9}) for t in ("A", "B")]
    png = tmp_path / "c.png"
    table = write_budget_curves(paths, out_csv=tmp_path / "c.csv", out_png=png, teacher_eval=teacher)
    a = table[table["task"] == "A"].set_index(["method", "budget", "metric", "capability"])
    assert a.loc[("read", 100, "task_score", ""), ["n", "mean"]].tolist() == [2, pytest.approx(35.0)]
    assert a.loc[("read", 400, "acc", "math"), "mean"] == pytest.approx(65.0)  # 60 and 70 points
    assert a.loc[("S0", 0, "acc", "math"), "mean"] == pytest.approx(50.0)
    assert a.loc[("teacher", 0, "acc", "math"), "mean"] == pytest.approx(90.0)
    assert a.loc[("teacher", 0, "task_score", ""), "mean"] == pytest.approx(60.0)
    assert set(table["metric"]) == {"task_score", "acc"}
    # per task 3 x 3 panels of 3.0 x 2.4 in plus 1.8 in for the legend: 10.8 x 7.2 in, two tasks stacked
    assert png_shape(png) == (2 * 1440, 2160, 4)


def test_budget_curves_figure_draws_s0_dashed_and_teacher_dotted(tmp_path):
    from read.aggregate.figures import figure_budget_curves, style

    paths = [write_eval(tmp_path, "A", "read", b, s) for b in (100, 400) for s in (0, 1)]
    table = tb.budget_curves(collect_runs(paths), teacher=collect_reference([write_teacher(tmp_path, "A", {})]))
    with style():
        fig = figure_budget_curves(table)
    axes = [ax for ax in fig.get_axes() if ax.get_title()]
    assert [ax.get_title() for ax in axes][:3] == ["task score", "Gen", "Steer"] and len(axes) == 9
    styles = sorted(line.get_linestyle() for line in axes[0].get_lines() if len(line.get_xdata()) == 2
                    and line.get_xdata()[0] == 0)
    assert styles == ["--", ":"]  # S0 dashed, teacher dotted (axhline spans x = 0..1 in axes units)
    assert "±1 std over n = 2 seeds" in fig.get_suptitle()


# --- scaling ----------------------------------------------------------------------------------

@pytest.fixture
def scaling_runs(tmp_path):
    """read: task 40 (30, 50) @100, 65 (60, 70) @1600; math 50 -> 80; uniform at 100 only."""
    paths = [write_eval(tmp_path, "A", "read", 100, s, score=v) for s, v in enumerate((0.3, 0.5))]
    paths += [write_eval(tmp_path, "A", "read", 1600, s, score=v, acc={"math": 0.8}) for s, v in enumerate((0.6, 0.7))]
    paths += [write_eval(tmp_path, "A", "uniform", 100, s) for s in (0, 1)]
    return paths


def test_scaling_is_points_per_unit_of_extra_budget(scaling_runs):
    table = tb.scaling(collect_runs(scaling_runs)).set_index("target")
    # unit = the smallest budget, 100: (65 - 40) / ((1600 - 100) / 100) = 25 / 15
    assert table.loc["task_score", "per_unit"] == pytest.approx(25 / 15)
    assert table.loc["math", "per_unit"] == pytest.approx(30 / 15)
    assert table.loc["code", "per_unit"] == pytest.approx(0.0)
    # each run's mean over the 8 capabilities: 50 -> 50 + 30/8 = 53.75
    assert table.loc["mean", "per_unit"] == pytest.approx(3.75 / 15)
    assert set(table["method"]) == {"read"}  # uniform ran at one budget: no slope
    assert table["unit_tokens"].unique().tolist() == [100.0]


def test_scaling_unit_option_and_note(scaling_runs, tmp_path):
    table = write_scaling(scaling_runs, out_md=tmp_path / "s.md", unit=500).set_index("target")
    assert table.loc["task_score", "per_unit"] == pytest.approx(25 / 3)  # (65 - 40) / (1500 / 500)
    assert "(unit = 500 tokens)" in (tmp_path / "s.md").read_text()
    write_scaling(scaling_runs, out_md=tmp_path / "d.md")
    assert "(unit = 100 tokens, the smallest budget)" in (tmp_path / "d.md").read_text()
    with pytest.raises(ReadError, match="must be > 0"):
        tb.scaling(collect_runs(scaling_runs), unit=0)


# --- Table 2: equivalent budget with profiling charged ----------------------------------------------

def test_equivalent_budget_charges_reads_profiling_tokens(tmp_path):
    paths = [write_eval(tmp_path, "A", "read", 100, s, score=0.6, profiling=p) for s, p in enumerate((200, 400))]
    for budget, scores in ((100, (0.3, 0.5)), (400, (0.45, 0.55)), (1600, (0.65, 0.75))):
        paths += [write_eval(tmp_path, "A", "uniform", budget, s, score=v) for s, v in enumerate(scores)]
    row = dg.equivalent_budget(collect_runs(paths)).iloc[0]
    # uniform 40 / 50 / 70 @ 100 / 400 / 1600 reaches read's 60 at 800 (log-linear): 8x B0;
    # with read's mean P = 300 profiling tokens charged: 800 / (100 + 300) = 2x
    assert (row["target"], row["tokens_loglinear"]) == ("task_score", pytest.approx(800.0))
    assert row["ratio_loglinear"] == pytest.approx(8.0)
    assert row["ref_profiling_tokens"] == pytest.approx(300.0) and row["ratio_charged"] == pytest.approx(2.0)
    sections = dg.equivalent_budget_sections(dg.equivalent_budget(collect_runs(paths)))
    assert sections[0][1]["Multiple, profiling charged"].tolist() == ["2.00×"]


def test_every_note_says_the_profiling_tokens_spent_outside_b(tmp_path):
    paths = [write_eval(tmp_path, "A", "read", 100, s, profiling=p) for s, p in enumerate((191660, 191585))]
    paths += [write_eval(tmp_path, "A", "uniform", 100, s) for s in (0, 1)]
    said = "ReAD also used 192k profiling tokens per task and seed (mean over 2 runs), outside B."
    assert tb.profiling_note(collect_runs(paths)) == said
    assert tb.profiling_note(collect_runs(paths[2:])) == ""  # nothing spent outside B: nothing said
    write_spillover(paths, out_md=tmp_path / "s.md", requirements={"A": {"math": 1.0}})
    write_diminishing_returns(paths, out_md=tmp_path / "d.md")  # no one-hot runs, still the note
    assert said in (tmp_path / "s.md").read_text() and said in (tmp_path / "d.md").read_text()


# --- Figure 4a/b, 4c: spillover and schedule utility -------------------------------------------------

def test_spillover_keeps_greedy_and_grid_and_states_the_definitions(tmp_path):
    paths = [write_eval(tmp_path, "A", m, 100, s, acc={"math": 0.6, "code": 0.45})
             for m in ("read", "greedy", "grid", "task_static") for s in (0, 1)]
    table = write_spillover(paths, out_md=tmp_path / "s.md", out_png=tmp_path / "s.png",
                            requirements={"A": {"math": 1.0}}, top_k=1)
    assert {"greedy", "grid"} <= set(table["method"])
    gain = table[(table["method"] == "grid") & (table["quantity"] == "on_target_gain") & (table["metric"] == "acc")]
    assert gain["mean"].item() == pytest.approx(10.0)
    md = (tmp_path / "s.md").read_text()
    assert "On-target gain = mean of Δ_c over c ∈ C" in md and "negative-transfer rate = |{c ∉ C : Δ_c < 0}|" in md
    from read.aggregate.figures import figure_gain_vs_spillover, style

    with style():
        fig = figure_gain_vs_spillover(table)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"Greedy", "Grid"} <= set(legend)
    assert "negative-transfer rate: share of c ∉ C with Δ_c < 0" in fig.get_suptitle()
    assert "±1 std over n = 2 seeds" in fig.get_suptitle()


def test_schedule_utility_is_r_weighted_profile_in_points(tmp_path):
    paths = [write_eval(tmp_path, "A", "read", 100, 0, acc={"math": 0.7, "code": 0.3}),
             write_eval(tmp_path, "A", "read", 100, 1, acc={"math": 0.6, "code": 0.5})]
    # r = (math 3, code 1) scaled to (.75, .25): seed 0 .75·70 + .25·30 = 60; seed 1 .75·60 + .25·50 = 57.5
    table = write_schedule_utility(paths, out_md=tmp_path / "u.md", requirements={"A": {"math": 3.0, "code": 1.0}})
    got = {m: (n, mean, std) for m, n, mean, std in table[["method", "n", "mean", "std"]].values}
    assert got["read"] == (2, pytest.approx(58.75), pytest.approx(2.5 / math.sqrt(2)))
    assert got["S0"] == (2, pytest.approx(50.0), pytest.approx(0.0))
    assert "U = Σ_c r_τ,c · s_c" in (tmp_path / "u.md").read_text()
    with pytest.raises(ReadError, match="no requirement vector"):
        dg.schedule_utility(collect_runs(paths), {})


# --- Figure 5b: gap closed ---------------------------------------------------------------------

@pytest.fixture
def gap_runs(tmp_path):
    """Teacher: math 80 (gap 30 over S0), code 50.5 (gap 0.5 < 1 point), the rest 60 (gap 10).
    read @400 (the largest budget): math 65 / 71, Gen 55 / 55; read and uniform @100 too."""
    paths = [write_eval(tmp_path, "A", "read", 400, s, acc={"math": m, "general_knowledge": 0.55, "code": 0.7})
             for s, m in enumerate((0.65, 0.71))]
    paths += [write_eval(tmp_path, "A", m, 100, s, acc={"math": 0.9}) for m in ("read", "uniform") for s in (0, 1)]
    return paths, [write_teacher(tmp_path, "A", {"math": 0.8, "code": 0.505})]


def test_gap_closed_by_hand_with_nan_below_one_point(gap_runs):
    paths, teacher = gap_runs
    table = dg.gap_closed(collect_runs(paths), collect_reference(teacher)).set_index("capability")
    assert set(table["method"]) == {"read"} and set(table["budget"]) == {400}  # the task's largest budget only
    # math: (65 - 50) / 30 = .5 and (71 - 50) / 30 = .7 -> .6 ± .1414
    assert table.loc["math", ["n", "mean", "std"]].tolist() == [2, pytest.approx(0.6), pytest.approx(0.1 * 2**0.5)]
    assert table.loc["general_knowledge", "mean"] == pytest.approx(0.5)  # (55 - 50) / 10
    assert table.loc["reasoning", "mean"] == pytest.approx(0.0)
    assert math.isnan(table.loc["code", "mean"])  # teacher - S0 = 0.5 point < 1: not defined
    assert table.loc["code", ["s0", "teacher"]].tolist() == [pytest.approx(50.0), pytest.approx(50.5)]


def test_gap_closed_needs_the_teacher_for_every_task(gap_runs, tmp_path):
    paths, _ = gap_runs
    with pytest.raises(ReadError, match="needs the teacher"):
        dg.gap_closed(collect_runs(paths), None)
    with pytest.raises(ReadError, match=r"no teacher eval file for task\(s\) \['A'\]"):
        dg.gap_closed(collect_runs(paths), collect_reference([write_teacher(tmp_path, "B", {})]))


def test_gap_closed_writer_names_the_undefined_capabilities_and_draws_a_radar(gap_runs, tmp_path):
    paths, teacher = gap_runs
    write_gap_closed(paths, out_md=tmp_path / "g.md", out_png=tmp_path / "g.png", teacher_eval=teacher)
    assert "s_teacher − s_S0 < 1 point, here task A: Code." in (tmp_path / "g.md").read_text()
    assert png_shape(tmp_path / "g.png") == (900, 900, 4)  # one 4.5 x 4.5 in polar panel


# --- significance: ReAD vs the strongest baseline per capability ----------------------------------------

def test_strongest_baseline_skips_read_and_its_variants_and_breaks_ties_by_method_order():
    means = {"read": 99.0, "no_spillover": 98.0, "read_learned": 97.0, "read+logit-kd": 96.0,
             "task_static": 50.0, "uniform": 50.0, "grid": math.nan}
    assert dg.strongest_baseline(means) == "uniform"  # tie with task_static: uniform comes first
    assert dg.strongest_baseline(means | {"onehot:math+logit-kd": 51.0}) == "onehot:math+logit-kd"
    assert dg.strongest_baseline({"read": 1.0, "no_identifier": 2.0}) is None


@pytest.fixture
def capability_runs(tmp_path):
    """B100, seeds 0/1, exact match in points (other capabilities 50 everywhere: t undefined):
    math: read 60/70, uniform 40/50, task_static 30/40, onehot:math+logit-kd 38/42, no_identifier 90/90;
    code: read 60/70, task_static 50/60, uniform 45/55, read_learned 99/99. B400: math only, read vs uniform."""
    acc = {"read": ((0.6, 0.6), (0.7, 0.7)), "uniform": ((0.4, 0.45), (0.5, 0.55)),
           "task_static": ((0.3, 0.5), (0.4, 0.6)), "onehot:math+logit-kd": ((0.38, 0.5), (0.42, 0.5)),
           "no_identifier": ((0.9, 0.5), (0.9, 0.5)), "read_learned": ((0.5, 0.99), (0.5, 0.99))}
    paths = [write_eval(tmp_path, "A", m, 100, s, acc={"math": v[s][0], "code": v[s][1]})
             for m, v in acc.items() for s in (0, 1)]
    paths += [write_eval(tmp_path, "A", m, 400, s, acc={"math": x}) for m, xs in
              (("read", (0.6, 0.7)), ("uniform", (0.4, 0.5))) for s, x in enumerate(xs)]
    return paths


def test_capability_blocks_test_read_against_the_strongest_baseline_with_holm_per_budget(capability_runs):
    table = dg.significance(collect_runs(capability_runs), metrics=("acc",))
    b100 = table[table["budget"] == 100].set_index("capability")
    assert list(b100.index) == list(CAPABILITIES)
    assert b100.drop(["math", "code"])[["t", "p", "p_holm"]].isna().all().all()  # zero variance: undefined
    b100 = b100.loc[["math", "code"]]
    assert b100["competitor"].tolist() == ["uniform", "task_static"]
    # Welch with n = 2, both std sqrt(50): t = Δ / sqrt(50), df = 2, p = 1 - t / sqrt(t² + 2)
    # math: Δ = 20, t = 2.8284, p = 1 - sqrt(8/10) = .105573; code: Δ = 10, t = 1.4142, p = 1 - sqrt(2/4) = .292893
    assert b100["delta"].tolist() == pytest.approx([20.0, 10.0])
    assert b100["t"].tolist() == pytest.approx([2.828427, 1.414214], rel=1e-6)
    assert b100["df"].tolist() == pytest.approx([2.0, 2.0])
    assert b100["p"].tolist() == pytest.approx([0.105573, 0.292893], rel=1e-5)
    # Holm over the two capabilities of B100: .105573·2 = .211146, then max(.211146, .292893·1)
    assert b100["p_holm"].tolist() == pytest.approx([0.211146, 0.292893], rel=1e-5)
    b400 = table[(table["budget"] == 400) & table["p"].notna()]
    assert b400["capability"].tolist() == ["math"]
    assert b400["p_holm"].item() == pytest.approx(0.105573, rel=1e-5)  # its own family of one


def test_a_baseline_run_on_one_seed_is_never_the_strongest_one_tested(capability_runs, tmp_path):
    # onehot:math on seed 0 only, far above every baseline on math: Welch needs two seeds a side
    one = write_eval(tmp_path, "A", "onehot:math", 100, 0, acc={"math": 0.95})
    table = dg.significance(collect_runs([*capability_runs, one]), metrics=("acc",))
    math_b100 = table[(table["budget"] == 100) & (table["capability"] == "math")]
    assert math_b100["competitor"].item() == "uniform" and math_b100["p"].notna().item()


def test_significance_keeps_the_task_score_blocks_next_to_the_capability_blocks(capability_runs):
    table = dg.significance(collect_runs(capability_runs))
    assert list(table["metric"].drop_duplicates()) == ["task_score", "task_ll", "acc"]
    task = table[(table["metric"] == "task_score") & (table["budget"] == 100)]
    assert set(task["competitor"]) == {"uniform", "task_static", "onehot:math+logit-kd", "no_identifier",
                                       "read_learned"} and set(task["capability"]) == {""}
    headings = [h for h, _ in dg.significance_sections(table)]
    assert any("the strongest baseline per capability" in h for h in headings)


# --- the registries ------------------------------------------------------------------------------

def test_artefact_options_name_keyword_arguments_of_their_writers():
    assert set(ARTEFACT_OPTIONS) <= set(ARTEFACTS) and set(WRITERS) == set(ARTEFACTS)
    for name, options in ARTEFACT_OPTIONS.items():
        assert set(options) <= set(inspect.signature(WRITERS[name]).parameters), name
    assert ARTEFACT_OPTIONS["gap_closed"] == ("teacher_eval",)
    assert ARTEFACT_OPTIONS["schedule_utility"] == ("requirements",)
    for name in ("diminishing_returns", "rising_spillover", "budget_curves", "gap_closed"):
        assert ARTEFACTS[name] == (True, True)
    assert ARTEFACTS["scaling"] == ARTEFACTS["schedule_utility"] == (True, False)


def test_capability_profile_takes_teacher_eval_not_a_probe_profile():
    from read.aggregate import write_capability_profile

    params = inspect.signature(write_capability_profile).parameters
    assert "teacher_eval" in params and "teacher_profile" not in params


def test_onehot_signal_variants_pool_apart_in_spillover(onehot_runs):
    table = dg.spillover(collect_runs(onehot_runs[1]), None, metrics=("acc",))
    pooled = table[table["method"].isin(["onehot", "onehot+logit-kd"]) & (table["budget"] == 100)
                   & (table["quantity"] == "on_target_gain")].set_index("method")["mean"]
    # plain: (math 11 + code 5) / 2 per seed -> 8; logit-kd: math 2
    assert pooled.to_dict() == {"onehot": pytest.approx(8.0), "onehot+logit-kd": pytest.approx(2.0)}
    assert np.isfinite(pooled.to_numpy()).all()
