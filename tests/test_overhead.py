"""read.jobs (threads, start-up, compute clock) and read.aggregate.overhead (the sums over a run)."""

import logging
import os
import subprocess
import sys
import types

import pytest

from read.aggregate.overhead import job_timings, summarise, to_markdown
from read.jobs import compute_clock, limit_threads, model_job, process_age

BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"


def _job(exp, rel, wall, timing):
    bench = exp / "benchmarks" / f"{rel}.tsv"
    bench.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text(f"{BENCH_HEADER}\n{wall}\t0:00:0{int(wall)}\t1\t1\t1\t1\t0\t0\t0\t{wall}\n")
    log = exp / "logs" / f"{rel}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"INFO:x:other line\nINFO:read.jobs:{timing}\n" if timing else "INFO:x:no timing\n")


def test_overhead_pairs_benchmarks_with_logs_and_sums_per_rule(tmp_path):
    _job(tmp_path, "runs/t/read/B1/seed0/i1/generate", 5.0, "job timing: startup 3.00 s, compute 1.50 s")
    _job(tmp_path, "runs/t/read/B1/seed0/i2/generate", 4.0, "job timing: startup 3.00 s, compute 0.50 s")
    _job(tmp_path, "setup/pretrain_teacher", 100.0, "job timing: startup 4.00 s, compute 95.00 s")
    _job(tmp_path, "setup/tokenizer", 2.0, None)  # no timing line: listed, left out of the sums
    rows = job_timings(tmp_path)
    assert [r["rule"] for r in rows] == ["generate", "generate", "pretrain_teacher", "tokenizer"]
    s = summarise(rows)
    assert s["rules"]["generate"] == {"jobs": 2, "wall_s": 9.0, "startup_s": 6.0, "compute_s": 2.0,
                                      "overhead_ratio": pytest.approx(7 / 9)}
    assert s["total"]["jobs"] == 3 and s["total"]["overhead_ratio"] == pytest.approx((109 - 97) / 109)
    assert "| generate | 2 | 9.0 | 6.0 | 2.0 | 0.78 |" in to_markdown(s)


def test_compute_clock_logs_one_timing_line_even_on_error(caplog):
    with caplog.at_level(logging.INFO, logger="read.jobs"):
        with pytest.raises(RuntimeError):
            with compute_clock(1.25):
                raise RuntimeError("boom")
    assert caplog.messages == [caplog.messages[0]] and caplog.messages[0].startswith("job timing: startup 1.25 s, compute ")
    assert 0 <= process_age() < 10_000


def test_limit_threads_before_torch_sets_what_torch_starts_with():
    # a fresh interpreter: before torch is imported, the limit goes through OMP_NUM_THREADS
    code = "from read.jobs import limit_threads; limit_threads(1); import torch; print(torch.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "1"
    limit_threads(None)  # no-op


def test_model_job_runs_the_block_on_the_jobs_threads_and_logs_its_timing(caplog, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("READ_JOBSERVER", "0")  # run here, not in a forked child
    before = torch.get_num_threads()
    try:
        with caplog.at_level(logging.INFO, logger="read.jobs"):
            with model_job(types.SimpleNamespace(threads=1)):
                inside = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert inside == 1
    assert len(caplog.messages) == 1 and caplog.messages[0].startswith("job timing: startup ")
