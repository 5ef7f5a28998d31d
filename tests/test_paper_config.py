"""config/paper.yaml: the paper's grid plans on the SLURM profile once its placeholders are filled.

The placeholders (checkpoints, pools, benchmark files, the task) are filled with tiny
stand-ins in a temporary working directory, as a researcher fills them with real ones;
the dry run must then plan every run of every method, at both budgets and three seeds,
with the resources each rule class asks for.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from test_workflow import REPO, _resources_by_rule, smk

pytestmark = pytest.mark.slow

PAPER = REPO / "config" / "paper.yaml"


def fill_placeholders(root: Path, example: Path) -> dict:
    cfg = yaml.safe_load(PAPER.read_text())
    shutil.copytree(REPO / "config", root / "config")
    for role in ("teacher", "student"):
        shutil.copytree(example / role, root / cfg["models"][role]["path"])
    lines = cfg["probes"]["n_per_capability"] + 50  # the probes are held out of each pool
    for cap, src in cfg["capabilities"].items():
        path = root / src["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"prompt": f"{cap} prompt {i}"}) + "\n" for i in range(lines)))
        for bench in src["benchmarks"]:
            if "path" not in bench:
                continue
            row = ({"task_id": "0", "prompt": "def f():\n", "test": "def check(g):\n    pass\n", "entry_point": "f"}
                   if bench["kind"] == "code" else {"prompt": "Weather in Oslo?", "answer": 'get_weather(city="Oslo")'})
            (root / bench["path"]).parent.mkdir(parents=True, exist_ok=True)
            (root / bench["path"]).write_text(json.dumps(row) + "\n")
    card = yaml.safe_load((root / cfg["task_cards"]).read_text())["tasks"]["target_task"]
    for split, numbers in (("dev", range(50)), ("test", range(50, 120))):
        path = root / card["splits"][split]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"prompt": f"What is {n} plus 1?", "answer": str(n + 1)}) + "\n"
                                for n in numbers))
    (root / cfg["evaluation"]["lm_eval"]["include_path"]).mkdir(parents=True)
    return cfg


def test_the_paper_grid_plans_with_each_rule_classs_resources(tmp_path, tiny_example):
    cfg = fill_placeholders(tmp_path, tiny_example)
    env = {"READ_SLURM_ACCOUNT": "lab", "READ_SLURM_PARTITION": "cpu", "READ_SLURM_GPU_PARTITION": "gpu",
           "READ_SLURM_GPU_MODEL": "h100"}
    r = smk(tmp_path, "-n", "--configfile", str(PAPER), "--profile", str(REPO / "workflow/profiles/slurm"), env=env,
            timeout=900)
    assert r.returncode == 0, r.stdout[-4000:]
    stats = dict(line.split()[:2] for line in r.stdout.splitlines()
                 if len(line.split()) == 2 and line.split()[1].isdigit())
    runs = len(cfg["methods"]) * len(cfg["budgets"]) * len(cfg["seeds"])
    assert runs == 17 * 2 * 3 and int(stats["evaluate"]) == runs
    n = cfg["budget"]["n_intervals"]
    for rule in ("allocate", "generate", "probe"):
        assert int(stats[rule]) == runs * n, rule
    # full checkpoints before the last interval would be temp(); the paper's LoRA adapters are all kept
    assert int(stats["train"]) == runs * (n - 1) and int(stats["train_final"]) == runs
    assert "pretrain_teacher" not in stats and "tokenizer" not in stats  # no `world:`, nothing pretrained
    res = _resources_by_rule(r.stdout)
    for rule, kind in (("generate", "generate"), ("probe_suite", "generate"), ("train", "train"),
                       ("profile_interventions", "train"), ("probe", "score"), ("evaluate", "score")):
        want = cfg["resources"][kind]
        line = res[rule]
        for key in ("gpu", "mem_mb", "runtime", "cpus_per_gpu"):
            assert f"{key}={want[key]}" in line, (rule, key, line)
        assert "slurm_partition=gpu" in line and "gpu_model=h100" in line and "slurm_account=lab" in line
    for rule in ("allocate", "update_bandit", "init_bandit"):
        assert "gpu=" not in res.get(rule, ""), rule  # localrules: on the login node, no GPU
    assert "plan: 102 runs" in r.stdout  # the estimate comes first
