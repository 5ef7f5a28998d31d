"""Task and capability scores of a student checkpoint on held-out embedded splits.

Two measures per item set, both on gold answers:

- ``em``: greedy exact match of the final answer (what tables report);
- ``ll``: mean per-token log-likelihood of the gold response (nats). It moves even when
  exact match sits at 0 or 1 and is far less noisy, so it is the dev utility U that
  profiling interventions and dev-checkpoint calibration use (science.md: dev-task gold
  log-likelihood predicted final task gain with rho 0.8–0.9 where probes could not).

Item sets are drawn with a fixed ``eval_seed``, never the run seed, so every method and
seed is scored on the very same test items. Paper-scale evaluation (lm-evaluation-harness,
pass@1, function-call match) is a separate backend and not part of the embedded path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from read.capabilities import CAPABILITIES
from read.prompting import exact_match, render_prompt


def score_items(model, tokenizer, items: Sequence[Any], *, batch_size: int = 64, max_new_tokens: int = 48,
                accuracy: bool = True) -> dict:
    """``{"em", "ll", "n", "items"}`` for items with ``.prompt``, ``.answer``, ``.response()``.

    ``em`` is the exact-match share (None with ``accuracy=False``, which skips generation:
    a single batched forward pass per batch), ``ll`` the mean over items of each item's
    mean gold-response log-likelihood. ``items`` holds the per-item values behind both, in
    item order: ``{"correct": [0 | 1, ...] | None, "ll": [...]}``, for tests paired on items.
    """
    from read.lm import generate, response_loglik

    prompts = [render_prompt(it.prompt) for it in items]
    ll = [float(v) for v in response_loglik(model, tokenizer, prompts, [it.response() for it in items],
                                            batch_size=batch_size)]
    correct = None
    if accuracy:
        gens = generate(model, tokenizer, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size)
        correct = [int(exact_match(g.text, it.answer)) for g, it in zip(gens, items)]
    return {"em": None if correct is None else float(np.mean(correct)), "ll": float(np.mean(ll)), "n": len(items),
            "items": {"correct": correct, "ll": ll}}


def task_eval_items(task: str, split: str, n: int, eval_seed: int) -> list:
    from read.embedded import task_items

    return task_items(task, split, n, eval_seed)


def capability_eval_items(n_per_capability: int, eval_seed: int, split: str = "test") -> dict[str, list]:
    from read.embedded import sample_items

    return {c: sample_items(c, split, n_per_capability, eval_seed) for c in CAPABILITIES}


def evaluate_student(model, tokenizer, task: str, *, n_test: int, n_per_capability: int, eval_seed: int,
                     batch_size: int = 64, max_new_tokens: int = 48) -> dict:
    """Task score on the task's test split (with its per-item values, ``task_items``) and the
    full 8-capability profile on the test splits."""
    task_scores = score_items(model, tokenizer, task_eval_items(task, "test", n_test, eval_seed),
                              batch_size=batch_size, max_new_tokens=max_new_tokens)
    profile: dict[str, dict] = {"acc": {}, "ll": {}, "n": {}}
    for cap, items in capability_eval_items(n_per_capability, eval_seed).items():
        s = score_items(model, tokenizer, items, batch_size=batch_size, max_new_tokens=max_new_tokens)
        profile["acc"][cap], profile["ll"][cap], profile["n"][cap] = s["em"], s["ll"], s["n"]
    return {"task": task, "task_score": task_scores["em"], "task_ll": task_scores["ll"], "n_test": task_scores["n"],
            "task_items": task_scores["items"], "profile": profile}


def dev_utility(model, tokenizer, task: str, *, n_dev: int, eval_seed: int, batch_size: int = 64) -> float:
    """U_tau on the task's dev split: mean gold-response log-likelihood (one forward pass per batch)."""
    items = task_eval_items(task, "dev", n_dev, eval_seed)
    return score_items(model, tokenizer, items, batch_size=batch_size, accuracy=False)["ll"]
