"""One interval of student training: a teacher batch in, a checkpoint out, every token counted.

``train_on_batch`` checks every batch row against the student tokenizer first (a bad row is
a ReadError naming file:line, never skipped), loads the student (full model, or base + the
previous interval's LoRA adapter), trains it with :func:`read.lm.train` until the next
sequence would pass ``max_train_tokens``, and writes the new checkpoint atomically.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from read.capabilities import INDEX
from read.config import from_mapping
from read.errors import ReadError, bad_input
from read.io import read_json, read_jsonl
from read.prompting import CHAT_TEMPLATE_MODES, RAW, PromptFormat
from read.rng import torch_seed_for
from read.signals import get_signal

log = logging.getLogger(__name__)


class TopkMisaligned(ReadError):
    """A generation whose top-k rows cannot be lined up with the student's tokens."""

BATCH_KEYS = ("capability", "template", "difficulty", "prompt", "response", "prompt_tokens", "response_tokens", "topk")


@dataclass(frozen=True)
class StudentConfig:
    """`models.student` section.

    path, tokenizer: S0's checkpoint and tokenizer directories (the rules pass the same
        paths as inputs; the training functions take them as arguments).
    mode: "full" fine-tuning or "lora" (peft; the adapter carries over between intervals).
    lora_r, lora_alpha, lora_dropout, target_modules: peft ``LoraConfig`` (mode "lora").
    loss: "sft" (masked CE on the response) or "kd" (KL to the teacher's top-k per response
        token; needs rows with ``topk`` and the same tokenizer as the teacher).
    kd_alpha: KD weight; the loss is kd_alpha·KL + (1 − kd_alpha)·CE (0 = pure CE).
    kd_temperature: > 0, softens both distributions (loss scaled by T²).
    lr, min_lr_ratio, batch_size, warmup_steps, weight_decay, grad_clip, max_len: as
        ``read.lm.TrainConfig``. max_steps: optional step cap on top of the token budget.
    dtype, device: where the student lives ("float32" and "cpu" for the embedded world).
    threads: torch CPU threads during training (None = leave torch's default).
    chat_template: "auto" trains on prompts rendered through the student tokenizer's chat
        template when it has one (loss on the assistant turn only); "none" keeps the raw format.
    grad_accum, autocast, gradient_checkpointing: as ``read.lm.TrainConfig``; what an 8B
        student on one GPU needs (e.g. dtype bfloat16 or autocast bfloat16, grad_accum 4,
        gradient_checkpointing true).
    keep_checkpoints: "last" (full fine-tuning keeps only each run's last checkpoint; the
        workflow marks the others temp) or "all".
    """

    path: str | None = None
    tokenizer: str | None = None
    mode: str = "full"
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    loss: str = "sft"
    kd_alpha: float = 0.5
    kd_temperature: float = 1.0
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    batch_size: int = 32
    warmup_steps: int = 10
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_len: int = 512
    max_steps: int | None = None
    dtype: str = "float32"
    device: str = "cpu"
    threads: int | None = None
    chat_template: str = "auto"
    grad_accum: int = 1
    autocast: str | None = None
    gradient_checkpointing: bool = False
    keep_checkpoints: str = "last"

    def __post_init__(self):
        w = "models.student"
        if self.keep_checkpoints not in ("last", "all"):
            raise bad_input(f"{w}.keep_checkpoints", f"unknown value {self.keep_checkpoints!r}", "choose 'last' or 'all'")
        if self.chat_template not in CHAT_TEMPLATE_MODES:
            raise bad_input(f"{w}.chat_template", f"unknown value {self.chat_template!r}",
                            f"choose from {list(CHAT_TEMPLATE_MODES)}")
        if self.mode not in ("full", "lora"):
            raise bad_input(f"{w}.mode", f"unknown mode {self.mode!r}", "choose 'full' or 'lora'")
        if self.loss not in ("sft", "kd"):
            raise bad_input(f"{w}.loss", f"unknown loss {self.loss!r}", "choose 'sft' or 'kd'")
        if self.lora_r < 1 or self.lora_alpha <= 0 or not 0 <= self.lora_dropout < 1:
            raise bad_input(f"{w}.lora_*", "need lora_r >= 1, lora_alpha > 0, 0 <= lora_dropout < 1", "fix them")
        if isinstance(self.target_modules, str) or not self.target_modules:
            raise bad_input(f"{w}.target_modules", f"need a non-empty list, got {self.target_modules!r}",
                            "e.g. [q_proj, v_proj]")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        if self.threads is not None and self.threads < 1:
            raise bad_input(f"{w}.threads", f"must be >= 1 or null, got {self.threads}", "fix it")
        self.train_config(0)  # validates the optimisation fields
        self.kd_config()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "student") -> StudentConfig:
        """Build from a config mapping; unknown keys are an error listing the valid ones."""
        return from_mapping(cls, d, where)

    def to_dict(self) -> dict:
        """Every field as plain values (rule params; ``from_dict`` rebuilds the config)."""
        return {**asdict(self), "target_modules": list(self.target_modules)}

    def train_config(self, max_train_tokens: int):
        from read.lm import TrainConfig

        return TrainConfig(lr=self.lr, min_lr_ratio=self.min_lr_ratio, batch_size=self.batch_size,
                           max_steps=self.max_steps, max_train_tokens=max_train_tokens,
                           warmup_steps=self.warmup_steps, weight_decay=self.weight_decay,
                           grad_clip=self.grad_clip, max_len=self.max_len, grad_accum=self.grad_accum,
                           autocast=self.autocast, gradient_checkpointing=self.gradient_checkpointing)

    def kd_config(self):
        from read.lm import KDConfig

        return KDConfig(alpha=self.kd_alpha, temperature=self.kd_temperature)

    def prompt_format(self, tokenizer) -> PromptFormat:
        """How this student reads prompts, given its tokenizer."""
        return PromptFormat.for_tokenizer(tokenizer, self.chat_template)


