"""Summary tables over seeds: budget vs score, capability profile, transfer matrix,
ablations and allocation schedules.

Each builder is pure: a tidy frame from :mod:`read.aggregate.collect` in, a tidy summary
frame out (fixed columns, sorted rows; ``n`` seeds, ``mean``, ``std`` with ddof=1, nan for
one seed). Exact-match values are converted to points (×100), log-likelihoods stay in
nats/token; the ``unit`` column says which. ``*_sections`` turn a summary into the wide
string tables that go into Markdown and LaTeX.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from read.aggregate.collect import ABLATIONS, is_onehot, onehot_target, sort_rows
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
from read.capabilities import CAPABILITIES, SHORT, check_capability

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


def _cell(row, unit: str, *, sign: bool = False) -> str:
    return format_mean_std(float(row["mean"]), float(row["std"]), DECIMALS[unit], sign=sign)


# --- budget vs score (Figure 3) -------------------------------------------------------

BUDGET_COLUMNS = ["task", "method", "budget", "metric", "unit", *SUMMARY]


def budget_vs_score(runs: pd.DataFrame, metrics: Sequence[str] = ("task_score", "task_ll")) -> pd.DataFrame:
    """Mean ± std over seeds of each task metric per (task, method, budget).

    Adds method ``"S0"`` with budget 0: the undistilled student every run starts from (the
    runs' ``initial`` scores, averaged over the runs of each (task, seed), then over seeds),
    the line a budget has to beat.
    """
    import pandas as pd

    parts = []
    for metric in metrics:
        s = summarise(metric_values(runs, metric), ["task", "method", "budget"])
        parts.append(s.assign(metric=metric, unit=UNITS[metric]))
        start = metric_values(runs, metric, source=f"initial_{metric}")
        per_seed = start.groupby(["task", "seed"], sort=False, as_index=False)["value"].mean()
        parts.append(summarise(per_seed, ["task"]).assign(method="S0", budget=0, metric=metric, unit=UNITS[metric]))
    if not parts or all(p.empty for p in parts):
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


def capability_profile(runs: pd.DataFrame, teacher: Mapping[str, Mapping[str, float]] | None = None,
                       metrics: Sequence[str] = ("acc", "ll")) -> pd.DataFrame:
    """Final capability profile per (task, method, budget), mean ± std over seeds.

    Adds method ``"S0"`` (the runs' ``initial`` profile: averaged over the runs of each
    (task, seed), then mean ± std over seeds) and, if ``teacher`` (``{"acc": {cap: v},
    "ll": ...}``, native units) is given, method ``"teacher"`` (n = 1). Both have budget 0.
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
        if teacher is not None:
            rows = [{"task": t, "method": "teacher", "budget": 0, "metric": metric, "unit": unit,
                     "capability": check_capability(c, f"teacher.{metric}"), "n": 1,
                     "mean": float(v) * SCALE[unit], "std": float("nan")}
                    for t in runs["task"].unique() for c, v in teacher.get(metric, {}).items()]
            parts.append(pd.DataFrame(rows, columns=PROFILE_COLUMNS))
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


# --- transfer matrix (Definition 2, Figure 1) ------------------------------------------

TRANSFER_COLUMNS = ["budget", "metric", "unit", "target", "capability", *SUMMARY]


def transfer_matrix(runs: pd.DataFrame, metrics: Sequence[str] = ("acc", "ll")) -> pd.DataFrame:
    """T_ij(B) = s_j(S(one-hot w^(i), B)) − s_j(S0), from the ``onehot:<i>`` runs.

    Rows ``target`` = i (distilled capability), ``capability`` = j (measured). Per seed the
    delta is averaged over the tasks the one-hot run was stored under (the run does not
    depend on the task), then mean ± std over seeds.
    """
    import pandas as pd

    onehot = runs.loc[is_onehot(runs["method"])]
    parts = []
    for metric in metrics:
        d = profile_deltas(onehot, metric)
        if d.empty:
            continue
        per_seed = d.groupby(["method", "budget", "seed", "capability"], sort=False, as_index=False)["value"].mean()
        per_seed["target"] = [check_capability(onehot_target(m), f"method {m!r}") for m in per_seed["method"]]
        parts.append(summarise(per_seed, ["budget", "target", "capability"]).assign(metric=metric, unit=UNITS[metric]))
    if not parts:
        return _empty(TRANSFER_COLUMNS)
    return sort_rows(pd.concat(parts)[TRANSFER_COLUMNS], ["metric", "budget", "target", "capability"])


def transfer_matrix_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for (metric, budget), g in table.groupby(["metric", "budget"], sort=False):
        unit = UNITS[metric]
        cells = {(r["target"], r["capability"]): format_signed(r["mean"], DECIMALS[unit]) for _, r in g.iterrows()}
        rows = [{"Distilled \\ measured": SHORT[i], **{SHORT[j]: cells.get((i, j), "–") for j in CAPABILITIES}}
                for i in CAPABILITIES if i in set(g["target"])]
        n = int(g["n"].min())
        sections.append((f"{metric_label(metric)}, B = {format_tokens(budget)} tokens "
                         f"(mean over n >= {n} seeds; std in the CSV)", pd.DataFrame(rows)))
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
