"""Entry points for the workflow: one ``write_<artefact>`` per table/figure, and :func:`write_all`.

Every writer reads the run files it is given, builds a tidy table, and writes whichever
outputs it is passed (``out_csv``/``out_md``/``out_tex`` for the table, ``out_png``/
``out_pdf`` for the figure), each atomically. It returns the tidy table. Same inputs give
byte-identical files. A table with no matching runs is still written (header-only CSV, a
note in Markdown/LaTeX, a figure saying "no data"), so a rule's outputs always exist.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from read.aggregate import diagnostics, tables
from read.aggregate.collect import (
    collect_allocations,
    collect_runs,
    collect_task_items,
    load_requirements,
    read_profile,
)
from read.aggregate.render import write_table

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


def write_budget_vs_score(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                          out_pdf=None) -> pd.DataFrame:
    """Mean ± std over seeds of the task score (and task log-lik.) per (task, method, budget)."""
    from read.aggregate.figures import figure_budget_vs_score

    table = tables.budget_vs_score(collect_runs(eval_paths))
    write_table(table, tables.budget_vs_score_sections(table), title="Task score vs token budget",
                note="Mean ± std over seeds (n). Exact match in points (100 × fraction of test items); "
                     "log-likelihood of gold answers in nats/token.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_budget_vs_score, table, out_png, out_pdf)
    return table


def write_capability_profile(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                             out_pdf=None, *, teacher_profile: PathLike | None = None) -> pd.DataFrame:
    """Table 1: final capability profile per method and budget, with S0 and (optionally) the
    teacher's ``profile.json``. The figure shows exact match at each task's largest budget."""
    from read.aggregate.figures import figure_capability_profile

    teacher = read_profile(teacher_profile) if teacher_profile is not None else None
    table = tables.capability_profile(collect_runs(eval_paths), teacher=teacher)
    write_table(table, tables.capability_profile_sections(table), title="Capability profile",
                note="Mean ± std over seeds. S0 = the initial student, budget –.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_capability_profile, table, out_png, out_pdf)
    return table


def write_transfer_matrix(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                          out_pdf=None) -> pd.DataFrame:
    """Definition 2 from the ``onehot:<cap>`` runs: T_ij = s_j(one-hot i) − s_j(S0)."""
    from read.aggregate.figures import figure_transfer_matrix

    table = tables.transfer_matrix(collect_runs(eval_paths))
    write_table(table, tables.transfer_matrix_sections(table), title="Transfer matrix",
                note="T_ij = s_j(S distilled one-hot on i) − s_j(S0); rows i distilled, columns j measured.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_transfer_matrix, table, out_png, out_pdf)
    return table


def write_equivalent_budget(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None) -> pd.DataFrame:
    """Table 2: tokens the strongest baseline needs to match ReAD at ReAD's smallest budget."""
    table = diagnostics.equivalent_budget(collect_runs(eval_paths))
    write_table(table, diagnostics.equivalent_budget_sections(table), title="Equivalent budget",
                note="Log-linear interpolation of the strongest baseline's mean score between its budgets "
                     "(linear interpolation alongside); no extrapolation.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    return table


def write_spillover(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None, out_pdf=None,
                    *, requirements=None, top_k: int = 3) -> pd.DataFrame:
    """Figure 4a/b: on-target gain, off-target change and negative-transfer rate per run,
    mean ± std over seeds. ``requirements``: see :func:`collect.load_requirements`."""
    from read.aggregate.figures import figure_gain_vs_spillover

    reqs = load_requirements(requirements) if requirements is not None else None
    table = diagnostics.spillover(collect_runs(eval_paths), reqs, top_k=top_k)
    write_table(table, diagnostics.spillover_sections(table), title="Gain vs spillover",
                note=f"Targets: the one-hot capability, else the top-{top_k} capabilities of r_tau (r_c > 0). "
                     "Negative-transfer rate: share of off-target capabilities with Δ < 0.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_gain_vs_spillover, table, out_png, out_pdf)
    return table


def write_ablations(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, out_png=None,
                    out_pdf=None) -> pd.DataFrame:
    """Figure 5a: ReAD vs no_identifier / no_adaptation / no_spillover."""
    from read.aggregate.figures import figure_ablations

    table = tables.ablations(collect_runs(eval_paths))
    write_table(table, tables.ablations_sections(table), title="Ablations",
                note="Mean ± std over seeds; profile means average the 8 capabilities of each run.",
                out_csv=out_csv, out_md=out_md, out_tex=out_tex)
    _figure(figure_ablations, table, out_png, out_pdf)
    return table


def write_significance(eval_paths: Paths, out_csv=None, out_md=None, out_tex=None, *, from_summary: bool = False,
                       competitors: Sequence[str] | None = None,
                       metrics: Sequence[str] = ("task_score", "task_ll")) -> pd.DataFrame:
    """Welch t of ReAD vs each competitor (default: every other method present), Holm-corrected
    within each (task, metric, budget); ``from_summary`` uses (mean, std, n) as the paper does.
    Runs that kept per-item task values also get the test paired on test items."""
    table = diagnostics.significance(collect_runs(eval_paths), metrics=metrics, competitors=competitors,
                                     from_summary=from_summary, items=collect_task_items(eval_paths))
    write_table(table, diagnostics.significance_sections(table), title="Significance",
                note="Welch t (two-sided) on per-seed values; Holm correction within each budget; "
                     "* p_Holm < .05, ** p_Holm < .01. Paired sections: a paired t over the task's test "
                     "items (the same items for every run) of each item's mean over seeds, Holm-corrected "
                     "on its own within each budget. It says whether these students differ by more than "
                     "the choice of test items explains; unlike the Welch t, it does not count the spread "
                     "between training seeds.",
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


WRITERS = {
    "budget_vs_score": write_budget_vs_score,
    "capability_profile": write_capability_profile,
    "transfer_matrix": write_transfer_matrix,
    "equivalent_budget": write_equivalent_budget,
    "spillover": write_spillover,
    "ablations": write_ablations,
    "significance": write_significance,
    "allocation_schedule": write_allocation_schedule,
}


def write_artefact(name: str, inputs: Paths, *, csv=None, md=None, tex=None, png=None, pdf=None,
                   **options) -> pd.DataFrame:
    """Write artefact ``name`` with outputs named by format, as a rule's named ``output:``
    gives them: ``write_artefact("transfer_matrix", snakemake.input, **snakemake.output)``.

    ``inputs`` are eval.json files (run directories work too), or allocation.json files for
    ``allocation_schedule``; ``options`` go to the writer (e.g. ``requirements``,
    ``teacher_profile``, ``top_k``).
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
              teacher_profile: PathLike | None = None, requirements=None, top_k: int = 3) -> list[str]:
    """Write every artefact in :data:`ARTEFACTS` under ``tables_dir`` / ``plots_dir``.

    Returns :func:`artefact_paths` (the files written).
    """
    eval_paths: Sequence[PathLike] = list(eval_paths)
    t, p = Path(tables_dir), Path(plots_dir)

    def out(name: str) -> dict:
        table, figure = ARTEFACTS[name]
        files = {f"out_{e}": t / f"{name}.{e}" for e in TABLE_FORMATS if table}
        return files | {f"out_{e}": p / f"{name}.{e}" for e in PLOT_FORMATS if figure}

    write_budget_vs_score(eval_paths, **out("budget_vs_score"))
    write_capability_profile(eval_paths, **out("capability_profile"), teacher_profile=teacher_profile)
    write_transfer_matrix(eval_paths, **out("transfer_matrix"))
    write_equivalent_budget(eval_paths, **out("equivalent_budget"))
    write_spillover(eval_paths, **out("spillover"), requirements=requirements, top_k=top_k)
    write_ablations(eval_paths, **out("ablations"))
    write_significance(eval_paths, **out("significance"))
    write_allocation_schedule(allocation_paths, **out("allocation_schedule"))
    return artefact_paths(tables_dir, plots_dir)


__all__ = ["ARTEFACTS", "WRITERS", "artefact_paths", "budget_vs_score_report", "write_all", "write_artefact", "write_ablations", "write_allocation_schedule",
           "write_budget_vs_score", "write_capability_profile", "write_equivalent_budget", "write_significance",
           "write_spillover", "write_transfer_matrix"]
