"""Task cards: what a downstream task is, where its items come from, and how it is scored.

A card (``config/task_cards.yaml``, ``tasks: {name: card}``) has a description, a
requirement (capability -> weight, normalised to r_tau), a ``source`` and an ``eval``
scorer (:mod:`read.scorers`). Sources:

- ``jsonl``: local files, one ``{"prompt": ..., "answer": ...}`` object per line, named by
  ``splits: {dev: path, test: path}`` (paths relative to the working directory). Dev gives
  the dev utility U (gold-answer log-likelihood); test gives the reported task score.
- ``embedded``: one of the embedded world's composite tasks (:mod:`read.embedded.tasks`),
  whose splits are the world's own.

``requirement_source``: where r_tau comes from: ``card`` (the ``requirement`` weights),
``learned`` (the identifier g_φ, :mod:`read.identifier`: the one at ``identifier``, else the
workflow's own) or ``uniform``.

``lm_eval: {task, metric?}`` (with ``jsonl``): the reported task score comes from that
lm-evaluation-harness task instead of the scorer; the JSONL splits (the same items, with
gold answers) still give the dev utility and the gold log-likelihood.

:func:`load_task_cards` validates every card before anything runs: missing or empty
files, a malformed line (named as file:line), a prompt in both dev and test (or an
exemplar that is a test prompt) are each one clear error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from read.capabilities import to_vector
from read.errors import bad_input
from read.io import read_jsonl
from read.prompting import render_response
from read.rng import rng_for
from read.scorers import Scorer, make_scorer

SOURCES = ("embedded", "jsonl")
REQUIREMENT_SOURCES = ("card", "learned", "uniform")
EVAL_SPLITS = ("dev", "test")


@dataclass(frozen=True)
class TaskItem:
    """One item of a file-backed task: a prompt and its gold answer."""

    prompt: str
    answer: str

    def response(self, cot: bool = False) -> str:
        """The gold response in the raw format (``read.prompting.PromptFormat.response`` adapts it)."""
        return render_response(self.answer)


def read_items(path: str | os.PathLike, where: str) -> list[TaskItem]:
    """Every line of a ``{"prompt", "answer"}`` JSONL file; a bad line is an error naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise bad_input(where, f"file {str(path)!r} not found", "fix the path (relative to the working directory)")
    rows = read_jsonl(path)
    lines = [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    items = []
    for lineno, row in zip(lines, rows):
        for key in ("prompt", "answer"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise bad_input(f"{path}:{lineno}", f"{key!r} must be a non-empty string, got {row.get(key)!r}",
                                'write one {"prompt": ..., "answer": ...} object per line')
        items.append(TaskItem(row["prompt"], row["answer"]))
    if not items:
        raise bad_input(where, f"{path} holds no items", 'add {"prompt": ..., "answer": ...} lines')
    return items


def seeded_subset(items: Sequence[Any], n: int, seed: int, *keys: str) -> list[Any]:
    """``n`` of ``items`` drawn with ``rng_for(seed, *keys)``, in their original order (all if n >= len)."""
    if n >= len(items):
        return list(items)
    keep = sorted(rng_for(seed, *keys).permutation(len(items))[:n].tolist())
    return [items[i] for i in keep]


@dataclass(frozen=True)
class TaskCard:
    """A validated task card (see the module docstring).

    splits: for ``jsonl``, split name -> file path (dev and test required); for
        ``embedded``, the world's split names (documentation).
    eval / eval_options: the scorer (:func:`read.scorers.make_scorer`) and its options.
    """

    name: str
    description: str
    source: str
    requirement: dict
    eval: str = "exact_match"
    eval_options: dict = field(default_factory=dict)
    splits: dict = field(default_factory=dict)
    exemplars: tuple = ()
    formats: tuple = ()
    outer: str | None = None
    inner: str | None = None
    lm_eval: dict | None = None
    requirement_source: str = "card"
    identifier: str | None = None

    @classmethod
    def from_mapping(cls, name: str, card: Mapping[str, Any], where: str) -> TaskCard:
        """Build and check a card (scorer, requirement and, for ``embedded``, the world's task)."""
        source = card.get("source", "jsonl")
        if source not in SOURCES:
            raise bad_input(f"{where}.source", f"source {source!r} is not supported", f"use one of {list(SOURCES)}")
        to_vector(card.get("requirement") or {}, f"{where}.requirement")
        out = cls(name=name, description=card.get("description", ""), source=source,
                  requirement=dict(card.get("requirement") or {}), eval=card.get("eval", "exact_match"),
                  eval_options=dict(card.get("eval_options") or {}), splits=dict(card.get("splits") or {}),
                  exemplars=tuple(dict(e) for e in card.get("exemplars") or ()),
                  formats=tuple(card.get("formats") or ()), outer=card.get("outer"), inner=card.get("inner"),
                  lm_eval=dict(card["lm_eval"]) if card.get("lm_eval") else None,
                  requirement_source=card.get("requirement_source", "card"), identifier=card.get("identifier"))
        if out.requirement_source not in REQUIREMENT_SOURCES:
            raise bad_input(f"{where}.requirement_source", f"unknown source {out.requirement_source!r}",
                            f"choose from {list(REQUIREMENT_SOURCES)}")
        out.scorer(where)
        if source == "embedded":
            from read.embedded.tasks import check_task

            check_task(name, f"{where}: an embedded task")
        else:
            missing = [s for s in EVAL_SPLITS if s not in out.splits]
            if missing:
                raise bad_input(f"{where}.splits", f"source 'jsonl' needs file paths for {missing}",
                                "write splits: {dev: data/dev.jsonl, test: data/test.jsonl}")
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TaskCard:
        """Back from rule params: ``{"name": ..., **card.to_dict()}``."""
        card = dict(params)
        name = card.pop("name")
        return cls.from_mapping(name, card, f"task {name}")

    def to_dict(self) -> dict:
        """Plain values (rule params; ``from_mapping`` rebuilds the card)."""
        return {"description": self.description, "source": self.source, "requirement": dict(self.requirement),
                "eval": self.eval, "eval_options": dict(self.eval_options), "splits": dict(self.splits),
                "exemplars": [dict(e) for e in self.exemplars], "formats": list(self.formats),
                "outer": self.outer, "inner": self.inner, "lm_eval": self.lm_eval,
                "requirement_source": self.requirement_source, "identifier": self.identifier}

    def files(self) -> list[str]:
        """The local files this card reads (dev and test for ``jsonl``)."""
        return [self.splits[s] for s in EVAL_SPLITS] if self.source == "jsonl" else []

    def scorer(self, where: str | None = None) -> Scorer:
        return make_scorer(self.eval, f"{where or 'task ' + self.name}.eval", **self.eval_options)

    def items(self, split: str, n: int, seed: int) -> list:
        """``n`` items of ``split`` (dev or test), the same for every run with this ``seed``."""
        if split not in EVAL_SPLITS:
            raise bad_input(f"task {self.name}", f"unknown split {split!r}", f"use one of {list(EVAL_SPLITS)}")
        if self.source == "embedded":
            from read.embedded import task_items

            return task_items(self.name, split, n, seed)
        path = self.splits[split]
        return seeded_subset(read_items(path, f"task {self.name}: splits.{split}"), n, seed, "task", self.name, split)

    def split_items(self, split: str, n: int, seed: int) -> list:
        """Every item of a file split; for ``embedded`` (an unbounded split) the ``n`` drawn ones."""
        if self.source == "embedded":
            return self.items(split, n, seed)
        return read_items(self.splits[split], f"task {self.name}: splits.{split}")

    def check_files(self, where: str) -> None:
        """Read every file once: non-empty, well-formed, no prompt in dev and test, no test exemplar."""
        if self.source != "jsonl":
            return
        from read.templates.leakage import normalise_prompt

        items = {s: read_items(self.splits[s], f"{where}.splits.{s}") for s in EVAL_SPLITS}
        test = {normalise_prompt(it.prompt): it.prompt for it in items["test"]}
        for it in items["dev"]:
            if normalise_prompt(it.prompt) in test:
                raise bad_input(f"{where}.splits", f"prompt {it.prompt[:60]!r} is in both {self.splits['dev']} and "
                                f"{self.splits['test']}", "remove it from one of the two splits")
        for i, ex in enumerate(self.exemplars):
            if normalise_prompt(ex.get("prompt", "")) in test:
                raise bad_input(f"{where}.exemplars[{i}]", "this exemplar is a test prompt", "pick an exemplar outside test")


def _validate(cards: Any, path: Path) -> None:
    """The card file against ``read/schemas/task_cards.schema.yaml``: one error naming the key."""
    import jsonschema
    import yaml

    schema_file = Path(str(resources.files("read") / "schemas" / "task_cards.schema.yaml"))
    try:
        jsonschema.validate(cards, yaml.safe_load(schema_file.read_text(encoding="utf-8")))
    except jsonschema.ValidationError as err:
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise bad_input(f"{path}: tasks.{key}", err.message, "fix the card (schema: read/schemas/task_cards.schema.yaml)") from None


def load_task_cards(path: str | os.PathLike, names: Iterable[str], *, check_files: bool = True) -> dict[str, TaskCard]:
    """The cards of ``names`` from a task-card file, each validated (see the module docstring)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "task-card file not found", "fix config `task_cards`")
    try:
        cards = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tasks") or {}
    except yaml.YAMLError as err:
        raise bad_input(str(path), f"invalid YAML ({str(err).splitlines()[0]})", "fix the file") from None
    _validate(cards, path)
    names = list(names)
    missing = [t for t in names if t not in cards]
    if missing:
        raise bad_input(str(path), f"no task card for {missing}", "add them under `tasks:` or fix config `tasks`")
    out = {}
    for name in names:
        card = TaskCard.from_mapping(name, cards[name], f"{path}: tasks.{name}")
        if check_files:
            card.check_files(f"{path}: tasks.{name}")
        out[name] = card
    return out
