"""Summary tables over seeds: budget vs score and budget curves (Figure 3), capability
profile (Table 1), scaling, ablations and allocation schedules (Figure 1's one-hot study:
:mod:`read.aggregate.transfer`).

Each builder is pure: a tidy frame from :mod:`read.aggregate.collect` in, a tidy summary
frame out (fixed columns, sorted rows; ``n`` seeds, ``mean``, ``std`` with ddof=1, nan for
one seed). Exact-match values are converted to points (×100), log-likelihoods stay in
nats/token; the ``unit`` column says which. ``*_sections`` turn a summary into the wide
string tables that go into Markdown and LaTeX.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from read.aggregate.collect import ABLATIONS, method_key, sort_rows
from read.aggregate.render import (
    DECIMALS,
    SCALE,
    UNITS,
    Section,
    format_mean_std,
    format_signed,
    format_tokens,
    method_label,
    metric_label,
)
from read.aggregate.stats import mean_std
from read.capabilities import CAPABILITIES, SHORT
from read.errors import bad_input

if TYPE_CHECKING:
    import pandas as pd

SUMMARY = ["n", "mean", "std"]


def metric_values(runs: pd.DataFrame, metric: str, *, source: str | None = None) -> pd.DataFrame:
    """Rows of ``source`` (default ``metric``) with ``value`` scaled to ``metric``'s unit
    (``runs`` is :func:`collect_runs` output; e.g. metric "acc", source "initial_acc")."""
    sel = runs[runs["metric"] == (source or metric)].copy()
    sel["value"] = sel["value"].astype(float) * SCALE[UNITS[metric]]
    sel["metric"] = metric
    return sel


def summarise(df: pd.DataFrame, by: Sequence[str], value: str = "value") -> pd.DataFrame:
    """One row per group of ``by`` with ``n``, ``mean`` and ``std`` (ddof=1) of ``value``."""
    import pandas as pd

    rows = [dict(zip(by, key if isinstance(key, tuple) else (key,)), **dict(zip(SUMMARY, mean_std(g[value]))))
            for key, g in df.groupby(list(by), sort=False)]
    return pd.DataFrame(rows, columns=[*by, *SUMMARY])


def profile_deltas(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per run and capability: ``value`` = final − S0 (``initial_*`` from the same eval.json)."""
    keys = ["task", "method", "budget", "seed", "capability"]
    final = metric_values(runs, metric)[[*keys, "value"]]
    start = metric_values(runs, metric, source=f"initial_{metric}")[[*keys, "value"]]
    out = final.merge(start, on=keys, suffixes=("", "_s0"), validate="one_to_one")
    out["value"] = out["value"] - out["value_s0"]
    out["metric"] = metric
    return out.drop(columns="value_s0")


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: [] for c in columns})


def profiling_note(runs: pd.DataFrame) -> str:
    """The sentence a table's note carries when some runs spent profiling tokens outside B
    (eval.json ``tokens.profiling`` > 0), else ``""``: which methods, and how many tokens per
    task and seed (mean over those runs, with the range when it is not one number)."""
    p = runs[(runs["metric"] == "tokens_profiling") & (runs["value"] > 0)]
    if p.empty:
        return ""
    methods = ", ".join(method_label(m) for m in sorted(set(p["method"]), key=method_key))
    lo, mean, hi = (format_tokens(float(v)) for v in (p["value"].min(), p["value"].mean(), p["value"].max()))
    span = "" if lo == hi else f", {lo}–{hi}"
    return (f"{methods} also used {mean} profiling tokens per task and seed (mean over {len(p)} runs{span}), "
            "outside B.")


def teacher_rows(teacher: pd.DataFrame | None, tasks, metric: str, columns: Sequence[str]) -> pd.DataFrame:
    """Method ``"teacher"`` rows (budget 0, n = 1, std nan) of ``metric`` for each of ``tasks``,
    in points / nats, from :func:`collect_reference` output scored on the same test split as
    the students. A task without a teacher eval file is an error."""
    import pandas as pd

    if teacher is None:
        return _empty(columns)
    missing = sorted(set(tasks) - set(teacher["task"]))
    if missing:
        raise bad_input("teacher_eval", f"no teacher eval file for task(s) {missing}",
                        "pass one teacher eval file per task (same shape as setup/tasks/<task>/s0_eval.json)")
    sel = teacher[teacher["task"].isin(set(tasks)) & (teacher["metric"] == metric)]
    rows = [{"task": r["task"], "method": "teacher", "budget": 0, "metric": metric, "unit": UNITS[metric],
             "capability": r["capability"], "n": 1, "mean": float(r["value"]) * SCALE[UNITS[metric]],
             "std": float("nan")} for _, r in sel.iterrows()]
    return pd.DataFrame(rows, columns=columns)


