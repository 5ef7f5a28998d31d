"""Entry points for the workflow: one ``write_<artefact>`` per table/figure, and :func:`write_all`.

Every writer reads the run files it is given, builds a tidy table, and writes whichever
outputs it is passed (``out_csv``/``out_md``/``out_tex`` for the table, ``out_png``/
``out_pdf`` for the figure), each atomically. It returns the tidy table. Same inputs give
byte-identical files. A table with no matching runs is still written (header-only CSV, a
note in Markdown/LaTeX, a figure saying "no data"), so a rule's outputs always exist.
Every note says how many profiling tokens bandit methods spent outside B, when any did.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from read.aggregate import diagnostics, tables, transfer
from read.aggregate.collect import (
    collect_allocations,
    collect_reference,
    collect_runs,
    collect_task_items,
    load_requirements,
)
from read.aggregate.render import format_tokens, write_table
from read.capabilities import SHORT

if TYPE_CHECKING:
    import pandas as pd

PathLike = str | os.PathLike
Paths = Iterable[PathLike]
TABLE_FORMATS = ("csv", "md", "tex")
PLOT_FORMATS = ("png", "pdf")
# artefact name -> (writes a table, writes a figure); file names are <name>.<format>.
ARTEFACTS = {
    "budget_vs_score": (True, True),
    "capability_profile": (True, True),
    "transfer_matrix": (True, True),
    "equivalent_budget": (True, False),
    "spillover": (True, True),
    "ablations": (True, True),
    "significance": (True, False),
    "allocation_schedule": (True, True),
    "diminishing_returns": (True, True),
    "rising_spillover": (True, True),
    "budget_curves": (True, True),
    "scaling": (True, False),
    "gap_closed": (True, True),
    "schedule_utility": (True, False),
    "preconditions": (True, False),
}
# artefact name -> the extra file inputs its writer takes (keyword arguments, each a list of paths):
# teacher_eval: the teacher scored on the test split, one eval file per task (shaped like
# setup/tasks/<task>/s0_eval.json); requirements: one r_tau.json per task.
ARTEFACT_OPTIONS: dict[str, tuple[str, ...]] = {
    "capability_profile": ("teacher_eval",),
    "budget_curves": ("teacher_eval",),
    "gap_closed": ("teacher_eval",),
    "spillover": ("requirements",),
    "schedule_utility": ("requirements",),
}
# the subset of those a writer cannot do without (the others only add a row or a line)
REQUIRED_OPTIONS: dict[str, tuple[str, ...]] = {
    "gap_closed": ("teacher_eval",),
    "spillover": ("requirements",),
    "schedule_utility": ("requirements",),
}


def artefact_paths(tables_dir: PathLike, plots_dir: PathLike) -> list[str]:
    """Every file :func:`write_all` writes (for a rule's ``output:``), in a fixed order."""
    out = []
    for name, (table, figure) in ARTEFACTS.items():
        out += [os.path.join(tables_dir, f"{name}.{ext}") for ext in TABLE_FORMATS if table]
        out += [os.path.join(plots_dir, f"{name}.{ext}") for ext in PLOT_FORMATS if figure]
    return out


def _figure(builder, table, out_png, out_pdf, **kw) -> None:
    if out_png is None and out_pdf is None:
        return
    from read.aggregate.figures import style
    from read.aggregate.plots import save_figure_as

    with style():
        save_figure_as(builder(table, **kw), out_png, out_pdf)


def _note(text: str, runs: pd.DataFrame) -> str:
    """``text`` plus, when any run spent profiling tokens outside B, the sentence saying so."""
    extra = tables.profiling_note(runs)
    return f"{text} {extra}" if extra else text


def _paths(paths: Paths | PathLike | None) -> list[PathLike] | None:
    """A list of paths (one path is a list of one); ``None`` stays ``None``."""
    if paths is None:
        return None
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def _teacher(teacher_eval: Paths | PathLike | None) -> pd.DataFrame | None:
    paths = _paths(teacher_eval)
    return collect_reference(paths) if paths is not None else None


def write_budget_vs_score(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                          out_pdf=None) -> pd.DataFrame:
    """Mean ± std over seeds of the task score (and task log-lik.) per (task, method, budget)."""
    from read.aggregate.figures import figure_budget_vs_score

    runs = collect_runs(eval_paths)
    table = tables.budget_vs_score(runs)
    write_table(table, tables.budget_vs_score_sections(table), title="Task score vs token budget",
                note=_note("Mean ± std over seeds (n). Exact match in points (100 × fraction of test items); "
                           "log-likelihood of gold answers in nats/token.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_budget_vs_score, table, out_png, out_pdf)
    return table


def write_budget_curves(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None, out_pdf=None,
                        *, teacher_eval: Paths | None = None) -> pd.DataFrame:
    """Figure 3: task score and each capability's test-split exact match vs budget, per task."""
    from read.aggregate.figures import figure_budget_curves

    runs = collect_runs(eval_paths)
    table = tables.budget_curves(runs, teacher=_teacher(teacher_eval))
    write_table(table, tables.budget_curves_sections(table), title="Performance vs token budget",
                note=_note("Mean ± std over seeds (n), exact match on the test split in points. S0 = the initial "
                           "student and Teacher = the teacher scored on the same test split (budget –; dashed and "
                           "dotted lines in the figure).", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_budget_curves, table, out_png, out_pdf)
    return table


def write_capability_profile(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                             out_pdf=None, *, teacher_eval: Paths | None = None) -> pd.DataFrame:
    """Table 1: final capability profile per method and budget, with S0 and (given
    ``teacher_eval``, one eval file per task) the teacher scored on the same test split.
    The figure shows exact match at each task's largest budget."""
    from read.aggregate.figures import figure_capability_profile

    runs = collect_runs(eval_paths)
    table = tables.capability_profile(runs, teacher=_teacher(teacher_eval))
    write_table(table, tables.capability_profile_sections(table), title="Capability profile",
                note=_note("Mean ± std over seeds, on the test split. S0 = the initial student, Teacher = the "
                           "teacher on the same test split (n = 1); both budget –.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_capability_profile, table, out_png, out_pdf)
    return table


def write_transfer_matrix(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                          out_pdf=None) -> pd.DataFrame:
    """Definition 2 from the ``onehot:<cap>`` runs: T_ij = s_j(one-hot i) − s_j(S0), every budget."""
    from read.aggregate.figures import figure_transfer_matrix

    runs = collect_runs(eval_paths)
    table = transfer.transfer_matrix(runs)
    write_table(table, transfer.transfer_matrix_sections(table), title="Transfer matrix",
                note=_note("T_ij = s_j(S distilled one-hot on i) − s_j(S0); rows i distilled, columns j measured; "
                           "one matrix per budget (and teacher signal).", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_transfer_matrix, table, out_png, out_pdf)
    return table


def write_diminishing_returns(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                              out_pdf=None) -> pd.DataFrame:
    """Figure 1c: on-target gain T_cc per budget and the marginal gain between consecutive budgets."""
    from read.aggregate.figures import figure_diminishing_returns

    runs = collect_runs(eval_paths)
    table = transfer.diminishing_returns(runs)
    write_table(table, transfer.diminishing_returns_sections(table), title="Diminishing returns",
                note=_note("From the one-hot runs, exact match in points. T_cc(B) = s_c(one-hot c, B) − s_c(S0); "
                           "marginal gain B_k−1→B_k = T_cc(B_k) − T_cc(B_k−1), computed per seed (the same seed id "
                           "at both budgets); mean ± std over seeds.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_diminishing_returns, table, out_png, out_pdf)
    return table


def write_rising_spillover(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                           out_pdf=None) -> pd.DataFrame:
    """Figure 1d: mean negative off-target transfer of the one-hot runs per budget."""
    from read.aggregate.figures import figure_rising_spillover

    runs = collect_runs(eval_paths)
    table = transfer.rising_spillover(runs)
    write_table(table, transfer.rising_spillover_sections(table), title="Rising spillover",
                note=_note("From the one-hot runs, per budget and seed: the mean over the off-diagonal entries "
                           "(i ≠ j) of min(T_ij, 0) in points (0 = no harm; the paper's harm is its negative), and "
                           "the share of those entries with T_ij < 0; then mean ± std over seeds.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_rising_spillover, table, out_png, out_pdf)
    return table


def write_equivalent_budget(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None) -> pd.DataFrame:
    """Table 2: tokens the strongest baseline needs to match ReAD at ReAD's smallest budget."""
    runs = collect_runs(eval_paths)
    table = diagnostics.equivalent_budget(runs)
    write_table(table, diagnostics.equivalent_budget_sections(table), title="Equivalent budget",
                note=_note("Log-linear interpolation of the strongest baseline's mean score between its budgets "
                           "(linear interpolation alongside); no extrapolation. Multiple, profiling charged = "
                           "tokens needed / (B0 + P), P = ReAD's profiling tokens per run at B0 (eval.json "
                           "tokens.profiling), which it spent outside B.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    return table


def write_scaling(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, *,
                  unit: float | None = None) -> pd.DataFrame:
    """Points per ``unit`` extra tokens of budget (default unit: the smallest budget)."""
    runs = collect_runs(eval_paths)
    table = tables.scaling(runs, unit=unit)
    if not table.empty:
        tokens = float(table["unit_tokens"].iloc[0])
        said = f"unit = {format_tokens(tokens)} tokens" + (", the smallest budget" if unit is None else "")
    else:
        said = "unit = " + ("the smallest budget" if unit is None else f"{format_tokens(unit)} tokens")
    write_table(table, tables.scaling_sections(table), title="Scaling",
                note=_note(f"Points per unit of extra budget ({said}): (s(B_max) − s(B_min)) / ((B_max − B_min) / "
                           "unit), s = mean over seeds of the exact match in points, B_min/B_max = the method's "
                           "smallest and largest budget. Mean = each run's mean over the 8 capabilities. Methods "
                           "run at a single budget are left out.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    return table


SPILLOVER_NOTE = ("Per run, Δ_c = s_c(final) − s_c(S0); targets C = the one-hot capability, else the top-{k} "
                  "capabilities of r_tau (r_c > 0). On-target gain = mean of Δ_c over c ∈ C; off-target change = "
                  "mean of Δ_c over c ∉ C; negative-transfer rate = |{{c ∉ C : Δ_c < 0}}| / |{{c ∉ C}}|, the share "
                  "of off-target capabilities made worse. Mean ± std over seeds; One-hot = per seed the mean over "
                  "the one-hot targets.")


def write_spillover(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None, out_pdf=None,
                    *, requirements=None, top_k: int = 3) -> pd.DataFrame:
    """Figure 4a/b: on-target gain, off-target change and negative-transfer rate per run,
    mean ± std over seeds. ``requirements``: see :func:`collect.load_requirements`."""
    from read.aggregate.figures import figure_gain_vs_spillover

    runs = collect_runs(eval_paths)
    reqs = load_requirements(requirements) if requirements is not None else None
    table = diagnostics.spillover(runs, reqs, top_k=top_k)
    write_table(table, diagnostics.spillover_sections(table), title="Gain vs spillover",
                note=_note(SPILLOVER_NOTE.format(k=top_k), runs), out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_gain_vs_spillover, table, out_png, out_pdf)
    return table


def write_schedule_utility(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, *,
                           requirements=None) -> pd.DataFrame:
    """Figure 4c's average utility Σ_c r_τ,c·s_c of each method's final profile."""
    runs = collect_runs(eval_paths)
    reqs = load_requirements(requirements) if requirements is not None else {}
    table = diagnostics.schedule_utility(runs, reqs)
    write_table(table, diagnostics.schedule_utility_sections(table), title="Schedule utility",
                note=_note("Average utility of a method's schedule: U = Σ_c r_τ,c · s_c, with s_c the final "
                           "test-split exact match of capability c in points and r_τ the task's requirement vector "
                           "scaled to sum 1 (a weighted mean of the profile); per run, then mean ± std over seeds. "
                           "S0 = the initial student.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    return table


def write_gap_closed(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None, out_pdf=None,
                     *, teacher_eval: Paths | None = None) -> pd.DataFrame:
    """Figure 5b: share of the teacher–S0 gap closed per capability at each task's largest budget."""
    from read.aggregate.figures import figure_gap_closed

    runs = collect_runs(eval_paths)
    table = diagnostics.gap_closed(runs, _teacher(teacher_eval))
    small = table[table["teacher"] - table["s0"] < diagnostics.MIN_GAP_POINTS].drop_duplicates(["task", "capability"])
    nan = "; ".join(f"task {t}: {', '.join(SHORT[c] for c in g['capability'])}"
                    for t, g in small.groupby("task", sort=False))
    write_table(table, diagnostics.gap_closed_sections(table), title="Gap closed",
                note=_note("At each task's largest budget, per capability: (s − s_S0) / (s_teacher − s_S0), exact "
                           "match on the test split (the teacher scored on the same split), per seed, then mean ± "
                           "std over seeds; 1 = the teacher's score, 0 = no gain over S0. Not defined (–, nan) where "
                           f"s_teacher − s_S0 < {diagnostics.MIN_GAP_POINTS:g} point"
                           + (f", here {nan}." if nan else "; no capability here."), runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_gap_closed, table, out_png, out_pdf)
    return table


def write_ablations(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                    out_pdf=None) -> pd.DataFrame:
    """Figure 5a: ReAD vs no_identifier / no_adaptation / no_spillover."""
    from read.aggregate.figures import figure_ablations

    runs = collect_runs(eval_paths)
    table = tables.ablations(runs)
    write_table(table, tables.ablations_sections(table), title="Ablations",
                note=_note("Mean ± std over seeds; profile means average the 8 capabilities of each run.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_ablations, table, out_png, out_pdf)
    return table


def write_significance(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, *, from_summary: bool = False,
                       competitors: Sequence[str] | None = None,
                       metrics: Sequence[str] = ("task_score", "task_ll", "acc")) -> pd.DataFrame:
    """Welch t of ReAD vs each competitor (default: every other method present), Holm-corrected
    within each (task, metric, budget); per capability, ReAD vs the strongest baseline there,
    Holm within each budget; ``from_summary`` uses (mean, std, n) as the paper does.
    Runs that kept per-item task values also get the test paired on test items."""
    eval_paths = list(eval_paths)
    runs = collect_runs(eval_paths)
    table = diagnostics.significance(runs, metrics=metrics, competitors=competitors,
                                     from_summary=from_summary, items=collect_task_items(eval_paths))
    write_table(table, diagnostics.significance_sections(table), title="Significance",
                note=_note("Welch t (two-sided) on per-seed values; Holm correction within each budget; "
                           "* p_Holm < .05, ** p_Holm < .01. Capability sections: per capability and budget, ReAD "
                           "against the strongest baseline there (the highest mean exact match of any method but "
                           "ReAD and its variants), Holm over the capabilities of a budget. Paired sections: a "
                           "paired t over the task's test items (the same items for every run) of each item's mean "
                           "over seeds, Holm-corrected on its own within each budget. It says whether these "
                           "students differ by more than the choice of test items explains; unlike the Welch t, it "
                           "does not count the spread between training seeds.", runs),
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    return table


def write_allocation_schedule(allocation_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                              out_pdf=None) -> pd.DataFrame:
    """Figure 4c: mean allocation w_k per interval, method and budget (over seeds)."""
    from read.aggregate.figures import figure_allocation_schedule

    table = tables.allocation_schedule(collect_allocations(allocation_paths))
    write_table(table, tables.allocation_schedule_sections(table), title="Allocation schedules",
                note="Mean over seeds of w_k,c per interval k.", out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_allocation_schedule, table, out_png, out_pdf)
    return table


def write_preconditions(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, *, n_intervals: int = 0,
                        rules=None) -> pd.DataFrame:
    """Whether the grid's regime can answer the paper's questions (read.aggregate.preconditions),
    from the config and the fixed allocations' runs only."""
    import pandas as pd

    from read.aggregate.collect import eval_file
    from read.aggregate.preconditions import StudyRules, all_met, check
    from read.io import read_json

    study = StudyRules.from_dict(rules)
    rows = check([read_json(eval_file(p)) for p in eval_paths], n_intervals=int(n_intervals), rules=study)
    table = pd.DataFrame(rows, columns=["check", "task", "value", "threshold", "met", "note"])
    shown = table.assign(met=[{True: "yes", False: "**no**"}.get(m, "–") for m in table["met"]])
    verdict = "All required checks met" if rows and all_met(rows) else "NOT all required checks met"
    write_table(table, [("Checks", shown)] if rows else [], title="Study preconditions",
                note=f"{verdict}. Method-agnostic: the config and the runs of {', '.join(study.fixed_methods)} only "
                     "(read/aggregate/preconditions.py defines each check); met is empty for reported-only rows.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    return table


WRITERS = {
    "budget_vs_score": write_budget_vs_score,
    "capability_profile": write_capability_profile,
    "transfer_matrix": write_transfer_matrix,
    "equivalent_budget": write_equivalent_budget,
    "spillover": write_spillover,
    "ablations": write_ablations,
    "significance": write_significance,
    "allocation_schedule": write_allocation_schedule,
    "diminishing_returns": write_diminishing_returns,
    "rising_spillover": write_rising_spillover,
    "budget_curves": write_budget_curves,
    "scaling": write_scaling,
    "gap_closed": write_gap_closed,
    "schedule_utility": write_schedule_utility,
    "preconditions": write_preconditions,
}


def write_artefact(name: str, inputs: Paths, *, csv=None, md=None, tex=None, png=None, pdf=None,
                   **options) -> pd.DataFrame:
    """Write artefact ``name`` with outputs named by format, as a rule's named ``output:``
    gives them: ``write_artefact("transfer_matrix", snakemake.input, **snakemake.output)``.

    ``inputs`` are eval.json files (run directories work too), or allocation.json files for
    ``allocation_schedule``; ``options`` go to the writer: the file inputs named in
    :data:`ARTEFACT_OPTIONS` (lists of paths) and plain values (``top_k``, ``unit``, ...).
    """
    from read.errors import bad_input

    if name not in WRITERS:
        raise bad_input("write_artefact", f"unknown artefact {name!r}", f"choose from {sorted(WRITERS)}")
    if not ARTEFACTS[name][1] and (png is not None or pdf is not None):
        raise bad_input(f"write_artefact({name!r})", "this artefact has no figure", "drop the png/pdf outputs")
    outs = {"out_csv": csv, "out_md": md, "out_tex": tex} | ({"out_png": png, "out_pdf": pdf} if ARTEFACTS[name][1]
                                                             else {})
    return WRITERS[name](list(inputs), **outs, **options)


def budget_vs_score_report(eval_paths: Paths, **outputs) -> pd.DataFrame:
    """``write_artefact("budget_vs_score", ...)``: the name workflow/scripts/budget_vs_score.py uses."""
    return write_artefact("budget_vs_score", eval_paths, **outputs)


def write_all(eval_paths: Paths, allocation_paths: Paths, tables_dir: PathLike, plots_dir: PathLike, *,
              teacher_eval: Paths | None = None, requirements=None, top_k: int = 3,
              unit: float | None = None) -> list[str]:
    """Write every artefact in :data:`ARTEFACTS` under ``tables_dir`` / ``plots_dir``.

    ``teacher_eval`` and ``requirements`` go to the writers :data:`ARTEFACT_OPTIONS` names;
    ``top_k`` to spillover, ``unit`` to scaling. Returns :func:`artefact_paths` (the files written).
    """
    eval_paths: Sequence[PathLike] = list(eval_paths)
    files = {"teacher_eval": _paths(teacher_eval), "requirements": requirements}
    values = {"spillover": {"top_k": top_k}, "scaling": {"unit": unit}}
    t, p = Path(tables_dir), Path(plots_dir)
    for name, (table, figure) in ARTEFACTS.items():
        outs = {f"out_{e}": t / f"{name}.{e}" for e in TABLE_FORMATS if table}
        outs |= {f"out_{e}": p / f"{name}.{e}" for e in PLOT_FORMATS if figure}
        options = {key: files[key] for key in ARTEFACT_OPTIONS.get(name, ())} | values.get(name, {})
        inputs = allocation_paths if name == "allocation_schedule" else eval_paths
        WRITERS[name](inputs, **outs, **options)
    return artefact_paths(tables_dir, plots_dir)


__all__ = ["ARTEFACTS", "ARTEFACT_OPTIONS", "REQUIRED_OPTIONS", "WRITERS", "artefact_paths", "budget_vs_score_report", "write_ablations",
           "write_all", "write_allocation_schedule", "write_artefact", "write_budget_curves", "write_budget_vs_score",
           "write_capability_profile", "write_diminishing_returns", "write_equivalent_budget", "write_gap_closed",
           "write_rising_spillover", "write_scaling", "write_schedule_utility", "write_significance",
           "write_spillover", "write_transfer_matrix"]
