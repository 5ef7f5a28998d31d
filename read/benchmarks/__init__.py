"""Real benchmarks for the capability profile: each capability's score is the unweighted mean
of its benchmarks' primary metrics (the paper's Table 1).

Config ``capabilities.<cap>.benchmarks``, a list of:

- ``{kind: lm_eval, task, metric?}``: an lm-evaluation-harness task (built-in, or a custom
  YAML over local data under ``evaluation.lm_eval.include_path``), scored by the harness
  (:mod:`read.benchmarks.lm_eval_adapter`);
- ``{kind: code, path, n?}``: HumanEval/MBPP-format problems, completions run in the
  sandbox, greedy pass@1 (n = 1) or the unbiased pass@k over n samples (:mod:`read.benchmarks.code`);
- ``{kind: jsonl, path, eval?, eval_options?}``: ``{"prompt", "answer"}`` items scored by a
  registered scorer (:mod:`read.scorers`: ``function_call`` for BFCL-style tool calls,
  ``numeric``, ``exact_match``, ...).

Every benchmark's per-item values are kept next to its score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from read.errors import bad_input

KINDS = ("lm_eval", "code", "jsonl")


@dataclass(frozen=True)
class Benchmark:
    """One benchmark of a capability (see the module docstring)."""

    kind: str
    task: str | None = None
    metric: str | None = None
    path: str | None = None
    eval: str = "exact_match"
    eval_options: dict = field(default_factory=dict)
    n: int = 1
    name: str | None = None

    def __post_init__(self):
        where = f"benchmark {self.name or self.task or self.path}"
        if self.kind not in KINDS:
            raise bad_input(where, f"unknown kind {self.kind!r}", f"choose from {list(KINDS)}")
        if self.kind == "lm_eval" and not self.task:
            raise bad_input(where, "kind lm_eval needs a task", "name the harness task, e.g. task: gsm8k")
        if self.kind != "lm_eval" and not self.path:
            raise bad_input(where, f"kind {self.kind} needs a path", "point path at the benchmark's JSONL")
        if self.n < 1:
            raise bad_input(where, f"n must be >= 1, got {self.n}", "use 1 for greedy pass@1")

    @property
    def label(self) -> str:
        return self.name or self.task or Path(self.path).stem

    def check(self) -> None:
        """Read the benchmark's file once (lm_eval tasks are checked by the harness in the job)."""
        from read.benchmarks.code import read_problems
        from read.scorers import make_scorer
        from read.tasks import read_items

        if self.kind == "code":
            read_problems(self.path)
        elif self.kind == "jsonl":
            make_scorer(self.eval, f"benchmark {self.label}.eval", **self.eval_options)
            read_items(self.path, f"benchmark {self.label}")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "task": self.task, "metric": self.metric, "path": self.path, "eval": self.eval,
                "eval_options": dict(self.eval_options), "n": self.n, "name": self.name}


def run_benchmarks(benchmarks: Sequence[Benchmark], model, *, paths: tuple, evaluation: Mapping[str, Any],
                   batch_size: int = 64, max_new_tokens: int = 256) -> dict[str, dict]:
    """``{label: {"kind", "metric", "score", "n", "items"}}`` for one capability's benchmarks.

    ``model``: a ``read.item_scores.LoadedModel``; ``paths``: (base, checkpoint, tokenizer)
    directories, for the harness, which loads the model itself. ``evaluation``: the
    ``evaluation.lm_eval`` section (include_path, batch_size, limit).
    """
    out = {}
    for b in benchmarks:
        if b.kind == "lm_eval":
            from read.benchmarks.lm_eval_adapter import LmEvalTask, evaluate

            weights = next(model.model.parameters())  # the harness loads its own copy, where this one lives
            r = evaluate(*paths, [LmEvalTask(b.task, b.metric)], include_path=evaluation.get("include_path"),
                         batch_size=evaluation.get("batch_size", 8), limit=evaluation.get("limit"),
                         add_bos=model.fmt.add_bos, device=str(weights.device),
                         dtype=str(weights.dtype).removeprefix("torch."))[b.task]
            out[b.label] = {"kind": b.kind, **r}
        elif b.kind == "code":
            out[b.label] = {"kind": b.kind, **_code(b, model, batch_size, max_new_tokens)}
        else:
            from read.item_scores import score_items
            from read.scorers import make_scorer
            from read.tasks import read_items

            items = read_items(b.path, f"benchmark {b.label}")
            s = score_items(model.model, model.tokenizer, items, batch_size=batch_size, fmt=model.fmt,
                            scorer=make_scorer(b.eval, f"benchmark {b.label}.eval", **b.eval_options))
            out[b.label] = {"kind": b.kind, "metric": b.eval, "score": s["em"], "n": s["n"],
                            "items": [{"doc_id": i, "score": v} for i, v in enumerate(s["items"]["correct"])]}
    return out


def _code(b: Benchmark, model, batch_size: int, max_new_tokens: int) -> dict:
    """Completions continue each problem's prompt as written (code prompts are prefixes)."""
    from read.benchmarks.code import read_problems, score_completions
    from read.lm import generate

    problems = read_problems(b.path)
    samples = [[] for _ in problems]
    for j in range(b.n):
        gens = generate(model.model, model.tokenizer, [p.prompt for p in problems], max_new_tokens=max_new_tokens,
                        temperature=0.0 if b.n == 1 else 0.8, seed=j, batch_size=batch_size, add_bos=model.fmt.add_bos)
        for s, g in zip(samples, gens):
            s.append(g.text)
    ks = [k for k in (1, 10, 100) if k <= b.n]
    r = score_completions(problems, samples, ks=ks)
    return {"metric": "pass@1", "score": r["pass@1"], "n": len(problems),
            "items": [{"doc_id": i, "score": float(np.mean(it["passed"]))} for i, it in enumerate(r["items"])],
            **{k: v for k, v in r.items() if k.startswith("pass@")}}


def capability_score(results: Mapping[str, Mapping[str, Any]]) -> float:
    """The capability's score: the unweighted mean of its benchmarks' primary metrics."""
    if not results:
        raise bad_input("capability benchmarks", "none to average", "list at least one benchmark")
    return float(np.mean([r["score"] for r in results.values()]))


def from_list(rows: Sequence[Mapping[str, Any]] | None) -> tuple[Benchmark, ...]:
    return tuple(Benchmark(**dict(r)) for r in rows or ())


__all__ = ["KINDS", "Benchmark", "capability_score", "from_list", "run_benchmarks"]