def _cell(row, unit: str, *, sign: bool = False) -> str:
    return format_mean_std(float(row["mean"]), float(row["std"]), DECIMALS[unit], sign=sign)


# --- budget vs score (Figure 3) -------------------------------------------------------

BUDGET_COLUMNS = ["task", "method", "budget", "metric", "unit", *SUMMARY]


def budget_vs_score(runs: pd.DataFrame, metrics: Sequence[str] = ("task_score", "task_ll"),
                    teacher: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean ± std over seeds of each task metric per (task, method, budget).

    Adds method ``"S0"`` with budget 0: the undistilled student every run starts from (the
    runs' ``initial`` scores, averaged over the runs of each (task, seed), then over seeds),
    the line a budget has to beat; and, with ``teacher`` (:func:`collect_reference`), method
    ``"teacher"`` (budget 0, n = 1).
    """
    import pandas as pd

    parts = []
    for metric in metrics:
        s = summarise(metric_values(runs, metric), ["task", "method", "budget"])
        parts.append(s.assign(metric=metric, unit=UNITS[metric]))
        start = metric_values(runs, metric, source=f"initial_{metric}")
        per_seed = start.groupby(["task", "seed"], sort=False, as_index=False)["value"].mean()
        parts.append(summarise(per_seed, ["task"]).assign(method="S0", budget=0, metric=metric, unit=UNITS[metric]))
        parts.append(teacher_rows(teacher, runs["task"].unique(), metric, [*BUDGET_COLUMNS, "capability"]))
    parts = [p[BUDGET_COLUMNS] for p in parts if not p.empty]
    if not parts:
        return _empty(BUDGET_COLUMNS)
    return sort_rows(pd.concat(parts)[BUDGET_COLUMNS], ["task", "method", "budget", "metric"])


def budget_vs_score_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=False):
        rows = []
        for (method, budget), h in g.groupby(["method", "budget"], sort=False):
            row = {"Method": method_label(method), "Budget [tokens]": "–" if budget == 0 else format_tokens(budget),
                   "n": str(int(h["n"].max()))}
            for _, r in h.iterrows():
                row[metric_label(r["metric"])] = _cell(r, r["unit"])
            rows.append(row)
        sections.append((f"Task {task}", pd.DataFrame(rows).fillna("–")))
    return sections


# --- capability profile (Table 1) -----------------------------------------------------

PROFILE_COLUMNS = ["task", "method", "budget", "metric", "unit", "capability", *SUMMARY]


def capability_profile(runs: pd.DataFrame, teacher: pd.DataFrame | None = None,
                       metrics: Sequence[str] = ("acc", "ll")) -> pd.DataFrame:
    """Final capability profile per (task, method, budget), mean ± std over seeds.

    Adds method ``"S0"`` (the runs' ``initial`` profile: averaged over the runs of each
    (task, seed), then mean ± std over seeds) and, if ``teacher`` (:func:`collect_reference`
    of the teacher scored on the students' test split, one file per task) is given, method
    ``"teacher"`` (n = 1). Both have budget 0.
    """
    import pandas as pd

    parts = []
    for metric in metrics:
        unit = UNITS[metric]
        final = metric_values(runs, metric)
        parts.append(summarise(final, ["task", "method", "budget", "capability"]).assign(metric=metric, unit=unit))
        start = metric_values(runs, metric, source=f"initial_{metric}")
        per_seed = start.groupby(["task", "seed", "capability"], sort=False, as_index=False)["value"].mean()
        s0 = summarise(per_seed, ["task", "capability"])
        parts.append(s0.assign(method="S0", budget=0, metric=metric, unit=unit))
        parts.append(teacher_rows(teacher, runs["task"].unique(), metric, PROFILE_COLUMNS))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(PROFILE_COLUMNS)
    return sort_rows(pd.concat(parts)[PROFILE_COLUMNS], ["task", "metric", "budget", "method", "capability"])


def capability_profile_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for (task, metric), g in table.groupby(["task", "metric"], sort=False):
        unit = UNITS[metric]
        rows = []
        for (method, budget), h in g.groupby(["method", "budget"], sort=False):
            row = {"Method": method_label(method), "Budget": "–" if budget == 0 else format_tokens(budget)}
            cells = {r["capability"]: _cell(r, unit) for _, r in h.iterrows()}
            row.update({SHORT[c]: cells.get(c, "–") for c in CAPABILITIES})
            rows.append(row)
        sections.append((f"Task {task}, {metric_label(metric)}", pd.DataFrame(rows)))
    return sections


# --- budget curves (Figure 3) and scaling ------------------------------------------------

CURVE_COLUMNS = ["task", "method", "budget", "metric", "unit", "capability", *SUMMARY]


def budget_curves(runs: pd.DataFrame, teacher: pd.DataFrame | None = None) -> pd.DataFrame:
    """Figure 3: mean ± std over seeds per (task, method, budget) of the task score (metric
    ``task_score``, capability ``""``) and of each capability's test-split exact match
    (metric ``acc``), in points; with the S0 and (given ``teacher``) teacher rows at budget 0
    as in :func:`budget_vs_score` and :func:`capability_profile`."""
    import pandas as pd

    parts = [budget_vs_score(runs, ("task_score",), teacher).assign(capability=""),
             capability_profile(runs, teacher, ("acc",))]
    parts = [p[CURVE_COLUMNS] for p in parts if not p.empty]
    if not parts:
        return _empty(CURVE_COLUMNS)
    return sort_rows(pd.concat(parts), ["task", "metric", "capability", "method", "budget"])


def budget_curves_sections(table: pd.DataFrame) -> list[Section]:
    """Per task: one row per (method, budget), columns the task score and the 8 capabilities."""
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=False):
        rows = []
        for (method, budget), h in sort_rows(g, ["method", "budget"]).groupby(["method", "budget"], sort=False):
            cells = {r["capability"]: _cell(r, "points") for _, r in h.iterrows()}
            rows.append({"Method": method_label(method), "Budget": "–" if budget == 0 else format_tokens(budget),
                         "Task": cells.get("", "–"), **{SHORT[c]: cells.get(c, "–") for c in CAPABILITIES}})
        sections.append((f"Task {task}, exact match [points]", pd.DataFrame(rows)))
    return sections


SCALING_COLUMNS = ["task", "method", "target", "unit", "budget_min", "budget_max", "score_min", "score_max",
                   "unit_tokens", "per_unit"]


def scaling(runs: pd.DataFrame, unit: float | None = None) -> pd.DataFrame:
    """Points per ``unit`` extra tokens of budget, per (task, method) and target.

    per_unit = (s(B_max) − s(B_min)) / ((B_max − B_min) / unit), with s the mean over seeds
    at a budget and B_min < B_max the smallest and largest budget the (task, method) was run
    at. Targets: ``task_score``, each capability's test-split exact match, and ``mean`` (each
    run's mean over the 8 capabilities). ``unit`` (tokens) defaults to the smallest budget of
    any run. Methods run at a single budget have no slope and are left out.
    """
    import pandas as pd

    acc = metric_values(runs, "acc")
    per_run = acc.groupby(["task", "method", "budget", "seed"], sort=False, as_index=False)["value"].mean()
    values = pd.concat([metric_values(runs, "task_score").assign(target="task_score"),
                        acc.assign(target=acc["capability"]), per_run.assign(target="mean")])
    if values.empty:
        return _empty(SCALING_COLUMNS)
    unit_tokens = float(unit) if unit is not None else float(values["budget"].min())
    if not unit_tokens > 0:
        raise bad_input("scaling.unit", f"must be > 0 tokens, got {unit!r}", "pass a positive number of tokens")
    means = summarise(values, ["task", "method", "target", "budget"])
    rows = []
    for (task, method, target), g in means.groupby(["task", "method", "target"], sort=False):
        lo, hi = g.loc[g["budget"].idxmin()], g.loc[g["budget"].idxmax()]
        if lo["budget"] == hi["budget"]:
            continue
        rows.append({"task": task, "method": method, "target": target, "unit": "points",
                     "budget_min": int(lo["budget"]), "budget_max": int(hi["budget"]),
                     "score_min": float(lo["mean"]), "score_max": float(hi["mean"]), "unit_tokens": unit_tokens,
                     "per_unit": (hi["mean"] - lo["mean"]) / ((hi["budget"] - lo["budget"]) / unit_tokens)})
    if not rows:
        return _empty(SCALING_COLUMNS)
    return sort_rows(pd.DataFrame(rows, columns=SCALING_COLUMNS), ["task", "method", "target"])


def scaling_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=False):
        rows = []
        for method, h in g.groupby("method", sort=False):
            v = {r["target"]: f"{r['per_unit']:+.3f}" for _, r in h.iterrows()}
            rows.append({"Method": method_label(method),
                         "B_min → B_max": f"{format_tokens(h['budget_min'].min())} → "
                                          f"{format_tokens(h['budget_max'].max())}",
                         "Task": v.get("task_score", "–"), **{SHORT[c]: v.get(c, "–") for c in CAPABILITIES},
                         "Mean": v.get("mean", "–")})
        unit = format_tokens(float(g["unit_tokens"].iloc[0]))
        sections.append((f"Task {task}, points per {unit} extra tokens", pd.DataFrame(rows)))
    return sections


# --- ablations (Figure 5a) --------------------------------------------------------------

ABLATION_COLUMNS = ["task", "budget", "method", "metric", "unit", *SUMMARY, "delta_vs_reference"]


def ablations(runs: pd.DataFrame, reference: str = "read", variants: Sequence[str] = ABLATIONS) -> pd.DataFrame:
    """The reference method vs its ablations per (task, budget): task score, task log-lik.,
    and the profile means ``profile_acc`` / ``profile_ll`` (mean over capabilities of each
    run's final profile). ``delta_vs_reference`` = mean(variant) − mean(reference)."""
    import pandas as pd

    sel = runs[runs["method"].isin([reference, *variants])]
    parts = [metric_values(sel, m) for m in ("task_score", "task_ll")]
    for metric in ("acc", "ll"):
        v = metric_values(sel, metric).groupby(["task", "method", "budget", "seed"], sort=False, as_index=False)
        parts.append(v["value"].mean().assign(metric=f"profile_{metric}"))
    values = pd.concat(parts)
    if values.empty:
        return _empty(ABLATION_COLUMNS)
    table = summarise(values, ["task", "budget", "method", "metric"])
    table["unit"] = table["metric"].map(lambda m: UNITS[m.removeprefix("profile_")])
    ref = table[table["method"] == reference].set_index(["task", "budget", "metric"])["mean"]
    keys = list(zip(table["task"], table["budget"], table["metric"]))
    table["delta_vs_reference"] = [table["mean"].iloc[i] - ref[k] if k in ref.index else float("nan")
                                   for i, k in enumerate(keys)]
    table.loc[table["method"] == reference, "delta_vs_reference"] = float("nan")
    return sort_rows(table[ABLATION_COLUMNS], ["task", "budget", "method", "metric"])


ABLATION_LABELS = {"task_score": "Task exact match", "task_ll": "Task gold log-lik.",
                   "profile_acc": "Profile mean exact match", "profile_ll": "Profile mean log-lik."}


def ablations_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=False):
        rows = []
        for (budget, method), h in g.groupby(["budget", "method"], sort=False):
            row = {"Budget": format_tokens(budget), "Method": method_label(method)}
            for _, r in h.iterrows():
                cell = _cell(r, r["unit"])
                if r["delta_vs_reference"] == r["delta_vs_reference"]:  # not nan
                    cell += f" ({format_signed(r['delta_vs_reference'], DECIMALS[r['unit']])})"
                row[f"{ABLATION_LABELS[r['metric']]} [{r['unit']}]"] = cell
            rows.append(row)
        sections.append((f"Task {task} (in brackets: difference to ReAD)", pd.DataFrame(rows).fillna("–")))
    return sections


# --- allocation schedules (Figure 4c) --------------------------------------------------

SCHEDULE_COLUMNS = ["task", "method", "budget", "k", "capability", *SUMMARY]


def allocation_schedule(allocations: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds of w_{k,c} per (task, method, budget, interval k, capability)."""
    if allocations.empty:
        return _empty(SCHEDULE_COLUMNS)
    table = summarise(allocations, ["task", "method", "budget", "k", "capability"], value="w")
    return sort_rows(table, ["task", "method", "budget", "k", "capability"])


def allocation_schedule_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for (task, budget), g in table.groupby(["task", "budget"], sort=False):
        rows = []
        for (method, k), h in g.groupby(["method", "k"], sort=False):
            w = dict(zip(h["capability"], h["mean"]))
            rows.append({"Method": method_label(method), "k": str(k),
                         **{SHORT[c]: f"{w.get(c, 0.0):.2f}" for c in CAPABILITIES}})
        sections.append((f"Task {task}, B = {format_tokens(budget)} tokens (mean w over seeds)",
                         pd.DataFrame(rows)))
    return sections
