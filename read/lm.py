"""Causal-LM utilities shared by teachers, students and probes: encode, batch, lose, train, generate, score.

Every sequence is ``[BOS] prompt response EOS``. Prompt and response are tokenized
*separately* and concatenated, so token counts are exact and the prompt can be masked
out of the loss (label -100). The same functions serve the tiny embedded Llamas and any
Hugging Face causal LM (plain or peft-wrapped).

torch and transformers are imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from read.errors import bad_input
from read.rng import torch_seed_for

log = logging.getLogger(__name__)

IGNORE = -100  # label value ignored by every loss here (as in torch/transformers)


# --------------------------------------------------------------------------- encoding


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
    if backend is not None:
        # the Rust tokenizer that __call__ wraps, without the BatchEncoding it builds around
        # it (masks, type ids): the same ids at about half the time on 100k-item pretraining sets
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


# --------------------------------------------------------------------------- batching


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


# --------------------------------------------------------------------------- losses


def target_logits(model, input_ids, attention_mask, select):
    """Logits only where a loss looks: ``lm_head`` applied to the selected hidden states.

    Args:
        model: a Hugging Face causal LM, plain or peft-wrapped (anything with
            ``get_decoder()`` and ``get_output_embeddings()``).
        input_ids, attention_mask: (B, T).
        select: (B, T - 1) bool; True at t when the token at t + 1 is a target.
    Returns: (N, V) logits, N = select.sum(), rows in row-major (b, t) order.

    Same numbers as ``model(...).logits[:, :-1][select]``, but the vocabulary projection
    runs on the N target positions only. Responses are a quarter of the tokens of a world
    item, so this skips most of the lm_head matmul, which is a third of a tiny Llama's
    step at vocab 2048 (measured: aten::mm is 54% of a step).
    """
    hidden = model.get_decoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return model.get_output_embeddings()(hidden[:, :-1][select])


def cross_entropy(logits, targets):
    """Mean -log p(target) over N rows: logits (N, V), targets (N,). 0 for N = 0 (never nan)."""
    import torch.nn.functional as F

    if targets.numel() == 0:
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float(), targets)


def topk_kl(logits, topk_ids, topk_logprobs, temperature: float = 1.0):
    """Per-row KL from the teacher's top-k distribution to the student on the same k ids.

        KL_n = Σ_{j≤k} p_j (log p_j − log q_j),
        p = softmax(topk_logprobs_n / T), q = softmax(logits_n[topk_ids_n] / T)

    Args: logits (N, V); topk_ids, topk_logprobs (N, k). Returns (N,).
    """
    import torch

    if temperature <= 0:
        raise bad_input("topk_kd_loss", f"temperature must be > 0, got {temperature}", "use e.g. 1.0")
    s_lp = torch.log_softmax(torch.gather(logits.float(), -1, topk_ids) / temperature, dim=-1)
    t_lp = torch.log_softmax(topk_logprobs.float() / temperature, dim=-1)
    return (t_lp.exp() * (t_lp - s_lp)).sum(-1)


def masked_mean(values, mask):
    """Mean of ``values`` where ``mask`` is True; 0 (not 0/0 = nan) when nothing is masked in."""
    n = mask.sum().clamp(min=1)
    return (values * mask).sum() / n


def sft_loss(logits, labels):
    """Masked token-mean cross-entropy with the causal shift.

    Args:
        logits: (B, T, V) model outputs; ``logits[:, t]`` predicts token ``t + 1``.
        labels: (B, T) token ids, -100 = ignore (prompt and padding).
    Returns: scalar = mean over non-ignored target tokens of -log p(label).
    """
    target = labels[:, 1:]
    select = target != IGNORE
    return cross_entropy(logits[:, :-1][select], target[select])


def topk_kd_loss(student_logits, topk_ids, topk_logprobs, mask, temperature: float = 1.0):
    """Forward KL from the teacher's top-k distribution to the student, on the same k ids.

        L = T² · mean_{tokens} Σ_{j≤k} p_j (log p_j − log q_j),
        p = softmax(topk_logprobs / T)             (teacher top-k, renormalised over its k ids)
        q = softmax(student_logits[ids] / T)       (student restricted to those k ids, renormalised)

    Restricting *both* sides to the teacher's k ids makes L a proper KL ≥ 0 that is exactly
    0 when the student's relative preferences among those ids match the teacher's, and it
    needs no assumption about the teacher's missing tail mass (API teachers only return
    top-k). The student's mass outside the k ids is not penalised here; mix with
    :func:`sft_loss` (``KDConfig.alpha``) to keep pushing it onto the teacher's token.
    T² keeps gradient scale comparable across temperatures (Hinton et al., 2015).

    Args:
        student_logits: (B, T, V); ``student_logits[:, t]`` predicts token ``t + 1``.
        topk_ids, topk_logprobs: (B, T, k) teacher top-k for token t (aligned with labels).
        mask: (B, T) bool, True where token t has a teacher distribution.
        temperature: > 0.
    Returns: scalar, mean over masked tokens (0 if none).
    """
    kl = topk_kl(student_logits[:, :-1], topk_ids[:, 1:], topk_logprobs[:, 1:], temperature)  # (B, T-1)
    return masked_mean(kl, mask[:, 1:]) * temperature**2


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings for :func:`train` (nanoGPT-style AdamW + warmup + cosine).

    lr: peak learning rate (> 0). min_lr_ratio: cosine floor as a fraction of lr, in [0, 1].
    batch_size: sequences per step. max_steps: stop after this many optimizer steps.
    max_train_tokens: stop before exceeding this many trained tokens (prompt + response,
        no padding); the last batch is cut to the sequences that still fit. At least one of
        max_steps / max_train_tokens must be set; the data is cycled (reshuffled each epoch).
    warmup_steps: linear warmup length. weight_decay, beta1, beta2: AdamW. grad_clip: max
        global grad norm (0 = off). max_len: longest sequence accepted by encode helpers.
    """

    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    batch_size: int = 32
    max_steps: int | None = None
    max_train_tokens: int | None = None
    warmup_steps: int = 10
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.98
    grad_clip: float = 1.0
    max_len: int = 512

    def __post_init__(self):
        where = "TrainConfig"
        if not self.lr > 0:
            raise bad_input(f"{where}.lr", f"must be > 0, got {self.lr!r}", "use e.g. 1e-3")
        if not 0 <= self.min_lr_ratio <= 1:
            raise bad_input(f"{where}.min_lr_ratio", f"must be in [0, 1], got {self.min_lr_ratio!r}", "use e.g. 0.1")
        if self.batch_size < 1:
            raise bad_input(f"{where}.batch_size", f"must be >= 1, got {self.batch_size!r}", "use e.g. 32")
        if self.max_steps is None and self.max_train_tokens is None:
            raise bad_input(where, "neither max_steps nor max_train_tokens is set", "set at least one stopping count")
        for name in ("max_steps", "max_train_tokens"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise bad_input(f"{where}.{name}", f"must be >= 0, got {v!r}", "use a non-negative count")
        if self.warmup_steps < 0 or self.grad_clip < 0 or self.max_len < 2:
            raise bad_input(where, "warmup_steps and grad_clip must be >= 0 and max_len >= 2", "fix the values")


@dataclass(frozen=True)
class KDConfig:
    """Top-k KD settings. loss = alpha · topk_kd_loss + (1 − alpha) · sft_loss; temperature > 0."""

    alpha: float = 0.5
    temperature: float = 1.0

    def __post_init__(self):
        if not 0 <= self.alpha <= 1:
            raise bad_input("KDConfig.alpha", f"must be in [0, 1], got {self.alpha!r}", "use e.g. 0.5")
        if not self.temperature > 0:
            raise bad_input("KDConfig.temperature", f"must be > 0, got {self.temperature!r}", "use e.g. 1.0")


@dataclass
class TrainReport:
    """What :func:`train` did: exact counts, the per-step loss log and wall time (seconds)."""

    steps: int
    train_tokens: int  # prompt + response tokens (no padding) of every sequence trained on
    response_tokens: int
    sequences: int
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def final_loss(self) -> float:
        return float(np.mean(self.losses[-10:])) if self.losses else float("nan")

    def to_dict(self) -> dict:
        return {**asdict(self), "final_loss": self.final_loss}


def get_lr(step: int, n_steps: int, cfg: TrainConfig) -> float:
    """1) linear warmup to cfg.lr, 2) cosine decay to min_lr_ratio·lr at the last step."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / (cfg.warmup_steps + 1)
    span = max(1, n_steps - 1 - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (cfg.lr - floor)


def plan_steps(encoded: Sequence[Encoded], cfg: TrainConfig, rng: np.random.Generator) -> list[list[int]]:
    """The exact list of batches (example indices) :func:`train` will run, in order.

    Epochs of :func:`batches` are chained until ``max_steps`` batches, or until the next
    sequence would push the trained tokens past ``max_train_tokens`` (that batch is cut
    to the prefix that fits, and training stops). Planned up front so the cosine schedule
    knows its length and the token count is exact.
    """
    if not encoded:
        raise bad_input("train", "no training examples", "pass at least one example")
    cap_steps = cfg.max_steps if cfg.max_steps is not None else math.inf
    cap_tokens = cfg.max_train_tokens if cfg.max_train_tokens is not None else math.inf
    plan: list[list[int]] = []
    tokens = 0
    while len(plan) < cap_steps:
        for batch in batches(encoded, cfg.batch_size, rng):
            if len(plan) >= cap_steps:
                break
            kept = []
            for i in batch:
                if tokens + encoded[i].n_tokens > cap_tokens:
                    break
                tokens += encoded[i].n_tokens
                kept.append(i)
            if kept:
                plan.append(kept)
            if len(kept) < len(batch):
                return plan
    return plan


def adamw(params: list, cfg: TrainConfig, *, fused: bool | None = None):
    """The optimiser :func:`train` steps: AdamW with ``cfg``'s lr and betas, weight decay on
    matrices only (nanoGPT: not on norms or biases). ``fused`` is torch's choice when None."""
    import torch

    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=fused)


