"""One function per workflow step: the glue between files and the read library.

Each workflow script calls one of these functions; :mod:`read.run` calls the same ones
from plain Python. They take plain values and paths (config sections arrive as mappings)
and return what the rule writes. Method semantics live in :mod:`read.policies`
(``make_policy``); this module only wires files to it.

Steps:

* setup: :func:`difficulty_scale`, :func:`probe_suite`, :func:`probe` (S0, teacher),
  :func:`evaluate_model` (S0 per task), :func:`profile_interventions`;
* per run: :func:`init_ledger`, :func:`init_bandit` (bandit methods);
* per interval: :func:`allocate`, :func:`generate_batch`, :func:`train_interval`,
  :func:`probe` (+ dev utility at checkpoints), :func:`update_bandit` (adaptive methods);
* at the end: :func:`evaluate_run`.

Files:

* ``interventions.jsonl`` rows: ``{"i", "w": {cap}, "context", "s0": {cap}, "s1": {cap},
  "delta_s": {cap}, "tokens": gen + train, "token_counts": {"gen", "train", "prompt"}}``;
* ``bandit.json``: ``BanditState.to_json()`` plus ``"last": {"reward", "cum_reward",
  "terms", "k", "checkpoint"}`` (the reward of the interval just observed);
* ``i{k}/ledger.json``: ``Ledger.to_json()`` after interval k, plus ``"train_report"``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from read.capabilities import CAPABILITIES, K, to_mapping, to_vector
from read.errors import bad_input
from read.io import read_json, read_jsonl
from read.rng import rng_for

log = logging.getLogger(__name__)

GENERATION_DEFAULTS = {"signal": "resp", "max_new_tokens": 48, "temperature": 0.0, "top_k": 0,
                       "keep_unfinished": False}
Cfg = Mapping[str, Any] | None


# ---- small helpers ----------------------------------------------------------------------


def _generation(cfg: Cfg) -> dict:
    unknown = sorted(set(cfg or {}) - set(GENERATION_DEFAULTS))
    if unknown:
        raise bad_input("config generation", f"unknown key(s) {unknown}", f"use only {sorted(GENERATION_DEFAULTS)}")
    return {**GENERATION_DEFAULTS, **(cfg or {})}


def _r_tau(path) -> np.ndarray:
    return to_vector(read_json(path)["r"], f"{path}: r")


def _ll(profile_path) -> np.ndarray:
    """The log-likelihood profile s (what the bandit sees), CAPABILITIES order."""
    from read.reward import profile_vector

    return profile_vector(read_json(profile_path)["ll"], f"{profile_path}: ll")


def _policy(method: str, *, reward: Cfg, bandit: Cfg, seed: int):
    from read.policies import make_policy

    return make_policy(method, reward=dict(reward) if reward else None, bandit=dict(bandit) if bandit else None,
                       seed=seed)


def _teacher(teacher_dir, tokenizer_dir, teacher: Cfg):
    from read.teachers import TeacherConfig, make_teacher

    return make_teacher(TeacherConfig.from_dict({**(teacher or {}), "model": str(teacher_dir),
                                                 "tokenizer": str(tokenizer_dir)}))


def _ledger(path):
    from read.budget import Ledger

    return Ledger.from_json(read_json(path), str(path))


def _student_cfg(student: Cfg, threads: int | None):
    from read.students.train import StudentConfig

    return StudentConfig.from_dict({**(student or {}), **({"threads": threads} if threads else {})})


# ---- setup --------------------------------------------------------------------------------


def difficulty_scale(out_path, *, n: int = 256, seed: int = 0) -> None:
    """Fit the embedded pool's difficulty scale once, so every interval uses the same cuts."""
    from read.templates import DifficultyScale, EmbeddedPool

    DifficultyScale.fit(EmbeddedPool().reference(n, seed)).save(out_path)


def probe_suite(teacher_dir, tokenizer_dir, *, probes: Mapping[str, Any], teacher: Cfg) -> dict:
    """Teacher greedy responses on ``probes.n_per_capability`` probe-split items per capability."""
    from read.embedded import sample_items
    from read.probes import build_probe_suite

    seed = probes.get("seed", 0)
    items = {c: sample_items(c, "probe", probes["n_per_capability"], seed) for c in CAPABILITIES}
    with _teacher(teacher_dir, tokenizer_dir, teacher) as t:
        return build_probe_suite(t, items, seed=seed)


