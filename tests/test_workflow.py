"""The Snakemake workflow: lint, format, config validation, profiles, and a tiny setup run.

Every test runs snakemake as a subprocess in its own temporary working directory (the
repository's Snakefile, `--directory tmp`), so tests never share `.snakemake/` locks or
results with each other or with a developer's `results/`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from read.aggregate.report import ARTEFACTS

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
TINY = REPO / "tests" / "data" / "tiny_config.yaml"
BIN = Path(sys.executable).parent


def smk(workdir: Path, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run snakemake on the repository's Snakefile in ``workdir``; stdout and stderr merged."""
    full_env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    return subprocess.run(
        [str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(workdir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env, timeout=timeout,
    )


def make_workdir(path: Path, *overrides: dict) -> Path:
    """A working directory with config/ copied from the repository.

    Each override is written to ``override{i}.yaml``, to be passed with ``--configfile``
    after the base config (snakemake deep-merges config files in order).
    """
    shutil.copytree(REPO / "config", path / "config")
    for i, override in enumerate(overrides):
        (path / f"override{i}.yaml").write_text(yaml.safe_dump(override))
    return path


def tiny_args(workdir: Path, *overrides: dict) -> list[str]:
    files = [str(TINY)] + [str(workdir / f"override{i}.yaml") for i in range(len(overrides))]
    return ["--configfile", *files]


# ---- static checks ---------------------------------------------------------------------


def test_lint_is_clean(tmp_path):
    r = smk(make_workdir(tmp_path), "--lint")
    assert r.returncode == 0, r.stdout


def test_snakefmt_leaves_every_rule_file_unchanged():
    r = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_default_config_dry_run_plans_every_run_of_the_grid(tmp_path):
    r = smk(make_workdir(tmp_path), "-n", "--cores", "2")
    assert r.returncode == 0, r.stdout
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    n_runs = len(cfg["tasks"]) * len(cfg["methods"]) * len(cfg["budgets"]) * len(cfg["seeds"])
    stats = dict(line.split()[:2] for line in r.stdout.splitlines()
                 if len(line.split()) == 2 and line.split()[1].isdigit())
    assert int(stats["evaluate"]) == n_runs
    n = cfg["budget"]["n_intervals"]
    assert int(stats["train"]) == n_runs * (n - 1) and int(stats["train_final"]) == n_runs
    n_tables = len(cfg.get("tables") or ARTEFACTS)  # default: every artefact of read.aggregate
    assert int(stats.get("artefact_with_plot", 0)) + int(stats.get("artefact_table", 0)) == n_tables


def test_all_methods_resolve_to_complete_chains(tmp_path):
    methods = ["read", "uniform", "task_static", "onehot:math", "greedy", "grid", "random",
               "no_identifier", "no_adaptation", "no_spillover"]
    workdir = make_workdir(tmp_path, {"methods": methods})
    r = smk(workdir, "-n", "--cores", "2", *tiny_args(workdir, {"methods": methods}))
    assert r.returncode == 0, r.stdout
    for m in methods:
        assert f"runs/knowledge_call/{m}/B2000/seed0/final/eval.json" in r.stdout
    # Bandit methods pre-fit a bandit; only the adaptive ones update it after each interval.
    run = "runs/knowledge_call/{}/B2000/seed0/{}/bandit.json"
    for m in methods:
        uses, adapts = m in ("read", "greedy", "no_identifier", "no_spillover", "no_adaptation", "grid"), m in (
            "read", "greedy", "no_identifier", "no_spillover")
        assert (run.format(m, "init") in r.stdout) == uses, m
        assert (run.format(m, "i1") in r.stdout) == adapts, m


# ---- config validation -----------------------------------------------------------------


def test_unknown_config_key_is_rejected_by_name(tmp_path):
    workdir = make_workdir(tmp_path, {"rewad": {"beta": 1.0}})
    r = smk(workdir, "-n", "--cores", "1", *tiny_args(workdir, {"rewad": {"beta": 1.0}}))
    assert r.returncode != 0
    assert "rewad" in r.stdout and "Additional properties are not allowed" in r.stdout


def test_unknown_method_is_rejected(tmp_path):
    override = {"methods": ["read", "onehot:chess"]}
    workdir = make_workdir(tmp_path, override)
    r = smk(workdir, "-n", "--cores", "1", *tiny_args(workdir, override))
    assert r.returncode != 0 and "onehot:chess" in r.stdout


def test_task_without_a_card_is_an_error_naming_the_card_file(tmp_path):
    override = {"tasks": ["no_such_task"]}
    workdir = make_workdir(tmp_path, override)
    r = smk(workdir, "-n", "--cores", "1", *tiny_args(workdir, override))
    assert r.returncode != 0
    assert "config/task_cards.yaml: no task card for ['no_such_task']" in r.stdout


def test_embedded_task_cards_match_the_world():
    from read.embedded import TASKS

    cards = yaml.safe_load((REPO / "config" / "task_cards.yaml").read_text())["tasks"]
    embedded = {name: card for name, card in cards.items() if card.get("source") == "embedded"}
    assert set(embedded) == set(TASKS)
    for name, card in embedded.items():
        assert card["requirement"] == dict(TASKS[name].requirement), name
        assert (card["outer"], card["inner"]) == (TASKS[name].outer, TASKS[name].inner), name


def test_conda_envs_install_this_checkout():
    for name, extra in (("cpu", ""), ("gpu", "[gpu]")):
        env = yaml.safe_load((REPO / "envs" / f"{name}.yaml").read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert f"-e ${{READ_DISTILL_ROOT}}{extra}" in pip
    assert "READ_DISTILL_ROOT" in SNAKEFILE.read_text()


# ---- profiles --------------------------------------------------------------------------

def _resources_by_rule(dry_run_output: str) -> dict[str, str]:
    """rule name -> its `resources:` line, from `snakemake -n` output."""
    out, rule = {}, None
    for line in dry_run_output.splitlines():
        if line.startswith("rule ") or line.startswith("localrule "):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("resources:") and rule:
            out.setdefault(rule, line.strip())
    return out


def test_only_gpu_classes_go_to_the_gpu_partition_and_ask_for_a_gpu_model(tmp_path):
    """Training and generation on GPUs, scoring on CPUs: the scoring jobs keep the CPU
    partition and never ask for --gpus=<model>:0; a GPU job's runtime is its class's."""
    override = {"resources": {"pretrain": {"gpu": 1}, "generate": {"gpu": 1, "cpus_per_gpu": 4},
                              "train": {"gpu": 2, "runtime": 90}, "score": {"gpu": 0}}}
    workdir = make_workdir(tmp_path, override)
    env = {"READ_SLURM_ACCOUNT": "proj42", "READ_SLURM_PARTITION": "cpuq", "READ_SLURM_GPU_PARTITION": "gpuq",
           "READ_SLURM_GPU_MODEL": "h100"}
    r = smk(workdir, "-n", "--profile", str(REPO / "workflow/profiles/slurm"), *tiny_args(workdir, override),
            env=env)
    assert r.returncode == 0, r.stdout
    res = _resources_by_rule(r.stdout)
    want_gpus = {"pretrain_teacher": 1, "generate": 1, "probe_suite": 1, "train": 2, "profile_interventions": 2,
                 "probe": 0, "evaluate": 0, "probe_s0": 0, "accuracy_report": 0}
    for rule, gpus in want_gpus.items():
        line = res[rule]
        assert f"gpu={gpus}" in line and "slurm_account=proj42" in line, (rule, line)
        assert ("slurm_partition=gpuq" in line) == (gpus > 0) and ("slurm_partition=cpuq" in line) == (gpus == 0)
        assert ("gpu_model=h100" in line) == (gpus > 0), (rule, line)
    assert "cpus_per_gpu=4" in res["generate"] and "runtime=90" in res["train"]
    for rule in ("allocate", "update_bandit", "artefact_with_plot"):  # cheap rules stay on the login node
        assert "gpu=" not in res.get(rule, ""), rule


def test_slurm_profile_without_site_variables_sets_no_partition_or_account(tmp_path):
    workdir = make_workdir(tmp_path)
    env = {k: "" for k in ("READ_SLURM_ACCOUNT", "READ_SLURM_PARTITION", "READ_SLURM_GPU_PARTITION",
                           "READ_SLURM_GPU_MODEL")}
    r = smk(workdir, "-n", "--profile", str(REPO / "workflow/profiles/slurm"), *tiny_args(workdir), env=env)
    assert r.returncode == 0, r.stdout
    assert "slurm_partition" not in r.stdout and "slurm_account" not in r.stdout


def test_local_profile_caps_gpus_at_zero(tmp_path):
    override = {"resources": {"train": {"gpu": 1}}}
    workdir = make_workdir(tmp_path, override)
    r = smk(workdir, "-n", "--profile", str(REPO / "workflow/profiles/local"), *tiny_args(workdir, override))
    assert r.returncode == 0, r.stdout
    assert "gpu=0" in _resources_by_rule(r.stdout)["train"]


# ---- a tiny real run ---------------------------------------------------------------------

