import json

import numpy as np
import pytest

from read.bandit import BanditConfig, candidates, initial_context
from read.capabilities import CAPABILITIES, INDEX, K, to_mapping
from read.errors import ReadError
from read.policies import PolicyState, make_policy, policy_names
from read.reward import RewardConfig, interval_reward
from read.rng import rng_for

S0 = np.full(K, -1.0)
R_TAU = np.array([0, 0, 0.5, 0.3, 0.2, 0, 0, 0])
GAIN = np.array([0.1, 0.1, 0.6, 0.5, 0.4, 0, 0, 0])
FAST = BanditConfig(J=3, epochs=60)
PLAN_TOKENS = 1000  # planned tokens of one interval


def delta_s(w):
    """Synthetic profile change of one interval: concave gains, losses where w is 0."""
    return np.sqrt(w) * GAIN - 0.05 * (w == 0)


def profiling_records(n=24, seed=0):
    g = rng_for(seed, "profiling")
    out = []
    for _ in range(n):
        w = np.zeros(K)
        sup = g.choice(K, g.integers(1, 4), replace=False)
        w[sup] = g.dirichlet(np.ones(len(sup)))
        ds = delta_s(w)
        out.append(
            {
                "context": initial_context(R_TAU, S0).tolist(),
                "w": to_mapping(w),
                "delta_s": {c: float(v) for c, v in zip(CAPABILITIES, ds)},  # signed: not to_mapping-checked
                "delta_u": float(R_TAU @ ds),
                "tokens": PLAN_TOKENS,
                "reward": interval_reward(R_TAU, ds, 1.0, RewardConfig()),
            }
        )
    return out


def first_state(policy, records=None):
    bandit = policy.new_bandit(profiling_records() if records is None else records, R_TAU, PLAN_TOKENS)
    return PolicyState(R_TAU, S0, 1.0, None, 0.0, 1, bandit)


def on_simplex(w):
    return w.shape == (K,) and np.all(w >= 0) and abs(w.sum() - 1) < 1e-12


# ---- registry ----------------------------------------------------------------------------


def test_every_registered_name_builds_a_policy():
    for name in policy_names():
        assert make_policy(name, bandit=FAST).name == name


def test_unknown_method_lists_the_valid_names():
    with pytest.raises(ReadError, match="unknown method 'reed'") as err:
        make_policy("reed")
    assert "'read'" in str(err.value) and "'onehot:math'" in str(err.value)


def test_bad_onehot_capability_and_unknown_options_are_errors():
    with pytest.raises(ReadError, match="unknown capability 'poetry'"):
        make_policy("onehot:poetry")
    with pytest.raises(ReadError, match="unknown option"):
        make_policy("uniform", alpha=2.0)
    with pytest.raises(ReadError, match="bad keys"):
        make_policy("read", bandit={"kapa": 1.0})


def test_configs_can_be_given_as_plain_mappings():
    p = make_policy("read", reward={"beta": 0.2, "lam": 0.0, "top_k": 2}, bandit={"J": 3, "grid": [0.5]}, seed=7)
    assert p.reward_config == RewardConfig(0.2, 0.0, 2) and p.bandit_config.grid == (0.5,) and p.seed == 7


# ---- static baselines ----------------------------------------------------------------------


def test_static_baselines():
    state = PolicyState(R_TAU, S0, 1.0)
    assert np.allclose(make_policy("uniform").propose(state), 1 / K)
    assert make_policy("task_static").propose(state).tolist() == R_TAU.tolist()
    w = make_policy("onehot:code").propose(state)
    assert w[INDEX["code"]] == 1.0 and w.sum() == 1.0
    for name in ("uniform", "task_static", "onehot:code", "random"):
        p = make_policy(name)
        assert not p.uses_bandit and p.new_bandit([], R_TAU, PLAN_TOKENS) is None
        assert on_simplex(p.propose(state))


def test_random_policy_is_seeded_per_interval():
    p = make_policy("random", seed=3, alpha=0.5)
    a = p.propose(PolicyState(R_TAU, S0, 1.0, k=1))
    assert np.array_equal(a, make_policy("random", seed=3, alpha=0.5).propose(PolicyState(R_TAU, S0, 0.5, k=1)))
    assert not np.array_equal(a, p.propose(PolicyState(R_TAU, S0, 1.0, k=2)))
    assert not np.array_equal(a, make_policy("random", seed=4, alpha=0.5).propose(PolicyState(R_TAU, S0, 1.0, k=1)))


# ---- bandit policies -----------------------------------------------------------------------


def test_read_proposes_a_candidate_with_ucb_diagnostics_and_refits_on_observe():
    p = make_policy("read", bandit=FAST)
    state = first_state(p)
    d = p.decide(state)
    cands = candidates(R_TAU, None, FAST)
    assert any(np.array_equal(d.w, c) for c in cands)
    assert d.info["ucb"]["mode"] == "ucb" and len(d.info["context"]) == 3 * K + 2
    assert json.loads(json.dumps(d.info)) == d.info
    p.observe(state.bandit, d.info["context"], d.w, 0.3, k=1)
    assert state.bandit.n_transitions == 1
    assert p.checkpoint(state.bandit, 0.3, 0.1, k=1)["improved"]