@dataclass
class TrainReport:
    """One interval's training (``read.lm.TrainReport`` plus batch-level facts), JSON-ready."""

    mode: str
    loss: str
    seed: int
    rows: int
    max_train_tokens: int
    train_tokens: int  # prompt + response tokens trained on, student tokenizer, no padding
    response_tokens: int
    sequences: int
    steps: int
    trainable_params: int
    losses: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def final_loss(self) -> float:
        return float(sum(self.losses[-10:]) / len(self.losses[-10:])) if self.losses else float("nan")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["final_loss"] = None if math.isnan(self.final_loss) else self.final_loss
        return d


# --------------------------------------------------------------------------- batch rows


def batch_row(item: Any, gen: Any, tokenizer, *, signal: str, fmt: PromptFormat = RAW) -> dict:
    """The batch row for one sampled item and its teacher Generation, counted with the STUDENT tokenizer.

    ``item`` needs capability, template, difficulty, prompt (a ``read.templates.PoolItem``);
    ``gen`` is a ``read.lm.Generation``; ``fmt`` is the student's prompt format. Counts are
    what :func:`encode_rows` checks: prompt_tokens = the prompt as the student reads it
    (BOS + raw text, or its chat template), response_tokens = response + EOS. For signal
    "logit" the teacher's ids must be exactly the student's tokenisation of the text plus
    EOS (same tokenizer, finished generation); otherwise the top-k rows would not line up
    with the trained tokens, and this raises :class:`TopkMisaligned` (drop that item).
    """
    from read.lm import encode_pairs

    sig = get_signal(signal)
    response = fmt.response(gen.text)  # the teacher's text as the student's format writes a response
    (enc,) = encode_pairs(tokenizer, [fmt.prompt(item.prompt, cot=sig.rationale)], [response], 1 << 30,
                          add_bos=fmt.add_bos)
    topk = None
    if sig.topk:
        ids = enc.input_ids[enc.n_prompt_tokens:]
        if gen.topk is None or tuple(ids) != tuple(gen.token_ids) or len(gen.topk) != len(ids):
            why = "the generation hit max_new_tokens (no EOS)" if not gen.finished else "its ids differ from the student's tokenisation"
            raise TopkMisaligned(str(bad_input(f"{item.template}: {item.prompt[:40]!r}", f"teacher top-k cannot be aligned: {why}",
                                 "drop this item, raise max_new_tokens, or use one tokenizer for teacher and student")))
        topk = [[[int(t), float(lp)] for t, lp in step] for step in gen.topk]
    return {"capability": item.capability, "template": item.template, "difficulty": item.difficulty,
            "prompt": item.prompt, "response": response, "prompt_tokens": enc.n_prompt_tokens,
            "response_tokens": enc.n_response_tokens, "topk": topk}


