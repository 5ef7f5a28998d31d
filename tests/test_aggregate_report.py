"""read.aggregate entry points and figures: every artefact is written (csv/md/tex,
png/pdf), outputs are byte-identical across calls, and plot functions return Axes."""

from __future__ import annotations

import json

import pytest

from read.aggregate import (
    artefact_paths,
    collect_runs,
    plots,
    transfer,
    write_all,
    write_artefact,
    write_budget_vs_score,
    write_capability_profile,
    write_transfer_matrix,
)
from read.aggregate import tables as tb
from read.aggregate.figures import style
from read.capabilities import CAPABILITIES
from read.errors import ReadError
from read.io import write_json

METHODS = ("read", "uniform", "no_spillover", "onehot:math", "onehot:code")
REQ = {"A": {"math": 0.5, "code": 0.5}}


def _tree(root):
    """Task A, 5 methods x budgets 100/400 (one-hot: 100) x seeds 0/1, two intervals each; scores rise with
    budget, read is best, each one-hot run gains on its target and loses elsewhere."""
    evals, allocs = [], []
    for i, method in enumerate(METHODS):
        for budget in (100,) if ":" in method else (100, 400):  # one-hot runs at one budget only
            for seed in (0, 1):
                run = root / "runs" / "A" / method / f"B{budget}" / f"seed{seed}"
                target = method.split(":")[1] if ":" in method else None
                up = 0.1 * (budget == 400) + 0.01 * seed
                acc = {c: 0.5 + (0.2 + up if c == target else -0.05 if target else up / 2) for c in CAPABILITIES}
                ll = {c: -1.0 + acc[c] / 10 for c in CAPABILITIES}
                write_json(run / "final" / "eval.json", {
                    "task": "A", "method": method, "budget": budget, "seed": seed,
                    "task_score": 0.3 + up + (0.1 if method == "read" else 0.02 * i), "task_ll": -1.0 + up,
                    "n_test": 50, "profile": {"acc": acc, "ll": ll},
                    "tokens": {"budget": budget, "generated": budget // 2, "trained": budget // 2, "profiling": 0},
                    "initial": {"task_score": 0.3, "task_ll": -1.0, "profile": {
                        "acc": {c: 0.5 for c in CAPABILITIES}, "ll": {c: -1.0 for c in CAPABILITIES}}}})
                evals.append(run / "final" / "eval.json")
                for k in (1, 2):
                    w = {target: 1.0} if target else {"math": 0.5 + 0.1 * k, "code": 0.5 - 0.1 * k}
                    write_json(run / f"i{k}" / "allocation.json", {"w": w, "method": method, "k": k})
                    allocs.append(run / f"i{k}" / "allocation.json")
    write_json(root / "teacher.json", {"task": "A", "task_score": 0.6, "task_ll": -0.4, "n_test": 50, "profile": {
        "acc": {c: 0.9 for c in CAPABILITIES}, "ll": {c: -0.2 for c in CAPABILITIES}, "n": {c: 4 for c in CAPABILITIES}}})
    return evals, allocs


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """write_all twice on the same runs (the second time with inputs in reverse order)."""
    root = tmp_path_factory.mktemp("exp")
    evals, allocs = _tree(root)
    outs = []
    for name, order in (("one", 1), ("two", -1)):
        write_all(evals[::order], allocs[::order], root / name / "tables", root / name / "plots",
                  teacher_eval=[root / "teacher.json"], requirements=REQ, top_k=2)
        outs.append(root / name)
    return root, evals, outs


def test_write_all_writes_every_artefact_and_nothing_else(written):
    _, _, (one, _) = written
    expected = sorted(artefact_paths(one / "tables", one / "plots"))
    assert sorted(str(p) for p in one.rglob("*") if p.is_file()) == expected
    assert len(expected) == 15 * 3 + 10 * 2  # 15 tables, 10 of them with a figure


def test_outputs_are_byte_identical_across_calls_and_input_orders(written):
    _, _, (one, two) = written
    for path in one.rglob("*.*"):
        assert path.read_bytes() == (two / path.relative_to(one)).read_bytes(), path.name


def test_figures_are_real_png_and_pdf(written):
    _, _, (one, _) = written
    for path in (one / "plots").glob("*.png"):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, path.name
    for path in (one / "plots").glob("*.pdf"):
        data = path.read_bytes()
        assert data[:5] == b"%PDF-" and b"CreationDate" not in data, path.name


def test_tables_have_tidy_csv_markdown_and_latex(written):
    _, _, (one, _) = written
    csv = (one / "tables" / "budget_vs_score.csv").read_text().splitlines()
    assert csv[0] == "task,method,budget,metric,unit,n,mean,std"
    assert csv[1] == "A,S0,0,task_score,points,2,30,0"  # the reference every run starts from
    assert "A,read,100,task_score,points,2,40.5,0.707107" in csv  # 0.40 and 0.41
    md = (one / "tables" / "budget_vs_score.md").read_text()
    assert "| Student (S0) | – | 2 | 30.00 ± 0.00 |" in md and "| ReAD | 100 | 2 | 40.50 ± 0.71 |" in md
    tex = (one / "tables" / "capability_profile.tex").read_text()
    assert r"\toprule" in tex and r"$\pm$" in tex and "Teacher & -- & 90.00" in tex
    spill = (one / "tables" / "spillover.csv").read_text()
    assert "A,onehot,100,acc,fraction,negative_transfer_rate,own,2,1," in spill  # all 7 off-target fell


def test_transfer_matrix_csv_has_one_row_per_cell(written):
    _, _, (one, _) = written
    lines = (one / "tables" / "transfer_matrix.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 1 * 2 * len(CAPABILITIES)  # metrics x budgets x targets x capabilities
    assert ",100,acc,points,math,math,2,20.5,0.707107" in lines  # +0.20 / +0.21 over S0 (signal "")


def test_writer_without_matching_runs_still_writes_every_file(tmp_path, written):
    _, evals, _ = written
    no_onehot = [p for p in evals if "onehot" not in str(p)]
    out = {f"out_{e}": tmp_path / f"t.{e}" for e in ("csv", "md", "tex", "png", "pdf")}
    table = write_transfer_matrix(no_onehot, **out)
    assert table.empty
    assert (tmp_path / "t.csv").read_text() == "signal,budget,metric,unit,target,capability,n,mean,std\n"
    assert "No runs provide" in (tmp_path / "t.md").read_text()
    assert (tmp_path / "t.png").stat().st_size > 0 and (tmp_path / "t.pdf").stat().st_size > 0


def test_write_all_with_no_runs_still_writes_every_file(tmp_path):
    # guards: empty boolean masks turned into column selections and crashed the figures
    paths = write_all([], [], tmp_path / "tables", tmp_path / "plots")
    assert all((tmp_path / p).stat().st_size > 0 for p in paths)
    assert (tmp_path / "tables" / "significance.csv").read_text().startswith("task,metric,budget,reference,")


def test_writer_writes_only_the_outputs_it_is_given(tmp_path, written):
    _, evals, _ = written
    write_budget_vs_score(evals, out_csv=tmp_path / "b.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["b.csv"]


def test_write_artefact_takes_outputs_named_by_format(tmp_path, written):
    _, evals, (one, _) = written
    outputs = {"csv": tmp_path / "s.csv", "md": tmp_path / "s.md", "png": tmp_path / "s.png"}
    write_artefact("spillover", evals, **outputs, requirements=REQ, top_k=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "s.md", "s.png"]
    assert (tmp_path / "s.csv").read_bytes() == (one / "tables" / "spillover.csv").read_bytes()
    with pytest.raises(ReadError, match="unknown artefact 'radar'"):
        write_artefact("radar", evals, csv=tmp_path / "r.csv")
    with pytest.raises(ReadError, match="has no figure"):
        write_artefact("significance", evals, png=tmp_path / "sig.png")


def test_teacher_row_comes_from_the_teacher_scored_on_the_test_split(tmp_path, written):
    _, evals, _ = written
    write_json(tmp_path / "teacher.json", {"task": "A", "task_score": 0.5, "task_ll": -0.3, "profile": {
        "acc": {"math": 0.75, "code": None}, "ll": {"math": -0.25}}})
    table = write_capability_profile(evals, out_csv=tmp_path / "p.csv", teacher_eval=[tmp_path / "teacher.json"])
    teacher = table[table["method"] == "teacher"]
    # code's acc is null (no test item): left out, not zero
    assert teacher[["metric", "capability", "mean"]].values.tolist() == [["acc", "math", 75.0], ["ll", "math", -0.25]]


def test_teacher_eval_must_cover_every_task(tmp_path, written):
    _, evals, _ = written
    write_json(tmp_path / "teacher.json", {"task": "B", "task_score": 0.5, "task_ll": -0.3, "profile": {
        "acc": {"math": 0.75}, "ll": {"math": -0.25}}})
    with pytest.raises(ReadError, match=r"no teacher eval file for task\(s\) \['A'\]"):
        write_capability_profile(evals, out_csv=tmp_path / "p.csv", teacher_eval=[tmp_path / "teacher.json"])


def test_spillover_writer_needs_requirements(tmp_path, written):
    _, evals, _ = written
    from read.aggregate import write_spillover

    with pytest.raises(ReadError, match="no requirement vector"):
        write_spillover(evals, out_csv=tmp_path / "s.csv")
    assert not (tmp_path / "s.csv").exists()


def test_requirements_can_come_from_json_files(tmp_path, written):
    _, evals, (one, _) = written
    write_json(tmp_path / "r_A.json", {"task": "A", "r": REQ["A"]})
    from read.aggregate import write_spillover

    write_spillover(evals, out_csv=tmp_path / "s.csv", requirements=[tmp_path / "r_A.json"], top_k=2)
    assert (tmp_path / "s.csv").read_bytes() == (one / "tables" / "spillover.csv").read_bytes()


def test_plot_functions_return_axes_on_a_given_or_new_figure(written):
    _, evals, _ = written
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    table = tb.budget_vs_score(collect_runs(evals))
    with style():
        ax = plots.plot_budget_curve(table)
        assert isinstance(ax, Axes) and ax.get_xscale() == "log"
        assert ax.get_xlabel() == "token budget B [tokens, log scale]"
        assert ax.get_ylabel() == "Task exact match [points]"
        assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["Student (S0)", "ReAD", "Uniform"]
        s0 = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        assert len(s0) == 1 and s0[0].get_ydata()[0] == pytest.approx(30.0)  # S0 as a horizontal line
        styles = {c.get_label(): c.lines[0].get_linestyle() for c in ax.containers}
        onehots = [k for k in styles if k.startswith("One-hot")]
        assert onehots and {styles[k] for k in onehots} == {"-."} and styles["ReAD"] == "-"
        given = Figure().subplots()
        assert plots.plot_budget_curve(table, ax=given) is given


def test_transfer_heatmap_is_centred_at_zero(written):
    _, evals, _ = written
    table = transfer.transfer_matrix(collect_runs(evals))
    one = table[(table["metric"] == "acc") & (table["budget"] == 100)]
    with style():
        ax = plots.plot_transfer_heatmap(one)
    lo, hi = ax.collections[0].get_clim()
    assert lo == -hi and hi == pytest.approx(one["mean"].abs().max())
    # the full 8 x 8: rows of targets without one-hot runs stay blank
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Gen", "Steer", "Reas", "Math", "Code", "Tool", "LCU",
                                                            "Multi"]


def test_palette_is_fixed_per_method():
    a = plots.method_palette(["uniform", "read"])
    b = plots.method_palette(["read", "greedy", "onehot:math", "mystery"])
    assert a["read"] == b["read"] and a["read"] != a["uniform"] and len(set(b.values())) == 4


def test_save_figure_writes_png_and_pdf(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([1, 2], [3, 4])
    plots.save_figure(fig, tmp_path / "f")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png"]


def test_eval_json_fixture_is_what_the_contract_says(written):
    _, evals, _ = written
    ev = json.loads(evals[0].read_text())
    assert set(ev) >= {"task", "method", "budget", "seed", "task_score", "task_ll", "profile", "initial"}
