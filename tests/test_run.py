"""A real ReAD chain on the embedded world from plain Python (read.run), with tiny models.

Allocate -> generate -> train -> probe -> update, twice, then the final evaluation: the
files exist, the ledger never passes its caps and adds up, the student's profile moved,
and a second call resumes without recomputing anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from read.capabilities import CAPABILITIES
from read.config import load_config, with_defaults
from read.errors import ReadError
from read.io import read_json, read_jsonl
from read.run import run_chain

TINY = Path(__file__).parent / "data" / "tiny_config.yaml"
BUDGET = 2000


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    cfg = load_config(TINY)
    return out, cfg, run_chain(out, cfg, task="knowledge_call", method="read", budget=BUDGET, seed=0)


def test_schema_defaults_fill_missing_sections_but_keep_given_values():
    schema = {"properties": {"a": {"type": "object", "properties": {"x": {"default": 1}, "y": {"default": 2}}},
                             "b": {"default": 3}}}
    assert with_defaults({"a": {"y": 5}}, schema) == {"a": {"x": 1, "y": 5}, "b": 3}


def test_every_interval_file_is_written(chain):
    out, cfg, final = chain
    run = out / "runs/knowledge_call/read" / f"B{BUDGET}" / "seed0"
    for k in range(1, cfg["budget"]["n_intervals"] + 1):
        for name in ("allocation.json", "batch.jsonl", "manifest.json", "student", "ledger.json", "profile.json",
                     "bandit.json"):
            assert (run / f"i{k}" / name).exists(), f"i{k}/{name}"
    result = read_json(final)
    assert result["method"] == "read" and result["budget"] == BUDGET
    assert 0.0 <= result["task_score"] <= 1.0 and set(result["profile"]["acc"]) == set(CAPABILITIES)
    items = result["task_items"]  # the per-item values behind the task score, for paired tests
    assert len(items["correct"]) == len(items["ll"]) == result["n_test"]
    assert sum(items["correct"]) / result["n_test"] == pytest.approx(result["task_score"])
    assert sum(items["ll"]) / result["n_test"] == pytest.approx(result["task_ll"])


def test_the_ledger_stays_within_each_cap_and_adds_up(chain):
    out, cfg, final = chain
    run = out / "runs/knowledge_call/read" / f"B{BUDGET}" / "seed0"
    n = cfg["budget"]["n_intervals"]
    ledger = read_json(run / f"i{n}" / "ledger.json")
    tokens = read_json(final)["tokens"]
    assert tokens["generated"] + tokens["trained"] <= BUDGET
    assert tokens["generated"] <= round(BUDGET * cfg["budget"]["gen_fraction"])
    assert tokens["profiling"] > 0  # reported, but outside B
    batch_rows = sum(len(read_jsonl(run / f"i{k}" / "batch.jsonl")) for k in range(1, n + 1))
    assert batch_rows > 0 and ledger["version"] >= 1


def test_training_moved_the_probe_profile(chain):
    out, cfg, _ = chain
    run = out / "runs/knowledge_call/read" / f"B{BUDGET}" / "seed0"
    s0 = read_json(out / "setup/s0_profile.json")["ll"]
    s1 = read_json(run / "i1/profile.json")["ll"]
    assert not np.allclose([s0[c] for c in CAPABILITIES], [s1[c] for c in CAPABILITIES])


def test_interventions_record_the_dev_gain_they_caused(chain):
    out, cfg, _ = chain
    rows = read_jsonl(out / f"setup/interventions/knowledge_call/seed0/T{cfg['profiling']['tokens']}.jsonl")
    assert len(rows) == cfg["profiling"]["n_interventions"]
    assert all(np.isfinite(r["delta_u"]) and set(r["delta_s"]) == set(CAPABILITIES) for r in rows)


def test_a_second_call_resumes_without_recomputing(chain):
    out, cfg, final = chain
    stamp = os.stat(final).st_mtime_ns
    assert run_chain(out, cfg, task="knowledge_call", method="read", budget=BUDGET, seed=0) == final
    assert os.stat(final).st_mtime_ns == stamp


def test_an_unknown_method_fails_before_any_training(tmp_path):
    with pytest.raises(ReadError, match="unknown"):
        run_chain(tmp_path, load_config(TINY), task="knowledge_call", method="bogus", budget=BUDGET, seed=0)
    assert not (tmp_path / "setup").exists()


def test_the_same_chain_runs_on_external_checkpoints_without_world(tmp_path, tiny_example, monkeypatch):
    """read.run reads the general path's sections too: a local hf teacher, a LoRA student,
    JSONL and template pools, a JSONL task; nothing is pretrained."""
    import shutil

    import yaml

    shutil.copytree(tiny_example, tmp_path / "example")
    shutil.copytree(Path(__file__).parents[1] / "config", tmp_path / "config")
    override = {"models": {"teacher": {"backend": "hf", "path": "example/teacher"},
                           "student": {"batch_size": 8, "warmup_steps": 1}},
                "generation": {"max_new_tokens": 12, "keep_unfinished": True},
                "probes": {"n_per_capability": 2, "batch_size": 16},
                "profiling": {"n_interventions": 2, "tokens": 300},
                "evaluation": {"n_test": 8, "n_per_capability": 4, "n_dev": 8, "batch_size": 16},
                "bandit": {"J": 2, "epochs": 2, "max_steps": 10}, "budget": {"n_intervals": 2}}
    monkeypatch.chdir(tmp_path)  # the config's paths are relative to the working directory
    cfg = load_config(tmp_path / "config/examples/local_hf.yaml", override)
    final = run_chain(tmp_path / "out", cfg, task="arithmetic_words", method="read", budget=BUDGET, seed=0)
    result = read_json(final)
    assert result["task"] == "arithmetic_words" and result["n_test"] == 8
    assert (tmp_path / "out/runs/arithmetic_words/read" / f"B{BUDGET}" / "seed0/i2/student/adapter_config.json").is_file()
    assert not (tmp_path / "out/setup/teacher").exists()
    assert yaml.safe_load((tmp_path / "config/examples/local_hf.yaml").read_text())["models"]["student"]["mode"] == "lora"
