"""Multi-panel figures for the workflow's plots: lay out panels, call the ``plot_*``
functions of :mod:`read.aggregate.plots` on slices of a summary table, add titles.

Each ``figure_*`` returns a ``matplotlib.figure.Figure``; call it inside :func:`style`
(the writers in :mod:`read.aggregate.report` do) so fonts and grid are the house style.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from read.aggregate import plots
from read.aggregate.collect import is_onehot, method_key
from read.aggregate.render import format_tokens, method_label, metric_label

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RC = {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
      "xtick.labelsize": 7, "ytick.labelsize": 7, "pdf.fonttype": 42, "savefig.dpi": plots.DPI}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """House style (seaborn whitegrid, small print fonts, embedded TrueType in PDFs)."""
    plots.use_agg()
    import matplotlib
    import seaborn as sns

    with sns.axes_style("whitegrid"), matplotlib.rc_context(RC):
        yield


def panels(n: int, size: tuple[float, float], ncols: int = 3) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure with ``n`` panels (at least one) in rows of ``ncols``."""
    from matplotlib.figure import Figure

    n = max(1, n)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def shared_legend(fig: Figure, axes: list[Axes], loc: str = "outside right center", ncols: int = 1,
                  title: str | None = None) -> None:
    """One figure legend with the unique entries of all panels, outside the panels."""
    handles, labels = [], []
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    if handles:
        fig.legend(handles, labels, loc=loc, ncols=ncols, frameon=False, title=title)


def _drop_onehot(df: pd.DataFrame) -> pd.DataFrame:
    return df.loc[~is_onehot(df["method"])]


def _keep_best_onehot(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Drop one-hot runs except, per task, the strongest one-hot baseline: the best mean
    ``metric`` averaged over budgets (ties: first by name)."""
    onehot = table[is_onehot(table["method"]) & (table["metric"] == metric)]
    if onehot.empty:
        return _drop_onehot(table)
    means = onehot.groupby(["task", "method"], as_index=False)["mean"].mean()
    best = means.sort_values(["task", "mean", "method"], ascending=[True, False, True]).drop_duplicates("task")
    keep = set(zip(best["task"], best["method"]))
    kept = [(t, m) in keep for t, m in zip(table["task"], table["method"])]
    return table.loc[~is_onehot(table["method"]).to_numpy() | np.array(kept, dtype=bool)]


def figure_budget_vs_score(table: pd.DataFrame, metric: str = "task_score", include_onehot: bool = False) -> Figure:
    """One panel per task: :func:`plots.plot_budget_curve`; of the one-hot runs only the
    strongest is drawn per task, unless ``include_onehot`` asks for all of them."""
    df = table if include_onehot else _keep_best_onehot(table, metric)
    tasks = sorted(set(df["task"]))
    fig, axes = panels(len(tasks), (4.2, 3.2))
    for task, ax in zip(tasks, axes):
        plots.plot_budget_curve(df[df["task"] == task], ax=ax, metric=metric, legend=False)
        ax.set_title(f"task {task}")
    shared_legend(fig, axes, title="method")
    if not tasks:
        plots.no_data(axes[0], "no runs")
    return fig


def figure_capability_profile(table: pd.DataFrame, metric: str = "acc", include_onehot: bool = False) -> Figure:
    """One panel per task at that task's largest budget, with the S0 and teacher rows."""
    df = table[table["metric"] == metric]
    df = df if include_onehot else _drop_onehot(df)
    tasks = sorted(set(df["task"]))
    fig, axes = panels(len(tasks), (7.0, 3.0), ncols=1)
    for task, ax in zip(tasks, axes):
        d = df[df["task"] == task]
        top = d["budget"].max()
        plots.plot_capability_profile(d[(d["budget"] == top) | (d["budget"] == 0)], ax=ax, legend=False)
        ax.set_title(f"task {task}, B = {format_tokens(top)} tokens")
    shared_legend(fig, axes, title="method")
    if not tasks:
        plots.no_data(axes[0], "no runs")
    return fig


def figure_transfer_matrix(table: pd.DataFrame, metric: str = "acc") -> Figure:
    """One heatmap per budget (Figure 1a/b)."""
    df = table[table["metric"] == metric]
    budgets = sorted(set(df["budget"]))
    vmax = float(df["mean"].abs().max()) if not df.empty else None  # one colour scale for all budgets
    fig, axes = panels(len(budgets), (5.0, 4.2), ncols=2)
    for budget, ax in zip(budgets, axes):
        plots.plot_transfer_heatmap(df[df["budget"] == budget], ax=ax, vmax=vmax)
        ax.set_title(f"transfer matrix, B = {format_tokens(budget)} tokens")
    if not budgets:
        plots.no_data(axes[0], "no one-hot runs (methods onehot:<capability>)")
    return fig


def figure_gain_vs_spillover(table: pd.DataFrame, metric: str = "acc", include_onehot: bool = False) -> Figure:
    """One gain-vs-spillover scatter per budget (Figure 4a); the one-hot runs appear pooled
    (method ``"onehot"``) unless ``include_onehot``."""
    df = table[table["metric"] == metric]
    df = df if include_onehot else _drop_onehot(df)
    budgets = sorted(set(df["budget"]))
    fig, axes = panels(len(budgets), (4.0, 3.3))
    for budget, ax in zip(budgets, axes):
        plots.plot_gain_vs_spillover(df[df["budget"] == budget], ax=ax, legend=False)
        ax.set_title(f"{metric_label(metric)}, B = {format_tokens(budget)} tokens")
    shared_legend(fig, axes)
    if not budgets:
        plots.no_data(axes[0], "no runs")
    return fig


def figure_ablations(table: pd.DataFrame, metric: str = "task_score") -> Figure:
    """One grouped-bar panel per task (Figure 5a)."""
    tasks = sorted(set(table["task"]))
    fig, axes = panels(len(tasks), (4.2, 3.2))
    for task, ax in zip(tasks, axes):
        plots.plot_ablations(table[table["task"] == task], ax=ax, metric=metric, legend=False)
        ax.set_title(f"task {task}")
    shared_legend(fig, axes, title="method")
    if not tasks:
        plots.no_data(axes[0], "no ablation runs")
    return fig


def figure_allocation_schedule(schedule: pd.DataFrame, include_onehot: bool = False) -> Figure:
    """Rows = tasks (at each task's largest budget), columns = methods; a shared legend."""
    df = schedule if include_onehot else _drop_onehot(schedule)
    cells = []
    for task in sorted(set(df["task"])):
        d = df[df["task"] == task]
        d = d[d["budget"] == d["budget"].max()]
        cells += [(task, m, d[d["method"] == m]) for m in sorted(set(d["method"]), key=method_key)]
    ncols = min(4, max(1, len(cells)))
    fig, axes = panels(len(cells), (2.8, 2.2), ncols=ncols)
    for (task, method, d), ax in zip(cells, axes):
        plots.plot_allocation_schedule(d, ax=ax)
        ax.set_title(f"{method_label(method)} (task {task}, B = {format_tokens(d['budget'].iloc[0])})", fontsize=7)
    if cells:
        shared_legend(fig, axes[:1], title="capability")
    else:
        plots.no_data(axes[0], "no allocations")
    return fig
