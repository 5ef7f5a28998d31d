"""Typed config sections: frozen dataclasses built from the validated config.

The workflow validates ``config.yaml`` against ``read/schemas/config.schema.yaml``, which
also fills in every default (:func:`load_config` does the same for plain Python). The
sections here have no defaults of their own: the schema is their one source, and each
is built with ``Section.from_dict(config["section"])``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from read.errors import bad_input

T = TypeVar("T")


def from_mapping(cls: type[T], d: Mapping[str, Any], where: str) -> T:
    """``cls(**d)`` for a dataclass; an unknown key is an error listing the valid ones.

    Validation of values stays in each class's ``__post_init__``.
    """
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - fields)
    if unknown:
        raise bad_input(where, f"unknown key(s) {unknown}", f"use only {sorted(fields)}")
    missing = sorted(f.name for f in dataclasses.fields(cls) if f.name not in d
                     and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
    if missing:
        raise bad_input(where, f"missing key(s) {missing}", "validate the config against the schema first (load_config)")
    return cls(**d)


class Section:
    """Mixin: ``from_dict`` for a config section named by ``WHERE``."""

    WHERE = "config"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str | None = None):
        return from_mapping(cls, d, where or cls.WHERE)


@dataclass(frozen=True)
class GenerationConfig(Section):
    """`generation:` how the teacher answers each interval's prompts.

    signal: what the teacher writes and what is kept (:mod:`read.signals`): "resp" (answer),
    "cot" (rationale first), "logit" / "cot_logit" (the same + top-k logprobs for KD).
    max_new_tokens: the longest answer. temperature: 0 = greedy. top_k: logprobs per token
    for the top-k signals. keep_unfinished: train on answers cut at max_new_tokens (resp/cot).
    """

    WHERE = "generation"
    signal: str
    max_new_tokens: int
    temperature: float
    top_k: int
    keep_unfinished: bool


@dataclass(frozen=True)
class ProbesConfig(Section):
    """`probes:` the probe suite: prompts per capability, scoring batch size, the draw's seed."""

    WHERE = "probes"
    n_per_capability: int
    batch_size: int
    seed: int


@dataclass(frozen=True)
class EvaluationConfig(Section):
    """`evaluation:` test items of the task, gold items per capability, dev items, batch size,
    seed, and the lm-evaluation-harness settings (``lm_eval``: include_path, batch_size, limit)."""

    WHERE = "evaluation"
    n_test: int
    n_per_capability: int
    n_dev: int
    batch_size: int
    seed: int
    lm_eval: dict = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ProfilingConfig(Section):
    """`profiling:` interventions per task and seed, tokens each, capabilities per draw, shards.

    ``tokens`` is a count, or "interval": every budget's interval size (:meth:`size_for`),
    so each budget's bandit is warm-started on interventions of its own interval's size.
    """

    WHERE = "profiling"
    n_interventions: int
    tokens: int | str
    capabilities: int
    shards: int

    def size_for(self, budget_section: Mapping[str, Any], total_tokens: int) -> int:
        """Tokens per intervention for the runs of budget B = ``total_tokens``."""
        if self.tokens != "interval":
            return int(self.tokens)
        from read.budget import BudgetConfig, IntervalPlan

        return IntervalPlan.from_config(BudgetConfig(total_tokens=int(total_tokens), **budget_section)).interval_tokens(1)

    def with_size(self, tokens: int) -> ProfilingConfig:
        """This config for interventions of ``tokens`` tokens each (one profiling job)."""
        return dataclasses.replace(self, tokens=int(tokens))


def schema_path() -> Path:
    """The config schema shipped inside the package (the workflow validates against it too)."""
    return Path(str(resources.files("read") / "schemas" / "config.schema.yaml"))


def with_defaults(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict:
    """``config`` with every missing ``default`` of the schema filled in (recursively)."""
    out = dict(config)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = sub["default"]
        sub = _resolve(sub, schema)
        if isinstance(out.get(key), Mapping) and sub.get("type") == "object":
            out[key] = with_defaults(out[key], {**sub, "$defs": schema.get("$defs", {})})
    return out


def _resolve(sub: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/name``) one level."""
    ref = sub.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**schema.get("$defs", {}).get(ref.split("/")[-1], {}), **{k: v for k, v in sub.items() if k != "$ref"}}
    return sub


def load_config(path: str | Path, *overrides: Mapping[str, Any]) -> dict:
    """Read a workflow config file (deep-merged with ``overrides``), validate it against the
    schema and fill in its defaults: what the workflow's jobs see."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "config file not found", "pass --configfile config/config.yaml or your own file")
    config = with_base(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, str(path))
    for extra in overrides:
        config = deep_merge(config, extra)
    schema = yaml.safe_load(schema_path().read_text(encoding="utf-8"))
    check_config(config, str(path), schema)
    return with_defaults(config, schema)


def check_config(config: Mapping[str, Any], where: str = "config", schema: Mapping[str, Any] | None = None) -> None:
    """Validate against the schema: the first problem is one error naming the key."""
    import jsonschema
    import yaml

    schema = schema or yaml.safe_load(schema_path().read_text(encoding="utf-8"))
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if err is not None:
        key = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        raise bad_input(f"{where} {key}", err.message, "fix the value (schema: read/schemas/config.schema.yaml)")


def with_base(config: Mapping[str, Any], where: str = "config") -> dict:
    """A config with ``extends: <file>`` merged over that file (relative to the working
    directory, as every path in a config is), itself possibly extending another; a config
    without ``extends`` comes back as it is. A study can thus state only what it changes
    of the default, and the two share one world."""
    import yaml

    config, seen = dict(config), [where]
    while "extends" in config:
        base = Path(str(config.pop("extends")))
        if str(base) in seen:
            raise bad_input(f"{where}: extends", f"{base} extends itself (through {seen})", "break the cycle")
        if not base.is_file():
            raise bad_input(f"{where}: extends", f"{base} not found", "name a config file, relative to the working directory")
        seen.append(str(base))
        config = deep_merge(yaml.safe_load(base.read_text(encoding="utf-8")) or {}, config)
    return config


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict:
    """``extra`` over ``base``, merging nested mappings (as Snakemake merges config files)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) else value
    return out
