"""The tiny config run end to end: setup, provenance reruns, and a kill/resume cycle.

One module-scoped run does the work: the setup rules first (then a dry-run must say
"Nothing to be done"), a snapshot of that working directory, then every target. The other
tests reuse it: a reward edit must rerun only the ReAD chain; a second run from the
snapshot, SIGKILLed while a student trains and resumed with --rerun-incomplete, must end
with the same tables as the uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from test_workflow import BIN, SNAKEFILE, make_workdir, smk, tiny_args

pytestmark = pytest.mark.slow

EXP = "results/tiny"
TABLES = ["tables/budget_vs_score.csv", "tables/budget_vs_score.md", "tables/budget_vs_score.tex"]


def tiny_config() -> dict:
    return yaml.safe_load((Path(__file__).parent / "data" / "tiny_config.yaml").read_text())


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """(workdir after the full run, snapshot dir after setup only, setup run, setup dry-run, full run)."""
    workdir = make_workdir(tmp_path_factory.mktemp("run"))
    setup = smk(workdir, "setup", "--cores", "2", *tiny_args(workdir))  # rule setup: every shared target
    setup_again = smk(workdir, "setup", "-n", "--cores", "2", *tiny_args(workdir))
    snapshot = tmp_path_factory.mktemp("snapshot") / "wd"
    shutil.copytree(workdir, snapshot, symlinks=True)  # copy2 keeps mtimes: metadata stays valid
    full = smk(workdir, "--cores", "2", *tiny_args(workdir))
    return workdir, snapshot, setup, setup_again, full


def test_setup_rules_run_then_a_dry_run_has_nothing_to_do(tiny_run):
    workdir, _, setup, setup_again, _ = tiny_run
    assert setup.returncode == 0, setup.stdout[-5000:]
    report = yaml.safe_load((workdir / f"{EXP}/setup/accuracy/teacher.json").read_text())
    assert len(report["capabilities"]) == 8
    assert (workdir / f"{EXP}/setup/teacher/config.json").is_file()
    assert (workdir / f"{EXP}/benchmarks/setup/pretrain_teacher.tsv").is_file()
    assert "Nothing to be done" in setup_again.stdout, setup_again.stdout[-3000:]


def test_full_run_writes_the_run_tree_tables_and_plots(tiny_run):
    workdir, *_, full = tiny_run
    assert full.returncode == 0, full.stdout[-5000:]
    cfg = tiny_config()
    n = cfg["budget"]["n_intervals"]
    for method in cfg["methods"]:
        run = workdir / f"{EXP}/runs/knowledge_call/{method}/B{cfg['budgets'][0]}/seed0"
        for k in range(1, n + 1):
            for name in ("allocation.json", "batch.jsonl", "manifest.json", "ledger.json", "profile.json"):
                assert (run / f"i{k}" / name).is_file(), (method, k, name)
            # full fine-tuning keeps the last checkpoint only: the others are temp()
            assert (run / f"i{k}/student").is_dir() == (k == n), (method, k)
            assert (run / f"i{k}/bandit.json").is_file() == (method == "read")
        ev = yaml.safe_load((run / "final/eval.json").read_text())
        assert ev["method"] == method and ev["tokens"]["generated"] + ev["tokens"]["trained"] <= ev["budget"]
    assert cfg["tables"] == ["budget_vs_score"]
    for name in TABLES + ["plots/budget_vs_score.png", "plots/budget_vs_score.pdf"]:
        assert (workdir / EXP / name).stat().st_size > 0, name


def test_second_dry_run_after_the_full_run_has_nothing_to_do(tiny_run):
    workdir, *_ = tiny_run
    r = smk(workdir, "-n", "--cores", "2", *tiny_args(workdir))
    assert r.returncode == 0 and "Nothing to be done" in r.stdout, r.stdout[-3000:]


def planned_jobs(dry_run_output: str) -> list[tuple[str, str]]:
    """(rule, first output) of every job a dry-run plans."""
    jobs, rule = [], None
    for line in dry_run_output.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("output:") and rule:
            jobs.append((rule, line.split(":", 1)[1].strip().split(",")[0]))
            rule = None
        elif line.startswith("Job stats") and rule:  # a target rule without output
            jobs.append((rule, ""))
            rule = None
    return jobs


def test_changing_reward_beta_reruns_only_the_read_chain_from_its_first_allocation(tiny_run):
    workdir, *_ = tiny_run
    override = {"reward": {"beta": tiny_config()["reward"]["beta"] + 0.25}}
    (workdir / "beta.yaml").write_text(yaml.safe_dump(override))
    r = smk(workdir, "-n", "--cores", "2", "--configfile", str(Path(__file__).parent / "data/tiny_config.yaml"),
            str(workdir / "beta.yaml"))
    assert r.returncode == 0, r.stdout[-3000:]
    jobs = planned_jobs(r.stdout)
    read_run = f"{EXP}/runs/knowledge_call/read/"
    # The reward-validity report scores the profiling records with the proxy reward, so it
    # depends on beta by definition; it is a cheap report that nothing downstream reads.
    validity = [out for rule, out in jobs if rule == "reward_validity"]
    assert all(out.endswith(".validity.json") for out in validity)
    model_jobs = [(rule, out) for rule, out in jobs
                  if not rule.startswith("artefact") and rule not in ("all", "reward_validity", "report_md")]
    assert model_jobs and all(out.startswith(read_run) for _, out in model_jobs), model_jobs
    rules = [rule for rule, _ in model_jobs]
    n = tiny_config()["budget"]["n_intervals"]
    assert rules.count("init_bandit") == 1 and rules.count("allocate") == n
    assert rules.count("train") + rules.count("train_final") == n
    assert not any("setup" in out for _, out in jobs if not out.endswith(".validity.json"))
    assert "Params have changed since last execution" in r.stdout


def _train_started(workdir: Path) -> bool:
    """True while a train job runs: its log exists (opened before torch is imported) and
    its checkpoint does not yet."""
    for log in (workdir / EXP / "logs/runs").glob("*/*/*/*/i*/train.log"):
        interval = workdir / EXP / "runs" / log.relative_to(workdir / EXP / "logs/runs").parent
        if not (interval / "student").exists():
            return True
    return False


def test_sigkill_mid_train_then_rerun_incomplete_gives_identical_tables(tiny_run):
    workdir, snapshot, *_, full = tiny_run
    assert full.returncode == 0, full.stdout[-3000:]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(BIN / "snakemake"), "--snakefile", str(SNAKEFILE), "--directory", str(snapshot), "--cores", "2",
           *tiny_args(snapshot)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not _train_started(snapshot):
            assert proc.poll() is None, "the workflow finished before any training started"
            assert time.monotonic() < deadline, "no training started within 300 s"
            time.sleep(0.05)  # polling for the kill point, not waiting for a result
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the controller and its running jobs, like a crash
        proc.wait()
    assert any((snapshot / ".snakemake/incomplete").iterdir()), "the killed job left no incomplete marker"
    assert smk(snapshot, "--unlock", *tiny_args(snapshot)).returncode == 0
    resumed = smk(snapshot, "--cores", "2", "--rerun-incomplete", *tiny_args(snapshot))
    assert resumed.returncode == 0, resumed.stdout[-5000:]
    for name in TABLES:
        assert (snapshot / EXP / name).read_bytes() == (workdir / EXP / name).read_bytes(), name
    assert smk(snapshot, "-n", "--cores", "2", *tiny_args(snapshot)).stdout.count("Nothing to be done") == 1
