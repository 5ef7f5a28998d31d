"""Figure 1, the one-hot study: the transfer matrix T (Definition 2, panels a/b), its
diminishing returns along the diagonal (1c) and its rising spillover off it (1d).

Pure builders on :func:`read.aggregate.collect.collect_runs` frames, as in
:mod:`read.aggregate.tables`: a tidy summary out (``n`` seeds, ``mean``, ``std``), and
``*_sections`` for Markdown and LaTeX.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from read.aggregate.collect import is_onehot, onehot_target, sort_rows, split_signal
from read.aggregate.render import (
    DECIMALS,
    UNITS,
    Section,
    format_signed,
    format_tokens,
    metric_label,
    signal_label,
)
from read.aggregate.tables import SUMMARY, _cell, _empty, profile_deltas, summarise
from read.capabilities import CAPABILITIES, SHORT, check_capability

if TYPE_CHECKING:
    import pandas as pd


# --- transfer matrix (Definition 2, Figure 1a/b) and its study (Figure 1c/d) ---------------

TRANSFER_COLUMNS = ["signal", "budget", "metric", "unit", "target", "capability", *SUMMARY]
_DELTA_COLUMNS = ["signal", "target", "budget", "seed", "capability", "value"]


def onehot_deltas(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per one-hot run (target i, teacher ``signal``, budget, seed) and measured capability j:
    ``value`` = s_j(final) − s_j(S0) in ``metric``'s unit, averaged over the tasks the run was
    stored under (a one-hot run does not depend on the task). Columns :data:`_DELTA_COLUMNS`."""
    d = profile_deltas(runs.loc[is_onehot(runs["method"])], metric)
    if d.empty:
        return _empty(_DELTA_COLUMNS)
    per_seed = d.groupby(["method", "budget", "seed", "capability"], sort=False, as_index=False)["value"].mean()
    per_seed["target"] = [check_capability(onehot_target(m), f"method {m!r}") for m in per_seed["method"]]
    per_seed["signal"] = [split_signal(m)[1] for m in per_seed["method"]]
    return per_seed[_DELTA_COLUMNS]


def transfer_matrix(runs: pd.DataFrame, metrics: Sequence[str] = ("acc", "ll")) -> pd.DataFrame:
    """T_ij(B) = s_j(S(one-hot w^(i), B)) − s_j(S0), from the ``onehot:<i>`` runs.

    Rows ``target`` = i (distilled capability), ``capability`` = j (measured), one matrix
    per (teacher ``signal``, budget); ``signal`` is ``""`` for plain ``onehot:<i>`` runs (the
    configured signal). Per seed the delta is :func:`onehot_deltas`, then mean ± std over seeds.
    """
    import pandas as pd

    parts = [summarise(onehot_deltas(runs, m), ["signal", "budget", "target", "capability"])
             .assign(metric=m, unit=UNITS[m]) for m in metrics]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(TRANSFER_COLUMNS)
    return sort_rows(pd.concat(parts)[TRANSFER_COLUMNS], ["metric", "signal", "budget", "target", "capability"])


def _signal_heading(signal: str) -> str:
    return f", teacher signal {signal_label(signal)}" if signal else ""


def transfer_matrix_sections(table: pd.DataFrame) -> list[Section]:
    """One full 8 × 8 table per (metric, signal, budget); targets without runs show "–"."""
    import pandas as pd

    sections = []
    for (metric, signal, budget), g in table.groupby(["metric", "signal", "budget"], sort=False):
        unit = UNITS[metric]
        cells = {(r["target"], r["capability"]): format_signed(r["mean"], DECIMALS[unit]) for _, r in g.iterrows()}
        rows = [{"Distilled \\ measured": SHORT[i], **{SHORT[j]: cells.get((i, j), "–") for j in CAPABILITIES}}
                for i in CAPABILITIES]
        n = int(g["n"].min())
        sections.append((f"{metric_label(metric)}{_signal_heading(signal)}, B = {format_tokens(budget)} tokens "
                         f"(mean over n >= {n} seeds; std in the CSV)", pd.DataFrame(rows)))
    return sections


DIMINISHING_COLUMNS = ["signal", "target", "metric", "unit", "quantity", "budget_from", "budget_to", *SUMMARY]


