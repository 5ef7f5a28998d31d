"""One ReAD run chain from plain Python: the workflow's steps, in order, without Snakemake.

    python -m read.run --configfile config/config.yaml --task multilingual_arithmetic \\
        --method read --budget 60000 --seed 0 --intervals 5 --out results/plain

It reads the same config sections as the workflow (validated against the schema shipped
in the package, defaults filled in), resolves the same providers (``models:``, task
cards, ``capabilities:``; the embedded world's models when ``world:`` is present), calls
the very step functions the workflow's scripts call (:mod:`read.steps`), writes the same
files under ``<out>/setup/`` and ``<out>/runs/{task}/{method}/B{budget}/seed{seed}/``, and
skips any file that already exists, so a second call resumes. Use it for notebooks,
debugging and the library's end-to-end tests; the workflow adds the experiment grid,
incremental reruns and cluster execution on top of the same steps.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from read.config import EvaluationConfig, GenerationConfig, ProbesConfig, ProfilingConfig, load_config
from read.io import read_json, write_json, write_jsonl

log = logging.getLogger(__name__)

__all__ = ["Experiment", "build_setup", "load_config", "main", "run_chain"]


def _step(path: Path, make: Callable[[], Any], write: Callable[[Path, Any], Any] = write_json) -> Path:
    """Run ``make`` and write its result to ``path`` unless the file is already there."""
    if not path.exists():
        write(path, make())
    return path


@dataclass
class Experiment:
    """A validated config's providers and typed sections, resolved once (as common.smk does)."""

    cfg: Mapping[str, Any]
    setup: Path

    def __post_init__(self):
        from read.capability_data import check_sources, resolve_sources
        from read.providers import check_models, resolve_models

        self.world = "world" in self.cfg
        self.teacher, self.student, self.models = resolve_models(
            self.cfg["models"], world_setup=str(self.setup) if self.world else None)
        check_models(self.models)
        self.sources = resolve_sources(self.cfg["capabilities"], world=self.world)
        self.generation = GenerationConfig.from_dict(self.cfg["generation"])
        self.probes = ProbesConfig.from_dict(self.cfg["probes"])
        check_sources(self.sources, self.probes.n_per_capability, self.probes.seed)
        self.evaluation = EvaluationConfig.from_dict(self.cfg["evaluation"])
        self.profiling = ProfilingConfig.from_dict(self.cfg["profiling"])

    def card(self, task: str):
        from read.tasks import load_task_cards

        return load_task_cards(self.cfg["task_cards"], [task])[task]


def _build_world(exp: Experiment) -> None:
    """The embedded provider's tokenizer, teacher and S0 (only with ``world:``)."""
    from read.embedded.models import ModelSpec
    from read.embedded.pretrain import PretrainConfig, pretrain
    from read.embedded.tokenizer import train_world_tokenizer

    world, setup = exp.cfg["world"], exp.setup
    tok_cfg = world["tokenizer"]
    if not (setup / "tokenizer").exists():
        train_world_tokenizer(setup / "tokenizer", tok_cfg["vocab_size"], tok_cfg["corpus_per_capability"], world["seed"])
    for role, name in (("teacher", "teacher"), ("student", "student0")):
        if not (setup / name).exists():
            spec = ModelSpec.from_dict(world[role]["spec"], f"world.{role}.spec")
            pretrain(setup / "tokenizer", spec, PretrainConfig.from_dict(world[role]["pretrain"]), setup / name,
                     world["seed"])


