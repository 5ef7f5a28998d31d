"""Publication figures, one function per panel: ``plot_x(df, ax=None) -> Axes``.

Each takes a summary table from :mod:`read.aggregate.tables` / ``diagnostics`` (already
restricted to one panel's data) and draws onto ``ax`` (a new figure if omitted). Methods
get one fixed colour everywhere (:func:`method_palette`), capabilities another fixed set.
Figures are built on ``matplotlib.figure.Figure`` (never pyplot's global figure manager),
and :func:`save_figure` writes PNG and PDF atomically without timestamps.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

from read.aggregate.collect import method_key, onehot_target, split_signal
from read.aggregate.render import (
    DECIMALS,
    UNITS,
    format_signed,
    format_tokens,
    method_label,
    metric_label,
    signal_label,
)
from read.capabilities import CAPABILITIES, INDEX, SHORT
from read.io import atomic_path
from read.methods import TEACHER_SIGNALS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 200
# Index into seaborn's 10-colour "colorblind" palette; ReAD gets the vermilion.
_METHOD_SLOTS = {"read": 3, "uniform": 7, "task_static": 0, "greedy": 2, "grid": 4, "random": 5,
                 "no_identifier": 1, "no_adaptation": 9, "no_spillover": 6, "read_learned": 8}
# One marker per teacher signal, so "onehot:math" and "onehot:math+logit-kd" (same colour) stay apart.
_SIGNAL_MARKERS = dict(zip(TEACHER_SIGNALS, "^vD<>P*"))
_FIXED = {"S0": (0.0, 0.0, 0.0), "teacher": (0.35, 0.35, 0.35), "onehot": (0.16, 0.34, 0.45)}
_MARKERS = "osD^vPX<>*"


def use_agg() -> None:
    """Select the Agg backend unless pyplot is already running (then keep the user's)."""
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")


def method_palette(methods: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """Fixed colour per method: known methods always get the same colour, one-hot runs a
    shade of the "crest" ramp by capability, unknown methods "husl" colours by sorted name."""
    import seaborn as sns

    methods = sorted(set(methods), key=method_key)
    cb = sns.color_palette("colorblind", 10)
    crest = sns.color_palette("crest", len(CAPABILITIES))
    unknown = [m for m in methods if m not in _METHOD_SLOTS and m not in _FIXED and onehot_target(m) is None]
    extra = sns.color_palette("husl", max(1, len(unknown)))
    out = {}
    for m in methods:
        target = onehot_target(m)
        if m in _METHOD_SLOTS:
            out[m] = tuple(cb[_METHOD_SLOTS[m]])
        elif m in _FIXED:
            out[m] = _FIXED[m]
        elif target in INDEX:
            out[m] = tuple(crest[INDEX[target]])
        else:
            out[m] = tuple(extra[unknown.index(m)])
    return out


def method_style(method: str) -> dict:
    """Line and bar style beyond colour: one-hot runs are dash-dotted with square markers
    and hatched, so that they stay apart from the blue task-static at any "crest" shade; a
    teacher-signal variant gets its signal's marker."""
    signal = split_signal(method)[1]
    if onehot_target(method) is None:
        return {"line": {"linestyle": "-", "marker": _SIGNAL_MARKERS.get(signal, "o")}, "bar": {}}
    return {"line": {"linestyle": "-.", "marker": _SIGNAL_MARKERS.get(signal, "s")},
            "bar": {"hatch": "///", "edgecolor": "white"}}


def capability_palette() -> dict[str, tuple[float, float, float]]:
    import seaborn as sns

    return {c: tuple(col) for c, col in zip(CAPABILITIES, sns.color_palette("Set2", len(CAPABILITIES)))}


def _axes(ax: Axes | None, size: tuple[float, float] = (4.0, 3.0)) -> Axes:
    if ax is not None:
        return ax
    use_agg()
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained").subplots()


def _single(df: pd.DataFrame, column: str, what: str) -> str:
    values = sorted(set(df[column]))
    if len(values) != 1:
        raise ValueError(f"{what} needs rows of exactly one {column}, got {values}; filter the table first")
    return values[0]


def no_data(ax: Axes, message: str) -> Axes:
    """Mark an empty panel (the workflow still expects the figure file)."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=9, wrap=True)
    ax.set_axis_off()
    return ax


def plot_budget_curve(df: pd.DataFrame, ax: Axes | None = None, metric: str = "task_score",
                      legend: bool = True) -> Axes:
    """Score vs token budget, one line per method, error bars = ±1 std over seeds; the
    reference rows at budget 0 as horizontal lines: S0 dashed, the teacher dotted.

    Args:
        df: :func:`budget_vs_score` rows of one task (columns method, budget, metric, mean, std),
            or :func:`budget_curves` rows of one task and capability.
        metric: which ``metric`` rows to draw.
        legend: draw a legend on ``ax`` (multi-panel figures draw one shared legend instead).
    """
    ax = _axes(ax)
    rows = df[df["metric"] == metric]
    reference, rows = rows[rows["budget"] == 0], rows[rows["budget"] > 0]
    if rows.empty:
        return no_data(ax, "no runs")
    colors = method_palette([*rows["method"], *reference["method"]])
    for _, r in reference.iterrows():  # a log axis has no budget 0: a line across the plot
        ax.axhline(r["mean"], color=colors[r["method"]], linestyle=":" if r["method"] == "teacher" else "--",
                   linewidth=1.0,
                   label=method_label(r["method"]), zorder=1)
    for method in sorted(set(rows["method"]), key=method_key):
        d = rows[rows["method"] == method].sort_values("budget")
        ax.errorbar(d["budget"], d["mean"], yerr=d["std"].fillna(0.0), color=colors[method], markersize=4,
                    capsize=3, linewidth=1.5 if method == "read" else 1.0, label=method_label(method),
                    zorder=3 if method == "read" else 2, **method_style(method)["line"])
    _log_budget_axis(ax, sorted(set(rows["budget"])))
    ax.set_ylabel(metric_label(metric))
    if legend:
        ax.legend(fontsize=7, frameon=False)
    return ax


def plot_transfer_heatmap(df: pd.DataFrame, ax: Axes | None = None, vmax: float | None = None) -> Axes:
    """Transfer matrix T_ij (rows: distilled capability, columns: measured), diverging at 0,
    values annotated; always the full 8 × 8 (rows of targets without runs stay blank).

    Args:
        df: :func:`transfer_matrix` rows of one metric, teacher signal and budget.
        vmax: colour scale ±vmax (default: the largest |T_ij|); share it across panels.
    """
    import numpy as np
    import seaborn as sns

    ax = _axes(ax, (5.0, 4.2))
    if df.empty:
        return no_data(ax, "no one-hot runs")
    metric = _single(df, "metric", "plot_transfer_heatmap")
    _single(df, "budget", "plot_transfer_heatmap")
    mat = np.full((len(CAPABILITIES), len(CAPABILITIES)), np.nan)
    for _, r in df.iterrows():
        mat[INDEX[r["target"]], INDEX[r["capability"]]] = r["mean"]
    if vmax is None:
        vmax = float(np.nanmax(np.abs(mat))) if np.isfinite(mat).any() else 1.0
    vmax = vmax if vmax > 0 else 1.0
    unit = UNITS[metric]
    dec = max(1, DECIMALS[unit] - 1)
    labels = np.vectorize(lambda v: "" if np.isnan(v) else format_signed(float(v), dec), otypes=[str])(mat)
    with warnings.catch_warnings():  # seaborn 0.13 calls cmap.set_bad (pending deprecation in mpl)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(mat, ax=ax, cmap="RdBu", center=0.0, vmin=-vmax, vmax=vmax, annot=labels,
                    fmt="", annot_kws={"fontsize": 6}, linewidths=0.5,
                    xticklabels=[SHORT[c] for c in CAPABILITIES], yticklabels=[SHORT[c] for c in CAPABILITIES],
                    cbar_kws={"label": f"Δ vs S0 [{unit}]"})
    ax.set_xlabel("measured capability j")
    ax.set_ylabel("distilled capability i (one-hot)")
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)
    return ax


def plot_allocation_schedule(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked area of the mean allocation w_k over intervals (piecewise constant per interval).

    Args:
        df: :func:`allocation_schedule` rows of one (task, method, budget): k, capability, mean.
    """
    import numpy as np

    ax = _axes(ax)
    if df.empty:
        return no_data(ax, "no allocations")
    ks = sorted(set(df["k"]))
    w = {(r["capability"], r["k"]): r["mean"] for _, r in df.iterrows()}
    x = np.repeat(np.asarray(ks, dtype=float), 2) + np.tile([-0.5, 0.5], len(ks))
    ys = [np.repeat([w.get((c, k), 0.0) for k in ks], 2) for c in CAPABILITIES]
    colors = capability_palette()
    ax.stackplot(x, ys, labels=[SHORT[c] for c in CAPABILITIES], colors=[colors[c] for c in CAPABILITIES],
                 linewidth=0.3, edgecolor="white")
    ax.set(xlim=(x[0], x[-1]), ylim=(0.0, 1.0), xlabel="interval k", ylabel="allocation weight w_k,c")
    ax.set_xticks(ks)
    return ax


def plot_gain_vs_spillover(df: pd.DataFrame, ax: Axes | None = None, legend: bool = True) -> Axes:
    """On-target gain (y) vs off-target change (x), mean ± std over seeds; colour = method,
    marker = task. Upper right is better: gains without harming the rest.

    Args:
        df: :func:`spillover` rows of one metric and one budget.
        legend: draw a legend on ``ax``.
    """
    ax = _axes(ax, (4.5, 3.5))
    if df.empty:
        return no_data(ax, "no runs")
    metric = _single(df, "metric", "plot_gain_vs_spillover")
    unit = UNITS[metric]
    colors = method_palette(df["method"])
    tasks = sorted(set(df["task"]))
    seen = set()
    for (task, method), g in df.groupby(["task", "method"], sort=False):
        q = {r["quantity"]: r for _, r in g.iterrows()}
        on, off = q.get("on_target_gain"), q.get("off_target_change")
        if on is None or off is None or math.isnan(on["mean"]) or math.isnan(off["mean"]):
            continue
        ax.errorbar(off["mean"], on["mean"], xerr=_zero(off["std"]), yerr=_zero(on["std"]), color=colors[method],
                    marker=_MARKERS[tasks.index(task) % len(_MARKERS)], markersize=5, capsize=2, linestyle="none",
                    label=None if method in seen else method_label(method))
        seen.add(method)
    ax.axhline(0.0, color="0.6", linewidth=0.8, linestyle="--", zorder=0)
    ax.axvline(0.0, color="0.6", linewidth=0.8, linestyle="--", zorder=0)
    ax.set_xlabel(f"off-target change [{unit}]")
    ax.set_ylabel(f"on-target gain [{unit}]")
    if len(tasks) > 1:
        for i, task in enumerate(tasks):
            ax.plot([], [], linestyle="none", color="0.3", marker=_MARKERS[i % len(_MARKERS)], label=f"task {task}")
    if legend:
        ax.legend(fontsize=6, frameon=False)
    return ax


def _zero(std: float) -> float:
    return 0.0 if math.isnan(std) else float(std)


def plot_capability_profile(df: pd.DataFrame, ax: Axes | None = None, legend: bool = True) -> Axes:
    """Grouped bars: one group per capability, one bar per method (error bars: std).

    Args:
        df: :func:`capability_profile` rows of one task and one metric (e.g. S0, teacher
            and the methods at one budget).
        legend: draw a legend on ``ax``.
    """
    import numpy as np

    ax = _axes(ax, (7.0, 3.0))
    if df.empty:
        return no_data(ax, "no runs")
    metric = _single(df, "metric", "plot_capability_profile")
    methods = sorted(set(df["method"]), key=method_key)
    colors = method_palette(methods)
    width = 0.8 / len(methods)
    x = np.arange(len(CAPABILITIES), dtype=float)
    for i, method in enumerate(methods):
        d = df[df["method"] == method].set_index("capability")
        mean = [float(d["mean"].get(c, np.nan)) for c in CAPABILITIES]
        std = [_zero(float(d["std"].get(c, np.nan))) for c in CAPABILITIES]
        ax.bar(x - 0.4 + (i + 0.5) * width, mean, width, yerr=std, color=colors[method], capsize=1.5,
               error_kw={"linewidth": 0.6}, label=method_label(method), **method_style(method)["bar"])
    ax.set_xticks(x, [SHORT[c] for c in CAPABILITIES])
    ax.set_xlabel("capability")
    ax.set_ylabel(metric_label(metric))
    if legend:
        ax.legend(fontsize=6, frameon=False, ncols=min(4, len(methods)))
    return ax


def plot_ablations(df: pd.DataFrame, ax: Axes | None = None, metric: str = "task_score",
                   legend: bool = True) -> Axes:
    """Grouped bars: one group per budget, one bar per method (reference and ablations).

    Args:
        df: :func:`ablations` rows of one task.
        metric: which ``metric`` rows to draw.
        legend: draw a legend on ``ax``.
    """
    import numpy as np

    ax = _axes(ax)
    rows = df[df["metric"] == metric]
    if rows.empty:
        return no_data(ax, "no ablation runs")
    budgets = sorted(set(rows["budget"]))
    methods = sorted(set(rows["method"]), key=method_key)
    colors = method_palette(methods)
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        d = rows[rows["method"] == method].set_index("budget")
        mean = [float(d["mean"].get(b, np.nan)) for b in budgets]
        std = [_zero(float(d["std"].get(b, np.nan))) for b in budgets]
        ax.bar(np.arange(len(budgets)) - 0.4 + (i + 0.5) * width, mean, width, yerr=std, capsize=2,
               color=colors[method], label=method_label(method))
    ax.set_xticks(np.arange(len(budgets)), [format_tokens(b) for b in budgets])
    ax.set_xlabel("token budget B [tokens]")
    ax.set_ylabel(metric_label(metric))
    if legend:
        ax.legend(fontsize=7, frameon=False)
    return ax


def plot_marginal_gains(df: pd.DataFrame, ax: Axes | None = None, legend: bool = True) -> Axes:
    """Figure 1c: grouped bars, one group per one-hot target c, one bar per budget step
    B_{k−1} → B_k: the marginal on-target gain, error bars ±1 std over seeds.

    Args:
        df: :func:`diminishing_returns` rows of one metric and teacher signal.
        legend: draw a legend on ``ax``.
    """
    import numpy as np
    import seaborn as sns

    ax = _axes(ax, (6.0, 3.2))
    rows = df[df["quantity"] == "marginal_gain"]
    if rows.empty:
        return no_data(ax, "needs one-hot runs at two or more budgets")
    metric = _single(rows, "metric", "plot_marginal_gains")
    targets = [c for c in CAPABILITIES if c in set(rows["target"])]
    steps = sorted(set(zip(rows["budget_from"], rows["budget_to"])), key=lambda s: (s[1], s[0]))
    colors = sns.color_palette("crest", len(steps))
    width = 0.8 / len(steps)
    for i, (lo, hi) in enumerate(steps):
        d = rows[(rows["budget_from"] == lo) & (rows["budget_to"] == hi)].set_index("target")
        mean = [float(d["mean"].get(c, np.nan)) for c in targets]
        std = [_zero(float(d["std"].get(c, np.nan))) for c in targets]
        ax.bar(np.arange(len(targets)) - 0.4 + (i + 0.5) * width, mean, width, yerr=std, capsize=2,
               color=colors[i], label=f"{format_tokens(lo)} → {format_tokens(hi)}")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    ax.set_xticks(np.arange(len(targets)), [SHORT[c] for c in targets])
    ax.set_xlabel("distilled capability c (one-hot)")
    ax.set_ylabel(f"marginal target gain [{UNITS[metric]}]")
    if legend:
        ax.legend(fontsize=7, frameon=False, title="budget step")
    return ax


RISING_LABELS = {"negative_spillover": "mean min(T_ij, 0), i ≠ j", "negative_share": "share of T_ij < 0, i ≠ j"}


def plot_rising_spillover(df: pd.DataFrame, ax: Axes | None = None, quantity: str = "negative_spillover",
                          legend: bool = True) -> Axes:
    """Figure 1d: the one-hot runs' off-target harm vs budget (log x), one line per teacher
    signal, error bars ±1 std over seeds.

    Args:
        df: :func:`rising_spillover` rows of one metric.
        quantity: ``"negative_spillover"`` or ``"negative_share"``.
        legend: draw a legend on ``ax``.
    """
    ax = _axes(ax)
    rows = df[df["quantity"] == quantity]
    if rows.empty:
        return no_data(ax, "no one-hot runs")
    unit = _single(rows, "unit", "plot_rising_spillover")
    for i, (signal, d) in enumerate(rows.groupby("signal", sort=True)):
        d = d.sort_values("budget")
        ax.errorbar(d["budget"], d["mean"], yerr=d["std"].fillna(0.0), marker=_MARKERS[i % len(_MARKERS)],
                    markersize=4, capsize=3, label=signal_label(signal) or "configured signal")
    _log_budget_axis(ax, sorted(set(rows["budget"])))
    if quantity == "negative_spillover":
        ax.axhline(0.0, color="0.6", linewidth=0.8, linestyle="--", zorder=0)
    ax.set_ylabel(f"{RISING_LABELS[quantity]} [{unit}]")
    if legend:
        ax.legend(fontsize=7, frameon=False, title="teacher signal")
    return ax


def _log_budget_axis(ax: Axes, budgets: list) -> None:
    ax.set_xscale("log")
    ax.set_xticks(budgets, [format_tokens(b) for b in budgets])
    ax.minorticks_off()
    if len(budgets) > 1:  # a little air left and right of the outer budgets
        lo, hi = budgets[0], budgets[-1]
        ax.set_xlim(lo / (hi / lo) ** 0.05, hi * (hi / lo) ** 0.05)
    ax.set_xlabel("token budget B [tokens, log scale]")


def plot_gap_radar(df: pd.DataFrame, ax: Axes | None = None, legend: bool = True) -> Axes:
    """Figure 5b: radar of the gap closed per capability, one polygon per method; the band
    is ±1 std over seeds. Capabilities whose teacher − S0 gap is under the threshold (nan)
    break the polygon there.

    Args:
        df: :func:`gap_closed` rows of one task (a polar ``ax``, or a new one).
        legend: draw a legend on ``ax``.
    """
    import numpy as np

    if ax is None:
        use_agg()
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4.5, 4.5), layout="constrained").add_subplot(projection="polar")
    if df.empty:
        return no_data(ax, "no runs")
    theta = np.linspace(0.0, 2 * np.pi, len(CAPABILITIES), endpoint=False)
    closed = np.append(theta, theta[0])
    colors = method_palette(df["method"])
    for method in sorted(set(df["method"]), key=method_key):
        d = df[df["method"] == method].set_index("capability")
        mean = np.array([float(d["mean"].get(c, np.nan)) for c in CAPABILITIES])
        std = np.array([_zero(float(d["std"].get(c, np.nan))) for c in CAPABILITIES])
        mean, std = np.append(mean, mean[0]), np.append(std, std[0])
        ax.plot(closed, mean, color=colors[method], linewidth=1.5 if method == "read" else 1.0,
                label=method_label(method), **method_style(method)["line"], markersize=3)
        ax.fill_between(closed, mean - std, mean + std, color=colors[method], alpha=0.15, linewidth=0)
    ax.set_xticks(theta, [SHORT[c] for c in CAPABILITIES])
    ax.set_rlabel_position(180 / len(CAPABILITIES))  # radial labels between two spokes
    ax.set_ylim(min(0.0, float(np.nanmin(df["mean"])) if df["mean"].notna().any() else 0.0),
                max(1.0, float(np.nanmax(df["mean"])) if df["mean"].notna().any() else 1.0))
    if legend:
        ax.legend(fontsize=6, frameon=False, loc="upper right", bbox_to_anchor=(1.3, 1.1))
    return ax


def save_figure_as(fig: Figure, png: str | os.PathLike | None = None, pdf: str | os.PathLike | None = None) -> None:
    """Write ``fig`` to the given PNG/PDF paths atomically, at :data:`DPI`, without
    timestamps (byte-identical for identical figures)."""
    engine = fig.get_layout_engine()
    if engine is not None and png is not None and pdf is not None:
        engine.execute(fig)  # lay out once for both formats (it is the slow part of saving)
        fig.set_layout_engine("none")
    try:
        for path, fmt, meta in ((png, "png", {"Software": None}), (pdf, "pdf", {"CreationDate": None})):
            if path is not None:
                with atomic_path(path) as tmp:
                    fig.savefig(tmp, format=fmt, dpi=DPI, metadata=meta)
    finally:
        if engine is not None and fig.get_layout_engine() is not engine:
            fig.set_layout_engine(engine)


def save_figure(fig: Figure, stem: str | os.PathLike) -> None:
    """Write ``<stem>.png`` and ``<stem>.pdf``."""
    save_figure_as(fig, f"{os.fspath(stem)}.png", f"{os.fspath(stem)}.pdf")
