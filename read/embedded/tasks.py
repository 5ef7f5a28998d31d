"""Composite downstream tasks: fixed (outer, inner) nestings of two capabilities.

A task item is a nested item of its pair, in exactly the surface form every capability
already uses at rate NEST_RATE, so the composition is reachable by distillation; the
task only fixes which two capabilities meet. Task items obey the same prompt-hash splits.

Requirement weights: the answer is right only if both steps are right, and each step is
one item of its capability, so the ground truth gives the two capabilities equal weight
(0.5 each); no other capability is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from read.capabilities import check_capability
from read.embedded.generators import Item
from read.embedded.spec import SPEC, TASK_TIER_PROBS
from read.embedded.splits import check_split, collect, draw, fast_random
from read.errors import bad_input
from read.prompting import render_prompt

IO_FORMAT = ("prompt: the outer question with the inner sub-question written in [brackets]; "
             "response: ' <inner answer> => <outer answer>'; scored by exact match of the final answer")


@dataclass(frozen=True)
class TaskCard:
    """A composite task: ``outer`` capability with one slot filled by ``inner``.

    requirement: capability -> weight (sums to 1), with ``why`` saying where it comes from.
    """

    name: str
    description: str
    outer: str
    inner: str
    requirement: dict = field(hash=False)
    why: str = "both steps must be right; one step each, so equal weight"
    io_format: str = IO_FORMAT
    eval_type: str = "exact_match"

    def __post_init__(self):
        check_capability(self.outer, f"task {self.name}.outer")
        check_capability(self.inner, f"task {self.name}.inner")
        if not set(SPEC[self.inner].produces) & set(SPEC[self.outer].consumes):
            raise bad_input(f"task {self.name}", f"{self.inner} produces nothing {self.outer} consumes",
                            "pick a pair whose value types fit")

    def exemplars(self, n: int = 3, seed: int = 0) -> list[dict]:
        """``n`` worked examples from the pretrain split: {prompt, response, answer}."""
        return [{"prompt": render_prompt(it.prompt), "response": it.response(), "answer": it.answer}
                for it in task_items(self.name, "pretrain", n, seed)]

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description, "outer": self.outer, "inner": self.inner,
                "requirement": dict(self.requirement), "why": self.why, "io_format": self.io_format,
                "eval_type": self.eval_type, "exemplars": self.exemplars()}


def _card(name: str, description: str, outer: str, inner: str) -> TaskCard:
    return TaskCard(name, description, outer, inner, {outer: 0.5, inner: 0.5})


TASKS: dict[str, TaskCard] = {
    c.name: c
    for c in (
        _card("multilingual_arithmetic", "Arithmetic where one operand is a number word to read first "
              "(English, Spanish or French).", "math", "multilingual"),
        _card("tool_math", "A tool call whose numeric argument must first be computed.", "tool_use", "math"),
        _card("lookup_format", "Look a value up in a list of pairs, then format it as asked "
              "(JSON, quotes, brackets, repetition).", "steerability", "long_context"),
        _card("knowledge_call", "A tool call one of whose arguments (a city, a person, a count) must first "
              "be recalled from world knowledge.", "tool_use", "general_knowledge"),
        _card("lookup_compare", "A comparison (who is taller, faster, older) one of whose numbers must first be "
              "looked up in a list of pairs.", "reasoning", "long_context"),
    )
}


def check_task(task: str, where: str) -> TaskCard:
    if task not in TASKS:
        raise bad_input(where, f"unknown task {task!r}", f"use one of {sorted(TASKS)}")
    return TASKS[task]


def task_items(task: str, split: str, n: int, seed: int) -> list[Item]:
    """``n`` distinct items of a composite task, all in ``split``; deterministic per seed."""
    where = f"task_items({task!r}, {split!r})"
    card = check_task(task, where)
    check_split(split, where)
    r = fast_random(seed, "world", split, "task", task)
    return collect(r, lambda r, tier, nested: draw(r, card.outer, tier, True, card.inner), split, n, where,
                   nest_rate=1.0, tier_probs=TASK_TIER_PROBS)
