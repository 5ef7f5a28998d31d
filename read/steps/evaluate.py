"""A run's final evaluation (``workflow/rules/evaluate.smk``)."""

from __future__ import annotations

from collections.abc import Mapping

from read.config import EvaluationConfig
from read.io import read_json
from read.steps.common import ModelSettings, load_ledger
from read.steps.setup import score_model


def evaluate_run(base_dir, ckpt_dir, tokenizer_dir, suite, ledger, initial, *, card, sources: Mapping, method: str,
                 budget: int, seed: int, evaluation: EvaluationConfig,
                 settings: ModelSettings = ModelSettings()) -> dict:
    """``final/eval.json``: task score/ll and the capability profile of S_N, S0's (``initial``), tokens."""
    led = load_ledger(ledger)
    final = score_model(base_dir, ckpt_dir, tokenizer_dir, suite, card=card, sources=sources, evaluation=evaluation,
                        settings=settings)
    init = read_json(initial)
    return {
        **final, "method": method, "budget": budget, "seed": seed,
        "initial": {key: init[key] for key in ("task_score", "task_ll", "profile", "dev_utility")},
        "tokens": {"budget": budget, "generated": led.total("gen"), "trained": led.total("train"),
                   "profiling": led.profiling["gen"] + led.profiling["train"]},
    }
