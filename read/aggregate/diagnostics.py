"""Comparative diagnostics: equivalent budget (Table 2), spillover (Figure 4a/b), schedule
utility (Figure 4c), gap closed (Figure 5b) and significance (Figure 6 table). Pure
builders on :func:`collect_runs` frames."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from read.aggregate.collect import (
    READ_VARIANTS,
    is_onehot,
    method_key,
    onehot_target,
    sort_rows,
    split_signal,
)
from read.aggregate.render import (
    DECIMALS,
    UNITS,
    Section,
    format_mean_std,
    format_p,
    format_signed,
    format_tokens,
    method_label,
    metric_label,
)
from read.aggregate.stats import holm, mean_std, paired_t, stars, tokens_to_match, welch_t, welch_t_from_stats
from read.aggregate.tables import SUMMARY, _empty, metric_values, profile_deltas, summarise, teacher_rows
from read.capabilities import CAPABILITIES, INDEX, SHORT, to_vector
from read.errors import bad_input

if TYPE_CHECKING:
    import pandas as pd

# --- equivalent budget (Table 2) --------------------------------------------------------

EQUIV_COLUMNS = ["task", "target", "metric", "unit", "reference", "ref_budget", "ref_score", "baseline",
                 "baseline_score", "baseline_max_budget", "tokens_loglinear", "ratio_loglinear",
                 "ref_profiling_tokens", "ratio_charged", "tokens_linear", "status"]


def default_candidates(target: str, methods: Sequence[str], reference: str) -> list[str]:
    """Baselines for a target: ``onehot:<c>`` (any teacher signal) for capability c (paper
    Table 2's one-hot baselines); for ``"task_score"`` every :func:`is_baseline` method."""
    if target == "task_score":
        return [m for m in methods if is_baseline(m, reference)]
    return [m for m in methods if onehot_target(m) == target]


def equivalent_budget(runs: pd.DataFrame, reference: str = "read",
                      candidates: Callable[[str, Sequence[str], str], list[str]] = default_candidates
                      ) -> pd.DataFrame:
    """Tokens the strongest baseline needs to match the reference at its smallest budget.

    Per task and target (``"task_score"``, then each capability's exact match): the
    reference score s_ref is the mean over seeds at the reference's smallest budget B0.
    The strongest baseline is the candidate with the highest mean at B0 (candidates
    without a B0 run are skipped). Its mean score per budget is interpolated with
    :func:`read.aggregate.stats.tokens_to_match`, log-linearly (``tokens_loglinear``,
    ``ratio_loglinear`` = tokens / B0) and linearly (``tokens_linear``); ``status`` is
    ``interpolated``, ``at_min`` (already matched at its smallest budget: tokens is an
    upper bound) or ``not_reached`` (tokens = inf). Capability scores of one-hot baselines
    are averaged over the tasks they are stored under (they do not depend on the task).
    Targets without any candidate run are left out.

    ``ref_profiling_tokens`` P is the mean over the reference's runs at B0 of eval.json
    ``tokens.profiling`` (spent outside B; nan if the files do not count it), and
    ``ratio_charged`` = tokens / (B0 + P), the multiple with those tokens charged to B0.
    """
    import pandas as pd

    task_means = summarise(metric_values(runs, "task_score"), ["task", "method", "budget"])
    acc = metric_values(runs, "acc")
    cap_means = summarise(acc, ["task", "method", "budget", "capability"])
    pooled = acc.groupby(["method", "budget", "seed", "capability"], sort=False, as_index=False)["value"].mean()
    pooled = summarise(pooled, ["method", "budget", "capability"])
    prof = runs[runs["metric"] == "tokens_profiling"].groupby(["task", "method", "budget"])["value"].mean()
    rows = []
    for task in sorted(runs["task"].unique()):
        ref_rows = task_means[(task_means["task"] == task) & (task_means["method"] == reference)]
        if ref_rows.empty:
            continue
        b0 = int(ref_rows["budget"].min())
        p_ref = float(prof.get((task, reference, b0), math.nan))
        methods = list(runs.loc[runs["task"] == task, "method"].unique())
        for target in ("task_score", *CAPABILITIES):
            if target == "task_score":
                means = ref_src = task_means[task_means["task"] == task]
                metric = "task_score"
            else:
                means = pooled[pooled["capability"] == target]
                ref_src = cap_means[(cap_means["task"] == task) & (cap_means["capability"] == target)]
                metric = "acc"
            ref = ref_src[(ref_src["method"] == reference) & (ref_src["budget"] == b0)]["mean"]
            cands = []
            for m in candidates(target, methods, reference):
                curve = means[means["method"] == m].sort_values("budget")
                at_b0 = curve[curve["budget"] == b0]["mean"]
                if len(at_b0) and len(ref):
                    cands.append((float(at_b0.iloc[0]), m, curve))
            if not cands:
                continue
            best, name, curve = max(cands, key=lambda c: c[0])  # max keeps the first of ties
            s_ref = float(ref.iloc[0])
            tokens, status = tokens_to_match(curve["budget"], curve["mean"], s_ref, log=True)
            linear, _ = tokens_to_match(curve["budget"], curve["mean"], s_ref, log=False)
            rows.append({"task": task, "target": target, "metric": metric, "unit": UNITS[metric],
                         "reference": reference, "ref_budget": b0, "ref_score": s_ref, "baseline": name,
                         "baseline_score": best, "baseline_max_budget": int(curve["budget"].max()),
                         "tokens_loglinear": tokens, "ratio_loglinear": tokens / b0,
                         "ref_profiling_tokens": p_ref, "ratio_charged": tokens / (b0 + p_ref),
                         "tokens_linear": linear, "status": status})
    if not rows:
        return _empty(EQUIV_COLUMNS)
    return sort_rows(pd.DataFrame(rows, columns=EQUIV_COLUMNS), ["task", "target"])


def _needed(tokens: float, status: str, b0: int, max_budget: int) -> str:
    if status == "not_reached":
        return f">{format_tokens(max_budget)} (not reached)"
    if status == "at_min":
        return f"≤{format_tokens(tokens)} (already matched)"
    return f"{format_tokens(tokens)} ({tokens / b0:.1f}×)"


def _charged(r) -> str:
    """The multiple needed / (B0 + P) with ReAD's profiling tokens P charged to its budget."""
    charged = r["ref_budget"] + r["ref_profiling_tokens"]
    if math.isnan(charged):
        return "–"
    if r["status"] == "not_reached":
        return f">{r['baseline_max_budget'] / charged:.2f}×"
    return f"{'≤' if r['status'] == 'at_min' else ''}{r['tokens_loglinear'] / charged:.2f}×"


def equivalent_budget_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=True):
        rows = [{"Target": "Task score" if r["target"] == "task_score" else SHORT[r["target"]],
                 "Strongest baseline": method_label(r["baseline"]),
                 f"{method_label(r['reference'])} @ B0 [points]": f"{r['ref_score']:.2f}",
                 "Baseline @ B0 [points]": f"{r['baseline_score']:.2f}",
                 "Tokens needed (log-linear)": _needed(r["tokens_loglinear"], r["status"], r["ref_budget"],
                                                       r["baseline_max_budget"]),
                 "Linear interp.": _needed(r["tokens_linear"], r["status"], r["ref_budget"],
                                           r["baseline_max_budget"]),
                 "Multiple, profiling charged": _charged(r)}
                for _, r in g.iterrows()]
        b0 = format_tokens(int(g["ref_budget"].iloc[0]))
        sections.append((f"Task {task}, B0 = {b0} tokens", pd.DataFrame(rows)))
    return sections


