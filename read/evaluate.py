"""Task and capability scores of a student checkpoint on held-out items.

Two measures per item set, both on gold answers:

- ``em``: the task card's scorer (:mod:`read.scorers`; exact match by default) on greedy
  answers, the mean over items (what tables report);
- ``ll``: mean per-token log-likelihood of the gold response (nats). It moves even when
  the score sits at 0 or 1 and is far less noisy, so it is the dev utility U that
  profiling interventions and dev-checkpoint calibration use (science.md: dev-task gold
  log-likelihood predicted final task gain with rho 0.8–0.9 where probes could not).

Item sets are drawn with a fixed ``eval_seed``, never the run seed, so every method and
seed is scored on the very same test items. Prompts and gold responses are rendered in
the student's prompt format (``fmt``). Capabilities with real benchmarks (lm-evaluation-
harness, sandboxed pass@1, function-call match) are scored by :mod:`read.benchmarks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from read.capabilities import CAPABILITIES
from read.item_scores import LoadedModel, score_items
from read.prompting import RAW, PromptFormat


def capability_profile(model, tokenizer, sources: Mapping[str, Any], suite: Mapping[str, Any] | None, *,
                       n_per_capability: int, eval_seed: int, batch_size: int = 64, max_new_tokens: int = 48,
                       fmt: PromptFormat = RAW, paths: tuple | None = None, lm_eval: Mapping[str, Any] | None = None
                       ) -> dict:
    """The 8-capability profile ``{"acc", "ll", "n", "source"}`` on each capability's gold items.

    A capability without gold items (``read.capability_data.eval_items`` is None) is scored
    on the probe suite instead (teacher-answer log-likelihood, exact match where the probes
    have gold answers; ``source`` says "probe"). A capability with ``benchmarks`` takes its
    ``acc`` from them (their mean primary metric, ``source`` "benchmarks"; each one's
    result under ``"benchmarks"``); its ``ll`` stays the gold items' or the probes'.
    ``paths`` (base, checkpoint, tokenizer) and ``lm_eval`` (``evaluation.lm_eval``) are
    what lm-evaluation-harness benchmarks need. ``acc`` leaves out capabilities with no
    score at all.
    """
    from read.capability_data import eval_items
    from read.probes import probe_profile

    out: dict[str, dict] = {"acc": {}, "ll": {}, "n": {}, "source": {}}
    probe_caps = []
    for cap in CAPABILITIES:
        items = eval_items(sources[cap], n_per_capability, eval_seed)
        if items is None:
            probe_caps.append(cap)
            continue
        s = score_items(model, tokenizer, items, batch_size=batch_size, max_new_tokens=max_new_tokens, fmt=fmt)
        out["acc"][cap], out["ll"][cap], out["n"][cap], out["source"][cap] = s["em"], s["ll"], s["n"], "eval"
    if probe_caps:
        if suite is None:
            raise ValueError(f"capabilities {probe_caps} have no gold eval items and no probe suite was given")
        caps = {c: suite["capabilities"][c] for c in probe_caps}
        p = probe_profile(model, tokenizer, {"capabilities": caps}, batch_size, fmt=fmt)
        for cap in probe_caps:
            if p["acc"][cap] is not None:
                out["acc"][cap] = p["acc"][cap]
            out["ll"][cap], out["n"][cap], out["source"][cap] = p["ll"][cap], p["n"][cap], "probe"
    benchmarked = [c for c in CAPABILITIES if sources[c].benchmarks]
    if benchmarked:
        from read.benchmarks import capability_score, run_benchmarks

        out["benchmarks"] = {}
        for cap in benchmarked:
            results = run_benchmarks(sources[cap].benchmarks, LoadedModel(model, tokenizer, fmt), paths=paths,
                                     evaluation=lm_eval or {}, batch_size=batch_size)
            out["acc"][cap], out["source"][cap] = capability_score(results), "benchmarks"
            out["benchmarks"][cap] = results
    return out


def evaluate_student(model, tokenizer, card, *, sources: Mapping[str, Any], suite: Mapping[str, Any] | None,
                     n_test: int, n_per_capability: int, eval_seed: int, batch_size: int = 64,
                     max_new_tokens: int = 48, fmt: PromptFormat = RAW, paths: tuple | None = None,
                     lm_eval: Mapping[str, Any] | None = None) -> dict:
    """The task score on the card's test split (with its per-item values, ``task_items``)
    and the 8-capability profile (:func:`capability_profile`). A card with ``lm_eval``
    takes its task score (and per-item values) from the harness instead; its test JSONL
    still gives the gold log-likelihood."""
    task_scores = score_items(model, tokenizer, card.items("test", n_test, eval_seed), batch_size=batch_size,
                              max_new_tokens=max_new_tokens, fmt=fmt, scorer=card.scorer())
    if card.lm_eval:
        from read.benchmarks import Benchmark, run_benchmarks

        bench = Benchmark("lm_eval", task=card.lm_eval["task"], metric=card.lm_eval.get("metric"))
        r = run_benchmarks([bench], LoadedModel(model, tokenizer, fmt), paths=paths, evaluation=lm_eval or {},
                           batch_size=batch_size)[bench.label]
        task_scores = {**task_scores, "em": r["score"], "n": r["n"],
                       "items": {"correct": [it["score"] for it in r["items"]], "ll": task_scores["items"]["ll"]}}
    profile = capability_profile(model, tokenizer, sources, suite, n_per_capability=n_per_capability,
                                 eval_seed=eval_seed, batch_size=batch_size, max_new_tokens=max_new_tokens, fmt=fmt,
                                 paths=paths, lm_eval=lm_eval)
    return {"task": card.name, "task_score": task_scores["em"], "task_ll": task_scores["ll"], "n_test": task_scores["n"],
            "task_items": task_scores["items"], "profile": profile}


def dev_utility(model, tokenizer, card, *, n_dev: int, eval_seed: int, batch_size: int = 64,
                fmt: PromptFormat = RAW) -> float:
    """U_tau on the task's dev split: mean gold-response log-likelihood (one forward pass per batch)."""
    items = card.items("dev", n_dev, eval_seed)
    return score_items(model, tokenizer, items, batch_size=batch_size, accuracy=False, fmt=fmt)["ll"]