def probe(base_dir, ckpt_dir, suite, tokenizer_dir, *, batch_size: int = 64, dev: Cfg = None,
          accuracy: bool = True) -> dict:
    """The probe profile ``{"ll", "acc", "n"}``; with ``dev`` ({task, n_dev, eval_seed}) also
    ``"dev_utility"``, the task's dev-split gold log-likelihood (for calibration and ΔU).
    ``accuracy=False`` skips greedy generation (acc null): log-likelihoods only."""
    from read.evaluate import dev_utility
    from read.probes import load_suite, probe_profile
    from read.students.checkpoint import load_student

    model, tok = load_student(base_dir, ckpt_dir, tokenizer_dir=tokenizer_dir)
    out = probe_profile(model, tok, load_suite(suite), batch_size, accuracy=accuracy)
    if dev:
        out["dev_utility"] = dev_utility(model, tok, dev["task"], n_dev=dev["n_dev"], eval_seed=dev["eval_seed"],
                                         batch_size=batch_size)
    return out


def _evaluation(base_dir, ckpt_dir, tokenizer_dir, task: str, evaluation: Mapping[str, Any]) -> dict:
    from read.evaluate import dev_utility, evaluate_student
    from read.students.checkpoint import load_student

    model, tok = load_student(base_dir, ckpt_dir, tokenizer_dir=tokenizer_dir)
    ev = evaluation
    out = evaluate_student(model, tok, task, n_test=ev.get("n_test", 200), n_per_capability=ev.get("n_per_capability", 64),
                           eval_seed=ev.get("seed", 0), batch_size=ev.get("batch_size", 64))
    out["dev_utility"] = dev_utility(model, tok, task, n_dev=ev.get("n_dev", 64), eval_seed=ev.get("seed", 0),
                                     batch_size=ev.get("batch_size", 64))
    return out


def evaluate_model(base_dir, tokenizer_dir, *, task: str, evaluation: Mapping[str, Any]) -> dict:
    """S0 on the task before any distillation: the runs' ``initial`` block and U_0."""
    return _evaluation(base_dir, None, tokenizer_dir, task, evaluation)


def profile_interventions(teacher_dir, student_dir, tokenizer_dir, suite, s0_profile, r_tau, scale, s0_eval, *,
                          task: str, seed: int, shard: int, n_shards: int, profiling: Mapping[str, Any],
                          generation: Cfg, student: Cfg, teacher: Cfg, budget: Mapping[str, Any],
                          evaluation: Mapping[str, Any], batch_size: int = 64,
                          threads: int | None = None) -> list[dict]:
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
    from read.embedded.tokenizer import load_tokenizer
    from read.students.train import train_on_batch
    from read.templates import make_pool

    gen_cfg = _generation(generation)
    s0 = _ll(s0_profile)
    ctx = initial_context(_r_tau(r_tau), s0).tolist()
    gen_tokens = int(round(profiling["tokens"] * budget.get("gen_fraction", 0.4)))
    pool = make_pool("embedded", scale=str(scale))
    cfg = _student_cfg(student, threads)
    tok = load_tokenizer(tokenizer_dir)
    dev = {"task": task, "n_dev": evaluation.get("n_dev", 64), "eval_seed": evaluation.get("seed", 0)}
    u0 = float(read_json(s0_eval)["dev_utility"])
    rows = []
    with _teacher(teacher_dir, tokenizer_dir, teacher) as t:
        for i in range(shard, profiling["n_interventions"], n_shards):
            rng = rng_for(seed, "profiling", task, i)
            w = np.zeros(K)
            caps = rng.choice(K, size=min(profiling.get("capabilities", 2), K), replace=False)
            w[caps] = rng.dirichlet(np.ones(len(caps)))
            batch, spent, prompt_tokens, _ = _generate_rows(t, pool, tok, w, gen_tokens, gen_cfg, rng, 0.5)
            with tempfile.TemporaryDirectory() as tmp:
                rep = train_on_batch(student_dir, None, batch, Path(tmp) / "ckpt", cfg, int(rng.integers(2**31)),
                                     profiling["tokens"] - spent, signal=gen_cfg["signal"],
                                     tokenizer_dir=tokenizer_dir, teacher_tokenizer=tokenizer_dir)
                prof = probe(student_dir, Path(tmp) / "ckpt", suite, tokenizer_dir, batch_size=batch_size, dev=dev,
                             accuracy=False)
            u1 = prof["dev_utility"]
            s1 = np.array([prof["ll"][c] for c in CAPABILITIES])
            rows.append({"i": i, "w": to_mapping(w), "context": ctx, "s0": to_mapping(s0), "s1": to_mapping(s1),
                         "delta_s": to_mapping(s1 - s0), "delta_u": u1 - u0, "tokens": spent + rep.train_tokens,
                         "token_counts": {"gen": spent, "train": rep.train_tokens, "prompt": prompt_tokens}})
            log.info("intervention %d: w=%s, mean delta_s %.4f, delta_u %.4f", i, np.round(w, 3).tolist(),
                     float(np.mean(s1 - s0)), u1 - u0)
    return rows


