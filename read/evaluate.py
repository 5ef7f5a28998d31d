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
the student's prompt format (``fmt``). Paper-scale benchmark evaluation (lm-evaluation-
harness, pass@1, function-call match) is a separate backend and not part of this path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from read.capabilities import CAPABILITIES
from read.prompting import RAW, PromptFormat
from read.scorers import Scorer, make_scorer


def score_items(model, tokenizer, items: Sequence[Any], *, batch_size: int = 64, max_new_tokens: int = 48,
                accuracy: bool = True, fmt: PromptFormat = RAW, scorer: Scorer | None = None) -> dict:
    """``{"em", "ll", "n", "items"}`` for items with ``.prompt``, ``.answer``, ``.response()``.

    ``em`` is the mean of ``scorer(generation, answer)`` (exact match by default; None with
    ``accuracy=False``, which skips generation: a single batched forward pass per batch),
    ``ll`` the mean over items of each item's mean gold-response log-likelihood. ``items``
    holds the per-item values behind both, in item order: ``{"correct": [score, ...] |
    None, "ll": [...]}``, for tests paired on items.
    """
    from read.lm import generate, response_loglik

    scorer = scorer or make_scorer("exact_match")
    prompts = [fmt.prompt(it.prompt) for it in items]
    ll = [float(v) for v in response_loglik(model, tokenizer, prompts, [fmt.response(it.response()) for it in items],
                                            batch_size=batch_size, add_bos=fmt.add_bos)]
    correct = None
    if accuracy:
        gens = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size,
                        add_bos=fmt.add_bos)
        correct = [_compact(scorer(g.text, it.answer)) for g, it in zip(gens, items)]
    return {"em": None if correct is None else float(np.mean(correct)), "ll": float(np.mean(ll)), "n": len(items),
            "items": {"correct": correct, "ll": ll}}


def _compact(score: float) -> int | float:
    """0/1 scores as integers (short JSON), anything else as the float it is."""
    return int(score) if score in (0.0, 1.0) else float(score)


def capability_profile(model, tokenizer, sources: Mapping[str, Any], suite: Mapping[str, Any] | None, *,
                       n_per_capability: int, eval_seed: int, batch_size: int = 64, max_new_tokens: int = 48,
                       fmt: PromptFormat = RAW) -> dict:
    """The 8-capability profile ``{"acc", "ll", "n", "source"}`` on each capability's gold items.

    A capability without gold items (``read.capability_data.eval_items`` is None) is scored
    on the probe suite instead (teacher-answer log-likelihood, exact match where the probes
    have gold answers; ``source`` says "probe"). ``acc`` leaves out capabilities with no
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
    return out


def evaluate_student(model, tokenizer, card, *, sources: Mapping[str, Any], suite: Mapping[str, Any] | None,
                     n_test: int, n_per_capability: int, eval_seed: int, batch_size: int = 64,
                     max_new_tokens: int = 48, fmt: PromptFormat = RAW) -> dict:
    """The task score on the card's test split (with its per-item values, ``task_items``)
    and the 8-capability profile (:func:`capability_profile`)."""
    task_scores = score_items(model, tokenizer, card.items("test", n_test, eval_seed), batch_size=batch_size,
                              max_new_tokens=max_new_tokens, fmt=fmt, scorer=card.scorer())
    profile = capability_profile(model, tokenizer, sources, suite, n_per_capability=n_per_capability,
                                 eval_seed=eval_seed, batch_size=batch_size, max_new_tokens=max_new_tokens, fmt=fmt)
    return {"task": card.name, "task_score": task_scores["em"], "task_ll": task_scores["ll"], "n_test": task_scores["n"],
            "task_items": task_scores["items"], "profile": profile}


def dev_utility(model, tokenizer, card, *, n_dev: int, eval_seed: int, batch_size: int = 64,
                fmt: PromptFormat = RAW) -> float:
    """U_tau on the task's dev split: mean gold-response log-likelihood (one forward pass per batch)."""
    items = card.items("dev", n_dev, eval_seed)
    return score_items(model, tokenizer, items, batch_size=batch_size, accuracy=False, fmt=fmt)["ll"]
