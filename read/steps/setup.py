"""Setup steps shared by every run (``workflow/rules/setup.smk``)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from read.capabilities import CAPABILITIES, K, to_mapping, to_vector
from read.config import EvaluationConfig, GenerationConfig, ProbesConfig, ProfilingConfig
from read.errors import bad_input
from read.io import read_json, read_jsonl
from read.rng import rng_for
from read.steps.common import LoadedModel, ModelSettings, ll_profile, load_model, r_tau, with_threads

log = logging.getLogger(__name__)


def requirement(task: str, source: str, weights, where: str, *, identifier=None, embeddings=None) -> dict:
    """``r_tau.json``: ``{"task", "r", "source"}`` from the card's weights, the learned
    identifier (``identifier`` directory and the card ``embeddings``), or uniform."""
    from read.requirements import requirement_from_card, uniform_requirement

    if source == "learned":
        if identifier is None or embeddings is None:
            raise bad_input(where, "requirement_source learned needs a trained identifier", "run it from the workflow")
        from read.steps.identifier import learned_requirement

        return learned_requirement(identifier, embeddings, task=task)
    r = uniform_requirement() if source == "uniform" else requirement_from_card(weights, where)
    return {"task": task, "r": to_mapping(r), "source": source}


def difficulty_scale(out_path, *, sources: Mapping, probes: ProbesConfig, n: int = 256, seed: int = 0) -> None:
    """Fit every pool's difficulty scale once, so every interval uses the same cuts."""
    from read.capability_data import reference_items
    from read.templates import DifficultyScale

    DifficultyScale.fit(reference_items(sources, n_probes=probes.n_per_capability, probe_seed=probes.seed, n=n,
                                        seed=seed)).save(out_path)


def probe_suite(*, teacher, sources: Mapping, probes: ProbesConfig) -> dict:
    """Teacher greedy responses on ``probes.n_per_capability`` probe prompts per capability."""
    from read.capability_data import probe_items
    from read.probes import build_probe_suite
    from read.teachers import make_teacher

    items = {c: probe_items(sources[c], probes.n_per_capability, probes.seed) for c in CAPABILITIES}
    with make_teacher(teacher) as t:
        return build_probe_suite(t, items, seed=probes.seed)


def eval_index(suite, *, tasks: Mapping, sources: Mapping, evaluation: EvaluationConfig) -> dict:
    """The eval-leakage index (``read.templates.leakage``) of every task's dev and test
    items, every capability's gold eval items and every probe prompt."""
    from read.capability_data import eval_items
    from read.probes import load_suite
    from read.templates import LeakageIndex

    prompts = []
    for card in tasks.values():
        for split, n in (("dev", evaluation.n_dev), ("test", evaluation.n_test)):
            prompts += [it.prompt for it in card.split_items(split, n, evaluation.seed)]
    for src in sources.values():
        prompts += [it.prompt for it in eval_items(src, evaluation.n_per_capability, evaluation.seed, whole=True) or []]
    probes = [it["prompt"] for items in load_suite(suite)["capabilities"].values() for it in items]
    log.info("eval index: %d evaluation prompts, %d probe prompts", len(prompts), len(probes))
    return LeakageIndex.build(prompts, probe_prompts=probes).to_json()


def probe(base_dir, ckpt_dir, suite, tokenizer_dir, *, batch_size: int = 64,
          settings: ModelSettings = ModelSettings(), dev=None, accuracy: bool = True,
          model: LoadedModel | None = None) -> dict:
    """The probe profile ``{"ll", "acc", "n"}``; with ``dev`` (a :class:`DevCheck`) also
    ``"dev_utility"``, the task's dev-split gold log-likelihood (for calibration and ΔU).
    ``accuracy=False`` skips greedy generation (acc null): log-likelihoods only."""
    from read.evaluate import dev_utility
    from read.probes import load_suite, probe_profile

    m = model or load_model(base_dir, ckpt_dir, tokenizer_dir, settings)
    out = probe_profile(m.model, m.tokenizer, load_suite(suite), batch_size, accuracy=accuracy, fmt=m.fmt)
    if dev:
        out["dev_utility"] = dev_utility(m.model, m.tokenizer, dev.card, n_dev=dev.n_dev, eval_seed=dev.eval_seed,
                                         batch_size=batch_size, fmt=m.fmt)
    return out


@dataclass(frozen=True)
class DevCheck:
    """A dev-utility measurement: the task's card, dev items and their seed."""

    card: object
    n_dev: int
    eval_seed: int

    @classmethod
    def from_params(cls, params: Mapping | None):
        """From rule params ``{"task", "card", "n_dev", "eval_seed"}`` (None: no check)."""
        if not params:
            return None
        from read.tasks import TaskCard

        card = TaskCard.from_mapping(params["task"], params["card"], f"task {params['task']}")
        return cls(card, params["n_dev"], params["eval_seed"])