def diminishing_returns(runs: pd.DataFrame, metrics: Sequence[str] = ("acc",)) -> pd.DataFrame:
    """Figure 1c: the on-target gain T_cc of each one-hot target c per budget, and the
    marginal gain between consecutive budgets.

    Per seed s: on_target_gain T_cc(B, s) = s_c(one-hot c, B, s) − s_c(S0) (``budget_from``
    0, ``budget_to`` B); marginal_gain(B_{k−1} → B_k, s) = T_cc(B_k, s) − T_cc(B_{k−1}, s)
    for each seed id run at both budgets (B_1 < B_2 < ...: the budgets target c was run at).
    Then mean ± std over seeds.
    """
    import pandas as pd

    rows = []
    for metric in metrics:
        d = onehot_deltas(runs, metric)
        head = {"metric": metric, "unit": UNITS[metric]}
        for (signal, target), g in d[d["target"] == d["capability"]].groupby(["signal", "target"], sort=False):
            gain = {b: dict(zip(h["seed"], h["value"])) for b, h in g.groupby("budget")}
            key = {**head, "signal": signal, "target": target}
            for b, per_seed in gain.items():
                rows += [{**key, "quantity": "on_target_gain", "budget_from": 0, "budget_to": b, "seed": s,
                          "value": v} for s, v in per_seed.items()]
            budgets = sorted(gain)
            for lo, hi in zip(budgets, budgets[1:]):
                rows += [{**key, "quantity": "marginal_gain", "budget_from": lo, "budget_to": hi, "seed": s,
                          "value": gain[hi][s] - gain[lo][s]} for s in sorted(set(gain[lo]) & set(gain[hi]))]
    if not rows:
        return _empty(DIMINISHING_COLUMNS)
    keys = ["signal", "target", "metric", "unit", "quantity", "budget_from", "budget_to"]
    table = summarise(pd.DataFrame(rows), keys)
    return sort_rows(table[DIMINISHING_COLUMNS], ["metric", "signal", "target", "quantity", "budget_to"])


def diminishing_returns_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for (metric, signal), g in table.groupby(["metric", "signal"], sort=False):
        unit = UNITS[metric]
        rows = []
        for target, h in g.groupby("target", sort=False):
            row = {"Target": SHORT[target]}
            for _, r in h.iterrows():
                head = (f"T_cc @ {format_tokens(r['budget_to'])}" if r["quantity"] == "on_target_gain" else
                        f"Marginal {format_tokens(r['budget_from'])}→{format_tokens(r['budget_to'])}")
                row[head] = _cell(r, unit, sign=True)
            rows.append(row)
        sections.append((f"{metric_label(metric)}{_signal_heading(signal)} (mean ± std over seeds)",
                         pd.DataFrame(rows).fillna("–")))
    return sections


RISING_COLUMNS = ["signal", "budget", "metric", "unit", "quantity", "n_targets", *SUMMARY]


def rising_spillover(runs: pd.DataFrame, metrics: Sequence[str] = ("acc",)) -> pd.DataFrame:
    """Figure 1d: how much the one-hot runs harm the capabilities they do not target, per budget.

    Per seed s, over the off-diagonal entries (i, j), i ≠ j, of T(B, s) (i: every target
    run at B in seed s; j: the 8 measured capabilities):
    negative_spillover = mean_{i≠j} min(T_ij, 0) (≤ 0, in the metric's unit) and
    negative_share = |{(i, j), i≠j : T_ij < 0}| / |{(i, j), i≠j}| (fraction); then mean ± std
    over seeds. ``n_targets``: how many targets i were run at B.
    """
    import pandas as pd

    rows = []
    for metric in metrics:
        d = onehot_deltas(runs, metric)
        off = d[d["target"] != d["capability"]]
        for (signal, budget), g in off.groupby(["signal", "budget"], sort=False):
            key = {"signal": signal, "budget": budget, "metric": metric, "n_targets": g["target"].nunique()}
            for seed, h in g.groupby("seed"):
                v = h["value"].to_numpy()
                rows += [{**key, "unit": UNITS[metric], "quantity": "negative_spillover", "seed": seed,
                          "value": float(v.clip(max=0.0).mean())},
                         {**key, "unit": "fraction", "quantity": "negative_share", "seed": seed,
                          "value": float((v < 0).mean())}]
    if not rows:
        return _empty(RISING_COLUMNS)
    table = summarise(pd.DataFrame(rows), ["signal", "budget", "metric", "unit", "quantity", "n_targets"])
    return sort_rows(table[RISING_COLUMNS], ["metric", "signal", "quantity", "budget"])


def rising_spillover_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    names = {"negative_spillover": "Mean min(T_ij, 0)", "negative_share": "Share of T_ij < 0"}
    sections = []
    for (metric, signal), g in table.groupby(["metric", "signal"], sort=False):
        rows = []
        for budget, h in g.groupby("budget", sort=True):
            row = {"Budget": format_tokens(budget), "Targets": str(int(h["n_targets"].max())),
                   "n": str(int(h["n"].max()))}
            for _, r in h.iterrows():
                row[f"{names[r['quantity']]} [{r['unit']}]"] = _cell(r, r["unit"], sign=r["unit"] != "fraction")
            rows.append(row)
        sections.append((f"{metric_label(metric)}{_signal_heading(signal)}, off-diagonal entries i ≠ j",
                         pd.DataFrame(rows)))
    return sections
