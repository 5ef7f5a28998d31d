"""ReAD's allocator: a bootstrap ensemble of small MLPs scoring w by UCB (paper §1.4).

Each member h_j(x, w) regresses the interval reward R̂ from the context x_t and an
allocation w. For a candidate set A, with μ = mean_j h_j and σ = sample std over the J
members (denominator J − 1),

    w_{t+1} = argmax_{w ∈ A} μ(x_t, w) + κ · σ(x_t, w).

Pure numpy, float64, deterministic for a seed: members are re-initialised and refit from
scratch after every new datum, drawing initial weights, bootstrap indices and minibatch
order from ONE generator whose bit-generator state is saved with the rest of the state.
:func:`select` itself draws nothing from it (a random warm-up pick uses its own stream,
``rng_for(seed, "bandit/warmup", n)``), so proposing never changes the state.

Design choices where the paper is silent (all documented where they live):

* context ρ_t = last allocation w_{t-1} and last observed reward R̂_{t-1} (uniform and 0
  before interval 1); the budget enters as the remaining FRACTION b_t/B, never raw tokens;
* members: one tanh hidden layer (``hidden`` units) and a linear output, Gaussian init
  (std 1/√fan_in), plain Adam on ½·MSE, minibatches of ``batch_size``, ``epochs`` passes
  capped at ``max_steps`` steps, no weight decay (Adam + L2 would drag never-seen inputs'
  weights to 0 and erase the ensemble's disagreement there, which UCB relies on);
* inputs and targets are standardised with statistics stored in the state. Context
  features use fit-time mean/std, except that a feature whose fit-time std is below
  ``std_floor`` is only centred (scale 1): a feature that never varied in the data (r_τ;
  s and b_t/B when only profiling records exist) is not blown up when it moves later.
  The w block uses FIXED moments, those of a uniformly random one-hot (mean 1/K, std
  √(1/K·(1−1/K))), so a capability that was never tried still enters at full scale and
  the members disagree about it — fit-time scaling would merely centre it and hide the
  novelty from σ;
* warm start: :meth:`BanditState.fit` on profiling records before interval 1 (ReAD then
  exploits from its first step); random picks only while there is no profiling data and
  fewer than ``warmup_random`` transitions;
* calibration: see :func:`calibrate`.

Behaviour to expect (tests/test_bandit.py): warm-started on ~60 profiling records the
first pick is at or near the best candidate; with no profiling data the exploitation
read-out (κ = 0) finds a clear best action within ~15 logged rounds; and where a
deceptive record makes the best action look bad, κ = 0 stays stuck while κ ≈ 3 escapes.
Ensembles of small MLPs are over-confident away from their data, so the default κ = 1
explores little; raise κ where exploration matters more than the profiling prior.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from read.capabilities import to_vector
from read.errors import bad_input
from read.io import read_json, write_json
from read.rng import rng_for

VERSION = 1


@dataclass(frozen=True)
class BanditConfig:
    """`bandit:` section (defaults follow the seed code where it had one, §6.4–6.6).

    Attributes:
        J: ensemble size >= 2 (σ needs J − 1 > 0). Code: 5.
        hidden: hidden units of each 2-layer MLP.
        kappa: initial UCB exploration weight κ >= 0 (κ = 0 is the greedy baseline). Code: 1.0.
        kappa_decay: κ ← κ·kappa_decay at a dev checkpoint where dev utility did not improve.
        min_improvement: dev-utility rise needed to count as "improved" at a checkpoint.
        lr: Adam learning rate.
        epochs: passes over each member's bootstrap sample per refit ...
        batch_size: ... in minibatches of this size ...
        max_steps: ... but never more than this many Adam steps per member.
        bootstrap: resample the training rows with replacement per member (else all rows).
        top_k: sparse candidate actions mix pairs of the top-k capabilities of r_τ.
        grid: mixing weights g for a pair (a, b): w_a = g, w_b = 1 − g, each in (0, 1).
        perturb_delta: mass δ moved between two capabilities for local perturbations of w_{t-1}.
        decimals: candidates are rounded to multiples of 10^-decimals (exact dedup).
        warmup_random: uniform-random picks at the start, ONLY when there is no profiling data.
        std_floor: context features with fit-time std below this are centred, not scaled
            (the w block always uses fixed one-hot moments, see the module docstring).
    """

    J: int = 5
    hidden: int = 32
    kappa: float = 1.0
    kappa_decay: float = 0.7
    min_improvement: float = 0.0
    lr: float = 0.01
    epochs: int = 200
    batch_size: int = 64
    max_steps: int = 2000
    bootstrap: bool = True
    top_k: int = 3
    grid: tuple[float, ...] = (0.25, 0.5, 0.75)
    perturb_delta: float = 0.1
    decimals: int = 4
    warmup_random: int = 2
    std_floor: float = 0.05

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", tuple(self.grid) if isinstance(self.grid, (list, tuple)) else self.grid)
        ints = {
            "J": 2,
            "hidden": 1,
            "epochs": 1,
            "batch_size": 1,
            "max_steps": 1,
            "top_k": 1,
            "decimals": 1,
            "warmup_random": 0,
        }
        for name, low in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise bad_input(f"bandit.{name}", f"must be an integer >= {low}, got {value!r}", "fix the config")
        if self.decimals > 9:
            raise bad_input("bandit.decimals", f"must be <= 9, got {self.decimals}", "e.g. 4")
        for name in ("kappa", "min_improvement"):
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise bad_input(
                    f"bandit.{name}", f"must be a finite number >= 0, got {getattr(self, name)!r}", "fix it"
                )
        for name in ("lr", "std_floor"):
            if not _number(getattr(self, name)) or getattr(self, name) <= 0:
                raise bad_input(f"bandit.{name}", f"must be a finite number > 0, got {getattr(self, name)!r}", "fix it")
        if not _number(self.kappa_decay) or not 0 < self.kappa_decay <= 1:
            raise bad_input("bandit.kappa_decay", f"must be in (0, 1], got {self.kappa_decay!r}", "e.g. 0.7")
        if not _number(self.perturb_delta) or not 0 < self.perturb_delta < 1:
            raise bad_input("bandit.perturb_delta", f"must be in (0, 1), got {self.perturb_delta!r}", "e.g. 0.1")
        if not isinstance(self.grid, tuple) or not self.grid or not all(_number(g) and 0 < g < 1 for g in self.grid):
            raise bad_input(
                "bandit.grid",
                f"must be a non-empty list of numbers in (0, 1), got {self.grid!r}",
                "e.g. [0.25, 0.5, 0.75]",
            )
        if not isinstance(self.bootstrap, bool):
            raise bad_input("bandit.bootstrap", f"must be true or false, got {self.bootstrap!r}", "use a boolean")


def _number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)


# ---- context and candidates -------------------------------------------------------------


def _vector(x, name: str, n: int | None = None) -> np.ndarray:
    v = np.asarray(x, dtype=np.float64)
    if v.ndim != 1 or (n is not None and v.size != n) or not np.all(np.isfinite(v)):
        want = f"a finite length-{n} vector" if n is not None else "a finite vector"
        raise bad_input(f"bandit {name}", f"expected {want}, got shape {v.shape}", "check the inputs")
    return v


def _simplex(x, name: str, n: int | None = None) -> np.ndarray:
    v = _vector(x, name, n)
    if np.any(v < 0) or v.sum() <= 0:
        raise bad_input(f"bandit {name}", f"must be >= 0 with a positive sum, got {v.tolist()}", "pass a weight vector")
    return v / v.sum()


def context(r_tau, s, remaining_fraction: float, last_w, last_gain: float) -> np.ndarray:
    """x_t = [r_τ; s; b_t/B; w_{t-1}; R̂_{t-1}], length 3K + 2 (paper's [r_τ; s_probe; b_t; ρ_t]).

    Args:
        r_tau: requirement vector (K,).
        s: probe profile (K,), e.g. mean log-likelihood in nats (≈ −3..0); standardised later.
        remaining_fraction: budget not yet charged, as a FRACTION of B in [0, 1] (never raw tokens).
        last_w: previous allocation (K,), or None before the first interval (-> uniform).
        last_gain: last observed interval reward R̂_{t-1} (0 before the first interval).
    """
    r = _simplex(r_tau, "r_tau")
    k = r.size
    s = _vector(s, "s", k)
    if not _number(float(remaining_fraction)) or not 0.0 <= remaining_fraction <= 1.0:
        raise bad_input(
            "bandit context",
            f"remaining_fraction must be in [0, 1], got {remaining_fraction!r}",
            "pass Ledger.remaining_fraction(), not a token count",
        )
    w = np.full(k, 1.0 / k) if last_w is None else _simplex(last_w, "last_w", k)
    if not _number(float(last_gain)):
        raise bad_input("bandit context", f"last_gain must be finite, got {last_gain!r}", "pass the last reward or 0")
    return np.concatenate([r, s, [float(remaining_fraction)], w, [float(last_gain)]])


def initial_context(r_tau, s0) -> np.ndarray:
    """The context before interval 1 (full budget, uniform w_0, zero gain).

    Profiling interventions start from S0 with nothing spent, so their records should
    carry exactly this context; it is also what ReAD sees at its first decision.
    """
    return context(r_tau, s0, 1.0, None, 0.0)


def _units(w: np.ndarray, decimals: int) -> tuple[int, ...]:
    """w on the simplex as integers summing to 10^decimals (largest-remainder rounding)."""
    scale = 10**decimals
    w = np.maximum(np.asarray(w, dtype=np.float64), 0.0)
    f = np.round(w / w.sum() * scale, 6)  # drop float noise like 999.9999999
    base = np.floor(f).astype(np.int64)
    short = int(scale - base.sum())
    order = np.argsort(-(f - base), kind="stable")[:short]
    base[order] += 1
    return tuple(int(u) for u in base)


def round_simplex(w, decimals: int) -> np.ndarray:
    """w renormalised and rounded to multiples of 10^-decimals, summing to 1 in integer units."""
    return np.array(_units(_simplex(w, "w"), decimals), dtype=np.float64) / 10**decimals


def candidates(r_tau, prev_w, cfg: BanditConfig) -> np.ndarray:
    """The action set A(τ), shape (n, K), rows on the simplex, deduplicated, fixed order.

    In order (first occurrence kept, so ties in :func:`select` favour earlier rows):
      1. r_τ itself;            2. w_{t-1} itself (if given);
      3. pairwise mixes of the top-k capabilities of r_τ (those with r_c > 0, ties by
         capability order) on ``cfg.grid``: w_a = g, w_b = 1 − g;
      4. the one-hots e_c of those top-k capabilities;     5. uniform;
      6. local perturbations of w_{t-1}: move δ = min(perturb_delta, w_a) from a to b,
         for every ordered pair a ≠ b with w_a > 0.
    Every row is renormalised and rounded to multiples of 10^-decimals (sum exactly 1 in
    integer units) before deduplication.
    """
    r = _simplex(r_tau, "r_tau")
    k = r.size
    prev = None if prev_w is None else _simplex(prev_w, "prev_w", k)
    rows: list[np.ndarray] = [r]
    if prev is not None:
        rows.append(prev)
    top = [int(c) for c in np.argsort(-r, kind="stable")[: cfg.top_k] if r[c] > 0]
    for a, b in combinations(top, 2):
        for g in cfg.grid:
            w = np.zeros(k)
            w[a], w[b] = g, 1.0 - g
            rows.append(w)
    # sparse actions live on the task's top-k (paper §4); off-task mass only enters through
    # uniform and the local moves below, so one lucky profiling run cannot send a whole
    # interval to a capability the task does not need
    rows.extend(np.eye(k)[top])
    rows.append(np.full(k, 1.0 / k))
    if prev is not None:
        for a in range(k):
            for b in range(k):
                if a != b and prev[a] > 0:
                    w = prev.copy()
                    delta = min(cfg.perturb_delta, prev[a])
                    w[a] -= delta
                    w[b] += delta
                    rows.append(w)
    seen: dict[tuple[int, ...], None] = {}
    for w in rows:
        seen.setdefault(_units(w, cfg.decimals), None)
    return np.array(list(seen), dtype=np.float64) / 10**cfg.decimals


# ---- the ensemble ------------------------------------------------------------------------


def _forward(member: Mapping[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """h(x) = W2ᵀ tanh(W1ᵀ x + b1) + b2 on standardised x (n, d); returns (y (n,), hidden (n, h))."""
    hidden = np.tanh(x @ member["W1"] + member["b1"])
    return hidden @ member["W2"] + member["b2"][0], hidden


def _train_member(x: np.ndarray, y: np.ndarray, cfg: BanditConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fit one member on (x, y) with Adam on ½·mean((h(x) − y)²); consumes ``rng`` deterministically."""
    n, d = x.shape
    p = {
        "W1": rng.normal(0.0, 1.0 / math.sqrt(d), (d, cfg.hidden)),
        "b1": np.zeros(cfg.hidden),
        "W2": rng.normal(0.0, 1.0 / math.sqrt(cfg.hidden), cfg.hidden),
        "b2": np.zeros(1),
    }
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    batch = min(cfg.batch_size, n)
    n_batches = math.ceil(n / batch)
    steps = min(cfg.epochs * n_batches, cfg.max_steps)
    t = 0
    while t < steps:
        order = rng.permutation(n)
        for start in range(0, n, batch):
            if t >= steps:
                break
            idx = order[start : start + batch]
            xb, yb = x[idx], y[idx]
            pred, hidden = _forward(p, xb)
            err = (pred - yb) / len(idx)  # d(½·mean sq)/d pred
            d_hidden = np.outer(err, p["W2"]) * (1.0 - hidden**2)
            grads = {"W1": xb.T @ d_hidden, "b1": d_hidden.sum(0), "W2": hidden.T @ err, "b2": np.array([err.sum()])}
            t += 1
            for key, g in grads.items():
                m[key] = b1 * m[key] + (1 - b1) * g
                v[key] = b2 * v[key] + (1 - b2) * g * g
                p[key] = p[key] - cfg.lr * (m[key] / (1 - b1**t)) / (np.sqrt(v[key] / (1 - b2**t)) + eps)
    return p


class Choice(NamedTuple):
    """What :func:`select` picked and why. mu/sigma/score are per candidate (zeros in warm-up)."""

    index: int
    w: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    score: np.ndarray
    kappa: float
    mode: str  # "ucb" or "warmup"


@dataclass
class Calibration:
    """Affine map U_k − U_0 ≈ a + b·X_k, X_k = cumulative proxy reward at dev checkpoint k.

    ``points`` always starts with the anchor (0, 0): before any training nothing was
    gained on either scale, so one checkpoint already determines an affine fit.
    """

    a: float = 0.0
    b: float = 1.0
    points: list[list[float]] = field(default_factory=lambda: [[0.0, 0.0]])
    last_dev: float = 0.0

    @property
    def scale(self) -> float:
        """Factor applied to rewards/predictions: b once a checkpoint fit has b > 0, else 1."""
        return self.b if len(self.points) > 1 and self.b > 0 else 1.0


class BanditState:
    """Everything the allocator knows: data, fitted ensemble, κ, calibration, RNG.

    Mutable: :meth:`fit`, :meth:`observe` and :func:`calibrate` update it in place; save
    it with :meth:`save` (one versioned JSON file) between workflow jobs.
    """

    def __init__(self, cfg: BanditConfig, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise bad_input("bandit seed", f"must be an integer, got {seed!r}", "pass the run seed")
        self.cfg = cfg
        self.seed = seed
        self.kappa = float(cfg.kappa)
        self.rng = rng_for(seed, "bandit")
        self.records: list[dict] = []  # {"context", "w", "reward", "source", "k"}
        self.model: dict | None = None
        self.calibration = Calibration()
        self.checkpoints: list[dict] = []

    # ---- data ------------------------------------------------------------------------------
    @property
    def n_profiling(self) -> int:
        return sum(r["source"] == "profiling" for r in self.records)

    @property
    def n_transitions(self) -> int:
        return sum(r["source"] == "transition" for r in self.records)

    def fit(self, records: Sequence[Mapping], where: str = "profiling records") -> None:
        """Add profiling records and refit (the warm start before interval 1).

        Each record needs ``context`` (list, length 3K + 2, built with :func:`context` —
        normally :func:`initial_context`), ``w`` (dict capability -> weight, or a length-K
        list) and ``reward`` (the proxy R̂ of that intervention, in the same units as the
        run's interval rewards: compute it with the run's RewardConfig and cost in
        interval shares). Other fields (``delta_s``, ``delta_u``, ``tokens``) are ignored here.
        """
        rows = [self._row(rec, f"{where}[{i}]", "profiling") for i, rec in enumerate(records)]
        self.records.extend(rows)
        self.refit()

    def observe(self, ctx, w, reward: float, k: int | None = None) -> None:
        """Log a transition (x_t, w_t, R̂_t) and refit on profiling records + all transitions."""
        self.records.append(self._row({"context": ctx, "w": w, "reward": reward}, "bandit.observe", "transition", k))
        self.refit()

    def _row(self, rec: Mapping, where: str, source: str, k: int | None = None) -> dict:
        if not isinstance(rec, Mapping) or not {"context", "w", "reward"} <= set(rec):
            raise bad_input(where, "record needs keys context, w, reward", "write records with read.bandit.context")
        w_raw = rec["w"]
        w = to_vector(w_raw, f"{where}.w") if isinstance(w_raw, Mapping) else _simplex(w_raw, f"{where}.w")
        ctx = _vector(rec["context"], f"{where}.context")
        if ctx.size != 3 * w.size + 2:
            raise bad_input(
                where,
                f"context has {ctx.size} entries, expected 3K+2 = {3 * w.size + 2}",
                "build it with read.bandit.context",
            )
        if self.records and ctx.size != len(self.records[0]["context"]):
            raise bad_input(where, "context length differs from earlier records", "use one capability set per run")
        if not _number(float(rec["reward"])):
            raise bad_input(where, f"reward must be finite, got {rec['reward']!r}", "fix the record")
        return {"context": ctx.tolist(), "w": w.tolist(), "reward": float(rec["reward"]), "source": source, "k": k}

    # ---- model -----------------------------------------------------------------------------
    def refit(self) -> None:
        """Re-initialise and train all J members on bootstrap resamples of every record.

        Targets are the raw proxy rewards, standardised. (Fitting calibrated rewards b·R̂
        instead would give the same standardised targets, so calibration is applied as a
        factor on predictions — see :func:`calibrate`.)
        """
        if not self.records:
            self.model = None
            return
        x = np.array([r["context"] + r["w"] for r in self.records], dtype=np.float64)
        y = np.array([r["reward"] for r in self.records], dtype=np.float64)
        x_mean, x_std = x.mean(0), x.std(0)
        x_std = np.where(x_std < self.cfg.std_floor, 1.0, x_std)
        k = len(self.records[0]["w"])  # w block: fixed moments of a uniformly random one-hot
        x_mean[-k:], x_std[-k:] = 1.0 / k, math.sqrt((1.0 / k) * (1.0 - 1.0 / k))
        y_mean, y_std = float(y.mean()), float(y.std())
        y_std = y_std if y_std > 1e-12 else 1.0
        xs, ys = (x - x_mean) / x_std, (y - y_mean) / y_std
        members = []
        for _ in range(self.cfg.J):
            idx = self.rng.integers(0, len(y), len(y)) if self.cfg.bootstrap else np.arange(len(y))
            members.append(_train_member(xs[idx], ys[idx], self.cfg, self.rng))
        self.model = {"x_mean": x_mean, "x_std": x_std, "y_mean": y_mean, "y_std": y_std, "members": members}

    def predict(self, ctx, cands) -> tuple[np.ndarray, np.ndarray]:
        """μ and σ (J − 1 denominator) of the calibrated reward for each candidate row."""
        if self.model is None:
            raise bad_input("bandit.predict", "the ensemble has no data yet", "fit profiling records or observe first")
        c = np.atleast_2d(np.asarray(cands, dtype=np.float64))
        ctx = _vector(ctx, "context", c.shape[1] * 3 + 2)
        x = np.hstack([np.broadcast_to(ctx, (len(c), ctx.size)), c])
        xs = (x - self.model["x_mean"]) / self.model["x_std"]
        preds = np.stack([_forward(m, xs)[0] for m in self.model["members"]])  # (J, n)
        preds = (preds * self.model["y_std"] + self.model["y_mean"]) * self.calibration.scale
        return preds.mean(0), preds.std(0, ddof=1)

    def needs_warmup(self) -> bool:
        """Random picks: only with no profiling data and < warmup_random transitions (or no data at all)."""
        if self.model is None:
            return True
        return self.n_profiling == 0 and self.n_transitions < self.cfg.warmup_random

    # ---- persistence -----------------------------------------------------------------------
    def to_json(self) -> dict:
        model = None
        if self.model is not None:
            model = {
                "x_mean": self.model["x_mean"].tolist(),
                "x_std": self.model["x_std"].tolist(),
                "y_mean": self.model["y_mean"],
                "y_std": self.model["y_std"],
                "members": [{k: v.tolist() for k, v in m.items()} for m in self.model["members"]],
            }
        return {
            "version": VERSION,
            "config": {**asdict(self.cfg), "grid": list(self.cfg.grid)},
            "seed": self.seed,
            "kappa": self.kappa,
            "calibration": asdict(self.calibration),
            "checkpoints": self.checkpoints,
            "records": self.records,
            "model": model,
            "rng": self.rng.bit_generator.state,
        }

    @classmethod
    def from_json(cls, obj: Any, where: str = "bandit.json") -> BanditState:
        if not isinstance(obj, dict) or obj.get("version") != VERSION:
            got = obj.get("version") if isinstance(obj, dict) else type(obj).__name__
            raise bad_input(where, f"unsupported bandit state version {got!r}", f"expected {VERSION}; rerun the rule")
        try:
            state = cls(BanditConfig(**obj["config"]), obj["seed"])
            state.kappa = float(obj["kappa"])
            state.calibration = Calibration(**obj["calibration"])
            state.checkpoints = list(obj["checkpoints"])
            state.records = list(obj["records"])
            if obj["model"] is not None:
                m = obj["model"]
                state.model = {
                    "x_mean": np.array(m["x_mean"], dtype=np.float64),
                    "x_std": np.array(m["x_std"], dtype=np.float64),
                    "y_mean": float(m["y_mean"]),
                    "y_std": float(m["y_std"]),
                    "members": [{k: np.array(v, dtype=np.float64) for k, v in mem.items()} for mem in m["members"]],
                }
            state.rng.bit_generator.state = obj["rng"]
        except (KeyError, TypeError, ValueError) as err:
            raise bad_input(where, f"malformed bandit state ({err})", "rerun the rule that writes it") from None
        return state

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> BanditState:
        return cls.from_json(read_json(path), str(path))


# ---- selection, calibration, validity ------------------------------------------------------


def select(state: BanditState, ctx, cands, kappa: float | None = None) -> Choice:
    """argmax_{w ∈ A} μ + κσ over the rows of ``cands`` (first maximum wins, so ties go to
    the earlier candidate). ``kappa`` overrides the state's κ (0 = greedy). Pure: the state
    is not changed; a warm-up pick draws from ``rng_for(seed, "bandit/warmup", n_transitions)``.
    """
    c = np.atleast_2d(np.asarray(cands, dtype=np.float64))
    if c.shape[0] == 0:
        raise bad_input("bandit.select", "empty candidate set", "pass read.bandit.candidates(...)")
    kap = state.kappa if kappa is None else float(kappa)
    if state.needs_warmup():
        i = int(rng_for(state.seed, "bandit/warmup", state.n_transitions).integers(len(c)))
        zero = np.zeros(len(c))
        choice = Choice(i, c[i].copy(), zero, zero.copy(), zero.copy(), kap, "warmup")
    else:
        mu, sigma = state.predict(ctx, c)
        score = mu + kap * sigma
        i = int(np.argmax(score))
        choice = Choice(i, c[i].copy(), mu, sigma, score, kap, "ucb")
    return choice


def choice_info(choice: Choice, cands, top: int = 5) -> dict:
    """JSON diagnostics for ``allocation.json["ucb"]``: the pick plus the ``top`` best candidates."""
    c = np.atleast_2d(np.asarray(cands, dtype=np.float64))
    order = np.argsort(-choice.score, kind="stable")[:top] if choice.mode == "ucb" else []
    return {
        "mode": choice.mode,
        "kappa": float(choice.kappa),
        "index": int(choice.index),
        "n_candidates": int(len(c)),
        "mu": float(choice.mu[choice.index]),
        "sigma": float(choice.sigma[choice.index]),
        "score": float(choice.score[choice.index]),
        "top": [
            {
                "w": c[i].tolist(),
                "mu": float(choice.mu[i]),
                "sigma": float(choice.sigma[i]),
                "score": float(choice.score[i]),
            }
            for i in order
        ],
    }


def calibrate(state: BanditState, cum_proxy: float, dev_utility: float, k: int | None = None) -> dict:
    """Dev checkpoint: refit the affine calibration and decay κ if dev utility stagnated.

    Least squares over the checkpoints so far plus the anchor (0, 0):
        U_k − U_0 ≈ a + b · X_k,   X_k = Σ_{t≤k} R̂_t (cumulative proxy reward).
    When b > 0, rewards fed to the ensemble are mapped to dev-utility units. Because the
    map is fitted on CUMULATIVE quantities, the per-interval increment it implies is
    ΔU_t ≈ b·R̂_t (the intercept a is a one-off offset of the cumulative curve and cancels
    in increments). With standardised targets, fitting b·R̂ equals fitting R̂ and
    multiplying predictions by b, which is what is done (no refit). A positive rescaling
    does not change the UCB argmax: it puts μ and σ in dev-utility units. When b <= 0
    (the proxy is not aligned with the task) rewards stay unmapped and the returned info
    says so. What changes selection here is κ:
        κ ← κ · kappa_decay   if U_k − U_0 <= (previous checkpoint's value) + min_improvement.

    Args:
        cum_proxy: X_k, the sum of raw proxy rewards of all intervals so far.
        dev_utility: U(S_k) − U(S_0) on the task's dev split.
    """
    if not (_number(float(cum_proxy)) and _number(float(dev_utility))):
        raise bad_input(
            "bandit.calibrate",
            f"cum_proxy and dev_utility must be finite, got {cum_proxy!r}, {dev_utility!r}",
            "check the dev evaluation",
        )
    cal = state.calibration
    cal.points.append([float(cum_proxy), float(dev_utility)])
    pts = np.array(cal.points)
    design = np.column_stack([np.ones(len(pts)), pts[:, 0]])
    if np.ptp(pts[:, 0]) > 0:
        (a, b), *_ = np.linalg.lstsq(design, pts[:, 1], rcond=None)
        cal.a, cal.b = float(a), float(b)
    improved = float(dev_utility) > cal.last_dev + state.cfg.min_improvement
    if not improved:
        state.kappa *= state.cfg.kappa_decay
    cal.last_dev = float(dev_utility)
    info = {
        "k": k,
        "cum_proxy": float(cum_proxy),
        "dev_utility": float(dev_utility),
        "a": cal.a,
        "b": cal.b,
        "aligned": cal.b > 0,
        "reward_scale": cal.scale,
        "improved": improved,
        "kappa": state.kappa,
    }
    state.checkpoints.append(info)
    return info


def reward_validity(records: Sequence[Mapping], where: str = "profiling records") -> dict:
    """Does the proxy reward track the task? Pearson and Spearman of ``reward`` vs ``delta_u``.

    ``delta_u`` must be the dev-utility CHANGE U(S^m) − U(S0) of each intervention.
    Returns ``{"n", "pearson", "pearson_p", "spearman", "spearman_p"}``; correlations are
    None (JSON null) with fewer than 3 records or a constant column.
    """
    x, y = [], []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping) or "reward" not in rec or "delta_u" not in rec:
            raise bad_input(f"{where}[{i}]", "record needs keys reward and delta_u", "rerun the profiling rule")
        x.append(float(rec["reward"]))
        y.append(float(rec["delta_u"]))
    out: dict[str, Any] = {"n": len(x), "pearson": None, "pearson_p": None, "spearman": None, "spearman_p": None}
    xa, ya = np.array(x), np.array(y)
    if len(x) < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0 or not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        return out
    from scipy import stats  # ~0.3 s; only reports need it

    pr = stats.pearsonr(xa, ya)
    sr = stats.spearmanr(xa, ya)
    out.update(
        pearson=float(pr.statistic),
        pearson_p=float(pr.pvalue),
        spearman=float(sr.statistic),
        spearman_p=float(sr.pvalue),
    )
    return out
