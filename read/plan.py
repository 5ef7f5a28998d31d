"""A pre-run estimate of what a config will cost, before anything is generated or trained.

    python -m read.plan --configfile config/paper.yaml [--json]

A dry run (``snakemake -n``) prints the same summary first. Per run and in total:

- the grid's run count (tasks × methods × budgets × seeds);
- the budget B itself: teacher tokens generated (``gen_fraction`` · B) and student tokens
  trained (the rest), exact by construction (the ledger never passes its caps);
- the tokens outside B: profiling interventions (per task and seed, for bandit methods),
  probe scoring after every interval, dev checkpoints of adaptive methods, and the final
  evaluation. These depend on prompt and answer lengths, which are estimated from a sample
  of each capability's probe prompts and of the task's test items (with the student's
  tokenizer where it exists already, else about 4 characters a token), answers counted at
  ``generation.max_new_tokens``: an upper bound;
- GPU-hours: tokens over the per-GPU throughputs in config ``plan:`` (generated,
  trained and scored tokens per second), times the GPUs per job of each resource class
  (``resources.{generate,train,score}.gpu``, at least 1). Throughputs differ by model size and hardware: measure yours and set them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from read.capabilities import CAPABILITIES

CHARS_PER_TOKEN = 4.0  # where no tokenizer exists yet (the embedded world trains its own)
SAMPLE = 64  # prompts per capability measured for the length estimate
DRY_RUN_FLAGS = ("-n", "--dry-run", "--dryrun", "--just-print")


@dataclass(frozen=True)
class RunCost:
    """Tokens of one run (inside B: teacher, trained; outside B: probing, dev, evaluation)."""

    budget: int
    teacher_tokens: int
    train_tokens: int
    probe_tokens: int
    dev_tokens: int
    eval_tokens: int


@dataclass(frozen=True)
class Plan:
    runs: int
    per_run: list[dict]
    profiling_tokens: int
    teacher_tokens: int
    train_tokens: int
    score_tokens: int
    gpu_hours: float
    tokens_per_item: dict

    def summary(self) -> str:
        """One paragraph for a terminal (the dry run prints it first)."""
        m = 1e6
        return (f"plan: {self.runs} runs; teacher {self.teacher_tokens / m:.2f}M tokens, student trained "
                f"{self.train_tokens / m:.2f}M, scored (probes, dev, eval) {self.score_tokens / m:.2f}M, of which "
                f"profiling outside B {self.profiling_tokens / m:.2f}M; about {self.gpu_hours:.3g} GPU-hours at "
                f"the throughputs in config `plan:` (estimate: python -m read.plan)")


def _tokens(texts: Sequence[str], tokenizer) -> float:
    """Mean tokens per text: the tokenizer's count, or characters / CHARS_PER_TOKEN."""
    if not texts:
        return 0.0
    if tokenizer is None:
        return sum(len(t) for t in texts) / len(texts) / CHARS_PER_TOKEN
    return sum(len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]) / len(texts)


def _student_tokenizer(paths):
    """The student's tokenizer if it is already on disk (the embedded one is built in setup)."""
    from read.students.checkpoint import load_tokenizer

    path = Path(paths.student_tokenizer)
    if path in {Path(p) for p in paths.built} or not path.is_dir():
        return None
    return load_tokenizer(path)


def item_lengths(sources: Mapping, cards: Mapping, cfg: Mapping[str, Any], tokenizer) -> dict:
    """Estimated tokens per probe item, per task test item and per capability eval item
    (prompt + answer at max_new_tokens, plus a few tokens of prompt format)."""
    from read.capability_data import eval_items, probe_items

    answer = int(cfg["generation"]["max_new_tokens"])
    fmt = 8  # BOS, "Q: ", "\nA:" or a chat template's role tokens
    probe = [it.prompt for c in CAPABILITIES for it in probe_items(sources[c], min(SAMPLE, cfg["probes"]["n_per_capability"]),
                                                                   int(cfg["probes"]["seed"]))]
    task = [it.prompt for card in cards.values() for it in card.items("test", SAMPLE, 0)]
    evals = [it.prompt for c in CAPABILITIES for it in (eval_items(sources[c], SAMPLE, 0) or [])]
    return {"probe": _tokens(probe, tokenizer) + fmt + answer, "task": _tokens(task, tokenizer) + fmt + answer,
            "eval": (_tokens(evals, tokenizer) if evals else _tokens(probe, tokenizer)) + fmt + answer}


