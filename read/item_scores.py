"""Scoring a model on items with gold answers: generations by a scorer, and gold log-likelihood.

:class:`LoadedModel` is what every scorer takes: the module, its tokenizer and its prompt
format. :func:`score_items` is shared by task evaluation (:mod:`read.evaluate`) and the
JSONL benchmarks (:mod:`read.benchmarks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from read.prompting import RAW, PromptFormat
from read.scorers import Scorer, make_scorer


@dataclass
class LoadedModel:
    """A model ready to score: the module, its tokenizer and its prompt format."""

    model: Any
    tokenizer: Any
    fmt: PromptFormat = RAW


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