def train(
    model,
    examples: Sequence[Encoded],
    cfg: TrainConfig,
    *,
    seed: int,
    loss: str = "sft",
    kd: KDConfig | None = None,
    pad_id: int | None = None,
    callback: Callable[[int, float, float, int], None] | None = None,
    progress: bool | None = None,
) -> TrainReport:
    """Train ``model`` (plain or peft) in place on ``examples``; deterministic for a seed.

    loss: "sft" (masked CE on the response) or "kd" (needs ``Encoded.topk``; see KDConfig).
    callback(step, loss, lr, train_tokens_so_far) is called after every step.
    progress: tqdm on/off (None = on for a terminal).
    """
    import torch
    from tqdm.auto import tqdm

    from read.rng import rng_for

    if loss not in ("sft", "kd"):
        raise bad_input("train.loss", f"unknown loss {loss!r}", "choose from ['kd', 'sft']")
    kd = kd or KDConfig()
    if loss == "kd" and any(e.topk is None for e in examples):
        raise bad_input("train", "loss='kd' but some examples have no teacher top-k", "generate the batch with top_k_logprobs > 0")
    if pad_id is None:
        pad_id = getattr(model.config, "pad_token_id", None) or 0
    plan = plan_steps(examples, cfg, rng_for(seed, "train", "batches"))
    n_steps = len(plan)
    total = sum(examples[i].n_tokens for b in plan for i in b)
    log.info("train: %d steps, %d sequences, %d tokens (batch %d, lr %.2g, loss %s)",
             n_steps, sum(map(len, plan)), total, cfg.batch_size, cfg.lr, loss)

    torch.manual_seed(torch_seed_for(seed, "train"))
    device = next(model.parameters()).device
    params = [p for p in model.parameters() if p.requires_grad]
    opt = adamw(params, cfg)
    report = TrainReport(steps=0, train_tokens=0, response_tokens=0, sequences=0)
    t0 = time.perf_counter()
    model.train()
    for step, idx in enumerate(tqdm(plan, desc="train", disable=None if progress is None else not progress)):
        # 1) learning rate for this step
        lr = get_lr(step, n_steps, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        # 2) forward / loss
        batch = [examples[i] for i in idx]
        t = {k: v.to(device) for k, v in collate(batch, pad_id).items()}
        # logits only at target positions; the same loss as sft_loss / topk_kd_loss on full logits
        target = t["labels"][:, 1:]
        select = target != IGNORE  # (B, T-1)
        logits = target_logits(model, t["input_ids"], t["attention_mask"], select)  # (N, V)
        value = cross_entropy(logits, target[select])
        if loss == "kd":
            kl = topk_kl(logits, t["topk_ids"][:, 1:][select], t["topk_logprobs"][:, 1:][select], kd.temperature)
            kd_value = masked_mean(kl, t["kd_mask"][:, 1:][select]) * kd.temperature**2
            value = kd.alpha * kd_value + (1 - kd.alpha) * value
        # 3) backward, clip, step
        opt.zero_grad(set_to_none=True)
        value.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        # 4) book-keeping: exact counts
        report.steps += 1
        report.sequences += len(batch)
        report.train_tokens += sum(e.n_tokens for e in batch)
        report.response_tokens += sum(e.n_response_tokens for e in batch)
        report.losses.append(float(value.detach()))
        report.lrs.append(lr)
        if callback is not None:
            callback(step, report.losses[-1], lr, report.train_tokens)
    model.eval()
    report.wall_s = time.perf_counter() - t0
    log.info("train: done, final loss %.4f, %.1f s", report.final_loss, report.wall_s)
    return report


# --------------------------------------------------------------------------- inference


@dataclass(frozen=True)
class Generation:
    """One generated response.

    text: decoded response (special tokens and EOS removed; leading space kept).
    token_ids: generated ids, EOS included if reached. n_tokens: len(token_ids).
    topk: None, or per generated token a list of (id, logprob) from log_softmax of the raw logits.
    finished: True if EOS was generated within max_new_tokens.
    """

    text: str
    token_ids: tuple[int, ...]
    n_tokens: int
    topk: list | None = None
    finished: bool = True


def _left_pad(rows: list[list[int]], pad_id: int):
    import torch

    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    attn = torch.zeros((len(rows), T), dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, T - len(r) :] = torch.tensor(r)
        attn[b, T - len(r) :] = 1
    return ids, attn


def _pad_id(tokenizer, eos: int) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos


def _generation_config(tokenizer, *, max_new_tokens, temperature, top_p, batch_size, top_k_logprobs):
    from transformers import GenerationConfig

    if max_new_tokens < 1 or batch_size < 1 or temperature < 0 or not 0 < top_p <= 1:
        raise bad_input("generate", "need max_new_tokens >= 1, batch_size >= 1, temperature >= 0, 0 < top_p <= 1", "fix the arguments")
    _, eos = _special_ids(tokenizer)
    sample = temperature > 0
    return GenerationConfig(
        max_new_tokens=max_new_tokens, do_sample=sample, temperature=temperature if sample else None,
        top_p=top_p if sample else None, top_k=0 if sample else None, pad_token_id=_pad_id(tokenizer, eos),
        eos_token_id=eos, bos_token_id=tokenizer.bos_token_id, return_dict_in_generate=True,
        output_logits=top_k_logprobs > 0,
    )


class _TokenCap:
    """A transformers stopping criterion: stop the whole batch before its generated tokens
    (EOS included, nothing after a row's EOS) would pass ``cap``."""

    def __init__(self, cap: int, prompt_len: int, eos: int):
        self.cap, self.prompt_len, self.eos = cap, prompt_len, eos

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        new = input_ids[:, self.prompt_len :]
        is_eos = new == self.eos
        done = is_eos.any(1)
        first = torch.where(done, is_eos.int().argmax(1) + 1, torch.full_like(done, new.size(1), dtype=torch.long))
        next_step = int((~done).sum())  # one more token for every unfinished row
        stop = int(first.sum()) + next_step > self.cap
        return torch.full((input_ids.size(0),), stop, dtype=torch.bool, device=input_ids.device)


def _to_generation(tokenizer, toks: list[int], topk: list | None, eos: int) -> Generation:
    """A Generation from generated ids (cut after the first EOS)."""
    finished = eos in toks
    toks = toks[: toks.index(eos) + 1] if finished else toks
    body = toks[:-1] if finished else toks
    text = tokenizer.decode(body, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    return Generation(text, tuple(toks), len(toks), topk[: len(toks)] if topk is not None else None, finished)


def _generate_batch(model, tokenizer, prompts: list[list[int]], gcfg, seed: int, top_k_logprobs: int,
                    max_new_tokens: int, cap: int | None = None) -> list[Generation]:
    """One ``model.generate`` call on token-id prompts (left-padded); a Generation per prompt."""
    import torch
    from transformers import StoppingCriteriaList

    _, eos = _special_ids(tokenizer)
    ids, attn = _left_pad(prompts, gcfg.pad_token_id)
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    stop = StoppingCriteriaList([_TokenCap(cap, ids.size(1), eos)]) if cap is not None else None
    gcfg = copy.copy(gcfg)  # this call's length; the rest of the config is shared
    gcfg.max_new_tokens = max_new_tokens
    out = model.generate(input_ids=ids.to(device), attention_mask=attn.to(device), generation_config=gcfg,
                         stopping_criteria=stop)
    new = out.sequences[:, ids.size(1) :].cpu()
    lps = torch.stack(out.logits, 1).float().log_softmax(-1).cpu() if top_k_logprobs > 0 else None  # (b, steps, V)
    gens = []
    for b in range(len(prompts)):
        topk = None
        if lps is not None:
            vals, tids = lps[b].topk(top_k_logprobs, dim=-1)
            topk = [list(zip(t.tolist(), v.tolist())) for t, v in zip(tids, vals)]
        gens.append(_to_generation(tokenizer, new[b].tolist(), topk, eos))
    return gens


def _joined(tokenizer, head: Generation, tail: Generation) -> Generation:
    """A row's first segment followed by its continuation."""
    _, eos = _special_ids(tokenizer)
    topk = head.topk + tail.topk if head.topk is not None else None
    return _to_generation(tokenizer, list(head.token_ids + tail.token_ids), topk, eos)


def _decode(model, tokenizer, prompts: list[list[int]], order: list[int], gcfg, *, max_new_tokens: int,
            batch_size: int, seed: int, top_k_logprobs: int, cap: int | None, segment: int | None) -> dict:
    """Generations for a prefix of ``order``, ``{prompt index: Generation}``, within ``cap`` tokens.

    Why segments: a batch decodes until its longest answer ends, and world answers are
    short with a long tail (mean ~5 tokens, p99 ~30), so one straggler keeps 63 finished
    rows stepping. Every batch therefore first decodes ``segment`` tokens; the rows still
    open then wait, and once a batch's worth has gathered (or the prompts or the budget
    run out) they continue together from prompt + their first segment. Greedy answers
    are the same as in one pass (the continuation recomputes the same prefix). Measured:
    segments of 8 give the embedded teacher 1.6x the tokens/s (benchmarks/generate_batch.py).

    With a budget: the first batch fits even if every answer runs to max_new_tokens;
    later ones hold about what is left, after what the open rows are expected to need,
    at the mean answer length so far. The call reaching the budget stops at once
    (:class:`_TokenCap`); its open rows, and any still waiting, come back unfinished.
    """
    seg = segment if segment and segment < max_new_tokens else max_new_tokens
    done: dict[int, Generation] = {}
    waiting: dict[int, Generation] = {}  # open rows after their first segment
    left = math.inf if cap is None else int(cap)
    pos = calls = 0
    tails: list[int] = []  # tokens the continued rows needed after their first segment

    def run(idx: list[int], rows: list[list[int]], new_tokens: int) -> list[Generation]:
        nonlocal left, calls
        gens = _generate_batch(model, tokenizer, rows, gcfg, torch_seed_for(seed, "generate", calls), top_k_logprobs,
                               new_tokens, cap=None if cap is None else int(left))
        calls += 1
        left -= sum(g.n_tokens for g in gens)
        return gens

    while True:
        open_need = len(waiting) * (np.mean(tails) if tails else max_new_tokens - seg)
        free = left - open_need
        if pos == len(order) or left <= 0:
            size = 0
        elif cap is None:
            size = min(batch_size, len(order) - pos)
        else:
            mean = sum(g.n_tokens for g in done.values()) / len(done) if done else None
            fits = free // max_new_tokens if mean is None else math.ceil(free / max(mean, 1.0))
            size = int(max(0 if waiting else 1, min(batch_size, len(order) - pos, fits)))
        if waiting and (len(waiting) >= batch_size or size == 0) and left > 0:
            # each continued row takes a token on the first step, before _TokenCap can stop it
            idx = list(waiting)[: min(batch_size, left)]
            gens = run(idx, [prompts[i] + list(waiting[i].token_ids) for i in idx], max_new_tokens - seg)
            cut = any(not g.finished and g.n_tokens < max_new_tokens - seg for g in gens)
            for i, g in zip(idx, gens):
                done[i] = _joined(tokenizer, waiting.pop(i), g)
                tails.append(g.n_tokens)
            if cut:
                break  # the budget stopped this call
            continue
        if size == 0:
            break
        idx = order[pos : pos + size]
        pos += size
        gens = run(idx, [prompts[i] for i in idx], seg)
        cut = any(not g.finished and g.n_tokens < seg for g in gens)
        for i, g in zip(idx, gens):
            if g.finished or g.n_tokens < seg or seg == max_new_tokens:
                done[i] = g
            else:
                waiting[i] = g
        if cut:
            break
    done.update(waiting)  # rows the budget left open: unfinished
    return done


def generate(
    model,
    tokenizer,
    prompt_texts: Sequence[str],
    *,
    max_new_tokens: int,
    max_total_tokens: int | None = None,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int = 0,
    batch_size: int = 64,
    top_k_logprobs: int = 0,
    segment: int | None = 8,
    add_bos: bool = True,
) -> list[Generation]:
    """Batched generation with left padding and the KV cache, results in input order.

    temperature 0 = greedy (deterministic). Sampling draws from a torch RNG seeded from
    ``seed`` inside a forked RNG state, so global torch state is untouched. Generation stops
    at EOS (counted in n_tokens) or after max_new_tokens. Answers longer than ``segment``
    tokens finish in a second pass with the other long ones (see :func:`_decode`; None: one
    pass).

    Without ``max_total_tokens``: one Generation per prompt; prompts are batched by length.
    With it (a token budget): Generations for a prefix of the prompts, Σ n_tokens ≤
    ``max_total_tokens``. Prompts are then taken in the given order (no length sort, so
    which ones get answered does not depend on their length), and the call that reaches
    the budget stops at once; rows it leaves open come back with ``finished=False`` and
    count in full. ``add_bos``: as :func:`encode_prompts`.
    """
    import torch

    gcfg = _generation_config(tokenizer, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                              batch_size=batch_size, top_k_logprobs=top_k_logprobs)
    prompts = encode_prompts(tokenizer, prompt_texts, add_bos=add_bos)
    order = list(range(len(prompts)))
    if max_total_tokens is None:
        order.sort(key=lambda i: len(prompts[i]))
    model.eval()
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        done = _decode(model, tokenizer, prompts, order, gcfg, max_new_tokens=max_new_tokens, batch_size=batch_size,
                       seed=seed, top_k_logprobs=top_k_logprobs, cap=max_total_tokens, segment=segment)
    return [done[i] for i in range(len(done))]


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