def score_model(base_dir, ckpt_dir, tokenizer_dir, suite, *, card, sources: Mapping, evaluation: EvaluationConfig,
                settings: ModelSettings = ModelSettings()) -> dict:
    """A model's task score, capability profile and dev utility (S0 here, S_N at a run's end)."""
    from read.evaluate import dev_utility, evaluate_student
    from read.probes import load_suite

    m = load_model(base_dir, ckpt_dir, tokenizer_dir, settings)
    ev = evaluation
    out = evaluate_student(m.model, m.tokenizer, card, sources=sources, suite=load_suite(suite), n_test=ev.n_test,
                           n_per_capability=ev.n_per_capability, eval_seed=ev.seed, batch_size=ev.batch_size,
                           fmt=m.fmt, paths=(base_dir, ckpt_dir, tokenizer_dir), lm_eval=ev.lm_eval)
    out["dev_utility"] = dev_utility(m.model, m.tokenizer, card, n_dev=ev.n_dev, eval_seed=ev.seed,
                                     batch_size=ev.batch_size, fmt=m.fmt)
    return out


def evaluate_model(base_dir, tokenizer_dir, suite, *, card, sources: Mapping, evaluation: EvaluationConfig,
                   settings: ModelSettings = ModelSettings()) -> dict:
    """A model on the task's test split and every capability's test items, before any
    distillation: S0's is the runs' ``initial`` block and U_0; the teacher's is the
    reference the students are compared with (the same items)."""
    return score_model(base_dir, None, tokenizer_dir, suite, card=card, sources=sources, evaluation=evaluation,
                       settings=settings)


def profile_interventions(student_dir, tokenizer_dir, suite, s0_profile, r_tau_file, scale, s0_eval, index, *,
                          card, seed: int, shard: int, n_shards: int, profiling: ProfilingConfig,
                          generation: GenerationConfig, student, teacher, sources: Mapping, probes: ProbesConfig,
                          gen_fraction: float, evaluation: EvaluationConfig, threads: int | None = None) -> list[dict]:
    """Short distillations from S0 under random sparse allocations (this shard's share).

    Intervention i (i = shard, shard + n_shards, ...) draws ``profiling.capabilities``
    capabilities and Dirichlet(1) weights from ``rng_for(seed, "profiling", task, i)``,
    generates ``gen_fraction`` of ``profiling.tokens`` with the teacher, trains S0 on the
    rest and probes the result. Each record also holds ``delta_u`` = U(S^m) − U(S0), the
    task's dev-split utility change (``s0_eval`` holds U(S0)); it trains the requirement
    identifier later and measures how well the proxy reward predicts task gain
    (:func:`reward_validity`). Rewards are computed later, per method, by
    ``Policy.new_bandit``.
    """
    from read.bandit import initial_context
    from read.batches import teacher_rows
    from read.capability_data import build_pools
    from read.students.checkpoint import load_tokenizer
    from read.students.train import train_on_batch
    from read.teachers import make_teacher
    from read.templates import LeakageIndex

    s0 = ll_profile(s0_profile)
    ctx = initial_context(r_tau(r_tau_file), s0).tolist()
    gen_tokens = int(round(profiling.tokens * gen_fraction))
    pools = build_pools(sources, n_probes=probes.n_per_capability, probe_seed=probes.seed, scale=str(scale))
    leaks = LeakageIndex.load(index)
    cfg = with_threads(student, threads)
    tok = load_tokenizer(tokenizer_dir)
    fmt = cfg.prompt_format(tok)
    dev = DevCheck(card, evaluation.n_dev, evaluation.seed)
    u0 = float(read_json(s0_eval)["dev_utility"])
    rows = []
    with make_teacher(teacher) as t:
        for i in range(shard, profiling.n_interventions, n_shards):
            rng = rng_for(seed, "profiling", card.name, i)
            w = np.zeros(K)
            caps = rng.choice(K, size=min(profiling.capabilities, K), replace=False)
            w[caps] = rng.dirichlet(np.ones(len(caps)))
            batch = teacher_rows(t, pools, tok, w, gen_tokens, generation, rng, 0.5, index=leaks, fmt=fmt)
            with tempfile.TemporaryDirectory() as tmp:
                rep = train_on_batch(student_dir, None, batch.rows, Path(tmp) / "ckpt", cfg, int(rng.integers(2**31)),
                                     profiling.tokens - batch.gen_tokens, signal=generation.signal,
                                     tokenizer_dir=tokenizer_dir, teacher_tokenizer=teacher.tokenizer_dir)
                prof = probe(student_dir, Path(tmp) / "ckpt", suite, tokenizer_dir, batch_size=probes.batch_size,
                             settings=ModelSettings.of(cfg), dev=dev, accuracy=False)
            u1 = prof["dev_utility"]
            s1 = np.array([prof["ll"][c] for c in CAPABILITIES])
            rows.append({"i": i, "w": to_mapping(w), "context": ctx, "s0": to_mapping(s0), "s1": to_mapping(s1),
                         "delta_s": to_mapping(s1 - s0), "delta_u": u1 - u0, "tokens": batch.gen_tokens + rep.train_tokens,
                         "token_counts": {"gen": batch.gen_tokens, "train": rep.train_tokens,
                                          "prompt": batch.prompt_tokens}})
            log.info("intervention %d: w=%s, mean delta_s %.4f, delta_u %.4f", i, np.round(w, 3).tolist(),
                     float(np.mean(s1 - s0)), u1 - u0)
    return rows