def reward_validity(interventions, r_tau, *, reward: Mapping[str, Any], interval_tokens: int) -> dict:
    """How well the proxy reward R = r·Δs − β·Spill − λ·cost predicts the dev-task gain ΔU.

    Pearson and Spearman over the profiling interventions of one task and seed
    (``read.bandit.reward_validity``), with the reward terms that went in. A low or
    negative correlation warns that the probe reward points away from the task: the
    dev-checkpoint calibration then matters (science.md).
    """
    from read.bandit import reward_validity as correlate
    from read.reward import RewardConfig, profile_vector, reward_terms

    cfg = RewardConfig(**reward)
    r = _r_tau(r_tau)
    records = read_jsonl(interventions, required=("delta_s", "delta_u", "tokens"))
    scored = []
    for row in records:
        delta_s = profile_vector(row["delta_s"], f"{interventions}: delta_s")
        terms = reward_terms(r, delta_s, row["tokens"] / interval_tokens, cfg)
        scored.append({**row, "reward": terms.reward})
    out = correlate(scored, str(interventions))
    out["reward"] = dict(reward)
    out["mean_delta_u"] = float(np.mean([row["delta_u"] for row in records])) if records else None
    return out


# ---- per run: ledger and bandit -----------------------------------------------------------


def init_ledger(budget: Mapping[str, Any], interventions=None) -> dict:
    """An empty ledger for B; profiling tokens (reported outside B) recorded when given."""
    from read.budget import BudgetConfig, Ledger

    ledger = Ledger(BudgetConfig(**budget))
    for row in read_jsonl(interventions) if interventions else []:
        c = row["token_counts"]
        ledger.record_profiling(gen_tokens=c["gen"], train_tokens=c["train"], prompt_tokens=c["prompt"])
    return ledger.to_json()


def init_bandit(method: str, interventions, r_tau, *, budget: Mapping[str, Any], bandit: Cfg, reward: Cfg,
                seed: int) -> dict:
    """The method's bandit warm-started on the profiling interventions (``Policy.new_bandit``)."""
    from read.budget import BudgetConfig, IntervalPlan

    policy = _policy(method, reward=reward, bandit=bandit, seed=seed)
    interval_tokens = IntervalPlan.from_config(BudgetConfig(**budget)).interval_tokens(1)
    records = read_jsonl(interventions, required=("w", "context", "delta_s", "tokens"))
    state = policy.new_bandit(records, _r_tau(r_tau), interval_tokens, str(interventions))
    return {**state.to_json(), "last": {"reward": 0.0, "cum_reward": 0.0, "k": 0}}


