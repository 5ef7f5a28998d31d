"""One ReAD run chain from plain Python: the workflow's steps, in order, without Snakemake.

    python -m read.run --config config/config.yaml --task knowledge_call --method read \\
        --budget 60000 --seed 0 --intervals 5 --out results/plain

It calls the very functions the workflow's scripts call (:mod:`read.interval`), writes
the same files under ``<out>/setup/`` and ``<out>/runs/{task}/{method}/B{budget}/seed{seed}/``,
and skips any file that already exists, so a second call resumes. Use it for notebooks,
debugging and the library's end-to-end tests; the workflow adds the experiment grid,
incremental reruns and cluster execution on top of the same steps.

Config values not in the file come from the workflow's JSON schema defaults, so a plain
run and a Snakemake run of the same config compute the same thing.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from read.capabilities import to_mapping
from read.errors import bad_input
from read.io import read_json, write_json, write_jsonl

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def with_defaults(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict:
    """``config`` with every missing ``default`` of the schema filled in (recursively)."""
    out = dict(config)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = sub["default"]
        if isinstance(out.get(key), Mapping) and sub.get("type") == "object":
            out[key] = with_defaults(out[key], sub)
    return out


def load_config(path: str | Path) -> dict:
    """Read a workflow config file and fill in the schema's defaults (no validation beyond that)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise bad_input(str(path), "config file not found", "pass --config config/config.yaml or your own file")
    return with_defaults(yaml.safe_load(path.read_text()) or {}, yaml.safe_load(SCHEMA.read_text()))


def _step(path: Path, make: Callable[[], Any], write: Callable[[Path, Any], Any] = write_json) -> Path:
    """Run ``make`` and write its result to ``path`` unless the file is already there."""
    if not path.exists():
        write(path, make())
    return path


def build_setup(out: Path, cfg: Mapping[str, Any], task: str, seed: int) -> dict[str, Path]:
    """Tokenizer, teacher, S0, probe suite, s_0, r_tau, S0's task scores and the profiling
    interventions of ``task`` and ``seed``: what every run of that task and seed reads."""
    from read import interval
    from read.embedded.models import ModelSpec
    from read.embedded.pretrain import PretrainConfig, pretrain
    from read.embedded.tasks import check_task
    from read.embedded.tokenizer import train_world_tokenizer
    from read.requirements import requirement_from_card

    world, setup = cfg["world"], out / "setup"
    paths = {name: setup / name for name in ("tokenizer", "teacher", "student0")}
    tok_cfg = world["tokenizer"]
    if not paths["tokenizer"].exists():
        train_world_tokenizer(paths["tokenizer"], tok_cfg["vocab_size"], tok_cfg["corpus_per_capability"], world["seed"])
    for role, name in (("teacher", "teacher"), ("student", "student0")):
        if not paths[name].exists():
            spec = ModelSpec.from_dict(world[role]["spec"], f"world.{role}.spec")
            pretrain(paths["tokenizer"], spec, PretrainConfig.from_dict(world[role]["pretrain"]), paths[name],
                     world["seed"])
    tok = paths["tokenizer"]
    paths["scale"] = _step(setup / "difficulty_scale.json", lambda: None,
                           lambda p, _: interval.difficulty_scale(p))
    paths["suite"] = _step(setup / "probes.json", lambda: interval.probe_suite(
        paths["teacher"], tok, probes=cfg["probes"], teacher=cfg["teacher"]))
    paths["s0_profile"] = _step(setup / "s0_profile.json", lambda: interval.probe(
        paths["student0"], None, paths["suite"], tok, batch_size=cfg["probes"]["batch_size"]))
    card = check_task(task, "read.run --task")
    paths["r_tau"] = _step(setup / "tasks" / task / "r_tau.json", lambda: {
        "task": task, "r": to_mapping(requirement_from_card(card.requirement, f"task {task}"))})
    paths["s0_eval"] = _step(setup / "tasks" / task / "s0_eval.json", lambda: interval.evaluate_model(
        paths["student0"], tok, task=task, evaluation=cfg["evaluation"]))
    paths["interventions"] = _step(
        setup / "interventions" / task / f"seed{seed}.jsonl",
        lambda: interval.profile_interventions(
            paths["teacher"], paths["student0"], tok, paths["suite"], paths["s0_profile"], paths["r_tau"],
            paths["scale"], paths["s0_eval"], task=task, seed=seed, shard=0, n_shards=1,
            profiling=cfg["profiling"], generation=cfg["generation"], student=cfg["student"],
            teacher=cfg["teacher"], budget=cfg["budget"], evaluation=cfg["evaluation"],
            batch_size=cfg["probes"]["batch_size"]),
        write_jsonl)
    return paths


