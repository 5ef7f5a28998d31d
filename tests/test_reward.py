import numpy as np
import pytest

from read.capabilities import CAPABILITIES, K
from read.errors import ReadError
from read.reward import RewardConfig, essential, interval_reward, profile_vector, reward_terms, spillover

R = np.array([0.5, 0.3, 0.2, 0, 0, 0, 0, 0])
DS = np.array([0.1, -0.2, 0.4, -1.0, 0, 0, 0, 0])


def test_reward_is_minus_lambda_cost_when_the_profile_is_unchanged():
    cfg = RewardConfig(beta=1.0, lam=0.25, top_k=2)
    assert interval_reward(np.full(K, 1 / K), np.zeros(K), 0.0, cfg) == 0.0
    assert interval_reward(np.full(K, 1 / K), np.zeros(K), 1.0, cfg) == -0.25


def test_spillover_counts_only_losses_on_the_top_k_required_capabilities():
    # top-2 of R = {0, 1}; only capability 1 lost ground: 0.3 * 0.2
    assert spillover(R, DS, top_k=2) == pytest.approx(0.06)
    # capability 3 lost 1.0 but is not required (r = 0): never counted, whatever k
    assert spillover(R, DS, top_k=8) == pytest.approx(0.06)


def test_interval_reward_on_a_hand_checked_example():
    cfg = RewardConfig(beta=0.5, lam=0.1, top_k=2)
    # gain = .5*.1 - .3*.2 + .2*.4 = .07; spill = .06; cost 1 interval share
    terms = reward_terms(R, DS, 1.0, cfg)
    assert terms.gain == pytest.approx(0.07) and terms.spill == pytest.approx(0.06)
    assert terms.reward == pytest.approx(0.07 - 0.5 * 0.06 - 0.1 * 1.0)
    assert interval_reward(R, DS, 1.0, cfg) == terms.reward


def test_beta_zero_drops_the_spillover_term():
    assert interval_reward(R, DS, 0.0, RewardConfig(beta=0.0, lam=0.0)) == pytest.approx(0.07)


def test_cost_is_in_interval_shares_so_lambda_is_comparable_to_delta_s():
    cfg = RewardConfig(beta=0.0, lam=0.01)
    one = interval_reward(R, DS, 1.0, cfg)  # a full interval
    two = interval_reward(R, DS, 2.0, cfg)  # twice the planned share (carry-over)
    assert one - two == pytest.approx(0.01)
    assert abs(cfg.lam * 1.0) < abs(0.07)  # the default-scale penalty does not swamp a typical gain


def test_essential_breaks_ties_by_capability_order():
    r = np.array([0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0])
    assert essential(r, 2).tolist() == [0, 1]


@pytest.mark.parametrize(
    "args",
    [
        (np.ones(3) / 3, np.zeros(4), 0.0),  # shape mismatch
        (np.array([1.5, -0.5]), np.zeros(2), 0.0),  # negative r
        (np.ones(2) / 2, np.array([0.0, np.nan]), 0.0),  # nan
        (np.ones(2) / 2, np.zeros(2), -1.0),  # negative cost
    ],
)
def test_bad_reward_inputs_raise_read_error(args):
    with pytest.raises(ReadError):
        interval_reward(*args, RewardConfig())


@pytest.mark.parametrize("kw", [{"beta": -1}, {"lam": float("inf")}, {"top_k": 0}, {"top_k": 1.5}])
def test_bad_reward_config_names_the_key(kw):
    with pytest.raises(ReadError, match=f"reward.{next(iter(kw))}"):
        RewardConfig(**kw)


def test_profile_vector_takes_signed_values_and_requires_every_capability():
    full = {c: -float(i) for i, c in enumerate(CAPABILITIES)}
    assert profile_vector(full, "p").tolist() == [-float(i) for i in range(K)]
    with pytest.raises(ReadError, match="missing capabilities"):
        profile_vector({"math": 0.1}, "profile.json:ll")
    with pytest.raises(ReadError, match="unknown capability"):
        profile_vector({**full, "poetry": 1.0}, "profile.json:ll")
