"""The experiment grid: which (task, method, budget, seed) runs a config asks for.

The top-level ``tasks × methods × budgets × seeds`` is one block. ``grids:`` adds more
blocks, each a product of its own lists, any list it leaves out taken from the top level:

    tasks: [multilingual_arithmetic]
    methods: [read, greedy, grid, uniform, task_static]
    grids:
      - {tasks: [code_tool_call], methods: [read, uniform, task_static]}

so a study can run every method on one task and a few on the others. The runs are the
union of the blocks, each run once, in block order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

AXES = ("tasks", "methods", "budgets", "seeds")


@dataclass(frozen=True)
class Run:
    """One run chain's coordinates."""

    task: str
    method: str
    budget: int
    seed: int


def blocks(cfg: Mapping[str, Any]) -> list[dict[str, list]]:
    """Every block of the grid, each with all four axes filled in."""
    top = {axis: list(cfg[axis]) for axis in AXES}
    return [top] + [{axis: list(extra.get(axis, top[axis])) for axis in AXES} for extra in cfg.get("grids") or ()]


def expand(cfg: Mapping[str, Any]) -> list[Run]:
    """Every run of the grid, each once, in block order (then task, method, budget, seed)."""
    runs: dict[Run, None] = {}
    for b in blocks(cfg):
        for t in b["tasks"]:
            for m in b["methods"]:
                for budget in b["budgets"]:
                    for s in b["seeds"]:
                        runs[Run(t, m, int(budget), int(s))] = None
    return list(runs)


def axis_values(runs: Sequence[Run], axis: str) -> list:
    """The distinct values of one axis ("task", "method", "budget" or "seed"), first-seen order."""
    return list(dict.fromkeys(getattr(r, axis) for r in runs))


def task_seeds(runs: Sequence[Run], methods: Sequence[str] | None = None) -> list[tuple[str, int]]:
    """The (task, seed) pairs that some run of ``methods`` (default: any method) needs."""
    wanted = None if methods is None else set(methods)
    return list(dict.fromkeys((r.task, r.seed) for r in runs if wanted is None or r.method in wanted))


__all__ = ["AXES", "Run", "axis_values", "blocks", "expand", "task_seeds"]