def test_bandit_policies_need_a_bandit_state():
    with pytest.raises(ReadError, match="needs a bandit state"):
        make_policy("read").propose(PolicyState(R_TAU, S0, 1.0))


def test_new_bandit_recomputes_rewards_with_the_policys_view():
    records = profiling_records(n=4)
    read = make_policy("read", bandit=FAST).new_bandit(records, R_TAU, PLAN_TOKENS)
    nospill = make_policy("no_spillover", bandit=FAST).new_bandit(records, R_TAU, PLAN_TOKENS)
    noid = make_policy("no_identifier", bandit=FAST).new_bandit(records, R_TAU, PLAN_TOKENS)
    ds = delta_s(np.array(read.records[0]["w"]))
    assert read.records[0]["reward"] == pytest.approx(interval_reward(R_TAU, ds, 1.0, RewardConfig()))
    assert nospill.records[0]["reward"] == pytest.approx(interval_reward(R_TAU, ds, 1.0, RewardConfig(beta=0.0)))
    assert noid.records[0]["reward"] == pytest.approx(interval_reward(np.full(K, 1 / K), ds, 1.0, RewardConfig()))
    assert np.allclose(noid.records[0]["context"][:K], 1 / K) and read.records[0]["context"][:K] == R_TAU.tolist()
    half = make_policy("read", bandit=FAST).new_bandit(records, R_TAU, 2 * PLAN_TOKENS)  # cost 0.5 share
    assert half.records[0]["reward"] - read.records[0]["reward"] == pytest.approx(0.5 * RewardConfig().lam)


def test_greedy_is_read_with_kappa_zero():
    p = make_policy("greedy", bandit=FAST)
    state = first_state(p)
    d = p.decide(state)
    assert d.info["ucb"]["kappa"] == 0.0 and p.adapts
    mu, _ = state.bandit.predict(d.info["context"], candidates(R_TAU, None, FAST))
    assert d.info["ucb"]["mu"] == mu.max()


def test_no_spillover_exposes_its_different_reward():
    base, abl = make_policy("read"), make_policy("no_spillover")
    assert abl.reward_config.beta == 0.0 and base.reward_config.beta > 0
    assert abl.describe()["reward"]["beta"] == 0.0
    loss = np.array([0, 0, 0.2, -0.3, 0, 0, 0, 0])
    assert abl.reward(R_TAU, loss, 1.0) > base.reward(R_TAU, loss, 1.0)


def test_no_identifier_sees_a_uniform_requirement():
    p = make_policy("no_identifier", bandit=FAST)
    state = first_state(p)
    d = p.decide(state)
    assert np.allclose(d.info["context"][:K], 1 / K)
    ds = delta_s(R_TAU)
    assert p.reward(R_TAU, ds, 1.0) == pytest.approx(interval_reward(np.full(K, 1 / K), ds, 1.0, RewardConfig()))


def test_no_adaptation_keeps_reads_first_choice():
    read, fixed = make_policy("read", bandit=FAST), make_policy("no_adaptation", bandit=FAST)
    state = first_state(fixed)
    w1 = fixed.propose(state)
    assert np.array_equal(w1, read.decide(first_state(read)).w)
    fixed.observe(state.bandit, state.bandit.records[0]["context"], w1, 0.2, k=1)
    assert state.bandit.n_transitions == 0 and fixed.checkpoint(state.bandit, 0.2, 0.0) is None
    later = PolicyState(R_TAU, S0 + 0.3, 0.5, w1, 0.2, 5, state.bandit)
    assert np.array_equal(fixed.propose(later), w1)
    with pytest.raises(ReadError, match="needs last_w"):
        fixed.propose(PolicyState(R_TAU, S0, 0.5, None, 0.0, 2, state.bandit))


def test_grid_picks_the_best_profiling_mean_and_keeps_it():
    p = make_policy("grid", bandit=FAST)
    state = first_state(p)
    d = p.decide(state)
    mu, _ = state.bandit.predict(d.info["context"], candidates(R_TAU, None, FAST))
    assert d.info["ucb"]["kappa"] == 0.0 and d.info["ucb"]["mu"] == mu.max()
    assert np.array_equal(p.propose(PolicyState(R_TAU, S0, 0.2, d.w, 0.1, 4, state.bandit)), d.w)
    with pytest.raises(ReadError, match="profiling records"):
        p.propose(first_state(p, records=[]))


def test_read_loop_is_reproducible_end_to_end():
    def run():
        p = make_policy("read", bandit=FAST, seed=11)
        state, ws = first_state(p), []
        for k in range(1, 4):
            d = p.decide(state)
            gain = p.reward(R_TAU, delta_s(d.w), 1.0)
            p.observe(state.bandit, d.info["context"], d.w, gain, k)
            state = PolicyState(R_TAU, S0, 1 - k / 4, d.w, gain, k + 1, state.bandit)
            ws.append(d.w)
        return np.array(ws)

    assert np.array_equal(run(), run())
