"""The capability profile s(S): a fixed probe suite and a student's score on it.

The suite is built once per experiment: for each capability, the teacher's greedy Resp
response to every probe prompt, plus the gold answer where one exists::

    {"capabilities": {cap: [{"prompt": raw prompt, "response": teacher text, "answer": gold | null}, ...]}}

The profile of a model on the suite::

    {"ll": {cap: mean per-token log-likelihood of the teacher responses (nats)},
     "acc": {cap: greedy exact match vs gold, or null if no probe item has a gold answer},
     "n": {cap: probe items}}

``ll`` is what the bandit sees: it moves even while exact match sits at 0 or 1, and is far
less noisy (feasibility.md §4). Per capability it is the mean over items of each item's
mean per-token log-likelihood (EOS included), so every probe prompt weighs the same.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from read.capabilities import CAPABILITIES, check_capability
from read.errors import bad_input
from read.io import read_json
from read.prompting import RAW, PromptFormat, exact_match

log = logging.getLogger(__name__)


def build_probe_suite(teacher, items_by_cap: Mapping[str, Sequence[Any]], *, max_new_tokens: int = 64,
                      seed: int = 0) -> dict:
    """Teacher greedy responses (signal "resp") on every probe item; items need ``.prompt`` and ``.answer``.

    All capabilities go to the teacher in one call (one batched pass). Capabilities keep
    CAPABILITIES order; items keep their order.
    """
    caps = [c for c in CAPABILITIES if c in items_by_cap]
    for c in items_by_cap:
        check_capability(c, "probe items")
    flat = [(c, it) for c in caps for it in items_by_cap[c]]
    if not flat:
        raise bad_input("probe suite", "no probe items", "give at least one item per capability")
    gens = teacher.generate([it.prompt for _, it in flat], signal="resp", max_new_tokens=max_new_tokens,
                            temperature=0.0, seed=seed)
    unfinished = sum(not g.finished for g in gens)
    if unfinished:
        log.warning("probe suite: %d/%d teacher responses hit max_new_tokens=%d", unfinished, len(gens), max_new_tokens)
    suite: dict[str, list[dict]] = {c: [] for c in caps}
    for (c, it), g in zip(flat, gens):
        suite[c].append({"prompt": it.prompt, "response": g.text, "answer": it.answer})
    return {"capabilities": suite}


def check_suite(suite: Any, where: str = "probe suite") -> dict[str, list[dict]]:
    """Validate the suite's shape; returns ``suite["capabilities"]``."""
    caps = suite.get("capabilities") if isinstance(suite, dict) else None
    if not isinstance(caps, dict) or not caps:
        raise bad_input(where, "expected {'capabilities': {cap: [items]}}", "rebuild the probe suite")
    for c, items in caps.items():
        check_capability(c, f"{where}: capabilities")
        if not isinstance(items, list) or not items:
            raise bad_input(f"{where}: {c}", "needs a non-empty list of items", "rebuild the probe suite")
        for i, it in enumerate(items):
            ok = (isinstance(it, dict) and isinstance(it.get("prompt"), str) and isinstance(it.get("response"), str)
                  and (it.get("answer") is None or isinstance(it.get("answer"), str)))
            if not ok:
                raise bad_input(f"{where}: {c}[{i}]", "needs string 'prompt' and 'response', and 'answer' string or null",
                                "rebuild the probe suite")
    return caps


def load_suite(path: str | os.PathLike) -> dict:
    suite = read_json(path)
    check_suite(suite, str(path))
    return suite


def probe_profile(model, tokenizer, suite: Mapping[str, Any], batch_size: int = 64, *, max_new_tokens: int = 32,
                  accuracy: bool = True, fmt: PromptFormat = RAW) -> dict:
    """Score ``model`` on the suite: ``{"ll": {cap}, "acc": {cap}, "n": {cap}}`` (see the module docstring).

    Prompts and the teacher's responses are rendered in the model's prompt format ``fmt``.

    ll: ``read.lm.response_loglik`` (one batched forward per ``batch_size`` items).
    acc: greedy ``read.lm.generate`` (``max_new_tokens``), ``exact_match`` against gold, over
        the items that have one; null where none has. ``accuracy=False`` skips generation
        (acc all null), for when only the log-likelihood profile is needed.
    """
    from read.lm import generate, response_loglik

    caps = check_suite(suite)
    flat = [(c, it) for c in CAPABILITIES if c in caps for it in caps[c]]
    prompts = [fmt.prompt(it["prompt"]) for _, it in flat]
    ll = response_loglik(model, tokenizer, prompts, [fmt.response(it["response"]) for _, it in flat],
                         batch_size=batch_size, add_bos=fmt.add_bos)
    gold = [i for i, (_, it) in enumerate(flat) if it["answer"] is not None] if accuracy else []
    hits = {}
    if gold:
        gens = generate(model, tokenizer, [prompts[i] for i in gold], max_new_tokens=max_new_tokens,
                        batch_size=batch_size, add_bos=fmt.add_bos)
        hits = {i: exact_match(g.text, flat[i][1]["answer"]) for i, g in zip(gold, gens)}
    out: dict[str, dict] = {"ll": {}, "acc": {}, "n": {}}
    for c in (c for c in CAPABILITIES if c in caps):
        idx = [i for i, (cc, _) in enumerate(flat) if cc == c]
        scored = [hits[i] for i in idx if i in hits]
        out["ll"][c] = float(np.mean(ll[idx]))
        out["acc"][c] = float(np.mean(scored)) if scored else None
        out["n"][c] = len(idx)
    return out


def profile_checkpoint(base_dir: str | os.PathLike, ckpt_dir: str | os.PathLike | None, suite_path: str | os.PathLike,
                       *, tokenizer_dir: str | os.PathLike | None = None, batch_size: int = 64,
                       max_new_tokens: int = 32, accuracy: bool = True, device: str = "cpu",
                       chat_template: str = "auto") -> dict:
    """Load a student (base, full checkpoint, or base + LoRA adapter) and profile it on a suite file."""
    from read.students.checkpoint import load_student

    suite = load_suite(suite_path)
    model, tok = load_student(base_dir, ckpt_dir, tokenizer_dir=tokenizer_dir, device=device)
    return probe_profile(model, tok, suite, batch_size, max_new_tokens=max_new_tokens, accuracy=accuracy,
                         fmt=PromptFormat.for_tokenizer(tok, chat_template))