def reward_model_error(records: list[dict], r, *, reward: Mapping, bandit: Mapping, interval_tokens: int,
                       folds: int = 4, seed: int = 0) -> dict:
    """How well ReAD's reward model predicts the reward of interventions it was not fitted on.

    ``folds``-fold cross-validation over the records (fold j holds records j, j + folds,
    ...): the bandit ensemble is warm-started on the other folds exactly as ``init_bandit``
    does (``Policy.new_bandit``), then predicts μ for each held-out (context, w). Returns
    the RMSE of μ against the held-out R̂, the RMSE of predicting the training mean (the
    bar μ must beat), Pearson r of μ and R̂, and n. Fewer records than ``2 · folds`` use
    fewer folds, so that every fold holds out at least two; None below 4 records.
    """
    from read.policies import make_policy
    from read.reward import profile_vector

    n = len(records)
    folds = min(folds, n // 2)
    out: dict[str, Any] = {"folds": folds, "n": n, "rmse": None, "rmse_mean_baseline": None, "pearson": None}
    if folds < 2:
        return out
    policy = make_policy("read", reward=dict(reward), bandit=dict(bandit), seed=seed)
    mu, target, baseline = np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(folds):
        held = list(range(j, n, folds))
        train = [records[i] for i in range(n) if i % folds != j]
        state = policy.new_bandit(train, r, interval_tokens, "reward model: training folds")
        train_rewards = [policy.reward(r, profile_vector(t["delta_s"], "delta_s"), t["tokens"] / interval_tokens)
                         for t in train]
        for i in held:
            rec = records[i]
            ctx = np.array(rec["context"], dtype=np.float64)
            ctx[:len(r)] = r  # as new_bandit rewrites the r-block
            mu[i] = state.predict(ctx, to_vector(rec["w"], "w"))[0][0]
            target[i] = policy.reward(r, profile_vector(rec["delta_s"], "delta_s"), rec["tokens"] / interval_tokens)
            baseline[i] = float(np.mean(train_rewards))
    out.update(rmse=float(np.sqrt(np.mean((mu - target) ** 2))),
               rmse_mean_baseline=float(np.sqrt(np.mean((baseline - target) ** 2))))
    if np.ptp(mu) > 0 and np.ptp(target) > 0:
        out["pearson"] = float(np.corrcoef(mu, target)[0, 1])
    return out


def reward_validity(interventions, r_tau_file, *, reward: Mapping, interval_tokens: int,
                    bandit: Mapping | None = None) -> dict:
    """How well the proxy reward R = r·Δs − β·Spill − λ·cost predicts the dev-task gain ΔU.

    Pearson and Spearman over the profiling interventions of one task and seed
    (``read.bandit.reward_validity``), with the reward terms that went in. A low or
    negative correlation warns that the probe reward points away from the task: the
    dev-checkpoint calibration then matters (science.md). Given ``bandit`` settings, also
    the reward model's cross-validated error on these interventions
    (:func:`reward_model_error`, key ``reward_model``) and their size (``tokens``).
    """
    from read.bandit import reward_validity as correlate
    from read.reward import RewardConfig, profile_vector, reward_terms

    cfg = RewardConfig(**reward)
    r = r_tau(r_tau_file)
    records = read_jsonl(interventions, required=("delta_s", "delta_u", "tokens"))
    scored = []
    for row in records:
        delta_s = profile_vector(row["delta_s"], f"{interventions}: delta_s")
        terms = reward_terms(r, delta_s, row["tokens"] / interval_tokens, cfg)
        scored.append({**row, "reward": terms.reward})
    out = correlate(scored, str(interventions))
    out["reward"] = dict(reward)
    out["mean_delta_u"] = float(np.mean([row["delta_u"] for row in records])) if records else None
    out["tokens"] = interval_tokens
    if bandit is not None:
        out["reward_model"] = reward_model_error(records, r, reward=reward, bandit=bandit,
                                                 interval_tokens=interval_tokens)
    return out