# --- spillover (Figure 4a/b) ------------------------------------------------------------

SPILL_COLUMNS = ["task", "method", "budget", "metric", "unit", "quantity", "targets", *SUMMARY]


def essential(r: Mapping[str, float], top_k: int) -> tuple[str, ...]:
    """C_ess: the ``top_k`` capabilities of r_tau with r_c > 0 (ties in CAPABILITIES order)."""
    ranked = sorted((c for c in r if r[c] > 0), key=lambda c: (-r[c], INDEX[c]))
    return tuple(sorted(ranked[:top_k], key=INDEX.__getitem__))


def spillover_per_run(runs: pd.DataFrame, requirements: Mapping[str, Mapping[str, float]] | None,
                      top_k: int = 3, metrics: Sequence[str] = ("acc", "ll")) -> pd.DataFrame:
    """Per run: on-target gain, off-target change and negative-transfer rate.

    With Δ_c = s_c(final) − s_c(S0) and the run's target set C (``{c}`` for ``onehot:c``;
    otherwise C_ess = :func:`essential` of the task's r_tau):
    on_target_gain = mean_{c∈C} Δ_c; off_target_change = mean_{c∉C} Δ_c;
    negative_transfer_rate = |{c∉C : Δ_c < 0}| / |{c∉C}|, the share of off-target
    capabilities the run made worse (0 when nothing is off target).
    """
    import pandas as pd

    requirements = requirements or {}
    rows = []
    for metric in metrics:
        d = profile_deltas(runs, metric)
        for (task, method, budget, seed), g in d.groupby(["task", "method", "budget", "seed"], sort=False):
            target = onehot_target(method)
            if target is not None:
                ess = (target,)
            elif task in requirements:
                ess = essential(requirements[task], top_k)
            else:
                raise bad_input(f"task {task!r}", "no requirement vector r_tau for the spillover table",
                                "pass requirements={task: {capability: weight}} for every task")
            delta = dict(zip(g["capability"], g["value"]))
            on = [delta[c] for c in ess if c in delta]
            off = [v for c, v in delta.items() if c not in ess]
            quantities = {"on_target_gain": sum(on) / len(on) if on else math.nan,
                          "off_target_change": sum(off) / len(off) if off else math.nan,
                          "negative_transfer_rate": sum(v < 0 for v in off) / len(off) if off else 0.0}
            base = {"task": task, "method": method, "budget": budget, "seed": seed, "metric": metric,
                    "targets": "+".join(ess)}
            rows += [{**base, "quantity": q, "unit": "fraction" if q.startswith("neg") else UNITS[metric],
                      "value": v} for q, v in quantities.items()]
    return pd.DataFrame(rows, columns=["task", "method", "budget", "seed", "metric", "unit", "quantity",
                                       "targets", "value"])