def _check_row(row: Mapping[str, Any], where: str, kd: bool) -> None:
    missing = [k for k in BATCH_KEYS if k not in row]
    if missing:
        raise bad_input(where, f"missing key(s) {missing}", f"every batch row needs {list(BATCH_KEYS)}")
    for key in ("capability", "template", "prompt", "response"):
        if not isinstance(row[key], str):
            raise bad_input(where, f"{key!r} must be a string, got {type(row[key]).__name__}", "regenerate the batch")
    if row["capability"] not in INDEX:
        raise bad_input(where, f"unknown capability {row['capability']!r}", "regenerate the batch")
    if row["difficulty"] not in ("easy", "medium", "hard"):
        raise bad_input(where, f"difficulty must be easy|medium|hard, got {row['difficulty']!r}", "regenerate the batch")
    for key in ("prompt_tokens", "response_tokens"):
        v = row[key]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise bad_input(where, f"{key!r} must be an integer >= 1, got {v!r}", "regenerate the batch")
    tk = row["topk"]
    if tk is None:
        if kd:
            raise bad_input(where, "loss 'kd' needs teacher top-k but 'topk' is null", "generate the batch with signal 'logit' or 'cot_logit'")
        return
    if not isinstance(tk, list) or len(tk) != row["response_tokens"]:
        n = len(tk) if isinstance(tk, list) else type(tk).__name__
        raise bad_input(where, f"'topk' needs one list per response token ({row['response_tokens']}), got {n}",
                        "regenerate the batch")
    k = None
    for step in tk:
        ok = isinstance(step, list) and step and all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], int) and not isinstance(p[0], bool)
            and isinstance(p[1], (int, float)) and math.isfinite(p[1]) for p in step)
        if not ok or (k is not None and len(step) != k):
            raise bad_input(where, "'topk' entries must be equal-length lists of [token_id, logprob]", "regenerate the batch")
        k = len(step)


def load_rows(batch: str | os.PathLike | Sequence[Mapping[str, Any]]) -> list[tuple[str, dict]]:
    """Batch rows with where-labels: ``file:line`` for a JSONL path, ``rows[i]`` for a list.

    A JSONL batch's teacher top-k comes from its binary sidecar when one lies beside it
    (:mod:`read.topk_store`)."""
    from read import topk_store

    if isinstance(batch, (str, os.PathLike)):
        path = Path(batch)
        rows = read_jsonl(path)
        lines = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
        out = [(f"{path}:{n}", r) for n, r in zip(lines, rows)]
        sidecar = topk_store.sidecar_path(path)
        return topk_store.attach(out, sidecar) if sidecar.is_file() else out
    return [(f"rows[{i}]", dict(r)) for i, r in enumerate(batch)]


def encode_rows(tokenizer, rows: Sequence[tuple[str, dict]], *, signal: str, kd: bool, max_len: int,
                vocab_size: int | None = None, fmt: PromptFormat = RAW):
    """Validate rows against the student tokenizer and encode them (``read.lm.Encoded``).

    The row counts must equal what :func:`read.lm.encode_pairs` gives for the student:
    ``prompt_tokens`` = ``fmt.prompt(prompt, cot=signal == "cot")`` tokens (BOS first in
    the raw format), ``response_tokens`` = response tokens + EOS. A mismatch means the batch
    was made with another tokenizer, prompt format or signal, and is an error naming the row.
    """
    from read.lm import encode_pairs, encode_prompts

    rationale = get_signal(signal).rationale
    if not rows:
        raise bad_input("batch", "no rows", "generate a non-empty batch")
    for where, row in rows:
        _check_row(row, where, kd)
    prompts = [fmt.prompt(r["prompt"], cot=rationale) for _, r in rows]
    responses = [r["response"] for _, r in rows]
    n_prompt = [len(ids) for ids in encode_prompts(tokenizer, prompts, add_bos=fmt.add_bos)]
    n_resp = [len(ids) + 1 for ids in tokenizer(responses, add_special_tokens=False)["input_ids"]]
    for (where, row), p, r in zip(rows, n_prompt, n_resp):
        if (row["prompt_tokens"], row["response_tokens"]) != (p, r):
            raise bad_input(where, f"token counts (prompt {row['prompt_tokens']}, response {row['response_tokens']}) "
                            f"!= student tokenizer's ({p}, {r}) for signal {signal!r}",
                            "regenerate the batch with the student tokenizer, its prompt format and this signal")
        if p + r > max_len:
            raise bad_input(where, f"{p} + {r} tokens > student.max_len {max_len}", "raise max_len or shorten responses")
        if kd and vocab_size is not None and any(t >= vocab_size or t < 0 for step in row["topk"] for t, _ in step):
            raise bad_input(where, f"top-k token id outside the student vocabulary ({vocab_size})",
                            "teacher and student must share a tokenizer for logit KD")
    topk = [r["topk"] for _, r in rows] if kd else None
    return encode_pairs(tokenizer, prompts, responses, max_len, topk=topk, add_bos=fmt.add_bos)


# --------------------------------------------------------------------------- training


