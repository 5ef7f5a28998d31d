"""The general path end to end: local checkpoints, a served teacher, JSONL data, no `world:`.

The example config (config/examples/local_hf.yaml) runs on the tiny chat checkpoints that
read.embedded.example builds, against a real `python -m read.teachers.serve` on localhost:
every per-interval target, the final evaluations and the tables are made, and a second
dry run has nothing to do. The teacher server is killed in the middle of a generate job
(the job retries, then fails with one line) and restarted (`--rerun-incomplete` completes,
and no half-written batch is left). Every bad input stops the run before any job with one
line naming the key or file:line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_workflow import REPO, smk

pytestmark = pytest.mark.slow

EXP = "results/local_hf"
TASK = "arithmetic_words"
CONFIG = REPO / "config" / "examples" / "local_hf.yaml"
TINY = {
    "models": {"teacher": {"max_retries": 2, "backoff_s": 0.1, "timeout_s": 30},
               "student": {"batch_size": 8, "warmup_steps": 1}},
    "budgets": [2000],
    "generation": {"max_new_tokens": 12, "keep_unfinished": True},
    "probes": {"n_per_capability": 2, "batch_size": 16},
    "profiling": {"n_interventions": 2, "tokens": 300},
    "evaluation": {"n_test": 8, "n_per_capability": 4, "n_dev": 8, "batch_size": 16},
    "bandit": {"J": 2, "epochs": 2, "max_steps": 10},
    "tables": ["budget_vs_score", "capability_profile"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TeacherServer:
    """`python -m read.teachers.serve` on localhost, started and ended by its process id."""

    def __init__(self, model: Path, port: int, log: Path):
        self.model, self.port, self.log = model, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> TeacherServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "read.teachers.serve", "--model", str(self.model), "--port", str(self.port),
             "--batch-size", "1", "--threads", "1"],
            stdout=subprocess.PIPE, stderr=self.log.open("a"), text=True)
        line = self.proc.stdout.readline()  # "serving <name> on http://...": ready
        assert line.startswith("serving"), line
        return self

    def requests(self) -> int:
        return self.log.read_text().count("POST /v1/completions")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def workdir_for(root: Path, example: Path, port: int, *extra: dict) -> tuple[Path, list[str]]:
    """A working directory with config/ and example/ (a copy of the built inputs), and the
    --configfile arguments: the example config, then the test-size override."""
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "config").exists():
        shutil.copytree(REPO / "config", root / "config")
    if not (root / "example").exists():
        shutil.copytree(example, root / "example")
    override = {**TINY, "models": {**TINY["models"],
                                   "teacher": {**TINY["models"]["teacher"], "base_url": f"http://127.0.0.1:{port}/v1"}}}
    base = [part.pop("__base__") for part in extra if "__base__" in part]
    files = [str(root / base[0]) if base else str(CONFIG)]
    for i, part in enumerate((override, *extra)):
        (root / f"override{i}.yaml").write_text(yaml.safe_dump(part))
        files.append(str(root / f"override{i}.yaml"))
    return root, ["--configfile", *files]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory, tiny_example):
    root = tmp_path_factory.mktemp("general")
    port = free_port()
    server = TeacherServer(root / "wd" / "example" / "teacher", port, root / "serve.log")
    workdir, args = workdir_for(root / "wd", tiny_example, port)
    server.start()
    try:
        t0 = time.monotonic()
        run = smk(workdir, "--cores", "2", *args)
        wall = time.monotonic() - t0
        again = smk(workdir, "-n", "--cores", "2", *args)
    finally:
        server.kill()
    return workdir, run, again, wall


def test_example_config_runs_the_whole_chain_on_external_checkpoints(example_run):
    workdir, run, _, wall = example_run
    assert run.returncode == 0, run.stdout[-5000:]
    cfg = yaml.safe_load(CONFIG.read_text())
    assert "world" not in cfg
    for method in cfg["methods"]:
        d = workdir / EXP / "runs" / TASK / method / "B2000" / "seed0"
        for k in range(1, cfg["budget"]["n_intervals"] + 1):
            for name in ("allocation.json", "batch.jsonl", "manifest.json", "ledger.json", "profile.json"):
                assert (d / f"i{k}" / name).is_file(), (method, k, name)
            # a LoRA student keeps an adapter per interval, not a full model
            assert (d / f"i{k}/student/adapter_config.json").is_file()
            assert (d / f"i{k}/bandit.json").is_file() == (method == "read")
            manifest = json.loads((d / f"i{k}/manifest.json").read_text())
            assert set(manifest["dropped_leakage"]) == {"eval_prompt", "eval_ngram", "probe_prompt"}
        ev = json.loads((d / "final/eval.json").read_text())
        assert ev["task"] == TASK and ev["n_test"] == 8
        assert ev["tokens"]["generated"] + ev["tokens"]["trained"] <= 2000
        # math and multilingual have gold eval files; the rest are scored on their probes
        assert ev["profile"]["source"]["math"] == "eval" and ev["profile"]["source"]["code"] == "probe"
    table = (workdir / EXP / "tables/budget_vs_score.md").read_text()
    assert f"Task {TASK}" in table and "ReAD" in table and "One-hot Multi" in table
    assert (workdir / EXP / "plots/budget_vs_score.png").stat().st_size > 0
    assert not (workdir / EXP / "setup/teacher").exists()  # nothing pretrained without `world:`
    print(f"example chain on tiny checkpoints: {wall:.0f} s")


def test_second_dry_run_of_the_example_has_nothing_to_do(example_run):
    _, _, again, _ = example_run
    assert again.returncode == 0 and "Nothing to be done" in again.stdout, again.stdout[-3000:]


def test_a_dry_run_without_world_plans_no_pretraining(tmp_path, tiny_example):
    workdir, args = workdir_for(tmp_path, tiny_example, 9)
    r = smk(workdir, "-n", "--cores", "2", *args)
    assert r.returncode == 0, r.stdout[-3000:]
    for rule in ("pretrain_teacher", "pretrain_student", "tokenizer", "accuracy_report"):
        assert f"rule {rule}:" not in r.stdout and f"localrule {rule}:" not in r.stdout, rule
    for rule in ("probe_suite", "eval_index", "profile_interventions", "generate", "train", "evaluate"):
        assert f"{rule} " in r.stdout, rule


def _generate_started(workdir: Path) -> bool:
    return any((workdir / EXP / "logs/runs").glob(f"{TASK}/*/*/*/i*/generate.log"))


def test_teacher_killed_mid_batch_fails_in_one_line_and_a_restart_resumes(tmp_path, tiny_example):
    port = free_port()
    server = TeacherServer(tmp_path / "wd" / "example" / "teacher", port, tmp_path / "serve.log")
    one_run = {"methods": ["uniform"], "tables": ["budget_vs_score"]}
    workdir, args = workdir_for(tmp_path / "wd", tiny_example, port, one_run)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    server.start()
    try:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
                                 "--directory", str(workdir), "--cores", "1", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.monotonic() + 300
        while not _generate_started(workdir):  # polling for the kill point, not timing a result
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "no generate job started within 300 s"
            time.sleep(0.05)
        served = server.requests()
        while server.requests() == served and proc.poll() is None:  # the job's first request
            time.sleep(0.01)
        server.kill()
        out, _ = proc.communicate(timeout=300)
    finally:
        server.kill()
    assert proc.returncode != 0
    assert "no answer after 3 attempts" in out and "Traceback" not in out, out[-4000:]
    assert not list((workdir / EXP / "runs").glob("*/*/*/*/i*/batch.jsonl"))  # nothing half-written
    assert not list((workdir / EXP / "runs").rglob(".*.tmp-*"))
    server.start()
    try:
        resumed = smk(workdir, "--cores", "2", "--rerun-incomplete", *args)
    finally:
        server.kill()
    assert resumed.returncode == 0, resumed.stdout[-4000:]
    assert (workdir / EXP / f"runs/{TASK}/uniform/B2000/seed0/final/eval.json").is_file()
    assert (workdir / EXP / "tables/budget_vs_score.csv").is_file()


# ---- bad input: one line, no traceback, nothing written ------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _no_student_config(wd: Path) -> dict:
    (wd / "example/student/config.json").unlink()
    return {}


def _no_tokenizer(wd: Path) -> dict:
    shutil.copytree(wd / "example/student", wd / "bare")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (wd / "bare" / name).unlink(missing_ok=True)
    return {"models": {"student": {"path": "bare"}}}


def _truncated_task_line(wd: Path) -> dict:
    path = wd / "example/data/task_test.jsonl"
    path.write_text(path.read_text() + '{"prompt": "What is 2 plus\n')
    return {}


def _dev_test_overlap(wd: Path) -> dict:
    test = (wd / "example/data/task_test.jsonl").read_text().splitlines()[0]
    with (wd / "example/data/task_dev.jsonl").open("a") as fh:
        fh.write(test + "\n")
    return {}


def _empty_split(wd: Path) -> dict:
    (wd / "example/data/task_dev.jsonl").write_text("\n")
    return {}


def _bad_pool_line(wd: Path) -> dict:
    with (wd / "example/data/prompts/code.jsonl").open("a") as fh:
        fh.write('{"prompt": 7}\n')
    return {}


def _no_code_data(wd: Path) -> dict:
    cfg = yaml.safe_load(CONFIG.read_text())
    del cfg["capabilities"]["code"]
    _write(wd / "base.yaml", yaml.safe_dump(cfg))
    return {"__base__": "base.yaml"}


BAD_INPUTS = {
    "missing student checkpoint": (lambda wd: {"models": {"student": {"path": "nowhere"}}},
                                   "config models.student.path: 'nowhere' is not a directory"),
    "checkpoint without config": (_no_student_config, "has no config.json"),
    "checkpoint without tokenizer": (_no_tokenizer, "config models.student.tokenizer: 'bare' has no tokenizer"),
    "served teacher without a name": (lambda wd: {"models": {"teacher": {"served_model": None}}},
                                      "teacher.served_model: empty"),
    "missing task file": (lambda wd: (wd / "example/data/task_test.jsonl").unlink() or {},
                          "splits.test: file 'example/data/task_test.jsonl' not found"),
    "empty split": (_empty_split, "task_dev.jsonl holds no items"),
    "truncated task line": (_truncated_task_line, "task_test.jsonl:17: invalid JSON"),
    "dev/test overlap": (_dev_test_overlap, "is in both example/data/task_dev.jsonl and example/data/task_test.jsonl"),
    "bad pool line": (_bad_pool_line, "prompts/code.jsonl:61: 'prompt' must be a non-empty string"),
    "a capability without data": (_no_code_data, "config capabilities: no data for ['code']"),
    "unknown scorer": (lambda wd: _write(wd / "cards.yaml", yaml.safe_dump({"tasks": {TASK: {
        **yaml.safe_load((REPO / "config/examples/task_cards.yaml").read_text())["tasks"][TASK],
        "eval": "bleu"}}})) or {"task_cards": "cards.yaml"}, "unknown scorer 'bleu'"),
    "typo in a model key": (lambda wd: {"models": {"student": {"lora_rank": 4}}}, "lora_rank"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_stops_the_run_with_one_clear_line(case, tmp_path, tiny_example):
    make, message = BAD_INPUTS[case]
    workdir, _ = workdir_for(tmp_path, tiny_example, 9)
    extra = make(workdir)
    workdir, args = workdir_for(tmp_path, tiny_example, 9, extra)
    r = smk(workdir, "-n", "--cores", "2", *args)
    assert r.returncode != 0
    assert message in r.stdout and "Traceback" not in r.stdout, r.stdout[-3000:]
    assert not (workdir / "results").exists()
