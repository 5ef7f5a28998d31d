"""read.runtime: a job's log, threads and errors (jobs), its clocks (clock), and the sums over a run (overhead)."""

import logging
import os
import subprocess
import sys
import textwrap
import time
import types

import pytest

from read.runtime import job
from read.runtime.clock import compute_clock
from read.runtime.jobs import limit_threads
from read.runtime.overhead import job_timings, summarise, to_markdown

BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"


def _job(exp, rel, wall, timing):
    bench = exp / "benchmarks" / f"{rel}.tsv"
    bench.parent.mkdir(parents=True, exist_ok=True)
    bench.write_text(f"{BENCH_HEADER}\n{wall}\t0:00:0{int(wall)}\t1\t1\t1\t1\t0\t0\t0\t{wall}\n")
    log = exp / "logs" / f"{rel}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"INFO:x:other line\nINFO:read.runtime.clock:{timing}\n" if timing else "INFO:x:no timing\n")


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
    with caplog.at_level(logging.INFO, logger="read.runtime.clock"):
        with pytest.raises(RuntimeError):
            with compute_clock(1.25):
                raise RuntimeError("boom")
    assert caplog.messages == [caplog.messages[0]] and caplog.messages[0].startswith("job timing: startup 1.25 s, compute ")


@pytest.mark.skipif(sys.platform != "linux", reason="process_age reads /proc (it returns 0 elsewhere)")
def test_process_age_is_the_time_since_the_process_started():
    # A child that sleeps 1 s before asking is at least 1 s old (a fallback 0 fails here),
    # and no older than the time since the parent started it. Both bounds are causal, so
    # machine load cannot break them; 0.05 s covers /proc's 10 ms ticks.
    code = "import time; time.sleep(1.0); from read.runtime.clock import process_age; print(process_age())"
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    since_start = time.monotonic() - t0
    assert 1.0 - 0.05 <= float(out.stdout) <= since_start + 0.05


def test_limit_threads_before_torch_sets_what_torch_starts_with():
    # a fresh interpreter: before torch is imported, the limit goes through OMP_NUM_THREADS
    code = "from read.runtime.jobs import limit_threads; limit_threads(1); import torch; print(torch.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "1"
    limit_threads(None)  # no-op


def test_a_model_job_runs_the_block_on_the_jobs_threads_and_logs_its_timing(caplog, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("READ_JOBSERVER", "0")  # run here, not in a forked child
    before = torch.get_num_threads()
    try:
        with caplog.at_level(logging.INFO, logger="read.runtime.clock"):
            with job(types.SimpleNamespace(threads=1, log=[]), model=True):
                inside = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert inside == 1
    assert len(caplog.messages) == 1 and caplog.messages[0].startswith("job timing: startup ")


CHEAP_JOB = textwrap.dedent("""
    import sys, types
    from read.errors import ReadError
    from read.runtime import job

    with job(types.SimpleNamespace(log=[sys.argv[1]], threads=1)):
        import logging
        logging.getLogger("step").info("step ran")
        if "torch" in sys.modules:
            raise RuntimeError("a cheap job imported torch")
        raise ReadError("tasks.yaml:3: weight must be >= 0, got -1; fix the card")
""")


def test_a_cheap_job_logs_to_its_log_file_and_ends_on_bad_input_with_one_line(tmp_path):
    log = tmp_path / "logs" / "job.log"
    log.parent.mkdir()
    out = subprocess.run([sys.executable, "-c", CHEAP_JOB, str(log)], capture_output=True, text=True)
    message = "tasks.yaml:3: weight must be >= 0, got -1; fix the card"
    assert out.returncode == 1 and out.stderr.strip() == message  # one line, no traceback
    assert log.read_text().splitlines() == ["INFO:step:step ran", f"ERROR:read.runtime.jobs:{message}"]