def _lora(model, cfg: StudentConfig, init_dir, seed: int):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model

    from read.students.checkpoint import is_adapter

    if init_dir is not None:
        if not is_adapter(init_dir):
            raise bad_input(str(init_dir), "student.mode is 'lora' but this is not a LoRA adapter",
                            "pass the previous interval's adapter, or use mode 'full'")
        saved = read_json(Path(init_dir) / "adapter_config.json")
        got = (saved.get("r"), sorted(saved.get("target_modules") or []))
        want = (cfg.lora_r, sorted(cfg.target_modules))
        if got != want:
            raise bad_input(str(init_dir), f"adapter has (r, target_modules) = {got}, config asks for {want}",
                            "keep student.lora_* fixed within a run, or start from the base (init_dir None)")
        return PeftModel.from_pretrained(model, str(init_dir), is_trainable=True)
    torch.manual_seed(torch_seed_for(seed, "lora-init"))  # LoRA A matrices are random
    lcfg = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=list(cfg.target_modules), task_type="CAUSAL_LM")
    try:
        return get_peft_model(model, lcfg)
    except ValueError as err:
        raise bad_input("student.target_modules", f"{list(cfg.target_modules)} do not fit this model ({err})",
                        "name modules the model has, e.g. q_proj, v_proj for Llama") from None


def train_on_batch(base_dir: str | os.PathLike, init_dir: str | os.PathLike | None,
                   batch: str | os.PathLike | Sequence[Mapping[str, Any]], out_dir: str | os.PathLike,
                   cfg: StudentConfig, seed: int, max_train_tokens: int, *, signal: str = "resp",
                   tokenizer_dir: str | os.PathLike | None = None,
                   teacher_tokenizer: str | os.PathLike | None = None,
                   progress: bool | None = None) -> TrainReport:
    """Train the student on one interval's batch and save the checkpoint at ``out_dir``.

    Args:
        base_dir: the initial student S0 (full checkpoint, with its tokenizer unless
            ``tokenizer_dir`` is given).
        init_dir: the previous interval's checkpoint (full model, or LoRA adapter in lora
            mode), or None in the first interval.
        batch: ``batch.jsonl`` path or rows (see the data model in the contracts).
        max_train_tokens: trained tokens (prompt + response, no padding, student tokenizer)
            never exceed this; the batch is cycled, reshuffled per epoch, until the next
            sequence would not fit (``read.lm.plan_steps``).
        signal: the signal the batch was generated with ("cot" rows were prompted with the
            CoT cue, so the student is trained on that same prompt).
        teacher_tokenizer: the teacher's tokenizer directory; required for loss "kd", whose
            top-k ids are only meaningful if it equals the student's (checked by fingerprint).
    Returns: TrainReport. ``out_dir`` holds a full model + tokenizer, or only the adapter.
    """
    import torch

    from read.lm import train
    from read.students.checkpoint import load_causal_lm, load_tokenizer, save_checkpoint, tokenizer_fingerprint

    if max_train_tokens < 0:
        raise bad_input("max_train_tokens", f"must be >= 0, got {max_train_tokens}", "fix the budget plan")
    kd = cfg.loss == "kd"
    tok = load_tokenizer(tokenizer_dir or base_dir)
    if kd:
        if teacher_tokenizer is None:
            raise bad_input("student.loss", "'kd' needs the teacher tokenizer to check it matches the student's",
                            "pass teacher_tokenizer (the teacher's tokenizer directory)")
        if tokenizer_fingerprint(teacher_tokenizer) != tokenizer_fingerprint(tok):
            raise bad_input(str(teacher_tokenizer), f"teacher tokenizer differs from the student's ({tokenizer_dir or base_dir})",
                            "logit KD needs one shared tokenizer; use loss 'sft' or a same-family teacher")
    rows = load_rows(batch)
    if init_dir is not None and not Path(init_dir).is_dir():
        raise bad_input(str(init_dir), "previous checkpoint not found", "rerun the previous interval")
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    if cfg.mode == "lora":
        model = _lora(load_causal_lm(base_dir, dtype=cfg.dtype, device=cfg.device), cfg, init_dir, seed)
    else:
        model = load_causal_lm(init_dir if init_dir is not None else base_dir, dtype=cfg.dtype, device=cfg.device)
    vocab = model.get_input_embeddings().num_embeddings
    encoded = encode_rows(tok, rows, signal=signal, kd=kd, max_len=cfg.max_len, vocab_size=vocab,
                          fmt=cfg.prompt_format(tok))
    log.info("student %s/%s: %d rows, %d tokens in batch, budget %d", cfg.mode, cfg.loss, len(rows),
             sum(e.n_tokens for e in encoded), max_train_tokens)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rep = train(model, encoded, cfg.train_config(max_train_tokens), seed=seed, loss=cfg.loss,
                kd=cfg.kd_config(), pad_id=pad, progress=progress)
    save_checkpoint(model, out_dir, tok)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return TrainReport(mode=cfg.mode, loss=cfg.loss, seed=seed, rows=len(rows), max_train_tokens=max_train_tokens,
                       train_tokens=rep.train_tokens, response_tokens=rep.response_tokens, sequences=rep.sequences,
                       steps=rep.steps, trainable_params=trainable, losses=list(rep.losses), wall_s=rep.wall_s)
