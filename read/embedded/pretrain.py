"""Pretraining the embedded teacher and the initial student S0 on gold world items.

Data: distinct gold items from the world's ``pretrain`` split, the same number for every
capability (so batches are uniform over capabilities in expectation); nested items come
in at the world's own rate. A fraction ``cot_fraction`` is rendered in CoT form
(``render_prompt(cot=True)`` + ``item.response(cot=True)``) so the models know both
signals. A tokenizer with a chat template makes a chat model: every item is rendered
through the template instead. Training is step-bounded and seeded, so the same call gives
the same weights.

The checkpoint directory holds the HF model plus ``pretrain_log.json`` (spec, config,
counts, loss curve, wall time), written atomically together.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from read.capabilities import CAPABILITIES
from read.config import from_mapping
from read.errors import bad_input
from read.io import atomic_path, read_json, write_json
from read.rng import rng_for

log = logging.getLogger(__name__)

LOG_NAME = "pretrain_log.json"


@dataclass(frozen=True)
class PretrainConfig:
    """How a tiny model is pretrained (see read.lm.TrainConfig for the optimiser fields).

    steps: optimizer steps (the stopping rule; never wall-clock). batch_size: sequences per
    step. lr / min_lr_ratio / warmup_steps / weight_decay: AdamW + warmup + cosine.
    cot_fraction: share of items rendered in CoT form, in [0, 1]. items_per_capability:
    distinct gold items drawn per capability (cycled for as many epochs as steps need).
    max_len: longest sequence in tokens (longer items are an error). threads: torch CPU
    threads while training (None = leave torch's default). log_every: loss-curve resolution.
    prompt_loss: also train on prompt tokens (plain language modelling of the whole text)
    instead of the response only.
    """

    steps: int = 6000
    batch_size: int = 32
    lr: float = 3e-3
    min_lr_ratio: float = 0.05
    warmup_steps: int = 100
    weight_decay: float = 0.0
    cot_fraction: float = 0.2
    items_per_capability: int = 4000
    max_len: int = 384
    threads: int | None = 2
    log_every: int = 50
    prompt_loss: bool = False

    def __post_init__(self):
        where = "PretrainConfig"
        if self.steps < 1 or self.batch_size < 1 or self.items_per_capability < 1 or self.log_every < 1:
            raise bad_input(where, "steps, batch_size, items_per_capability and log_every must be >= 1", "fix the values")
        if not 0 <= self.cot_fraction <= 1:
            raise bad_input(f"{where}.cot_fraction", f"must be in [0, 1], got {self.cot_fraction!r}", "use e.g. 0.2")
        if self.threads is not None and self.threads < 1:
            raise bad_input(f"{where}.threads", f"must be >= 1 or null, got {self.threads!r}", "use e.g. 2")

    @classmethod
    def from_dict(cls, d: dict, where: str = "pretrain config") -> PretrainConfig:
        return from_mapping(cls, d, where)

    def train_config(self):
        from read.lm import TrainConfig

        return TrainConfig(lr=self.lr, min_lr_ratio=self.min_lr_ratio, batch_size=self.batch_size, max_steps=self.steps,
                           warmup_steps=self.warmup_steps, weight_decay=self.weight_decay, max_len=self.max_len)


def world_texts(items_per_capability: int, cot_fraction: float, seed: int, split: str = "pretrain",
                fmt=None) -> tuple[list[str], list[str], list[str]]:
    """(prompt texts, response texts, capability) for gold items of every capability, interleaved.

    ``items_per_capability`` distinct items per capability from ``split``; each is rendered
    in CoT form with probability ``cot_fraction`` (a seeded draw per item), in the prompt
    format ``fmt`` (default raw; a tokenizer with a chat template trains a chat model).
    """
    from read.embedded import sample_items
    from read.prompting import RAW

    fmt = fmt or RAW

    prompts, responses, caps = [], [], []
    for cap in CAPABILITIES:
        items = sample_items(cap, split, items_per_capability, seed)
        cot = rng_for(seed, "pretrain", "cot", cap).random(len(items)) < cot_fraction
        for item, c in zip(items, cot):
            prompts.append(fmt.prompt(item.prompt, cot=bool(c)))
            responses.append(fmt.response(item.response(cot=bool(c))))
            caps.append(cap)
    return prompts, responses, caps


def _progress_logger(n_steps: int):
    """A train() callback logging every ~10% of the run (the log file shows progress; tqdm may be off)."""
    every = max(1, n_steps // 10)
    t0 = time.perf_counter()

    def callback(step: int, loss: float, lr: float, tokens: int) -> None:
        if (step + 1) % every == 0:
            dt = time.perf_counter() - t0
            log.info("step %d/%d loss %.3f lr %.2e tokens %d (%.0f tok/s)", step + 1, n_steps, loss, lr, tokens, tokens / dt)

    return callback


def pretrain(tokenizer_dir: str | os.PathLike, spec, cfg: PretrainConfig, out_dir: str | os.PathLike, seed: int) -> dict:
    """Build ``spec`` from scratch, pretrain it on gold world items, save it to ``out_dir``.

    Returns the log dict also written to ``out_dir/pretrain_log.json``.
    """
    import torch

    from read import lm
    from read.embedded.models import build_model, n_params
    from read.embedded.tokenizer import load_tokenizer
    from read.prompting import PromptFormat

    t0 = time.perf_counter()
    tok = load_tokenizer(tokenizer_dir)
    fmt = PromptFormat.for_tokenizer(tok)
    prompts, responses, caps = world_texts(cfg.items_per_capability, cfg.cot_fraction, seed, fmt=fmt)
    enc = lm.encode_pairs(tok, prompts, responses, cfg.max_len, add_bos=fmt.add_bos)
    if cfg.prompt_loss:
        enc = [replace(e, labels=e.input_ids) for e in enc]
    t_data = time.perf_counter() - t0
    model = build_model(spec, len(tok), seed, pad_id=tok.pad_token_id, bos_id=tok.bos_token_id, eos_id=tok.eos_token_id)
    threads = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    try:
        report = lm.train(model, enc, cfg.train_config(), seed=seed, pad_id=tok.pad_token_id,
                          callback=_progress_logger(cfg.steps))
    finally:
        torch.set_num_threads(threads)
    k = cfg.log_every
    curve = [[min(s + k, report.steps), sum(report.losses[s : s + k]) / len(report.losses[s : s + k])]
             for s in range(0, report.steps, k)]
    result = {
        "spec": spec.to_dict(),
        "config": asdict(cfg),
        "seed": seed,
        "tokenizer": str(Path(tokenizer_dir)),
        "vocab_size": len(tok),
        "n_params": n_params(model),
        "n_items": len(enc),
        "n_items_per_capability": {c: caps.count(c) for c in CAPABILITIES},
        "steps": report.steps,
        "sequences": report.sequences,
        "train_tokens": report.train_tokens,
        "response_tokens": report.response_tokens,
        "final_loss": report.final_loss,
        "loss_curve": curve,
        "data_s": round(t_data, 2),
        "train_s": round(report.wall_s, 2),
        "tokens_per_s": round(report.train_tokens / max(report.wall_s, 1e-9)),
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        write_json(tmp / LOG_NAME, result)
    log.info("pretrain: %d params, %d steps, loss %.3f, %.1f s -> %s", result["n_params"], report.steps,
             report.final_loss, result["wall_s"], out_dir)
    return result


def read_pretrain_log(model_dir: str | os.PathLike) -> dict:
    return read_json(Path(model_dir) / LOG_NAME)