def allocate(method: str, k: int, *, r_tau, profile, ledger, prev_allocation=None, bandit=None, reward: Cfg = None,
             bandit_cfg: Cfg = None, seed: int) -> dict:
    """``allocation.json`` for interval k: ``{"w", "method", "k", "context", "ucb"?, "kept"?}``."""
    from read.bandit import BanditState
    from read.policies import PolicyState

    policy = _policy(method, reward=reward, bandit=bandit_cfg, seed=seed)
    obj = read_json(bandit) if bandit else None
    state = BanditState.from_json(obj, str(bandit)) if obj else None
    last_w = to_vector(read_json(prev_allocation)["w"], f"{prev_allocation}: w") if prev_allocation else None
    ps = PolicyState(r_tau=_r_tau(r_tau), s=_ll(profile), remaining_fraction=_ledger(ledger).remaining_fraction(),
                     last_w=last_w, last_gain=float((obj or {}).get("last", {}).get("reward", 0.0)), k=k,
                     bandit=state)
    decision = policy.decide(ps)
    return {**decision.info, "method": method, "k": k, "w": to_mapping(decision.w)}


def update_bandit(method: str, k: int, *, bandit, allocation, prev_profile, profile, r_tau, ledger, initial,
                  reward: Cfg, bandit_cfg: Cfg, seed: int) -> dict:
    """Interval k's reward under the method's view observed, the ensemble refit; at a dev
    checkpoint (``profile.json`` has ``dev_utility``) calibration and kappa decay."""
    from read.bandit import BanditState
    from read.reward import reward_terms

    policy = _policy(method, reward=reward, bandit=bandit_cfg, seed=seed)
    obj = read_json(bandit)
    state = BanditState.from_json(obj, str(bandit))
    alloc = read_json(allocation)
    r = _r_tau(r_tau)
    delta_s = _ll(profile) - _ll(prev_profile)
    cost = _ledger(ledger).interval_cost(k)
    value = policy.reward(r, delta_s, cost)
    policy.observe(state, alloc["context"], to_vector(alloc["w"], f"{allocation}: w"), value, k)
    cum = float(obj.get("last", {}).get("cum_reward", 0.0)) + value
    prof = read_json(profile)
    checkpoint = None
    if "dev_utility" in prof:
        checkpoint = policy.checkpoint(state, cum, prof["dev_utility"] - read_json(initial)["dev_utility"], k)
    terms = reward_terms(policy.requirement(r), delta_s, cost, policy.reward_config)._asdict()
    return {**state.to_json(), "last": {"reward": value, "cum_reward": cum, "terms": terms, "k": k,
                                        "checkpoint": checkpoint}}


# ---- per interval: data and training ----------------------------------------------------


MAX_ROUNDS = 8  # per capability and interval: a safety stop; one or two rounds fill a budget


def _generate_rows(teacher, pool, tokenizer, w: np.ndarray, cap: int, gen_cfg: Mapping[str, Any],
                   rng: np.random.Generator, progress: float) -> tuple[list[dict], int, int, int]:
    """Teacher rows for allocation ``w`` within ``cap`` generated tokens.

    Each capability gets floor(w_c * cap) tokens and is filled by ``teacher.generate_within``,
    which never passes that budget and answers a prefix of the prompts it is given. A round
    samples about as many prompts as the budget left holds at the mean answer length seen
    so far (a quarter of max_new_tokens before any), so one or two rounds usually fill it.
    Every generated token is charged. A generation with no EOS has no final answer: one cut
    by the budget is dropped; one that hit max_new_tokens is dropped unless
    ``keep_unfinished`` (never for signal "logit", whose top-k rows need the EOS).
    Returns (rows, generated tokens, prompt tokens of kept rows, dropped count).
    """
    from read.students.train import batch_row

    m = int(gen_cfg["max_new_tokens"])
    keep_long = gen_cfg["keep_unfinished"] and gen_cfg["signal"] != "logit"
    rows, spent, prompt_tokens, dropped = [], 0, 0, 0
    for i, c in enumerate(CAPABILITIES):
        share = left = int(np.floor(w[i] * cap))
        used = answered = 0
        for _ in range(MAX_ROUNDS):
            if left < 1:
                break
            mean = used / answered if answered else m / 4
            items = pool.sample(c, min(left, int(np.ceil(1.1 * left / mean)) + 4), rng, progress)
            gens = teacher.generate_within([it.prompt for it in items], left, signal=gen_cfg["signal"],
                                           max_new_tokens=m, temperature=gen_cfg["temperature"],
                                           seed=int(rng.integers(2**31)), top_k=gen_cfg["top_k"])
            for it, g in zip(items, gens):
                left -= g.n_tokens
                spent += g.n_tokens
                used += g.n_tokens
                answered += 1
                if not g.finished and not (keep_long and g.n_tokens >= m):
                    dropped += 1
                    continue
                row = batch_row(it, g, tokenizer, signal=gen_cfg["signal"])
                prompt_tokens += row["prompt_tokens"]
                rows.append(row)
            if len(gens) < len(items) or not gens:
                break  # the budget ran out inside this round
        if answered:
            log.info("generate %s: %d answers, %d tokens of %d", c, answered, used, share)
    return rows, spent, prompt_tokens, dropped