def spillover(runs: pd.DataFrame, requirements: Mapping[str, Mapping[str, float]] | None,
              top_k: int = 3, metrics: Sequence[str] = ("acc", "ll")) -> pd.DataFrame:
    """:func:`spillover_per_run`, mean ± std over seeds per (task, method, budget).

    Adds method ``"onehot"`` (the paper's "Single-cap." row): per seed, each quantity
    averaged over the ``onehot:<c>`` runs present, then mean ± std over seeds; its
    ``targets`` is ``"own"`` (each run's own capability). One-hot runs with a teacher
    signal pool apart, e.g. ``"onehot+logit-kd"`` from ``"onehot:<c>+logit-kd"``.
    """
    import pandas as pd

    per_run = spillover_per_run(runs, requirements, top_k, metrics)
    if per_run.empty:
        return _empty(SPILL_COLUMNS)
    onehot = per_run.loc[is_onehot(per_run["method"])].copy()
    if not onehot.empty:  # pooled per teacher signal: "onehot", "onehot+logit-kd", ...
        onehot["method"] = ["+".join(filter(None, ("onehot", split_signal(m)[1]))) for m in onehot["method"]]
        keys = ["task", "method", "budget", "seed", "metric", "unit", "quantity"]
        pooled = onehot.groupby(keys, sort=False, as_index=False)["value"].mean()
        per_run = pd.concat([per_run, pooled.assign(targets="own")])
    table = summarise(per_run, ["task", "method", "budget", "metric", "unit", "quantity", "targets"])
    return sort_rows(table[SPILL_COLUMNS], ["metric", "task", "budget", "method", "quantity"])


def spillover_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    names = {"on_target_gain": "On-target gain", "off_target_change": "Off-target change",
             "negative_transfer_rate": "Negative-transfer rate"}
    sections = []
    for metric, g in table.groupby("metric", sort=False):
        rows = []
        for (task, budget, method), h in g.groupby(["task", "budget", "method"], sort=False):
            row = {"Task": task, "Budget": format_tokens(budget), "Method": method_label(method),
                   "Targets": ", ".join(SHORT.get(c, c) for c in h["targets"].iloc[0].split("+"))}
            for _, r in h.iterrows():
                unit = r["unit"]
                row[f"{names[r['quantity']]} [{unit}]"] = format_mean_std(
                    r["mean"], r["std"], DECIMALS[unit], sign=unit != "fraction")
            rows.append(row)
        sections.append((metric_label(metric), pd.DataFrame(rows)))
    return sections


# --- schedule utility (Figure 4c) -----------------------------------------------------------

UTILITY_COLUMNS = ["task", "method", "budget", "unit", *SUMMARY]