def build_setup(exp: Experiment, task: str, seed: int, *, budget: int | None = None) -> dict[str, Path]:
    """Probe suite, s_0, r_tau, the eval index and S0's task scores: what every run of
    ``task`` and ``seed`` reads; given a ``budget``, also the profiling interventions its
    bandit methods start from (``paths["interventions"]``, the size ``profiling.tokens``
    gives that budget)."""
    from read.budget import BudgetConfig
    from read.steps import setup as steps
    from read.steps.common import ModelSettings

    if exp.world:
        _build_world(exp)
    setup, m, card = exp.setup, exp.models, exp.card(task)
    paths = {"scale": _step(setup / "difficulty_scale.json", lambda: None,
                            lambda p, _: steps.difficulty_scale(p, sources=exp.sources, probes=exp.probes))}
    paths["suite"] = _step(setup / "probes.json", lambda: steps.probe_suite(
        teacher=exp.teacher, sources=exp.sources, probes=exp.probes))
    paths["index"] = _step(setup / "eval_index.json", lambda: steps.eval_index(
        paths["suite"], tasks={task: card}, sources=exp.sources, evaluation=exp.evaluation))
    paths["s0_profile"] = _step(setup / "s0_profile.json", lambda: steps.probe(
        m.student, None, paths["suite"], m.student_tokenizer, batch_size=exp.probes.batch_size,
        settings=ModelSettings.of(exp.student)))
    paths["r_tau"] = _step(setup / "tasks" / task / "r_tau.json", lambda: steps.requirement(
        task, card.requirement_source, card.requirement, f"task {task}.requirement"))
    paths["s0_eval"] = _step(setup / "tasks" / task / "s0_eval.json", lambda: steps.evaluate_model(
        m.student, m.student_tokenizer, paths["suite"], card=card, sources=exp.sources, evaluation=exp.evaluation,
        settings=ModelSettings.of(exp.student)))
    if budget is None:
        return paths
    size = exp.profiling.size_for(exp.cfg["budget"], budget)
    gen_fraction = BudgetConfig(total_tokens=size, **exp.cfg["budget"]).gen_fraction
    paths["interventions"] = _step(
        setup / "interventions" / task / f"seed{seed}" / f"T{size}.jsonl",
        lambda: steps.profile_interventions(
            m.student, m.student_tokenizer, paths["suite"], paths["s0_profile"], paths["r_tau"], paths["scale"],
            paths["s0_eval"], paths["index"], card=card, seed=seed, shard=0, n_shards=1,
            profiling=exp.profiling.with_size(size), generation=exp.generation, student=exp.student,
            teacher=exp.teacher, sources=exp.sources, probes=exp.probes, gen_fraction=gen_fraction,
            evaluation=exp.evaluation),
        write_jsonl)
    return paths


