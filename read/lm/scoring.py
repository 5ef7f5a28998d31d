"""Scoring: log p of a given response under a model, per token or as a per-example mean."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from read.lm.encoding import _pad_id, _special_ids, collate, encode_pairs
from read.lm.losses import IGNORE, target_logits


def _response_logprobs(model, tokenizer, prompt_texts, response_texts, batch_size: int, max_len: int,
                       add_bos: bool = True):
    """Per batch: (example indices, log p of every response token (N,), the example of each token (N,)).

    Tokens come row by row in (example, position) order; examples in order of length, so
    each batch pads little. One batched forward pass per batch, under inference mode.
    """
    import torch

    enc = encode_pairs(tokenizer, prompt_texts, response_texts, max_len, add_bos=add_bos)
    _, eos = _special_ids(tokenizer)
    pad = _pad_id(tokenizer, eos)
    device = next(model.parameters()).device
    order = sorted(range(len(enc)), key=lambda i: len(enc[i].input_ids))
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            t = collate([enc[i] for i in idx], pad)
            target = t["labels"][:, 1:].to(device)
            select = target != IGNORE
            logits = target_logits(model, t["input_ids"].to(device), t["attention_mask"].to(device), select).float()
            goal = target[select]
            tok_lp = logits.gather(-1, goal.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, -1)  # (N,)
            yield idx, tok_lp, select.nonzero()[:, 0]


def response_loglik(model, tokenizer, prompt_texts: Sequence[str], response_texts: Sequence[str], batch_size: int = 64,
                    max_len: int = 4096, *, add_bos: bool = True) -> np.ndarray:
    """Mean per-token log-likelihood (nats) of each response given its prompt, EOS included.

    One batched forward pass per batch of ``batch_size`` examples. Returns float64 (N,).
    ``add_bos``: as :func:`encode_prompts`.
    """
    import torch

    out = np.zeros(len(prompt_texts), dtype=np.float64)
    for idx, tok_lp, rows in _response_logprobs(model, tokenizer, prompt_texts, response_texts, batch_size, max_len,
                                                add_bos):
        total = torch.zeros(len(idx), dtype=torch.float64).index_add_(0, rows, tok_lp.double())
        count = torch.bincount(rows, minlength=len(idx)).clamp(min=1)
        out[idx] = (total / count).cpu().numpy()
    return out


def response_token_logprobs(model, tokenizer, prompt_texts: Sequence[str], response_texts: Sequence[str],
                            batch_size: int = 64, max_len: int = 4096, *, add_bos: bool = True) -> list[np.ndarray]:
    """log p (nats) of every response token given the prompt and the tokens before it, EOS last.

    One float64 array per example, as long as its response in tokens (the same tokens
    :func:`encode_pairs` makes); :func:`response_loglik` is each array's mean.
    """
    out: list[np.ndarray] = [np.zeros(0)] * len(prompt_texts)
    for idx, tok_lp, rows in _response_logprobs(model, tokenizer, prompt_texts, response_texts, batch_size, max_len,
                                                add_bos):
        lp, rows = tok_lp.double().cpu().numpy(), rows.cpu().numpy()
        for b, i in enumerate(idx):
            out[i] = lp[rows == b]
    return out