def generate_batch(allocation, teacher_dir, tokenizer_dir, ledger, scale, *, k: int, n_intervals: int,
                   generation: Cfg, teacher: Cfg, seed: int) -> tuple[list, dict]:
    """Interval k's batch rows and manifest (generated and prompt tokens, rows per capability).

    The curriculum's progress is (k - 1) / n_intervals.
    """
    from read.embedded.tokenizer import load_tokenizer
    from read.templates import make_pool

    gen_cfg = _generation(generation)
    alloc = read_json(allocation)
    w = to_vector(alloc["w"], f"{allocation}: w")
    cap = _ledger(ledger).remaining(k, "gen")
    rng = rng_for(seed, "generate", k)
    pool = make_pool("embedded", scale=str(scale))
    tok = load_tokenizer(tokenizer_dir)
    with _teacher(teacher_dir, tokenizer_dir, teacher) as t:
        rows, spent, prompt_tokens, dropped = _generate_rows(t, pool, tok, w, cap, gen_cfg, rng, (k - 1) / n_intervals)
    if not rows:
        raise bad_input(f"interval {k}", f"no complete teacher response within {cap} generation tokens",
                        "raise the budget or lower generation.max_new_tokens")
    per_cap = {c: sum(r["capability"] == c for r in rows) for c in CAPABILITIES}
    manifest = {"k": k, "method": alloc["method"], "w": alloc["w"], "gen_cap": cap, "gen_tokens": spent,
                "prompt_tokens": prompt_tokens, "rows": len(rows), "dropped_unfinished": dropped,
                "rows_per_capability": per_cap, "signal": gen_cfg["signal"]}
    return rows, manifest


def train_interval(base_dir, prev_dir, batch, manifest, ledger, tokenizer_dir, out_dir, *, k: int, student: Cfg,
                   seed: int, threads: int | None = None) -> dict:
    """S_k: S_{k-1} (``prev_dir``; S0 itself when k = 1) trained on the batch within the
    interval's train tokens. Returns the ledger after interval k (+ ``train_report``)."""
    from read.students.train import train_on_batch

    man = read_json(manifest)
    led = _ledger(ledger)
    led.spend(k, gen_tokens=man["gen_tokens"], prompt_tokens=man["prompt_tokens"])
    init = None if Path(prev_dir).resolve() == Path(base_dir).resolve() else prev_dir
    rep = train_on_batch(base_dir, init, batch, out_dir, _student_cfg(student, threads),
                         int(rng_for(seed, "train", k).integers(2**31)), led.remaining(k, "train"),
                         signal=man["signal"], tokenizer_dir=tokenizer_dir, teacher_tokenizer=tokenizer_dir)
    led.spend(k, train_tokens=rep.train_tokens)
    return {**led.to_json(), "train_report": rep.to_dict()}


# ---- final --------------------------------------------------------------------------------


def evaluate_run(base_dir, ckpt_dir, tokenizer_dir, ledger, initial, *, task: str, method: str, budget: int,
                 seed: int, evaluation: Mapping[str, Any]) -> dict:
    """``final/eval.json``: task score/ll and the test-split profile of S_N, S0's (``initial``), tokens."""
    led = _ledger(ledger)
    final = _evaluation(base_dir, ckpt_dir, tokenizer_dir, task, evaluation)
    init = read_json(initial)
    return {
        **final, "method": method, "budget": budget, "seed": seed,
        "initial": {key: init[key] for key in ("task_score", "task_ll", "profile", "dev_utility")},
        "tokens": {"budget": budget, "generated": led.total("gen"), "trained": led.total("train"),
                   "profiling": led.profiling["gen"] + led.profiling["train"]},
    }
