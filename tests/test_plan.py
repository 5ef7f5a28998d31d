"""The pre-run estimate (read.plan): exact budget shares, the grid, and the dry-run flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from read.config import ProfilingConfig, load_config
from read.plan import is_dry_run, plan, run_cost

REPO = Path(__file__).resolve().parents[1]


def test_a_run_splits_its_budget_exactly_and_adaptive_methods_add_dev_checkpoints():
    cfg = load_config(REPO / "config/config.yaml")
    lengths = {"probe": 10.0, "task": 20.0, "eval": 5.0}
    static, adaptive = run_cost(60000, False, cfg, lengths), run_cost(60000, True, cfg, lengths)
    assert static.teacher_tokens == 12000 and static.train_tokens == 48000  # gen_fraction 0.2
    n = cfg["budget"]["n_intervals"]
    assert static.probe_tokens == 2 * 8 * cfg["probes"]["n_per_capability"] * 10 * n
    assert static.dev_tokens == 0 and adaptive.dev_tokens == n * cfg["evaluation"]["n_dev"] * 20
    ev = cfg["evaluation"]
    assert static.eval_tokens == 2 * (ev["n_test"] * 20 + 8 * ev["n_per_capability"] * 5)


def test_the_default_grid_counts_every_run_and_charges_profiling_outside_b():
    cfg = load_config(REPO / "config/config.yaml")
    p = plan(cfg, setup="results/embedded/setup")
    assert p.runs == len(cfg["tasks"]) * len(cfg["methods"]) * len(cfg["budgets"]) * len(cfg["seeds"])
    inside = len(cfg["seeds"]) * sum(r["budget"] for r in p.per_run)
    assert p.teacher_tokens + p.train_tokens == inside + p.profiling_tokens
    # one intervention set per seed and interval size: B / N = 12k and 120k for B = 60k, 600k
    sizes = [ProfilingConfig.from_dict(cfg["profiling"]).size_for(cfg["budget"], b) for b in cfg["budgets"]]
    assert sizes == [b // cfg["budget"]["n_intervals"] for b in cfg["budgets"]]
    assert p.profiling_tokens == len(cfg["seeds"]) * cfg["profiling"]["n_interventions"] * sum(sizes)
    assert p.gpu_hours > 0 and "16 runs" in p.summary()


@pytest.mark.parametrize("argv,expected", [
    (["snakemake", "-n", "--cores", "2"], True), (["snakemake", "-np"], True), (["snakemake", "--dry-run"], True),
    (["snakemake", "--cores", "2"], False), (["snakemake", "-j", "4", "--configfile", "n.yaml"], False),
])
def test_dry_runs_are_recognised_from_the_command_line(argv, expected):
    assert is_dry_run(argv) == expected
