"""Tokenized examples: encode (prompt, response) pairs, batch them by length, collate to tensors.

Every sequence is ``[BOS] prompt response EOS``. Prompt and response are tokenized
*separately* and concatenated, so token counts are exact and the prompt can be masked
out of the loss (label -100). The same functions serve the tiny embedded Llamas and any
Hugging Face tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from read.errors import bad_input
from read.lm.losses import IGNORE


@dataclass(frozen=True)
class Encoded:
    """One tokenized training/scoring example.

    input_ids: ``[BOS] + prompt + response + [EOS]`` (BOS only if the tokenizer has one).
    labels: -100 on the prompt part, the token id on the response part (EOS included).
    n_prompt_tokens: prompt tokens, BOS included. n_response_tokens: response tokens, EOS included.
    truncated: True only if ``encode_pairs(..., truncate=True)`` cut this example's response.
    topk: optional teacher top-k per response token, ``[[(id, logprob), ...], ...]`` (KD).
    """

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    n_prompt_tokens: int
    n_response_tokens: int
    truncated: bool = False
    topk: tuple | None = None

    @property
    def n_tokens(self) -> int:
        """Tokens this example costs when trained on (prompt + response, no padding)."""
        return self.n_prompt_tokens + self.n_response_tokens


def _special_ids(tokenizer) -> tuple[int | None, int]:
    eos = tokenizer.eos_token_id
    if eos is None:
        raise bad_input(type(tokenizer).__name__, "tokenizer has no eos_token", "use a tokenizer with an EOS token")
    return tokenizer.bos_token_id, int(eos)


def _tokenize(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    if not texts:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None)
    # the Rust tokenizer that __call__ wraps, without the BatchEncoding it builds around it
    # (masks, type ids): the same ids at about half the time on 100k-item pretraining sets.
    # Only while it has no padding or truncation left switched on: a caller's earlier
    # tokenizer(..., padding=True) leaves it padding, and __call__ resets that, encode_batch not.
    if backend is not None and backend.padding is None and backend.truncation is None:
        return [enc.ids for enc in backend.encode_batch(list(texts), add_special_tokens=False)]
    return [list(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def encode_prompts(tokenizer, prompt_texts: Sequence[str], *, add_bos: bool = True) -> list[list[int]]:
    """``[BOS] + prompt`` token ids for each prompt (what generation and scoring condition on).

    ``add_bos=False`` for text that already carries its special tokens (a chat template's
    output, :attr:`read.prompting.PromptFormat.add_bos`).
    """
    bos, _ = _special_ids(tokenizer)
    head = [bos] if bos is not None and add_bos else []
    return [head + ids for ids in _tokenize(tokenizer, prompt_texts)]


def encode_pairs(
    tokenizer,
    prompt_texts: Sequence[str],
    response_texts: Sequence[str],
    max_len: int,
    *,
    truncate: bool = False,
    topk: Sequence[Any] | None = None,
    response_ids: Sequence[Sequence[int]] | None = None,
    add_bos: bool = True,
) -> list[Encoded]:
    """Tokenize (prompt, response) pairs into :class:`Encoded` examples.

    No special tokens are added by the tokenizer itself; BOS (if any) is prepended to the
    prompt and EOS appended to the response here, so counts are exact.

    Args:
        max_len: longest allowed sequence. A longer example raises ``ReadError`` naming its
            index, unless ``truncate=True``: then the response tail is cut (EOS may be lost)
            and ``truncated`` is set. A prompt that alone fills ``max_len`` is always an error.
        topk: optional per-example teacher top-k lists, one entry per response token (as
            ``Generation.topk``), carried into ``Encoded.topk`` for KD. A list one shorter
            than the response is accepted: the teacher stopped without EOS, so the EOS
            added here gets no KD target (SFT still applies). Any other mismatch is an error.
        response_ids: optional response token ids to use instead of tokenizing
            ``response_texts`` (e.g. ``Generation.token_ids`` without EOS when teacher and
            student share the tokenizer: re-tokenizing decoded text can segment it
            differently from what the teacher generated, which would misalign ``topk``).
        add_bos: prepend BOS to the prompt (see :func:`encode_prompts`).
    """
    if len(prompt_texts) != len(response_texts):
        raise bad_input("encode_pairs", f"{len(prompt_texts)} prompts but {len(response_texts)} responses", "pass equal-length lists")
    if topk is not None and len(topk) != len(prompt_texts):
        raise bad_input("encode_pairs", f"{len(topk)} topk entries for {len(prompt_texts)} examples", "pass one topk list per example")
    _, eos = _special_ids(tokenizer)
    prompts = encode_prompts(tokenizer, prompt_texts, add_bos=add_bos)
    if response_ids is not None:
        if len(response_ids) != len(prompt_texts):
            raise bad_input("encode_pairs", f"{len(response_ids)} response_ids for {len(prompt_texts)} examples", "pass one id list per example")
        body = [[int(t) for t in ids] for ids in response_ids]
        if any(eos in ids for ids in body):
            raise bad_input("encode_pairs", "response_ids contain EOS", "pass the ids without EOS; it is appended here")
    else:
        body = _tokenize(tokenizer, response_texts)
    responses = [ids + [eos] for ids in body]
    out = []
    for i, (p, r) in enumerate(zip(prompts, responses)):
        cut = False
        if len(p) + len(r) > max_len:
            if not truncate or len(p) >= max_len:
                raise bad_input(
                    f"example {i}",
                    f"{len(p)} prompt + {len(r)} response tokens > max_len {max_len} ({prompt_texts[i][:40]!r}...)",
                    "raise max_len, shorten the example, or pass truncate=True",
                )
            r, cut = r[: max_len - len(p)], True
        tk = None
        if topk is not None and topk[i] is not None:
            full = len(responses[i])
            if len(topk[i]) not in (full, full - 1):
                raise bad_input(f"example {i}", f"{len(topk[i])} topk entries for {full} response tokens",
                                "give one top-k list per response token (EOS included); pass response_ids= to avoid re-tokenizing")
            tk = tuple(tuple((int(t), float(lp)) for t, lp in step) for step in topk[i][: len(r)])
        out.append(Encoded(tuple(p + r), tuple([IGNORE] * len(p) + r), len(p), len(r), cut, tk))
    return out



def _pad_id(tokenizer, eos: int) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos



def batches(encoded: Sequence[Encoded], batch_size: int, rng: np.random.Generator, *, pool: int = 50) -> list[list[int]]:
    """One epoch of length-bucketed batches of example indices, in an rng-driven order.

    Indices are shuffled, cut into pools of ``pool * batch_size``, sorted by length within
    a pool (so padding stays small), split into batches, and the batch order is shuffled.
    Every index appears exactly once; the last batch of a pool may be smaller.
    """
    if batch_size < 1:
        raise bad_input("batches", f"batch_size must be >= 1, got {batch_size}", "use a positive batch size")
    order = rng.permutation(len(encoded))
    out: list[list[int]] = []
    step = pool * batch_size
    for start in range(0, len(order), step):
        chunk = sorted(order[start : start + step].tolist(), key=lambda i: len(encoded[i].input_ids))
        out += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    return [out[i] for i in rng.permutation(len(out))]


def collate(encoded: Sequence[Encoded], pad_id: int) -> dict:
    """Right-padded tensors: input_ids, attention_mask, labels (-100 on prompt and padding), all (B, T).

    If every example carries ``topk``, also topk_ids / topk_logprobs (B, T, k) aligned with
    ``labels`` (entry t = teacher distribution for token t) and kd_mask (B, T) bool.
    """
    import torch

    if not encoded:
        raise bad_input("collate", "empty batch", "pass at least one example")
    T = max(len(e.input_ids) for e in encoded)
    B = len(encoded)
    ids = torch.full((B, T), pad_id, dtype=torch.long)
    attn = torch.zeros((B, T), dtype=torch.long)
    labels = torch.full((B, T), IGNORE, dtype=torch.long)
    for b, e in enumerate(encoded):
        n = len(e.input_ids)
        ids[b, :n] = torch.tensor(e.input_ids)
        attn[b, :n] = 1
        labels[b, :n] = torch.tensor(e.labels)
    out = {"input_ids": ids, "attention_mask": attn, "labels": labels}
    if all(e.topk is not None for e in encoded):
        k = len(encoded[0].topk[0])
        tk_ids = torch.zeros((B, T, k), dtype=torch.long)
        tk_lp = torch.zeros((B, T, k), dtype=torch.float32)
        mask = torch.zeros((B, T), dtype=torch.bool)
        for b, e in enumerate(encoded):
            if any(len(step) != k for step in e.topk):
                raise bad_input("collate", f"top-k lists of different sizes (expected k={k})", "generate every example with the same top_k_logprobs")
            s = e.n_prompt_tokens
            n = len(e.topk)
            tk_ids[b, s : s + n] = torch.tensor([[t for t, _ in step] for step in e.topk])
            tk_lp[b, s : s + n] = torch.tensor([[lp for _, lp in step] for step in e.topk])
            mask[b, s : s + n] = True
        out.update(topk_ids=tk_ids, topk_logprobs=tk_lp, kd_mask=mask)
    return out

