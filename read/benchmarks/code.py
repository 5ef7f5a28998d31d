"""Code benchmarks in HumanEval/MBPP form: completions run against their tests in the sandbox.

One JSONL line per problem: ``{"task_id"?, "prompt", "test", "entry_point"}`` (HumanEval's
format; MBPP converted to it). A completion continues ``prompt``; the program run is
``prompt + completion + test + check(entry_point)`` and passes if it exits cleanly
(:func:`read.benchmarks.sandbox.run_sandboxed`). The completion is cut at the first
line that starts a new top-level block (HumanEval's stop sequences), as the harness does.

pass@k uses the unbiased estimator of Chen et al. (2021): with n samples of which c pass,
``pass@k = 1 − C(n − c, k) / C(n, k)``; greedy decoding (n = 1) gives pass@1 directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from read.errors import bad_input
from read.io import read_jsonl

STOP = ("\nclass ", "\ndef ", "\n#", "\nif __name__", "\nprint(", "\nassert ")


@dataclass(frozen=True)
class CodeProblem:
    task_id: str
    prompt: str
    test: str
    entry_point: str

    def program(self, completion: str) -> str:
        """The program the sandbox runs for one completion."""
        return f"{self.prompt}{completion}\n\n{self.test}\n\ncheck({self.entry_point})\n"


def read_problems(path: str | Path) -> list[CodeProblem]:
    """Problems from a HumanEval-format JSONL; a bad line is an error naming file:line."""
    path = Path(path)
    rows = read_jsonl(path, required=("prompt", "test", "entry_point"))
    out = []
    for i, row in enumerate(rows, 1):
        for key in ("prompt", "test", "entry_point"):
            if not isinstance(row[key], str) or not row[key]:
                raise bad_input(f"{path}: problem {i}", f"{key!r} must be a non-empty string", "fix the line")
        out.append(CodeProblem(str(row.get("task_id", i)), row["prompt"], row["test"], row["entry_point"]))
    if not out:
        raise bad_input(str(path), "no problems", "add HumanEval-format lines")
    return out


def truncate(completion: str, stops: Sequence[str] = STOP) -> str:
    """The completion up to the first stop sequence."""
    cut = min((i for i in (completion.find(s) for s in stops) if i >= 0), default=len(completion))
    return completion[:cut]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 − C(n−c, k)/C(n, k) (Chen et al., 2021)."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise bad_input("pass_at_k", f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}", "fix the counts")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def score_completions(problems: Sequence[CodeProblem], completions: Sequence[Sequence[str]], *,
                      ks: Sequence[int] = (1,), limits=None) -> dict:
    """Run every completion (``completions[i]``: the samples of problem i) in the sandbox.

    Returns ``{"pass@k": mean over problems, ..., "items": [{"task_id", "passed": [bool]}]}``.
    """
    from read.benchmarks.sandbox import SandboxLimits, run_sandboxed

    limits = limits or SandboxLimits()
    items = []
    for problem, samples in zip(problems, completions, strict=True):
        passed = [run_sandboxed(problem.program(truncate(s)), limits).passed for s in samples]
        items.append({"task_id": problem.task_id, "passed": passed})
    out = {}
    for k in ks:
        scores = [pass_at_k(len(it["passed"]), sum(it["passed"]), k) for it in items if len(it["passed"]) >= k]
        out[f"pass@{k}"] = float(np.mean(scores)) if scores else math.nan
    return {**out, "items": items}
