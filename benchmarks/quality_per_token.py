"""Quality per token: ReAD's equivalent-budget multiple against the strongest baseline, with and
without the profiling tokens charged.

    .venv/bin/python benchmarks/quality_per_token.py [--results results/embedded]

From a finished run's tables: ``tables/budget_vs_score.csv`` (mean task score per method and
budget), ``tables/equivalent_budget.csv`` (the workflow's own Table 2, at ReAD's smallest
budget B0), ``tables/significance.csv`` and each ReAD run's ``final/eval.json``
(``tokens.profiling``: the tokens the pre-fit profiling interventions cost, reported
outside B). At every ReAD budget B:

- the strongest baseline is the one with the highest mean task score at B0 (as Table 2);
- T = the tokens that baseline needs to reach ReAD's mean score at B, log-linear between its
  budgets (``read.aggregate.stats.tokens_to_match``, no extrapolation);
- multiple = T / B (ReAD charged B), and T / (B + P) with P the mean profiling tokens of
  ReAD's runs at B. A multiple above 1 means ReAD needs fewer tokens for the same score.

Prints the table, the significance of ReAD against that baseline (Holm-adjusted p), and
says plainly when the data cannot support a multiple; writes ``benchmarks/out/quality_per_token.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import write_result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=Path("results/embedded"))
    ap.add_argument("--reference", default="read")
    args = ap.parse_args()

    import pandas as pd

    from read.aggregate.stats import tokens_to_match

    tables = args.results / "tables"
    scores = pd.read_csv(tables / "budget_vs_score.csv")
    scores = scores[scores["metric"] == "task_score"]
    equiv = pd.read_csv(tables / "equivalent_budget.csv")
    sig = pd.read_csv(tables / "significance.csv")
    sig = sig[sig["metric"] == "task_score"]
    out = {"table2": equiv.to_dict(orient="records"), "tasks": []}
    for task, rows in scores.groupby("task"):
        ref = rows[rows["method"] == args.reference].sort_values("budget")
        b0 = int(ref["budget"].min())
        baselines = rows[~rows["method"].isin([args.reference, "S0"])]
        at_b0 = baselines[baselines["budget"] == b0].sort_values("mean", ascending=False, kind="stable")
        best = at_b0["method"].iloc[0]
        curve = baselines[baselines["method"] == best].sort_values("budget")
        print(f"task {task}: strongest baseline at B0 = {b0}: {best} "
              f"({', '.join(f'{int(b)}: {m:.2f}' for b, m in zip(curve['budget'], curve['mean']))} points)")
        print(f"{'B':>8s} {'ReAD':>6s} {best:>12s} {'T needed':>10s} {'status':>12s} {'P (profiling)':>14s}"
              f" {'T / B':>7s} {'T / (B+P)':>10s} {'p_holm (seeds)':>15s} {'p_holm (items)':>15s}")
        entries = []
        for budget, s_ref in zip(ref["budget"], ref["mean"]):
            budget = int(budget)
            evals = [json.loads(p.read_text()) for p in
                     sorted((args.results / "runs" / task / args.reference / f"B{budget}").glob("seed*/final/eval.json"))]
            profiling = sum(e["tokens"]["profiling"] for e in evals) / len(evals)
            tokens, status = tokens_to_match(curve["budget"], curve["mean"], float(s_ref), log=True)
            base_here = curve[curve["budget"] == budget]["mean"]
            p = {src: sig[(sig["task"] == task) & (sig["budget"] == budget) & (sig["competitor"] == best)
                          & (sig["source"] == src)]["p_holm"] for src in ("seeds", "items")}
            p = {k: float(v.iloc[0]) if len(v) else None for k, v in p.items()}
            e = {"budget": budget, "read_score": float(s_ref), "baseline": best,
                 "baseline_score": float(base_here.iloc[0]) if len(base_here) else None, "tokens_needed": tokens,
                 "status": status, "profiling_tokens": profiling, "multiple": tokens / budget,
                 "multiple_with_profiling": tokens / (budget + profiling), "p_holm": p, "seeds": len(evals)}
            entries.append(e)
            bound = "<=" if status == "at_min" else ("  " if status == "interpolated" else "> ")
            print(f"{budget:8d} {s_ref:6.2f} {e['baseline_score']:12.2f} {bound}{tokens:8.0f} {status:>12s} {profiling:14.0f}"
                  f" {bound}{e['multiple']:4.2f}x {bound}{e['multiple_with_profiling']:7.2f}x {p['seeds']!s:>15s} {p['items']!s:>15s}")
        significant = [e for e in entries if any(v is not None and v < 0.05 for v in e["p_holm"].values())]
        budgets = len(curve)
        verdict = ("supported" if significant and budgets > 2 else
                   f"not supported: {budgets} budgets, {entries[0]['seeds']} seeds, and no difference between ReAD "
                   f"and {best} is significant (Holm p >= {min(v for e in entries for v in e['p_holm'].values() if v is not None):.2f})")
        print(f"equivalent-budget multiple of ReAD against {best}: {verdict}")
        out["tasks"].append({"task": task, "b0": b0, "strongest_baseline": best, "rows": entries, "verdict": verdict})
    write_result("quality_per_token", out)


if __name__ == "__main__":
    main()