def run_chain(out: str | Path, cfg: Mapping[str, Any], *, task: str, method: str, budget: int, seed: int) -> Path:
    """Setup (if missing), then every interval of one run, then ``final/eval.json``; returns it."""
    from read.batches import write_batch
    from read.budget import BudgetConfig
    from read.methods import method_generation, method_student
    from read.policies import make_policy, method_config
    from read.steps import interval as steps
    from read.steps.common import ModelSettings
    from read.steps.evaluate import evaluate_run
    from read.steps.setup import DevCheck, probe

    out = Path(out)
    uses_bandit = make_policy(method).uses_bandit  # unknown method: fail before any model is trained
    exp = Experiment(cfg, out / "setup")
    generation = GenerationConfig.from_dict(method_generation(method, cfg["generation"]))
    student_cfg = type(exp.student).from_dict(method_student(method, exp.student.to_dict()))
    s = build_setup(exp, task, seed, budget=int(budget) if uses_bandit else None)
    m, card = exp.models, exp.card(task)
    n = BudgetConfig.intervals(cfg["budget"])
    budget_cfg = {**cfg["budget"], "total_tokens": int(budget)}
    bandit_cfg, reward_cfg = method_config(method, "bandit", cfg["bandit"]), method_config(method, "reward", cfg["reward"])
    policy = make_policy(method, reward=reward_cfg, bandit=bandit_cfg, seed=seed)
    run = out / "runs" / task / method / f"B{budget}" / f"seed{seed}"
    ledger = _step(run / "init" / "ledger.json", lambda: steps.init_ledger(budget_cfg, s.get("interventions")))
    bandit = None
    if policy.uses_bandit:
        bandit = _step(run / "init" / "bandit.json", lambda: steps.init_bandit(
            method, s["interventions"], s["r_tau"], budget=budget_cfg, bandit=bandit_cfg, reward=reward_cfg,
            seed=seed))
    student, profile, allocation = m.student, s["s0_profile"], None
    every = int(cfg["calibration"]["every"])
    for k in range(1, n + 1):
        d = run / f"i{k}"
        allocation = _step(d / "allocation.json", lambda: steps.allocate(
            method, k, r_tau_file=s["r_tau"], profile=profile, ledger=ledger, prev_allocation=allocation,
            bandit=bandit, reward=reward_cfg, bandit_cfg=bandit_cfg, seed=seed))
        if not (d / "batch.jsonl").exists():
            rows, manifest = steps.generate_batch(
                allocation, ledger, s["scale"], s["index"], m.student_tokenizer, k=k, n_intervals=n,
                generation=generation, teacher=exp.teacher, chat_template=student_cfg.chat_template,
                sources=exp.sources, probes=exp.probes, seed=seed)
            write_json(d / "manifest.json", write_batch(d / "batch.jsonl", rows, manifest))
        if not (d / "student").exists():
            kd = student_cfg.loss == "kd"
            write_json(d / "ledger.json", steps.train_interval(
                m.student, student, d / "batch.jsonl", d / "manifest.json", ledger, m.student_tokenizer, d / "student",
                k=k, student=student_cfg, teacher_tokenizer=m.teacher_tokenizer if kd else None, seed=seed))
        ledger, prev_profile, student = d / "ledger.json", profile, d / "student"
        dev = (DevCheck(card, exp.evaluation.n_dev, exp.evaluation.seed)
               if policy.adapts and every and k % every == 0 else None)
        profile = _step(d / "profile.json", lambda: probe(
            m.student, student, s["suite"], m.student_tokenizer, batch_size=exp.probes.batch_size,
            settings=ModelSettings.of(exp.student), dev=dev))
        if policy.adapts:
            bandit = _step(d / "bandit.json", lambda: steps.update_bandit(
                method, k, bandit=bandit, allocation=allocation, prev_profile=prev_profile, profile=profile,
                r_tau_file=s["r_tau"], ledger=ledger, initial=s["s0_eval"], reward=reward_cfg, bandit_cfg=bandit_cfg,
                seed=seed))
        log.info("interval %d/%d: w=%s", k, n, read_json(allocation)["w"])
    return _step(run / "final" / "eval.json", lambda: evaluate_run(
        m.student, student, m.student_tokenizer, s["suite"], ledger, s["s0_eval"], card=card, sources=exp.sources,
        method=method, budget=int(budget), seed=seed, evaluation=exp.evaluation,
        settings=ModelSettings.of(exp.student)))


def main(argv: list[str] | None = None) -> None:
    from read.errors import ReadError

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", "--config", dest="configfile", default="config/config.yaml")
    ap.add_argument("--task", required=True)
    ap.add_argument("--method", default="read")
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--intervals", type=int, help="override budget.n_intervals")
    ap.add_argument("--out", default="results/plain")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        cfg = load_config(args.configfile, {"budget": {"n_intervals": args.intervals}} if args.intervals else {})
        path = run_chain(args.out, cfg, task=args.task, method=args.method, budget=args.budget, seed=args.seed)
    except ReadError as err:
        raise SystemExit(str(err)) from None
    result = read_json(path)
    print(f"{path}: task_score {result['task_score']:.3f} (S0 {result['initial']['task_score']:.3f}), "
          f"task_ll {result['task_ll']:.3f} (S0 {result['initial']['task_ll']:.3f})")


if __name__ == "__main__":
    main()
