"""Where each capability's data comes from: its generation pool, its probe set, its gold eval set.

Config ``capabilities: {cap: {pool, path, eval}}``, one entry per capability:

- ``pool: embedded``: the embedded world. Generation samples its ``pool`` split, probes
  come from its ``probe`` split and the final profile's gold items from its ``test`` split,
  all disjoint by construction.
- ``pool: templates``, ``path``: a typed-slot template file (``config/templates/<cap>.jsonl``).
  Probes are distinct fills drawn with the probe seed; generation drops any prompt equal to
  one (the eval-leakage filter).
- ``pool: jsonl``, ``path``: a local JSONL of prompts (``read.templates.read_prompt_file``).
  Probes are a seeded subset of its lines, held out of sampling.

``eval`` (optional, any pool kind): a ``{"prompt", "answer"}`` JSONL of gold items that
the final capability profile is scored on. ``benchmarks`` (optional): real benchmarks
(:mod:`read.benchmarks`); the capability's score is then their unweighted mean. Without
either (and outside the embedded world) the final profile of that capability is its probe
score, and ``final/eval.json`` says so.

With ``world:`` in the config every capability not listed is ``embedded``; without it,
every capability must be listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from read.capabilities import CAPABILITIES, check_capability
from read.errors import bad_input
from read.rng import rng_for

POOL_KINDS = ("embedded", "templates", "jsonl")
MAX_DRAWS_PER_PROBE = 50  # template fills tried per wanted distinct probe prompt


@dataclass(frozen=True)
class CapabilitySource:
    """One capability's data (see the module docstring)."""

    capability: str
    pool: str = "embedded"
    path: str | None = None
    eval: str | None = None
    benchmarks: tuple = ()

    def __post_init__(self):
        from read.benchmarks import Benchmark

        where = f"capabilities.{self.capability}"
        object.__setattr__(self, "benchmarks", tuple(b if isinstance(b, Benchmark) else Benchmark(**dict(b))
                                                     for b in self.benchmarks or ()))
        check_capability(self.capability, "capabilities")
        if self.pool not in POOL_KINDS:
            raise bad_input(f"{where}.pool", f"unknown pool {self.pool!r}", f"choose from {list(POOL_KINDS)}")
        if self.pool != "embedded" and not self.path:
            raise bad_input(f"{where}.path", f"pool {self.pool!r} needs a file", "set path to the capability's JSONL file")
        if self.pool == "embedded" and self.path:
            raise bad_input(f"{where}.path", "the embedded pool reads no file", "remove path, or pick pool templates/jsonl")

    def files(self) -> list[str]:
        return [p for p in (self.path, self.eval, *(b.path for b in self.benchmarks)) if p]

    def to_dict(self) -> dict:
        return {"pool": self.pool, "path": self.path, "eval": self.eval,
                "benchmarks": [b.to_dict() for b in self.benchmarks]}


def resolve_sources(section: Mapping[str, Any] | None, *, world: bool) -> dict[str, CapabilitySource]:
    """Every capability's source, in CAPABILITIES order (see the module docstring for defaults)."""
    section = dict(section or {})
    for c in section:
        check_capability(c, "config capabilities")
    missing = [c for c in CAPABILITIES if c not in section]
    if missing and not world:
        raise bad_input("config capabilities", f"no data for {missing}",
                        "give each a pool, e.g. {pool: templates, path: config/templates/<cap>.jsonl}")
    return {c: CapabilitySource(c, **section.get(c, {})) for c in CAPABILITIES}


def from_params(params: Mapping[str, Mapping[str, Any]]) -> dict[str, CapabilitySource]:
    """Sources back from their ``to_dict`` form (rule params)."""
    return {c: CapabilitySource(c, **params[c]) for c in CAPABILITIES}


def check_sources(sources: Mapping[str, CapabilitySource], n_probes: int, probe_seed: int) -> None:
    """Read every file once (bad lines are errors naming file:line) and draw each probe set."""
    for src in sources.values():
        probe_items(src, n_probes, probe_seed)
        if src.eval:
            eval_items(src, 1, 0)
        for bench in src.benchmarks:
            bench.check()


def _prompt_lines(src: CapabilitySource) -> list:
    from read.templates import read_prompt_file

    return read_prompt_file(src.path, src.capability)