def run_chain(out: str | Path, cfg: Mapping[str, Any], *, task: str, method: str, budget: int, seed: int) -> Path:
    """Setup (if missing), then every interval of one run, then ``final/eval.json``; returns it."""
    from read import interval
    from read.policies import make_policy

    out = Path(out)
    make_policy(method)  # unknown method: fail before any model is trained
    s = build_setup(out, cfg, task, seed)
    tok, n = s["tokenizer"], int(cfg["budget"]["n_intervals"])
    budget_cfg = {**cfg["budget"], "total_tokens": int(budget)}
    bandit_cfg, reward_cfg = cfg["bandit"], cfg["reward"]  # make_policy applies greedy's kappa=0, no_spillover's beta=0
    policy = make_policy(method, reward=reward_cfg, bandit=bandit_cfg, seed=seed)
    run = out / "runs" / task / method / f"B{budget}" / f"seed{seed}"
    ledger = _step(run / "init" / "ledger.json", lambda: interval.init_ledger(budget_cfg, s["interventions"]))
    bandit = None
    if policy.uses_bandit:
        bandit = _step(run / "init" / "bandit.json", lambda: interval.init_bandit(
            method, s["interventions"], s["r_tau"], budget=budget_cfg, bandit=bandit_cfg, reward=reward_cfg,
            seed=seed))
    student, profile, allocation = s["student0"], s["s0_profile"], None
    every = int(cfg["calibration"]["every"])
    for k in range(1, n + 1):
        d = run / f"i{k}"
        allocation = _step(d / "allocation.json", lambda: interval.allocate(
            method, k, r_tau=s["r_tau"], profile=profile, ledger=ledger, prev_allocation=allocation,
            bandit=bandit, reward=reward_cfg, bandit_cfg=bandit_cfg, seed=seed))
        if not (d / "batch.jsonl").exists():
            rows, manifest = interval.generate_batch(
                allocation, s["teacher"], tok, ledger, s["scale"], k=k, n_intervals=n,
                generation=cfg["generation"], teacher=cfg["teacher"], seed=seed)
            write_json(d / "manifest.json", manifest)
            write_jsonl(d / "batch.jsonl", rows)
        if not (d / "student").exists():
            write_json(d / "ledger.json", interval.train_interval(
                s["student0"], student, d / "batch.jsonl", d / "manifest.json", ledger, tok, d / "student",
                k=k, student=cfg["student"], seed=seed))
        ledger, prev_profile, student = d / "ledger.json", profile, d / "student"
        dev = ({"task": task, "n_dev": cfg["evaluation"]["n_dev"], "eval_seed": cfg["evaluation"]["seed"]}
               if policy.adapts and every and k % every == 0 else None)
        profile = _step(d / "profile.json", lambda: interval.probe(
            s["student0"], student, s["suite"], tok, batch_size=cfg["probes"]["batch_size"], dev=dev))
        if policy.adapts:
            bandit = _step(d / "bandit.json", lambda: interval.update_bandit(
                method, k, bandit=bandit, allocation=allocation, prev_profile=prev_profile, profile=profile,
                r_tau=s["r_tau"], ledger=ledger, initial=s["s0_eval"], reward=reward_cfg, bandit_cfg=bandit_cfg,
                seed=seed))
        log.info("interval %d/%d: w=%s", k, n, read_json(allocation)["w"])
    return _step(run / "final" / "eval.json", lambda: interval.evaluate_run(
        s["student0"], student, tok, ledger, s["s0_eval"], task=task, method=method, budget=int(budget), seed=seed,
        evaluation=cfg["evaluation"]))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--task", required=True)
    ap.add_argument("--method", default="read")
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--intervals", type=int, help="override budget.n_intervals")
    ap.add_argument("--out", default="results/plain")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = load_config(args.config)
    if args.intervals:
        cfg["budget"] = {**cfg["budget"], "n_intervals": args.intervals}
    path = run_chain(args.out, cfg, task=args.task, method=args.method, budget=args.budget, seed=args.seed)
    result = read_json(path)
    print(f"{path}: task_score {result['task_score']:.3f} (S0 {result['initial']['task_score']:.3f}), "
          f"task_ll {result['task_ll']:.3f} (S0 {result['initial']['task_ll']:.3f})")


if __name__ == "__main__":
    main()