def run_cost(budget: int, method_adapts: bool, cfg: Mapping[str, Any], lengths: Mapping[str, float]) -> RunCost:
    """One run's tokens; probing scores every probe item after each interval (log-likelihood
    and, where gold answers exist, a greedy answer: counted twice)."""
    from read.budget import BudgetConfig

    b = BudgetConfig(total_tokens=int(budget), **cfg["budget"])
    n, ev = b.n_intervals, cfg["evaluation"]
    every = int(cfg["calibration"]["every"])
    checkpoints = (n // every) if (method_adapts and every) else 0
    teacher = int(round(b.gen_fraction * budget))
    probes = 2 * len(CAPABILITIES) * cfg["probes"]["n_per_capability"] * lengths["probe"] * n
    evaluation = 2 * (ev["n_test"] * lengths["task"] + len(CAPABILITIES) * ev["n_per_capability"] * lengths["eval"])
    return RunCost(budget=int(budget), teacher_tokens=teacher, train_tokens=int(budget) - teacher,
                   probe_tokens=int(probes), dev_tokens=int(checkpoints * ev["n_dev"] * lengths["task"]),
                   eval_tokens=int(evaluation))


def plan(cfg: Mapping[str, Any], *, setup: str) -> Plan:
    """The estimate for a validated config (``read.config.load_config``)."""
    from read.capability_data import resolve_sources
    from read.config import ProfilingConfig
    from read.grid import axis_values
    from read.grid import expand as expand_grid
    from read.policies import make_policy
    from read.providers import resolve_models
    from read.tasks import load_task_cards

    world = "world" in cfg
    _, _, paths = resolve_models(cfg["models"], world_setup=setup if world else None)
    sources = resolve_sources(cfg["capabilities"], world=world)
    cards = load_task_cards(cfg["task_cards"], axis_values(expand_grid(cfg), "task"), check_files=False)
    lengths = item_lengths(sources, cards, cfg, _student_tokenizer(paths))
    runs = expand_grid(cfg)
    policies = {m: make_policy(m) for m in axis_values(runs, "method")}
    costs = {(m, b): run_cost(b, policies[m].adapts, cfg, lengths)
             for m, b in dict.fromkeys((r.method, r.budget) for r in runs)}
    per_run = [asdict(c) | {"method": m} for (m, _), c in costs.items()]
    of_runs = [costs[(r.method, r.budget)] for r in runs]
    prof = ProfilingConfig.from_dict(cfg["profiling"])
    # one intervention set per (task, seed, size) that a bandit run starts from
    sets = dict.fromkeys((r.task, r.seed, prof.size_for(cfg["budget"], r.budget))
                         for r in runs if policies[r.method].uses_bandit)
    gen_fraction = per_run[0]["teacher_tokens"] / max(per_run[0]["budget"], 1)
    profiling = sum(prof.n_interventions * size for *_, size in sets)
    profiling_score = (len(sets) * prof.n_interventions * 2 * len(CAPABILITIES) * cfg["probes"]["n_per_capability"]
                       * lengths["probe"])
    teacher = sum(c.teacher_tokens for c in of_runs) + int(profiling * gen_fraction)
    train = sum(c.train_tokens for c in of_runs) + profiling - int(profiling * gen_fraction)
    score = sum(c.probe_tokens + c.dev_tokens + c.eval_tokens for c in of_runs) + int(profiling_score)
    rates, res = cfg["plan"], cfg["resources"]

    def gpus(kind: str) -> int:
        return max(1, int(res[kind]["gpu"]))

    gpu_seconds = (teacher / rates["teacher_tokens_per_s"] * gpus("generate")
                   + train / rates["train_tokens_per_s"] * gpus("train")
                   + score / rates["score_tokens_per_s"] * gpus("score"))
    return Plan(runs=len(runs), per_run=per_run, profiling_tokens=profiling, teacher_tokens=teacher, train_tokens=train,
                score_tokens=score, gpu_hours=gpu_seconds / 3600,
                tokens_per_item={k: round(v, 1) for k, v in lengths.items()})


def is_dry_run(argv: Sequence[str]) -> bool:
    """Whether a Snakemake command line asks for a dry run (-n, -np, --dry-run, ...)."""
    short = [a[1:] for a in argv if a.startswith("-") and not a.startswith("--") and a[1:].isalpha()]
    return any(a in DRY_RUN_FLAGS for a in argv) or any("n" in s for s in short)


def table(p: Plan) -> str:
    rows = ["| method | B | teacher | trained | probes | dev | eval |", "|---|---|---|---|---|---|---|"]
    for r in p.per_run:
        rows.append(f"| {r['method']} | {r['budget']:,} | {r['teacher_tokens']:,} | {r['train_tokens']:,} | "
                    f"{r['probe_tokens']:,} | {r['dev_tokens']:,} | {r['eval_tokens']:,} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    from read.config import load_config
    from read.errors import ReadError

    ap = argparse.ArgumentParser(prog="python -m read.plan", description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", nargs="+", default=["config/config.yaml"],
                    help="config files, deep-merged in order (as snakemake --configfile)")
    ap.add_argument("--json", action="store_true", help="print the plan as JSON")
    args = ap.parse_args(argv)
    try:
        import yaml

        extra = [yaml.safe_load(Path(f).read_text()) or {} for f in args.configfile[1:]]
        cfg = load_config(args.configfile[0], *extra)
        p = plan(cfg, setup=f"results/{cfg['experiment']}/setup")
    except ReadError as err:
        sys.exit(str(err))
    if args.json:
        print(json.dumps(asdict(p), indent=2))
        return
    print(p.summary())
    print("\nPer run (tokens; each run is repeated for every task and seed):\n")
    print(table(p))
    print(f"\nEstimated tokens per scored item: {p.tokens_per_item}")


if __name__ == "__main__":
    main()
