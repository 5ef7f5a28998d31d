"""Per-run and per-interval steps (``workflow/rules/interval.smk``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from read.capabilities import CAPABILITIES, to_mapping, to_vector
from read.config import GenerationConfig, ProbesConfig
from read.errors import bad_input
from read.io import read_json, read_jsonl
from read.rng import rng_for
from read.steps.common import Cfg, ll_profile, load_ledger, make_policy, r_tau, with_threads

log = logging.getLogger(__name__)


# ---- per run: ledger and bandit -----------------------------------------------------------


def init_ledger(budget: Mapping, interventions=None) -> dict:
    """An empty ledger for B; profiling tokens (reported outside B) recorded when given."""
    from read.budget import BudgetConfig, Ledger

    ledger = Ledger(BudgetConfig(**budget))
    for row in read_jsonl(interventions) if interventions else []:
        c = row["token_counts"]
        ledger.record_profiling(gen_tokens=c["gen"], train_tokens=c["train"], prompt_tokens=c["prompt"])
    return ledger.to_json()


def init_bandit(method: str, interventions, r_tau_file, *, budget: Mapping, bandit: Cfg, reward: Cfg,
                seed: int) -> dict:
    """The method's bandit warm-started on the profiling interventions (``Policy.new_bandit``)."""
    from read.budget import BudgetConfig, IntervalPlan

    policy = make_policy(method, reward=reward, bandit=bandit, seed=seed)
    interval_tokens = IntervalPlan.from_config(BudgetConfig(**budget)).interval_tokens(1)
    records = read_jsonl(interventions, required=("w", "context", "delta_s", "tokens"))
    state = policy.new_bandit(records, r_tau(r_tau_file), interval_tokens, str(interventions))
    return {**state.to_json(), "last": {"reward": 0.0, "cum_reward": 0.0, "k": 0}}


def allocate(method: str, k: int, *, r_tau_file, profile, ledger, prev_allocation=None, bandit=None,
             reward: Cfg = None, bandit_cfg: Cfg = None, seed: int) -> dict:
    """``allocation.json`` for interval k: ``{"w", "method", "k", "context", "ucb"?, "kept"?}``."""
    from read.bandit import BanditState
    from read.policies import PolicyState

    policy = make_policy(method, reward=reward, bandit=bandit_cfg, seed=seed)
    obj = read_json(bandit) if bandit else None
    state = BanditState.from_json(obj, str(bandit)) if obj else None
    last_w = to_vector(read_json(prev_allocation)["w"], f"{prev_allocation}: w") if prev_allocation else None
    ps = PolicyState(r_tau=r_tau(r_tau_file), s=ll_profile(profile),
                     remaining_fraction=load_ledger(ledger).remaining_fraction(), last_w=last_w,
                     last_gain=float((obj or {}).get("last", {}).get("reward", 0.0)), k=k, bandit=state)
    decision = policy.decide(ps)
    return {**decision.info, "method": method, "k": k, "w": to_mapping(decision.w)}


def update_bandit(method: str, k: int, *, bandit, allocation, prev_profile, profile, r_tau_file, ledger, initial,
                  reward: Cfg, bandit_cfg: Cfg, seed: int) -> dict:
    """Interval k's reward under the method's view observed, the ensemble refit; at a dev
    checkpoint (``profile.json`` has ``dev_utility``) calibration and kappa decay."""
    from read.bandit import BanditState
    from read.reward import reward_terms

    policy = make_policy(method, reward=reward, bandit=bandit_cfg, seed=seed)
    obj = read_json(bandit)
    state = BanditState.from_json(obj, str(bandit))
    alloc = read_json(allocation)
    r = r_tau(r_tau_file)
    delta_s = ll_profile(profile) - ll_profile(prev_profile)
    cost = load_ledger(ledger).interval_cost(k)
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


def generate_batch(allocation, ledger, scale, index, student_tokenizer, *, k: int, n_intervals: int,
                   generation: GenerationConfig, teacher, chat_template: str, sources: Mapping, probes: ProbesConfig,
                   seed: int) -> tuple[list, dict]:
    """Interval k's batch rows and manifest (generated and prompt tokens, rows per capability,
    prompts the eval-leakage filter dropped). The curriculum's progress is (k - 1) / n_intervals.

    Rows count tokens as the student reads them (``student_tokenizer`` and the student's
    ``chat_template`` setting).
    """
    from read.batches import teacher_rows
    from read.capability_data import build_pools
    from read.prompting import PromptFormat
    from read.students.checkpoint import load_tokenizer
    from read.teachers import make_teacher
    from read.templates import LeakageIndex

    alloc = read_json(allocation)
    w = to_vector(alloc["w"], f"{allocation}: w")
    cap = load_ledger(ledger).remaining(k, "gen")
    rng = rng_for(seed, "generate", k)
    pools = build_pools(sources, n_probes=probes.n_per_capability, probe_seed=probes.seed, scale=str(scale))
    tok = load_tokenizer(student_tokenizer)
    with make_teacher(teacher) as t:
        batch = teacher_rows(t, pools, tok, w, cap, generation, rng, (k - 1) / n_intervals,
                             index=LeakageIndex.load(index), fmt=PromptFormat.for_tokenizer(tok, chat_template))
    if not batch.rows:
        raise bad_input(f"interval {k}", f"no complete teacher response within {cap} generation tokens",
                        "raise the budget or lower generation.max_new_tokens")
    per_cap = {c: sum(r["capability"] == c for r in batch.rows) for c in CAPABILITIES}
    manifest = {"k": k, "method": alloc["method"], "w": alloc["w"], "gen_cap": cap, "gen_tokens": batch.gen_tokens,
                "prompt_tokens": batch.prompt_tokens, "rows": len(batch.rows),
                "dropped_unfinished": batch.dropped_unfinished, "dropped_misaligned": batch.dropped_misaligned,
                "dropped_leakage": batch.dropped_leakage,
                "rows_per_capability": per_cap, "signal": generation.signal}
    return batch.rows, manifest


def train_interval(base_dir, prev_dir, batch, manifest, ledger, tokenizer_dir, out_dir, *, k: int, student,
                   teacher_tokenizer, seed: int, threads: int | None = None) -> dict:
    """S_k: S_{k-1} (``prev_dir``; S0 itself when k = 1) trained on the batch within the
    interval's train tokens. Returns the ledger after interval k (+ ``train_report``).

    ``teacher_tokenizer``: the teacher's tokenizer directory; logit KD checks it against the
    student's."""
    from read.students.train import train_on_batch

    man = read_json(manifest)
    led = load_ledger(ledger)
    led.spend(k, gen_tokens=man["gen_tokens"], prompt_tokens=man["prompt_tokens"])
    init = None if Path(prev_dir).resolve() == Path(base_dir).resolve() else prev_dir
    rep = train_on_batch(base_dir, init, batch, out_dir, with_threads(student, threads),
                         int(rng_for(seed, "train", k).integers(2**31)), led.remaining(k, "train"),
                         signal=man["signal"], tokenizer_dir=tokenizer_dir, teacher_tokenizer=teacher_tokenizer)
    led.spend(k, train_tokens=rep.train_tokens)
    return {**led.to_json(), "train_report": rep.to_dict()}
