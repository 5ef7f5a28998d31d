"""Training: nanoGPT-style AdamW with warmup and cosine decay, stopping on exact step and token counts.

:func:`train` steps a model (plain or peft-wrapped) in place on :class:`~read.lm.encoding.Encoded`
examples with the SFT or top-k KD loss of :mod:`read.lm.losses`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from read.errors import bad_input
from read.lm.encoding import Encoded, batches, collate
from read.lm.losses import target_logits, target_position_loss, target_positions
from read.rng import torch_seed_for

log = logging.getLogger(__name__)


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
    grad_accum: micro-batches per optimizer step (each step's ``batch_size`` sequences are
        split into this many forward/backward passes, so memory holds one micro-batch).
    autocast: "bfloat16" or "float16" runs the forward pass under ``torch.autocast`` (bf16 on
        CUDA for an 8B student); None keeps the weights' dtype.
    gradient_checkpointing: recompute activations in the backward pass (HF
        ``gradient_checkpointing_enable``): less memory, about a third more compute.
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
    grad_accum: int = 1
    autocast: str | None = None
    gradient_checkpointing: bool = False

    def __post_init__(self):
        where = "TrainConfig"
        if self.grad_accum < 1 or self.grad_accum > self.batch_size:
            raise bad_input(f"{where}.grad_accum", f"must be in [1, batch_size], got {self.grad_accum!r}", "use e.g. 4")
        if self.autocast not in (None, "bfloat16", "float16"):
            raise bad_input(f"{where}.autocast", f"unknown dtype {self.autocast!r}", "choose bfloat16, float16 or null")
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

    loss: "sft" (masked CE on the response) or "kd" (needs ``Encoded.topk``; see KDConfig);
        each step's value is :func:`read.lm.losses.target_position_loss` on :func:`target_logits`.
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
    if cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    cast = (torch.autocast(device_type=device.type, dtype=getattr(torch, cfg.autocast)) if cfg.autocast
            else contextlib.nullcontext())
    t0 = time.perf_counter()
    model.train()
    for step, idx in enumerate(tqdm(plan, desc="train", disable=None if progress is None else not progress)):
        # 1) learning rate for this step
        lr = get_lr(step, n_steps, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        # 2) forward / loss / backward, per micro-batch
        batch = [examples[i] for i in idx]
        opt.zero_grad(set_to_none=True)
        value = _accumulate(model, batch, cfg.grad_accum, pad_id, device, cast, loss, kd)
        # 3) clip, step
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


def _accumulate(model, batch: Sequence[Encoded], grad_accum: int, pad_id: int, device, cast, loss: str, kd: KDConfig):
    """Forward and backward over ``batch`` in ``grad_accum`` micro-batches; returns the step's loss.

    Each micro-batch's loss (a mean over its target tokens) is weighted by its share of the
    batch's target tokens, so the gradient is that of the whole batch's mean: exactly for
    SFT, and for KD up to the EOS positions that have no teacher distribution. With one
    micro-batch this is the plain step, operation for operation.
    """
    chunks = [list(batch[i::grad_accum]) for i in range(grad_accum)] if grad_accum > 1 else [list(batch)]
    chunks = [c for c in chunks if c]
    targets = sum(e.n_response_tokens for e in batch)
    total = None
    for chunk in chunks:
        t = {k: v.to(device) for k, v in collate(chunk, pad_id).items()}
        with cast:
            # logits only at target positions; the same loss as sft_loss / topk_kd_loss on full logits
            logits = target_logits(model, t["input_ids"], t["attention_mask"], target_positions(t["labels"]))  # (N, V)
            kd_targets = (t["topk_ids"], t["topk_logprobs"], t["kd_mask"]) if loss == "kd" else None
            value = target_position_loss(logits, t["labels"], kd_targets, alpha=kd.alpha, temperature=kd.temperature)
        if len(chunks) > 1:
            value = value * (sum(e.n_response_tokens for e in chunk) / targets)
        value.backward()
        total = value.detach() if total is None else total + value.detach()
    return total