def probe_indices(n_lines: int, n: int, seed: int, capability: str) -> list[int]:
    """The line indices of a prompt file held out as its probe set (seeded, sorted)."""
    if n >= n_lines:
        raise bad_input(f"capabilities.{capability}", f"{n_lines} prompts cannot hold out {n} probes and leave a pool",
                        "add prompts or lower probes.n_per_capability")
    return sorted(rng_for(seed, "probe", capability).permutation(n_lines)[:n].tolist())


def probe_items(src: CapabilitySource, n: int, seed: int) -> list:
    """The capability's probe set: ``n`` items with ``.prompt`` and ``.answer`` (gold or None)."""
    if src.pool == "embedded":
        from read.embedded import sample_items

        return sample_items(src.capability, "probe", n, seed)
    if src.pool == "jsonl":
        lines = _prompt_lines(src)
        return [lines[i] for i in probe_indices(len(lines), n, seed, src.capability)]
    from read.templates import load_templates

    templates = load_templates(src.path, src.capability)
    rng = rng_for(seed, "probe", src.capability)
    items, seen = [], set()
    for _ in range(MAX_DRAWS_PER_PROBE * n):
        if len(items) == n:
            break
        it = templates[int(rng.integers(len(templates)))].fill(rng)
        if it.prompt not in seen:
            seen.add(it.prompt)
            items.append(it)
    if len(items) < n:
        raise bad_input(src.path, f"only {len(items)} distinct prompts for {n} probes",
                        "widen the templates' slot ranges or lower probes.n_per_capability")
    return items


def eval_items(src: CapabilitySource, n: int, seed: int, *, whole: bool = False) -> list | None:
    """Gold items the final profile scores for this capability, or None (it then uses the probes).

    ``whole``: every line of an eval file rather than the ``n`` scored (the leakage index
    guards the whole file); the embedded world's test split is unbounded, so it gives the
    ``n`` drawn items either way."""
    from read.tasks import read_items, seeded_subset

    if src.eval:
        items = read_items(src.eval, f"capabilities.{src.capability}.eval")
        return items if whole else seeded_subset(items, n, seed, "eval", src.capability)
    if src.pool == "embedded":
        from read.embedded import sample_items

        return sample_items(src.capability, "test", n, seed)
    return None


def build_pools(sources: Mapping[str, CapabilitySource], *, n_probes: int, probe_seed: int, scale=None, cfg=None):
    """``read.templates.CapabilityPools`` over every capability's pool; the ``n_probes`` probe
    lines (drawn with ``probe_seed``) of prompt files are held out. ``scale``: a
    DifficultyScale or its path (None: fit on first use)."""
    from read.templates import CapabilityPools, DifficultyScale, EmbeddedPool, JsonlPool, PromptFilePool

    if isinstance(scale, str) or hasattr(scale, "__fspath__"):
        scale = DifficultyScale.load(scale)
    by_kind: dict[str, dict[str, CapabilitySource]] = {}
    for c, src in sources.items():
        by_kind.setdefault(src.pool, {})[c] = src
    pools = {}
    if "embedded" in by_kind:
        embedded = EmbeddedPool("pool", scale, cfg)
        pools.update(dict.fromkeys(by_kind["embedded"], embedded))
    if "templates" in by_kind:
        templates = JsonlPool({c: s.path for c, s in by_kind["templates"].items()}, scale, cfg)
        pools.update(dict.fromkeys(by_kind["templates"], templates))
    if "jsonl" in by_kind:
        held = {c: probe_indices(len(_prompt_lines(s)), n_probes, probe_seed, c) for c, s in by_kind["jsonl"].items()}
        prompts = PromptFilePool({c: s.path for c, s in by_kind["jsonl"].items()}, held, scale, cfg)
        pools.update(dict.fromkeys(by_kind["jsonl"], prompts))
    return CapabilityPools({c: pools[c] for c in CAPABILITIES if c in pools})


def reference_items(sources: Mapping[str, CapabilitySource], *, n_probes: int, probe_seed: int, n: int,
                    seed: int) -> dict:
    """The reference sample Q_c of every capability's pool (what the difficulty scale is fitted on)."""
    pools = build_pools(sources, n_probes=n_probes, probe_seed=probe_seed)
    return {c: pools.pools[c].draw(c, n, rng_for(seed, "difficulty-reference", c)) for c in pools.capabilities()}
