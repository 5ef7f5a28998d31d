"""The reward model's held-out error over profiling interventions (read.steps.setup)."""

from __future__ import annotations

import numpy as np

from read.bandit import initial_context
from read.capabilities import CAPABILITIES, K, to_mapping
from read.steps.setup import reward_model_error

REWARD = {"beta": 0.5, "lam": 0.01, "top_k": 3}
BANDIT = {"J": 5, "kappa": 1.0}


def records(n: int, gain, seed: int = 0) -> tuple[list[dict], np.ndarray]:
    """Interventions whose probe change is ``gain(w)``: the reward is a function of w alone."""
    rng = np.random.default_rng(seed)
    r = np.zeros(K)
    r[CAPABILITIES.index("math")], r[CAPABILITIES.index("multilingual")] = 0.6, 0.4
    ctx = initial_context(r, np.full(K, -1.0)).tolist()
    rows = []
    for _ in range(n):
        w = np.zeros(K)
        pick = rng.choice(K, size=2, replace=False)
        w[pick] = rng.dirichlet([1.0, 1.0])
        rows.append({"context": ctx, "w": to_mapping(w), "delta_s": to_mapping(gain(w)), "tokens": 8000})
    return rows, r


def test_a_reward_that_follows_w_is_predicted_better_than_its_mean():
    rows, r = records(32, lambda w: 0.3 * w - 0.02)
    out = reward_model_error(rows, r, reward=REWARD, bandit=BANDIT, interval_tokens=8000)
    assert out["n"] == 32 and out["folds"] == 4
    assert out["rmse"] < 0.5 * out["rmse_mean_baseline"]
    assert out["pearson"] > 0.8


def test_a_reward_that_is_noise_is_not_predicted_better_than_its_mean():
    noise = np.random.default_rng(1)
    rows, r = records(32, lambda w: noise.normal(0, 0.05, K))
    out = reward_model_error(rows, r, reward=REWARD, bandit=BANDIT, interval_tokens=8000)
    assert out["rmse"] > 0.9 * out["rmse_mean_baseline"]


def test_few_interventions_use_fewer_folds_of_at_least_two():
    rows, r = records(6, lambda w: 0.3 * w - 0.02)
    out = reward_model_error(rows, r, reward=REWARD, bandit=BANDIT, interval_tokens=8000)
    assert out["n"] == 6 and out["folds"] == 3 and out["rmse"] > 0 and out["rmse_mean_baseline"] > 0


def test_too_few_interventions_give_no_numbers():
    rows, r = records(3, lambda w: 0.3 * w)
    out = reward_model_error(rows, r, reward=REWARD, bandit=BANDIT, interval_tokens=8000)
    assert out["rmse"] is None and out["pearson"] is None and out["n"] == 3 and out["folds"] == 1
