"""World batches for the training benchmarks: a fresh world tokenizer and seeded step plans."""

from __future__ import annotations

import tempfile


def world_batches(steps: int, *, vocab: int = 2048, items_per_capability: int = 200, batch_size: int = 32):
    """(tokenizer, encoded pretrain-split items, per-step index lists), as pretraining draws them."""
    from read import lm
    from read.embedded.pretrain import world_texts
    from read.embedded.tokenizer import load_tokenizer, train_world_tokenizer
    from read.rng import rng_for

    with tempfile.TemporaryDirectory() as tmp:
        tok = load_tokenizer(train_world_tokenizer(f"{tmp}/tok", vocab, 500, 0))
    prompts, responses, _ = world_texts(items_per_capability, 0.2, 0)
    enc = lm.encode_pairs(tok, prompts, responses, 384)
    plan = lm.plan_steps(enc, lm.TrainConfig(batch_size=batch_size, max_steps=steps), rng_for(0, "bench"))
    return tok, enc, plan