def schedule_utility(runs: pd.DataFrame, requirements: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Figure 4c's "average utility" of each method's schedule, per (task, method, budget).

    Per run: U = Σ_c r_τ,c · s_c, with s_c the final test-split exact match of capability c
    in points and r_τ the task's requirement vector scaled to sum 1 (so U is a weighted mean
    of the profile, in points); then mean ± std over seeds. Method ``"S0"`` (budget 0) is U
    of the runs' initial profile, averaged over the runs of each (task, seed), then over seeds.
    """
    import pandas as pd

    parts = []
    for method_of, source in ((None, "acc"), ("S0", "initial_acc")):
        values = metric_values(runs, "acc", source=source)
        per_run = []
        for (task, method, budget, seed), g in values.groupby(["task", "method", "budget", "seed"], sort=False):
            if task not in requirements:
                raise bad_input(f"task {task!r}", "no requirement vector r_tau for the schedule-utility table",
                                "pass requirements (one r_tau.json per task)")
            r = to_vector(requirements[task], f"requirements.{task}")
            s = dict(zip(g["capability"], g["value"]))
            missing = [c for c, w in zip(CAPABILITIES, r) if w > 0 and c not in s]
            if missing:
                raise bad_input(f"run {task}/{method}/B{budget}/seed{seed}", f"no exact match for {missing}",
                                "rerun its evaluate rule")
            per_run.append({"task": task, "method": method_of or method, "budget": 0 if method_of else budget,
                            "seed": seed, "value": sum(w * s[c] for c, w in zip(CAPABILITIES, r) if w > 0)})
        df = pd.DataFrame(per_run, columns=["task", "method", "budget", "seed", "value"])
        if method_of:  # S0 is one model per (task, seed): average its copies in the runs first
            df = df.groupby(["task", "method", "budget", "seed"], sort=False, as_index=False)["value"].mean()
        parts.append(summarise(df, ["task", "method", "budget"]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(UTILITY_COLUMNS)
    return sort_rows(pd.concat(parts).assign(unit="points")[UTILITY_COLUMNS], ["task", "budget", "method"])


def schedule_utility_sections(table: pd.DataFrame) -> list[Section]:
    """Per task: one row per method, one column per budget (S0 in its own column)."""
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=False):
        cells: dict[str, dict[str, str]] = {}
        for _, r in g.iterrows():
            col = "S0" if r["budget"] == 0 else f"B = {format_tokens(r['budget'])}"
            cells.setdefault(r["method"], {})[col] = format_mean_std(r["mean"], r["std"], DECIMALS["points"])
        rows = [{"Method": method_label(m), **c} for m, c in sorted(cells.items(), key=lambda kv: method_key(kv[0]))]
        sections.append((f"Task {task}, average utility Σ_c r_τ,c·s_c [points]", pd.DataFrame(rows).fillna("–")))
    return sections


# --- gap closed (Figure 5b) --------------------------------------------------------------

GAP_COLUMNS = ["task", "method", "budget", "capability", "s0", "teacher", *SUMMARY]
MIN_GAP_POINTS = 1.0


def gap_closed(runs: pd.DataFrame, teacher: pd.DataFrame | None, min_gap: float = MIN_GAP_POINTS) -> pd.DataFrame:
    """Figure 5b: the share of the teacher–student gap each method closes, per capability.

    At each task's largest budget B_max (over all its runs), per run and capability c:
    g_c = (s_c − s_c(S0)) / (s_c(T) − s_c(S0)), with s_c the run's final test-split exact
    match, s_c(S0) the mean of the task's runs' initial profile and s_c(T) the teacher's
    exact match on the same test split (``teacher``: :func:`collect_reference`), all in
    points; then mean ± std over seeds. Where s_c(T) − s_c(S0) < ``min_gap`` points the
    ratio would divide by noise, and ``mean``/``std`` are nan.
    """

    acc = metric_values(runs, "acc")
    if acc.empty:
        return _empty(GAP_COLUMNS)
    if teacher is None:
        raise bad_input("gap_closed", "needs the teacher scored on the test split",
                        "pass teacher_eval=[one eval file per task]")
    t = teacher_rows(teacher, acc["task"].unique(), "acc", ["task", "capability", "mean"])
    t_score = dict(zip(zip(t["task"], t["capability"]), t["mean"]))
    start = metric_values(runs, "acc", source="initial_acc")
    s0 = start.groupby(["task", "capability"])["value"].mean()
    top = acc[acc["budget"] == acc.groupby("task")["budget"].transform("max")].copy()
    top["s0"] = [s0[k] for k in zip(top["task"], top["capability"])]
    top["teacher"] = [t_score.get(k, math.nan) for k in zip(top["task"], top["capability"])]
    gap = top["teacher"] - top["s0"]
    top["value"] = ((top["value"] - top["s0"]) / gap).where(gap >= min_gap)  # nan teacher -> nan too
    table = summarise(top, ["task", "method", "budget", "capability", "s0", "teacher"])
    return sort_rows(table[GAP_COLUMNS], ["task", "method", "capability"])


def gap_closed_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for task, g in table.groupby("task", sort=False):
        ref = g.drop_duplicates("capability").set_index("capability")
        rows = [{"Method": "Teacher − S0 [points]",
                 **{SHORT[c]: format_mean_std(ref["teacher"][c] - ref["s0"][c], math.nan, 2)
                    for c in CAPABILITIES if c in ref.index}}]
        for method, h in g.groupby("method", sort=False):
            cells = {r["capability"]: format_mean_std(r["mean"], r["std"], 2) for _, r in h.iterrows()}
            rows.append({"Method": method_label(method), **{SHORT[c]: cells.get(c, "–") for c in CAPABILITIES}})
        budget = format_tokens(int(g["budget"].iloc[0]))
        sections.append((f"Task {task}, B = {budget} tokens, gap closed (s − s_S0)/(s_teacher − s_S0)",
                         pd.DataFrame(rows).fillna("–")))
    return sections


# --- significance (Figure 6 table) ------------------------------------------------------

SIG_COLUMNS = ["task", "metric", "budget", "reference", "competitor", "capability", "n_ref", "n_comp",
               "mean_ref", "mean_comp", "delta", "t", "df", "p", "p_holm", "stars", "source"]
CAPABILITY_METRICS = ("acc", "ll")


def is_baseline(method: str, reference: str = "read") -> bool:
    """Whether ``method`` is a baseline for ``reference``: anything but the reference itself
    and its variants (:data:`READ_VARIANTS`), with or without a teacher-signal suffix."""
    base, _ = split_signal(method)
    return base != reference and base not in READ_VARIANTS


def strongest_baseline(means: Mapping[str, float], reference: str = "read") -> str | None:
    """The baseline (:func:`is_baseline`) with the highest mean; ties go to the first in
    :data:`METHOD_ORDER`; ``None`` when there is none (nan means never win)."""
    cands = [(m, v) for m, v in means.items() if is_baseline(m, reference) and not math.isnan(v)]
    if not cands:
        return None
    return min(cands, key=lambda mv: (-mv[1], method_key(mv[0])))[0]


def significance(runs: pd.DataFrame, reference: str = "read",
                 metrics: Sequence[str] = ("task_score", "task_ll", "acc"),
                 competitors: Sequence[str] | None = None, from_summary: bool = False,
                 items: pd.DataFrame | None = None) -> pd.DataFrame:
    """Reference vs competitors: Welch t, Holm-corrected within each block.

    Task metrics (``task_score``, ``task_ll``; ``capability`` ""): a block is one (task,
    metric, budget); its family is every competitor present there (or those in
    ``competitors``). Capability metrics (``acc``, ``ll``): per (task, budget) and
    capability c, the reference against the strongest baseline for c at that budget
    (:func:`strongest_baseline` of the per-seed means: every method but the reference and
    its variants, among those run on at least two seeds); the block, one Holm family, is
    the budget across capabilities.

    ``delta`` = mean_ref − mean_comp; ``t``, ``df``, ``p`` from :func:`welch_t` on the
    per-seed values, or, with ``from_summary``, from the (mean, std, n) summaries
    (:func:`welch_t_from_stats`, as the paper does). ``p_holm`` is :func:`holm` over the
    block and ``stars`` marks p_holm < .05 (*) and < .01 (**).

    With ``items`` (:func:`collect_task_items`), each task-metric block also gets a test
    paired on the test items (``source`` "items", its own Holm family): every item's value
    is averaged over a method's seeds and :func:`paired_t` tests the per-item differences.
    It asks whether these trained students differ by more than the choice of test items
    explains; the seed-level test above is the one that also counts training randomness.
    """
    import pandas as pd

    source = "summary" if from_summary else "seeds"

    def test(head: dict, ref: list[float], comp: list[float], name: str) -> dict:
        (n_ref, mean_ref, std_ref), (n, mean, std) = mean_std(ref), mean_std(comp)
        w = welch_t_from_stats(mean_ref, std_ref, n_ref, mean, std, n) if from_summary else welch_t(ref, comp)
        return {**head, "competitor": name, "n_ref": n_ref, "n_comp": n, "mean_ref": mean_ref, "mean_comp": mean,
                "delta": mean_ref - mean, "t": w.t, "df": w.df, "p": w.p, "source": source}

    rows = []
    for metric in metrics:
        values = metric_values(runs, metric)
        per_item = None if items is None or metric in CAPABILITY_METRICS else metric_values(items, metric)
        for (task, budget), block in values.groupby(["task", "budget"], sort=True):
            head = {"task": task, "metric": metric, "budget": budget, "reference": reference}
            families = []
            if metric in CAPABILITY_METRICS:
                family = []
                for cap, cell in block.groupby("capability", sort=False):
                    seeds = {m: list(g["value"]) for m, g in cell.groupby("method", sort=False)}
                    # Welch needs two seeds a side: a single-seed baseline cannot be tested
                    testable = {m: mean_std(v)[1] for m, v in seeds.items() if len(v) >= 2}
                    best = strongest_baseline(testable, reference)
                    if reference in seeds and best is not None:
                        family.append(test({**head, "capability": cap}, seeds[reference], seeds[best], best))
                families.append(family)
            else:
                seeds = {m: list(g["value"]) for m, g in block.groupby("method", sort=False)}
                if reference not in seeds:
                    continue
                others = [m for m in seeds if m != reference and (competitors is None or m in competitors)]
                head["capability"] = ""
                families.append([test(head, seeds[reference], seeds[m], m) for m in others])
                if per_item is not None:
                    cell = per_item[(per_item["task"] == task) & (per_item["budget"] == budget)]
                    families.append(_item_tests(cell, head, reference, others))
            for family in families:
                for t, p_adj in zip(family, holm([t["p"] for t in family])):
                    rows.append({**t, "p_holm": p_adj, "stars": stars(p_adj)})
    if not rows:
        return _empty(SIG_COLUMNS)
    return sort_rows(pd.DataFrame(rows, columns=SIG_COLUMNS),
                     ["task", "metric", "source", "budget", "capability", "competitor"])


def _item_tests(cell: pd.DataFrame, head: dict, reference: str, others: Sequence[str]) -> list[dict]:
    """Paired-on-items tests of ``reference`` vs each of ``others`` in one (task, metric,
    budget) cell of the per-item frame; competitors without per-item values are skipped."""
    by_method = {m: g.pivot(index="item", columns="seed", values="value") for m, g in cell.groupby("method")}
    if reference not in by_method:
        return []
    ref = by_method[reference]
    tests = []
    for m in others:
        if m not in by_method:
            continue
        comp = by_method[m]
        if not ref.index.equals(comp.index):
            raise bad_input(f"task {head['task']}, budget {head['budget']}",
                            f"{reference} and {m} were scored on different test items",
                            "evaluate every run with the same evaluation.n_test and evaluation.seed")
        diff = ref.mean(axis=1) - comp.mean(axis=1)
        w = paired_t(diff.to_numpy())
        tests.append({**head, "competitor": m, "n_ref": ref.shape[1], "n_comp": comp.shape[1],
                      "mean_ref": float(ref.to_numpy().mean()), "mean_comp": float(comp.to_numpy().mean()),
                      "delta": float(diff.mean()), "t": w.t, "df": w.df, "p": w.p, "source": "items"})
    return tests


def significance_sections(table: pd.DataFrame) -> list[Section]:
    import pandas as pd

    sections = []
    for (task, metric, on_items), g in table.groupby(["task", "metric", table["source"] == "items"], sort=False):
        unit = UNITS[metric]
        dec = DECIMALS[unit]
        per_cap = metric in CAPABILITY_METRICS
        rows = [{"Budget": format_tokens(r["budget"]),
                 **({"Capability": SHORT.get(r["capability"], r["capability"])} if per_cap else {}),
                 ("Strongest baseline" if per_cap else "Competitor"): method_label(r["competitor"]),
                 "Δ": format_signed(r["delta"], dec),
                 "t": "–" if math.isnan(r["t"]) else f"{r['t']:.2f}{r['stars']}",
                 "df": "–" if math.isnan(r["df"]) else f"{r['df']:.1f}",
                 "p": format_p(r["p"]), "p (Holm)": format_p(r["p_holm"])}
                for _, r in g.iterrows()]
        ref = method_label(g["reference"].iloc[0])
        what = (f"{ref} − the strongest baseline per capability (Holm over the capabilities of a budget)"
                if per_cap else f"{ref} − competitor")
        paired = ", paired on the test items (each item's mean over seeds)" if on_items else ""
        sections.append((f"Task {task}, {metric_label(metric)}: {what}{paired}", pd.DataFrame(rows)))
    return sections
