"""Causal-LM utilities shared by teachers, students and probes: encode, batch, lose, train, generate, score.

The same functions serve the tiny embedded Llamas and any Hugging Face causal LM (plain
or peft-wrapped). One idea per module; every name is re-exported here, so callers write
``from read.lm import train`` or ``lm.generate``:

- :mod:`read.lm.encoding`: ``[BOS] prompt response EOS`` examples with exact token counts, batches, collate.
- :mod:`read.lm.losses`: masked SFT cross-entropy and top-k KD, on target positions or full logits.
- :mod:`read.lm.training`: the optimiser, its schedule and the training loop.
- :mod:`read.lm.generation`: batched, budgeted generation with optional teacher top-k.
- :mod:`read.lm.scoring`: log p of given responses.

torch and transformers are imported inside functions: importing this package is cheap.
"""

from read.lm.encoding import Encoded, batches, collate, encode_pairs, encode_prompts
from read.lm.generation import Generation, generate
from read.lm.generation import _decode as _decode  # benchmarks/generate_batch.py names it as lm._decode
from read.lm.losses import (
    IGNORE,
    cross_entropy,
    masked_mean,
    sft_loss,
    target_logits,
    target_position_loss,
    target_positions,
    topk_kd_loss,
    topk_kd_term,
    topk_kl,
)
from read.lm.scoring import response_loglik, response_token_logprobs
from read.lm.training import KDConfig, TrainConfig, TrainReport, adamw, get_lr, plan_steps, train

__all__ = [
    "IGNORE", "Encoded", "Generation", "KDConfig", "TrainConfig", "TrainReport", "adamw", "batches", "collate",
    "cross_entropy", "encode_pairs", "encode_prompts", "generate", "get_lr", "masked_mean", "plan_steps",
    "response_loglik", "response_token_logprobs", "sft_loss", "target_logits", "target_position_loss",
    "target_positions", "topk_kd_loss", "topk_kd_term", "topk_kl", "train",
]
