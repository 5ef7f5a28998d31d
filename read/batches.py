"""Teacher batches: capability-targeted prompts answered by the teacher within a token budget."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from read.capabilities import CAPABILITIES
from read.signals import records_topk
from read.templates.leakage import REASONS

log = logging.getLogger(__name__)

MAX_ROUNDS = 8  # per capability and interval: a safety stop; one or two rounds fill a budget


@dataclass
class TeacherBatch:
    """What :func:`teacher_rows` made: the rows, the generated tokens (all charged), the
    prompt tokens of the kept rows, the unfinished answers dropped, the answers whose
    top-k could not be lined up with the student's tokens (a generated id sequence that
    is not how the tokenizer writes its text), and the pool prompts the eval-leakage
    filter dropped, by reason."""

    rows: list[dict] = field(default_factory=list)
    gen_tokens: int = 0
    prompt_tokens: int = 0
    dropped_unfinished: int = 0
    dropped_misaligned: int = 0
    dropped_leakage: dict = field(default_factory=lambda: dict.fromkeys(REASONS, 0))


def teacher_rows(teacher, pools, tokenizer, w: np.ndarray, cap: int, gen, rng: np.random.Generator, progress: float,
                 *, index=None, fmt=None) -> TeacherBatch:
    """Teacher rows for allocation ``w`` within ``cap`` generated tokens.

    Each capability gets floor(w_c * cap) tokens and is filled by ``teacher.generate_within``,
    which never passes that budget and answers a prefix of the prompts it is given. A round
    samples about as many prompts as the budget left holds at the mean answer length seen
    so far (a quarter of max_new_tokens before any), so one or two rounds usually fill it.
    Sampled prompts that hit the eval-leakage ``index`` are dropped before the teacher sees
    them (and counted). Every generated token is charged. A generation with no EOS has no
    final answer: one cut by the budget is dropped; one that hit max_new_tokens is dropped
    unless ``gen.keep_unfinished`` (never for a signal with top-k, whose rows need the EOS).

    Args:
        pools: ``read.templates.CapabilityPools`` (or any pool with ``sample``).
        tokenizer, fmt: the STUDENT's tokenizer and prompt format (rows count its tokens).
        gen: ``read.config.GenerationConfig``.
    """
    from read.prompting import RAW
    from read.students.train import TopkMisaligned, batch_row

    fmt = fmt or RAW
    m = int(gen.max_new_tokens)
    keep_long = gen.keep_unfinished and not records_topk(gen.signal)
    out = TeacherBatch()
    for i, c in enumerate(CAPABILITIES):
        share = left = int(np.floor(w[i] * cap))
        used = answered = 0
        for _ in range(MAX_ROUNDS):
            if left < 1:
                break
            mean = used / answered if answered else m / 4
            items = pools.sample(c, min(left, int(np.ceil(1.1 * left / mean)) + 4), rng, progress)
            if index is not None:
                items, dropped = index.filter(items, use_ngrams=_ngram_leakage(pools, c))
                for why, n in dropped.items():
                    out.dropped_leakage[why] += n
                if not items:
                    continue
            gens = teacher.generate_within([it.prompt for it in items], left, signal=gen.signal, max_new_tokens=m,
                                           temperature=gen.temperature, seed=int(rng.integers(2**31)), top_k=gen.top_k)
            for it, g in zip(items, gens):
                left -= g.n_tokens
                out.gen_tokens += g.n_tokens
                used += g.n_tokens
                answered += 1
                if not g.finished and not (keep_long and g.n_tokens >= m):
                    out.dropped_unfinished += 1
                    continue
                try:
                    row = batch_row(it, g, tokenizer, signal=gen.signal, fmt=fmt)
                except TopkMisaligned:
                    out.dropped_misaligned += 1
                    continue
                out.prompt_tokens += row["prompt_tokens"]
                out.rows.append(row)
            if len(gens) < len(items) or not gens:
                break  # the budget ran out inside this round
        if answered:
            log.info("generate %s: %d answers, %d tokens of %d", c, answered, used, share)
    leaked = sum(out.dropped_leakage.values())
    if leaked:
        log.info("eval-leakage filter dropped %d pool prompts: %s", leaked, out.dropped_leakage)
    return out


def _ngram_leakage(pools, capability: str) -> bool:
    check = getattr(pools, "ngram_leakage", None)
    if callable(check):
        return bool(check(capability))
    return bool(check)


def write_batch(path, rows, manifest: dict) -> dict:
    """Write ``batch.jsonl`` and, for rows with teacher top-k, its binary sidecar
    (:mod:`read.topk_store`); returns the manifest with the sidecar's size and bytes per token."""
    from read import topk_store
    from read.io import write_jsonl

    plain, arrays = topk_store.split(rows)
    out = dict(manifest)
    if arrays is None and records_topk(manifest.get("signal", "resp")):  # the rule declares the sidecar: always write it
        arrays = topk_store.empty(len(plain))
    if arrays is not None:
        size = topk_store.save(topk_store.sidecar_path(path), arrays)
        tokens = int(arrays["offsets"][-1])
        out["topk_sidecar"] = {"bytes": size, "tokens": tokens, "k": int(arrays["ids"].shape[1]) if tokens else 0,
                               "bytes_per_token": round(size / max(tokens, 1), 2)}
    write_jsonl(path, plain)
    return out
