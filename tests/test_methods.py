"""Method names with teacher signals (read.methods, read.signals) and the grid's blocks (read.grid)."""

from __future__ import annotations

import pytest

from read.config import ProfilingConfig
from read.errors import ReadError
from read.grid import Run, axis_values, blocks, expand, task_seeds
from read.methods import TEACHER_SIGNALS, method_generation, method_student, policy_of, split_method
from read.policies import make_policy, method_config
from read.signals import SIGNALS, get_signal, records_topk

GENERATION = {"signal": "resp", "max_new_tokens": 48, "temperature": 0.0, "top_k": 8, "keep_unfinished": False}
STUDENT = {"loss": "sft", "kd_alpha": 0.5, "kd_temperature": 2.0, "lr": 1e-3}


def test_a_plain_method_keeps_the_config_as_it_is():
    assert split_method("onehot:math") == ("onehot:math", None)
    assert method_generation("read", GENERATION) == GENERATION
    assert method_student("read", STUDENT) == STUDENT


@pytest.mark.parametrize(("suffix", "signal", "loss", "alpha", "temperature"), [
    ("resp-sft", "resp", "sft", 0.5, 2.0),
    ("cot-sft", "cot", "sft", 0.5, 2.0),
    ("resp-kd", "logit", "kd", 0.5, 2.0),
    ("cot-kd", "cot_logit", "kd", 0.5, 2.0),
    ("logit-kd", "logit", "kd", 1.0, 1.0),
])
def test_each_teacher_signal_overrides_only_signal_and_loss(suffix, signal, loss, alpha, temperature):
    name = f"onehot:math+{suffix}"
    assert policy_of(name) == "onehot:math"
    gen, student = method_generation(name, GENERATION), method_student(name, STUDENT)
    assert gen == {**GENERATION, "signal": signal}
    assert (student["loss"], student["kd_alpha"], student["kd_temperature"]) == (loss, alpha, temperature)
    assert student["lr"] == STUDENT["lr"]
    # a kd loss always has the teacher's top-k to learn from
    assert records_topk(gen["signal"]) == (loss == "kd")


def test_every_signal_a_method_names_is_a_known_teacher_signal():
    assert {gen["signal"] for gen, _ in TEACHER_SIGNALS.values()} <= set(SIGNALS)
    assert get_signal("cot_logit").rationale and get_signal("cot_logit").topk
    assert not get_signal("resp").topk and not get_signal("resp").rationale


def test_logit_sft_is_refused_with_the_reason():
    with pytest.raises(ReadError, match="Logit-SFT"):
        split_method("uniform+logit-sft")


@pytest.mark.parametrize("name", ["uniform+", "+resp-sft", "uniform+resp", "uniform+resp-sft+cot-kd"])
def test_a_malformed_method_name_is_one_error_naming_it(name):
    with pytest.raises(ReadError, match="method"):
        split_method(name)


def test_a_top_k_signal_needs_top_k_logprobs():
    with pytest.raises(ReadError, match="generation.top_k"):
        method_generation("uniform+resp-kd", {**GENERATION, "top_k": 0})


def test_policies_see_the_policy_part_of_a_method_name():
    policy = make_policy("onehot:math+cot-kd")
    assert policy.name == "onehot:math+cot-kd" and policy.capability == "math"
    assert method_config("greedy+resp-kd", "bandit", {"kappa": 1.0, "J": 5}) == {"kappa": 0.0, "J": 5}
    assert make_policy("greedy+logit-kd").kappa == 0.0
    with pytest.raises(ReadError, match="unknown method"):
        make_policy("bogus+resp-sft")


def test_grid_blocks_fill_missing_axes_from_the_top_level_and_runs_are_unique():
    cfg = {"tasks": ["a"], "methods": ["read", "uniform"], "budgets": [10, 20], "seeds": [0],
           "grids": [{"tasks": ["b"], "methods": ["read"]}, {"methods": ["read"], "seeds": [0, 1]}]}
    assert blocks(cfg)[1] == {"tasks": ["b"], "methods": ["read"], "budgets": [10, 20], "seeds": [0]}
    runs = expand(cfg)
    # 4 top-level runs, 2 for task b, then block 3 adds only seed 1 (seed 0 already runs)
    assert len(runs) == 4 + 2 + 2
    assert runs[:2] == [Run("a", "read", 10, 0), Run("a", "read", 20, 0)]
    assert axis_values(runs, "task") == ["a", "b"] and axis_values(runs, "seed") == [0, 1]
    assert task_seeds(runs, ["uniform"]) == [("a", 0)]
    assert task_seeds(runs) == [("a", 0), ("b", 0), ("a", 1)]


def test_without_grids_the_runs_are_the_plain_product():
    cfg = {"tasks": ["a", "b"], "methods": ["read"], "budgets": [10, 20, 30], "seeds": [0, 1]}
    assert len(expand(cfg)) == 2 * 1 * 3 * 2


def test_intervention_size_is_fixed_or_each_budgets_interval():
    budget = {"gen_fraction": 0.2, "n_intervals": 5, "carry_over": True}
    fixed = ProfilingConfig(n_interventions=4, tokens=8000, capabilities=2, shards=1)
    assert fixed.size_for(budget, 600_000) == 8000
    matched = ProfilingConfig(n_interventions=4, tokens="interval", capabilities=2, shards=1)
    assert matched.size_for(budget, 600_000) == 120_000
    assert matched.size_for(budget, 180_003) == 36_000  # planned caps of interval 1 (the rest goes last)
    assert matched.with_size(120_000).tokens == 120_000
