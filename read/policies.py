"""Every allocation method behind one interface: ``propose(state) -> w`` (paper §3b, §3d).

Baselines and ablations walk the same interval chain as ReAD; only the policy differs.

=================  ===========================================================  ==========
name               allocation w_k                                               bandit use
=================  ===========================================================  ==========
``read``           UCB argmax μ + κσ over A(τ), every interval                  fit+refit
``read_learned``   ``read`` on the learned identifier's r_τ (the workflow         fit+refit
                   gives it ``r_tau_learned.json``), to compare with the card's
``greedy``         same with κ = 0 (ensemble mean only), every interval         fit+refit
``no_identifier``  ``read`` with r_τ replaced by uniform (context, A, reward)   fit+refit
``no_spillover``   ``read`` with β = 0 in its reward (see ``reward_config``)    fit+refit
``no_adaptation``  ``read``'s first choice, kept for every interval             fit once
``grid``           best fixed w in A(τ) by the profiling fit's μ, kept          fit once
``uniform``        1/K                                                          none
``task_static``    r_τ                                                          none
``onehot:<cap>``   all budget on one capability                                 none
``random``         Dirichlet(α·1), a fresh draw per interval, seeded            none
=================  ===========================================================  ==========

How a workflow drives a policy (all pure values, no Snakemake):

1. init:     ``bandit = policy.new_bandit(records, r_tau, interval_tokens, seed)`` (None if
             ``not policy.uses_bandit``); records are the profiling interventions.
2. allocate: ``d = policy.decide(PolicyState(...))``; write ``d.w`` and ``d.info``.
3. update:   ``R = policy.reward(r_tau, delta_s, cost)``; ``policy.observe(bandit,
             d.info["context"], d.w, R, k)``; at dev checkpoints ``policy.checkpoint(...)``.

Design choices where the paper is silent:

* fixed policies (``grid``, ``no_adaptation``) are stateless: at k > 1 they return
  ``state.last_w``, which IS their first choice, so nothing beyond the allocation chain
  has to be stored;
* ``grid`` ranks A(τ) (built at k = 1: no previous w) by the ensemble mean fitted on the
  profiling records — the ensemble is the smoother of the observed profiling rewards, so
  candidates no intervention hit exactly are still ranked; it needs profiling records;
* ablations change the policy's whole VIEW of the task, so ``no_identifier`` also scores
  its reward with uniform r, and ``no_spillover`` with β = 0; the update rule must therefore
  use ``policy.reward(...)`` (and ``policy.reward_config`` to report it);
* every returned w is rounded like the candidates (multiples of 10^-decimals, sum exactly 1
  in integer units), so allocation files are short and reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from read.bandit import (
    BanditConfig,
    BanditState,
    calibrate,
    candidates,
    choice_info,
    context,
    round_simplex,
    select,
)
from read.capabilities import CAPABILITIES, K, check_capability, to_vector
from read.errors import bad_input
from read.methods import policy_of
from read.requirements import uniform_requirement
from read.reward import RewardConfig, interval_reward, profile_vector
from read.rng import rng_for


@dataclass(frozen=True, eq=False)
class PolicyState:
    """What a policy sees before interval k.

    Attributes:
        r_tau: the task's requirement vector (K,) (the policy may replace it, see no_identifier).
        s: current probe profile (K,) (mean teacher-answer log-likelihood, nats).
        remaining_fraction: budget not yet charged, b/B in [0, 1] (Ledger.remaining_fraction()).
        last_w: allocation of interval k − 1, None at k = 1.
        last_gain: reward R̂ of interval k − 1 (policy.reward), 0 at k = 1.
        k: the interval being decided, 1-based.
        bandit: the bandit state, for policies with ``uses_bandit``.
    """

    r_tau: np.ndarray
    s: np.ndarray
    remaining_fraction: float
    last_w: np.ndarray | None = None
    last_gain: float = 0.0
    k: int = 1
    bandit: BanditState | None = None

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise bad_input("policy state", f"k must be an integer >= 1, got {self.k!r}", "intervals count from 1")
        # context() validates shapes, the simplex, the fraction and the gain in one place
        context(self.r_tau, self.s, self.remaining_fraction, self.last_w, self.last_gain)


class Decision(NamedTuple):
    """A proposal: the allocation and JSON-ready diagnostics (context, UCB table, ...)."""

    w: np.ndarray
    info: dict


@dataclass(frozen=True)
class Policy:
    """Base class and the static baselines' shared machinery.

    Attributes:
        name: registry name (``make_policy``).
        reward_config: the reward THIS policy optimises and reports (ablations differ).
        bandit_config: bandit settings (also used for rounding w and building A(τ)).
        seed: run seed (bandit init and the random policy's draws).
    """

    name: str
    reward_config: RewardConfig = field(default_factory=RewardConfig)
    bandit_config: BanditConfig = field(default_factory=BanditConfig)
    seed: int = 0

    uses_bandit = False  # needs a BanditState in PolicyState.bandit
    adapts = False  # refits the bandit on logged transitions

    # ---- the interface ----------------------------------------------------------------
    def propose(self, state: PolicyState) -> np.ndarray:
        """w_k ∈ Δ_K for interval ``state.k``."""
        return self.decide(state).w

    def decide(self, state: PolicyState) -> Decision:
        w = round_simplex(self._static_w(state), self.bandit_config.decimals)
        return Decision(w, {"method": self.name, "k": state.k, "context": self.context(state).tolist()})

    def requirement(self, r_tau) -> np.ndarray:
        """The requirement vector this policy uses (no_identifier: uniform)."""
        return np.asarray(r_tau, dtype=np.float64)

    def context(self, state: PolicyState) -> np.ndarray:
        """x_t as this policy sees it (its own r)."""
        return context(self.requirement(state.r_tau), state.s, state.remaining_fraction, state.last_w, state.last_gain)

    def reward(self, r_tau, delta_s, cost: float) -> float:
        """R̂ of an interval under this policy's view (its r and its RewardConfig)."""
        return interval_reward(self.requirement(r_tau), delta_s, cost, self.reward_config)

    def new_bandit(
        self, records: Sequence[Mapping], r_tau, interval_tokens: int, where: str = "profiling records"
    ) -> BanditState | None:
        """Bandit state warm-started on profiling records (None for policies without a bandit).

        Records need ``context`` (built with :func:`read.bandit.initial_context`), ``w``
        (dict), ``delta_s`` (dict, every capability) and ``tokens`` (charged tokens of the
        intervention). The reward is RECOMPUTED with this policy's view,
        R̂ = policy.reward(r_tau, Δs, tokens / interval_tokens), and the r-block of the
        context is replaced by ``policy.requirement(r_tau)``, so ablations are warm-started
        consistently; the records' own ``reward`` field is ignored here.
        """
        if not self.uses_bandit:
            return None
        if isinstance(interval_tokens, bool) or not isinstance(interval_tokens, int) or interval_tokens <= 0:
            raise bad_input(
                "new_bandit",
                f"interval_tokens must be an integer > 0, got {interval_tokens!r}",
                "pass IntervalPlan.interval_tokens(1)",
            )
        r = self.requirement(r_tau)
        rows = []
        for i, rec in enumerate(records):
            at = f"{where}[{i}]"
            if not isinstance(rec, Mapping) or not {"context", "w", "delta_s", "tokens"} <= set(rec):
                raise bad_input(at, "record needs keys context, w, delta_s, tokens", "rerun the profiling rule")
            ctx = np.array(rec["context"], dtype=np.float64)
            if ctx.shape != (3 * K + 2,):
                raise bad_input(
                    at, f"context has shape {ctx.shape}, expected ({3 * K + 2},)", "use read.bandit.context"
                )
            ctx[:K] = r
            cost = rec["tokens"] / interval_tokens
            rows.append(
                {
                    "context": ctx.tolist(),
                    "w": rec["w"],
                    "reward": self.reward(r_tau, profile_vector(rec["delta_s"], f"{at}.delta_s"), cost),
                }
            )
        state = BanditState(self.bandit_config, self.seed)
        if rows:
            state.fit(rows, where)
        return state

    def observe(self, bandit: BanditState | None, ctx, w, reward: float, k: int | None = None) -> None:
        """Log interval k's transition (adaptive bandit policies refit; others ignore it)."""
        if self.adapts:
            bandit.observe(ctx, w, reward, k)

    def checkpoint(
        self, bandit: BanditState | None, cum_proxy: float, dev_utility: float, k: int | None = None
    ) -> dict | None:
        """Dev checkpoint: calibration + κ decay for adaptive bandit policies; None otherwise."""
        return calibrate(bandit, cum_proxy, dev_utility, k) if self.adapts else None

    def describe(self) -> dict:
        """JSON description of the method, including the reward it optimises."""
        return {
            "name": self.name,
            "seed": self.seed,
            "uses_bandit": self.uses_bandit,
            "adapts": self.adapts,
            "reward": asdict(self.reward_config),
            "bandit": (
                {**asdict(self.bandit_config), "grid": list(self.bandit_config.grid)} if self.uses_bandit else None
            ),
        }

    def _static_w(self, state: PolicyState) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


# ---- static baselines ------------------------------------------------------------------


@dataclass(frozen=True)
class Uniform(Policy):
    def _static_w(self, state: PolicyState) -> np.ndarray:
        return np.full(K, 1.0 / K)


@dataclass(frozen=True)
class TaskStatic(Policy):
    def _static_w(self, state: PolicyState) -> np.ndarray:
        return np.asarray(state.r_tau, dtype=np.float64)


@dataclass(frozen=True)
class OneHot(Policy):
    capability: str = ""

    def __post_init__(self) -> None:
        check_capability(self.capability, f"method {self.name!r}")

    def _static_w(self, state: PolicyState) -> np.ndarray:
        return to_vector({self.capability: 1.0}, self.name)


@dataclass(frozen=True)
class RandomMix(Policy):
    """w_k ~ Dirichlet(alpha·1) from ``rng_for(seed, "policy/random", k)``: reproducible per k."""

    alpha: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not self.alpha > 0:
            raise bad_input("random.alpha", f"must be a number > 0, got {self.alpha!r}", "e.g. 1.0")

    def _static_w(self, state: PolicyState) -> np.ndarray:
        return rng_for(self.seed, "policy/random", state.k).dirichlet(np.full(K, float(self.alpha)))


# ---- bandit policies -------------------------------------------------------------------


@dataclass(frozen=True)
class ReadUCB(Policy):
    """ReAD: w_k = argmax_{w ∈ A(τ)} μ + κσ (κ from the bandit state unless ``kappa`` is set)."""

    kappa: float | None = None  # fixed κ override (greedy: 0)
    uses_bandit = True
    adapts = True

    def decide(self, state: PolicyState) -> Decision:
        if state.bandit is None:
            raise bad_input(f"method {self.name!r}", "needs a bandit state", "pass PolicyState(bandit=...)")
        ctx = self.context(state)
        cands = candidates(self.requirement(state.r_tau), state.last_w, self.bandit_config)
        choice = select(state.bandit, ctx, cands, kappa=self.kappa)
        info = {"method": self.name, "k": state.k, "context": ctx.tolist(), "ucb": choice_info(choice, cands)}
        return Decision(choice.w, info)


@dataclass(frozen=True)
class NoIdentifier(ReadUCB):
    """Ablation: ReAD that does not know r_τ (uniform r in context, candidates and reward)."""

    def requirement(self, r_tau) -> np.ndarray:
        return uniform_requirement()


@dataclass(frozen=True)
class FirstChoiceKept(ReadUCB):
    """``no_adaptation``: ReAD's first (k = 1) choice, returned unchanged for every later k."""

    adapts = False

    def decide(self, state: PolicyState) -> Decision:
        if state.k == 1:
            return super().decide(state)
        return _kept(self.name, state, self.context(state))


@dataclass(frozen=True)
class GridFixed(ReadUCB):
    """``grid``: at k = 1 the w ∈ A(τ) with the largest profiling-fit mean μ; then kept."""

    adapts = False

    def decide(self, state: PolicyState) -> Decision:
        ctx = self.context(state)
        if state.k > 1:
            return _kept(self.name, state, ctx)
        if state.bandit is None or state.bandit.n_profiling == 0:
            raise bad_input(
                "method 'grid'",
                "needs a bandit state fitted on profiling records",
                "run the profiling interventions first (policy.new_bandit)",
            )
        cands = candidates(self.requirement(state.r_tau), None, self.bandit_config)
        choice = select(state.bandit, ctx, cands, kappa=0.0)
        info = {"method": self.name, "k": state.k, "context": ctx.tolist(), "ucb": choice_info(choice, cands)}
        return Decision(choice.w, info)


def _kept(name: str, state: PolicyState, ctx: np.ndarray) -> Decision:
    if state.last_w is None:
        raise bad_input(
            f"method {name!r}",
            f"interval {state.k} needs last_w (the fixed choice)",
            "pass the previous interval's allocation",
        )
    w = np.asarray(state.last_w, dtype=np.float64).copy()
    return Decision(w, {"method": name, "k": state.k, "context": ctx.tolist(), "kept": True})


# ---- registry --------------------------------------------------------------------------

POLICIES: dict[str, type[Policy]] = {
    "read": ReadUCB,
    "read_learned": ReadUCB,
    "greedy": ReadUCB,
    "no_identifier": NoIdentifier,
    "no_adaptation": FirstChoiceKept,
    "no_spillover": ReadUCB,
    "grid": GridFixed,
    "uniform": Uniform,
    "task_static": TaskStatic,
    "random": RandomMix,
}
ONEHOT_PREFIX = "onehot:"
# What a method changes in the config it is given: greedy runs UCB without exploration,
# no_spillover scores its reward without the spillover term. make_policy applies these,
# and the workflow applies them to each method's params, so that an edit of kappa (beta)
# never reruns greedy (no_spillover) runs.
CONFIG_OVERRIDES: dict[str, dict[str, dict[str, float]]] = {
    "greedy": {"bandit": {"kappa": 0.0}},
    "no_spillover": {"reward": {"beta": 0.0}},
}


def method_config(name: str, section: str, values: Mapping[str, Any]) -> dict:
    """``values`` of config ``section`` ("reward" or "bandit") as method ``name`` uses them."""
    return {**values, **CONFIG_OVERRIDES.get(policy_of(name), {}).get(section, {})}


def policy_names() -> list[str]:
    """Every valid policy name, one-hots spelled out (a method may add a teacher signal,
    :mod:`read.methods`)."""
    return sorted(POLICIES) + [f"{ONEHOT_PREFIX}{c}" for c in CAPABILITIES]


def _config(cls, value, where: str):
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return cls(**value)
        except TypeError as err:
            raise bad_input(where, f"bad keys ({err})", f"use fields of {cls.__name__}") from None
    raise bad_input(where, f"expected a mapping or {cls.__name__}, got {type(value).__name__}", "fix the params")


def make_policy(
    name: str,
    *,
    reward: RewardConfig | Mapping | None = None,
    bandit: BanditConfig | Mapping | None = None,
    seed: int = 0,
    **extra: Any,
) -> Policy:
    """Build a policy by method name.

    Args:
        name: a method name: one of :func:`policy_names` (``onehot:<capability>`` for
            one-hots), optionally with a teacher-signal suffix (:func:`read.methods.policy_of`).
        reward: RewardConfig or its fields; ``no_spillover`` forces β = 0 on top of it.
        bandit: BanditConfig or its fields (bandit policies; also rounding/candidates).
        seed: run seed.
        extra: ``alpha`` for ``random``; nothing else is accepted.

    Raises:
        ReadError: unknown name (the message lists the valid ones) or unknown option.
    """
    rcfg = _config(RewardConfig, reward, f"method {name!r}: reward")
    bcfg = _config(BanditConfig, bandit, f"method {name!r}: bandit")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise bad_input(f"method {name!r}", f"seed must be an integer, got {seed!r}", "pass the run seed")
    policy = policy_of(name) if isinstance(name, str) else name
    allowed = {"random": {"alpha"}}.get(policy, set())
    unknown = sorted(set(extra) - allowed)
    if unknown:
        raise bad_input(f"method {name!r}", f"unknown option(s) {unknown}", f"allowed: {sorted(allowed) or 'none'}")
    common = {"name": name, "reward_config": rcfg, "bandit_config": bcfg, "seed": seed}
    if isinstance(policy, str) and policy.startswith(ONEHOT_PREFIX):
        return OneHot(**common, capability=policy[len(ONEHOT_PREFIX) :])
    if policy not in POLICIES:
        raise bad_input("method", f"unknown method {name!r}", f"choose from {policy_names()}")
    if policy == "greedy":
        return ReadUCB(**common, kappa=CONFIG_OVERRIDES[policy]["bandit"]["kappa"])
    if policy == "no_spillover":
        return ReadUCB(**{**common, "reward_config": replace(rcfg, **CONFIG_OVERRIDES[policy]["reward"])})
    return POLICIES[policy](**common, **extra)
