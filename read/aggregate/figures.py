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
from read.aggregate.collect import is_onehot, method_key, onehot_target
from read.aggregate.render import error_bars_text, format_tokens, method_label, metric_label, seeds_text, signal_label
from read.capabilities import CAPABILITIES, SHORT

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Figure 4a/b's definitions, said on the figure as in the table's note.
SPILLOVER_DEFINITIONS = ("Δ_c = s_c − s_c(S0). On-target gain: mean Δ_c over the targets C; off-target change: "
                         "mean Δ_c over c ∉ C; negative-transfer rate: share of c ∉ C with Δ_c < 0")
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


def panels(n: int, size: tuple[float, float], ncols: int = 3, polar: bool = False) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure with ``n`` panels (at least one) in rows of ``ncols``,
    each ``size`` inches: the figure is (size[0]·ncols, size[1]·nrows)."""
    from matplotlib.figure import Figure

    n = max(1, n)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    kw = {"projection": "polar"} if polar else None
    axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw=kw).ravel().tolist()
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


def caption(fig: Figure, text: str, n=None) -> None:
    """The figure's title line; with ``n`` (a summary's ``n`` column) it says what the error
    bars are: ±1 std over n seeds."""
    fig.suptitle(text if n is None else f"{text}; {error_bars_text(n)}", fontsize=8, wrap=True)


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
    caption(fig, f"{metric_label(metric)} vs budget; S0 dashed", df.loc[df["budget"] > 0, "n"])
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
    caption(fig, "Capability profile on the test split", df.loc[df["method"] != "teacher", "n"])
    return fig


def figure_transfer_matrix(table: pd.DataFrame, metric: str = "acc") -> Figure:
    """Figure 1a/b: one full 8 × 8 heatmap per (teacher signal, budget), rows distilled,
    columns measured, one symmetric colour scale ±max|T_ij| shared by all panels."""
    df = table[table["metric"] == metric]
    cells = sorted(set(zip(df["signal"], df["budget"])))
    vmax = float(df["mean"].abs().max()) if not df.empty else None  # one colour scale for all budgets
    fig, axes = panels(len(cells), (5.0, 4.2), ncols=2)
    for (signal, budget), ax in zip(cells, axes):
        plots.plot_transfer_heatmap(df[(df["signal"] == signal) & (df["budget"] == budget)], ax=ax, vmax=vmax)
        ax.set_title(f"B = {format_tokens(budget)} tokens" + (f", {signal_label(signal)}" if signal else ""))
    if not cells:
        plots.no_data(axes[0], "no one-hot runs (methods onehot:<capability>)")
    caption(fig, f"Transfer matrix T_ij = s_j(one-hot i) − s_j(S0), {metric_label(metric)}; "
                 f"mean over {seeds_text(df['n'])}")
    return fig


def figure_diminishing_returns(table: pd.DataFrame, metric: str = "acc") -> Figure:
    """Figure 1c: one grouped-bar panel per teacher signal, :func:`plots.plot_marginal_gains`."""
    df = table[table["metric"] == metric]
    signals = sorted(set(df["signal"]))
    fig, axes = panels(len(signals), (6.0, 3.2), ncols=1)
    for signal, ax in zip(signals, axes):
        plots.plot_marginal_gains(df[df["signal"] == signal], ax=ax, legend=False)
        if signal:
            ax.set_title(f"teacher signal {signal_label(signal)}")
    shared_legend(fig, axes, title="budget step")
    if not signals:
        plots.no_data(axes[0], "no one-hot runs (methods onehot:<capability>)")
    caption(fig, "Diminishing returns: marginal on-target gain T_cc(B_k) − T_cc(B_k−1) per seed",
            df.loc[df["quantity"] == "marginal_gain", "n"])
    return fig


def figure_rising_spillover(table: pd.DataFrame, metric: str = "acc") -> Figure:
    """Figure 1d: mean min(T_ij, 0) and the share of T_ij < 0 over i ≠ j, vs budget."""
    df = table[table["metric"] == metric]
    fig, axes = panels(2, (4.0, 3.0), ncols=2)
    for quantity, ax in zip(plots.RISING_LABELS, axes):
        plots.plot_rising_spillover(df, ax=ax, quantity=quantity, legend=len(set(df["signal"])) > 1)
    caption(fig, f"Rising spillover of the one-hot runs, {metric_label(metric)}", df["n"])
    return fig


def figure_budget_curves(table: pd.DataFrame, include_onehot: bool = False) -> Figure:
    """Figure 3: per task a grid of 9 panels (the task score, then each capability's
    test-split exact match) vs budget, one line per method, S0 dashed, the teacher dotted.

    A capability's panel shows the one-hot runs aimed at it (every teacher signal), the
    task-score panel the strongest one-hot run; ``include_onehot`` shows all of them.
    """
    from matplotlib.figure import Figure

    tasks = sorted(set(table["task"]))
    fig = Figure(figsize=(3 * 3.0 + 1.8, 3 * 2.4 * max(1, len(tasks))), layout="constrained")
    subs = fig.subfigures(max(1, len(tasks)), 1, squeeze=False).ravel()
    for task, sub in zip(tasks, subs):
        d = table[table["task"] == task]
        axes = sub.subplots(3, 3).ravel().tolist()
        task_rows = d[d["metric"] == "task_score"]
        plots.plot_budget_curve(task_rows if include_onehot else _keep_best_onehot(task_rows, "task_score"),
                                ax=axes[0], metric="task_score", legend=False)
        axes[0].set_title("task score")
        for cap, ax in zip(CAPABILITIES, axes[1:]):
            rows = d[(d["metric"] == "acc") & (d["capability"] == cap)]
            keep = [include_onehot or onehot_target(m) in (None, cap) for m in rows["method"]]
            plots.plot_budget_curve(rows[keep], ax=ax, metric="acc", legend=False)
            ax.set_title(SHORT[cap])
        for ax in axes:
            ax.set_ylabel("exact match [points]")
        shared_legend(sub, axes, title="method")
        sub.suptitle(f"task {task}", fontsize=8)
    if not tasks:
        plots.no_data(subs[0].subplots(), "no runs")
    caption(fig, "Score vs budget on the test split; S0 dashed, teacher dotted", table.loc[table["budget"] > 0, "n"])
    return fig


def figure_gap_closed(table: pd.DataFrame, include_onehot: bool = False) -> Figure:
    """Figure 5b: one radar per task at its largest budget, one polygon per method."""
    df = table if include_onehot else _drop_onehot(table)
    tasks = sorted(set(df["task"]))
    fig, axes = panels(len(tasks), (4.5, 4.5), ncols=2, polar=True)
    for task, ax in zip(tasks, axes):
        d = df[df["task"] == task]
        plots.plot_gap_radar(d, ax=ax, legend=False)
        ax.set_title(f"task {task}, B = {format_tokens(int(d['budget'].iloc[0]))} tokens")
    shared_legend(fig, axes, title="method")
    if not tasks:
        plots.no_data(axes[0], "no runs")
    caption(fig, "Gap closed (s − s_S0)/(s_teacher − s_S0); shaded band (the error bar): ±1 std over "
                 f"{seeds_text(df['n'])}; a break: teacher − S0 < 1 point, not defined")
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
    caption(fig, SPILLOVER_DEFINITIONS, df["n"])
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
    caption(fig, "ReAD and its ablations", table.loc[table["metric"] == metric, "n"])
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
    caption(fig, f"Allocation schedules: mean w_k over {seeds_text(df['n'])} (no error bars)")
    return fig
