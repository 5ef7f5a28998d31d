"""The bandit's proxy reward for one interval (paper §1.4).

    R̂_t = r_τᵀ Δs − β · Spill_t − λ · cost_t,
    Spill_t = Σ_{c ∈ C_ess} r_c · max(−Δs_c, 0),   C_ess = top-k capabilities of r_τ.

Units. Δs is the change of the probe profile over the interval (mean per-token
log-likelihood of teacher answers, nats; typically |Δs_c| ≲ 0.5). ``cost_t`` is the
interval's charged tokens divided by the tokens PLANNED for one interval
(:meth:`read.budget.Ledger.interval_cost`), so a full interval costs ≈ 1 and λ is
directly comparable to Δs: λ = 0.01 means "one interval of budget is worth 0.01 nats of
weighted profile gain". The seed code charged λ = 1e-5 per RAW token; with ~8e4 tokens an
interval that is ≈ 0.8, which swamped every Δs (paper §6.6) — hence the per-share unit.
Because every interval spends ≈ its share, λ·cost is close to a constant offset; it only
bites when an interval spends more (carry-over) or less than planned.

Ties in the top-k are broken by capability order (stable sort), so C_ess is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from read.capabilities import CAPABILITIES, INDEX, check_capability
from read.errors import bad_input


@dataclass(frozen=True)
class RewardConfig:
    """`reward:` section.

    Attributes:
        beta: spillover weight β >= 0 (code default 0.5; β = 0 is the "no interaction" ablation).
        lam: cost weight λ >= 0 per interval-share of tokens (see module docstring).
        top_k: |C_ess| >= 1, how many of r_τ's largest capabilities the spillover guards.
    """

    beta: float = 0.5
    lam: float = 0.01
    top_k: int = 3

    def __post_init__(self) -> None:
        for name in ("beta", "lam"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise bad_input(f"reward.{name}", f"must be a finite number >= 0, got {value!r}", "fix the config")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise bad_input("reward.top_k", f"must be an integer >= 1, got {self.top_k!r}", "e.g. 3")


class RewardTerms(NamedTuple):
    """The three terms of R̂ (for logs and diagnostics): reward = gain − beta·spill − lam·cost."""

    gain: float
    spill: float
    cost: float
    reward: float


def profile_vector(values: Mapping[str, float], where: str) -> np.ndarray:
    """A profile s or a change Δs given as capability -> float (any sign) as a length-K vector.

    Unlike :func:`read.capabilities.to_vector` (weights), values may be negative and EVERY
    capability must be present: a missing probe score is an error, never a silent 0.
    """
    if not isinstance(values, Mapping):
        raise bad_input(where, f"expected a mapping capability -> number, got {type(values).__name__}", "fix the file")
    vec = np.zeros(len(CAPABILITIES), dtype=np.float64)
    for name, value in values.items():
        check_capability(name, where)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise bad_input(f"{where}.{name}", f"must be a finite number, got {value!r}", "fix the value")
        vec[INDEX[name]] = float(value)
    missing = [c for c in CAPABILITIES if c not in values]
    if missing:
        raise bad_input(where, f"missing capabilities {missing}", "every capability needs a value")
    return vec


def _vectors(r_tau, delta_s) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(r_tau, dtype=np.float64)
    d = np.asarray(delta_s, dtype=np.float64)
    if r.ndim != 1 or r.shape != d.shape:
        raise bad_input(
            "reward", f"r_tau {r.shape} and delta_s {d.shape} must be equal-length vectors", "pass length-K arrays"
        )
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(d))):
        raise bad_input("reward", "r_tau and delta_s must be finite", "check the profile files for nan/inf")
    if np.any(r < 0):
        raise bad_input("reward", f"r_tau must be >= 0, got {r.tolist()}", "use a requirement vector on the simplex")
    return r, d


def essential(r_tau, top_k: int) -> np.ndarray:
    """Indices of C_ess: the ``top_k`` largest entries of r_τ, ties by capability order."""
    r = np.asarray(r_tau, dtype=np.float64)
    return np.argsort(-r, kind="stable")[: min(top_k, r.size)]


def spillover(r_tau, delta_s, top_k: int) -> float:
    """Spill = Σ_{c ∈ top-k of r_τ} r_c · max(−Δs_c, 0): required capabilities that got worse."""
    r, d = _vectors(r_tau, delta_s)
    ess = essential(r, top_k)
    return float(r[ess] @ np.maximum(-d[ess], 0.0))


def reward_terms(r_tau, delta_s, cost: float, cfg: RewardConfig) -> RewardTerms:
    """All terms of R̂_t = r_τᵀΔs − β·Spill − λ·cost (cost in interval-share units, >= 0)."""
    r, d = _vectors(r_tau, delta_s)
    if (
        isinstance(cost, bool)
        or not isinstance(cost, (int, float, np.floating, np.integer))
        or not np.isfinite(cost)
        or cost < 0
    ):
        raise bad_input("reward.cost", f"must be a finite number >= 0, got {cost!r}", "pass Ledger.interval_cost(k)")
    gain = float(r @ d)
    spill = spillover(r, d, cfg.top_k)
    total = gain - cfg.beta * spill - cfg.lam * float(cost)
    return RewardTerms(gain, spill, float(cost), float(total))


def interval_reward(r_tau, delta_s, cost: float, cfg: RewardConfig) -> float:
    """R̂_t = r_τᵀΔs − β·Σ_{c∈C_ess} r_c·max(−Δs_c, 0) − λ·cost_t; cost_t ≈ 1 per full interval."""
    return reward_terms(r_tau, delta_s, cost, cfg).reward
