"""The workflow on a real SLURM: the single-node cluster of tools/slurm_local.sh.

Skipped when no SLURM node answers (start one with `tools/slurm_local.sh start`, which
tools/test.sh does). A cut-down tiny config runs through `--profile workflow/profiles/slurm`
with its model rules asking for one GPU each (the node has fake GPUs), and the test checks
that the jobs really went through sbatch: SLURM log files named by job id, and the
controller's record of each job's state, account, partition and GPU request.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_workflow import make_workdir, smk, tiny_args

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

# The tiny config cut to one ReAD run of one interval: the whole chain (setup, profiling,
# bandit, allocate, generate, train, probe, evaluate, a table) in as few SLURM steps as possible.
OVERRIDE = {"methods": ["read"], "budget": {"n_intervals": 1}, "tables": ["budget_vs_score"],
            "resources": {c: {"gpu": 1} for c in ("pretrain", "generate", "train", "score")}}
TARGETS = ["results/tiny/tables/budget_vs_score.csv", "results/tiny/setup/accuracy/teacher.json"]
GPU_RULES = ("pretrain_teacher", "pretrain_student", "accuracy_report", "probe_suite", "probe_s0",
             "profile_interventions", "generate", "train_final", "probe", "evaluate")
LOCAL_RULES = ("tokenizer", "allocate", "init_bandit", "update_bandit", "artefact_with_plot")


def slurm_is_up() -> bool:
    if shutil.which("sinfo") is None:
        return False
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return r.returncode == 0 and any(s.strip("*~#") in ("idle", "mixed", "allocated") for s in r.stdout.split())


def job_record(job_id: str) -> dict[str, str]:
    """`scontrol show job` as key -> value (finished jobs stay for MinJobAge = 600 s)."""
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, check=True)
    return dict(f.split("=", 1) for f in out.stdout.split() if "=" in f)


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    if not slurm_is_up():
        pytest.skip("no SLURM node is up; run `tools/slurm_local.sh start` (as root) first")
    workdir = make_workdir(tmp_path_factory.mktemp("slurm"), OVERRIDE)
    env = {"READ_SLURM_ACCOUNT": "read-test", "READ_SLURM_PARTITION": "debug", "READ_SLURM_GPU_PARTITION": "gpu",
           "READ_SLURM_GPU_MODEL": ""}
    r = smk(workdir, *TARGETS, "--profile", str(Path(__file__).resolve().parents[1] / "workflow/profiles/slurm"),
            "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5",
            *tiny_args(workdir, OVERRIDE), env=env, timeout=540)
    return workdir, r


def test_slurm_run_finishes_and_writes_every_target(slurm_run):
    workdir, r = slurm_run
    assert r.returncode == 0, r.stdout[-5000:]
    for target in TARGETS:
        assert (workdir / target).is_file()


def test_every_model_job_went_through_sbatch_and_gpu_rules_got_a_gpu(slurm_run):
    workdir, r = slurm_run
    assert r.returncode == 0, r.stdout[-5000:]
    logs = {rule: sorted((workdir / "logs/slurm" / f"rule_{rule}").rglob("*.log")) for rule in GPU_RULES}
    for rule, files in logs.items():
        assert files, f"no SLURM log for rule {rule}"
        for log in files:
            assert re.fullmatch(r"\d+", log.stem), log  # the plugin names logs by SLURM job id
            job = job_record(log.stem)
            assert job["JobState"] == "COMPLETED", (rule, job["JobState"])
            assert job["Partition"] == "gpu", (rule, job["Partition"])
            assert job["Account"] == "read-test"
            assert "gpu:1" in job.get("TresPerJob", "") + job.get("TresPerNode", ""), (rule, job)
    # cheap rules are localrules: they never reach SLURM
    for rule in LOCAL_RULES:
        assert not (workdir / f"logs/slurm/rule_{rule}").exists(), rule


def test_the_teacher_server_runs_as_its_own_slurm_job(tmp_path, make_adder):
    """tools/serve_teacher.sh submits the server (here read's own; vLLM on a GPU cluster),
    the job writes its URL, and an openai teacher pointed at that file waits and generates."""
    if not slurm_is_up():
        pytest.skip("no SLURM node is up; run `tools/slurm_local.sh start` (as root) first")
    import socket

    from read.teachers import TeacherConfig, make_teacher

    ckpt = make_adder(n=6, steps=10)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url_file = tmp_path / "teacher.url"
    script = Path(__file__).resolve().parents[1] / "tools/serve_teacher.sh"
    env = {**__import__("os").environ, "READ_SLURM_PARTITION": "debug"}
    sub = subprocess.run([str(script), "--engine", "read", "--model", str(ckpt), "--url-file", str(url_file),
                          "--name", "tiny", "--port", str(port), "--time", "10"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert sub.returncode == 0, sub.stderr
    job_id = sub.stdout.strip().split(";")[0]
    try:
        teacher = make_teacher(TeacherConfig(backend="openai", served_model="tiny", base_url_file=str(url_file),
                                             wait_s=180, tokenizer=str(ckpt)))
        gens = teacher.generate(["What is 2 plus 3?", "What is 1 plus 1?"], max_new_tokens=4)
        assert len(gens) == 2 and all(g.n_tokens >= 1 for g in gens)
        assert job_record(job_id)["JobState"] == "RUNNING" and url_file.read_text().startswith("http://")
    finally:
        subprocess.run(["scancel", job_id], check=False)
