"""What a model job does around its work: where it runs, its CPU threads, a compute clock.

A workflow job that touches a model runs its step inside one block::

    with model_job(snakemake):         # in a warm forked process when one is available
        ...                            # the step itself

``model_job`` hands the job to :mod:`read.jobserver` on a local run (the job process then
waits there and never returns), puts torch on the job's ``threads:``, imports torch and
transformers' model code, and times the block against the seconds since the job process
started. The log then holds one line ``job timing: startup 3.41 s, compute 0.87 s``, which
:mod:`read.aggregate.overhead` sums over a workflow run to measure how much of the model
jobs' wall time is start-up rather than work.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

TIMING_PREFIX = "job timing:"


def limit_threads(n: int | None) -> None:
    """Run torch on ``n`` CPU threads: a job's ``threads:``, so parallel jobs share the cores.

    torch otherwise starts one thread per core in *every* process; two 1-thread jobs on 2
    cores then run 4 threads and each tiny matmul waits on a woken thread (measured: a
    generate job 100x slower beside a training job). With the threads limited, OpenMP's
    default spin-then-sleep wait is the fastest (2-thread pretraining: 21k tok/s, against
    15k with OMP_WAIT_POLICY=PASSIVE). Before torch is imported this sets OMP_NUM_THREADS,
    which torch reads at start-up; afterwards it calls ``torch.set_num_threads``. ``None``
    or 0 leaves torch's default.
    """
    if not n:
        return
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(n))
    else:
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(int(n))


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input ends the job with its one-line message, in the log and on stderr, and no traceback.

    Outputs are written atomically, so nothing half-written is left behind either.
    """
    from read.errors import ReadError

    try:
        yield
    except ReadError as err:
        log.error("%s", err)
        sys.exit(str(err))


@contextmanager
def model_job(job) -> Iterator[None]:
    """Run a model job's step (``job``: Snakemake's object; only ``job.threads`` is read here).

    Start-up, logged with the step's compute time (:func:`compute_clock`), is the time since
    the job process started: interpreter, Snakemake's script preamble, and torch plus
    transformers' Llama code unless a warm server had them.
    """
    from read.jobserver import JOB_START_ENV, offload

    offload(job)  # on a local run this process waits for a warm forked child instead
    limit_threads(job.threads)
    import torch  # noqa: F401
    from transformers import AutoTokenizer, LlamaForCausalLM  # noqa: F401  (the lazy model code: ~3 s cold)

    started = os.environ.get(JOB_START_ENV)
    with user_errors(), compute_clock(time.time() - float(started) if started else process_age()):
        yield


def process_age() -> float:
    """Seconds since this process started (Linux /proc; falls back to 0 elsewhere)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


@contextmanager
def compute_clock(startup_s: float) -> Iterator[None]:
    """Log ``job timing: startup X s, compute Y s`` when the block ends (also on error)."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        log.info("%s startup %.2f s, compute %.2f s", TIMING_PREFIX, startup_s, time.perf_counter() - t0)
