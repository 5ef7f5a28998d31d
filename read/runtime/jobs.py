"""What a workflow job does around its step: where it runs, its log, its CPU threads, a compute clock.

Every workflow script runs its step inside one block::

    with job(snakemake, model=True):   # a model job: in a warm forked process when one is available
        ...                            # the step itself

``job(snakemake)`` sends logging to the job's ``log:`` file and ends the job on bad input
with its one-line message (:func:`user_errors`). ``warm=True`` first hands the job to
:mod:`read.runtime.jobserver` on a local run (the job process then waits there and never
returns): for jobs whose imports (pandas, seaborn) cost more than their work.
``model=True`` is warm too, puts torch on the job's ``threads:``, imports torch and
transformers' model code, and times the block against the seconds since the job process
started. The log then holds one line ``job timing: startup 3.41 s, compute 0.87 s``
(:mod:`read.runtime.clock`), which :mod:`read.runtime.overhead` sums over a workflow run to
measure how much of the model jobs' wall time is start-up rather than work.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from read.runtime.clock import compute_clock, process_age

log = logging.getLogger(__name__)


@contextmanager
def job(snakemake, *, model: bool = False, warm: bool = False) -> Iterator[None]:
    """Run a workflow job's step: logging to its log file, bad input ending it with one line.

    Args:
        snakemake: the script's ``snakemake`` object; only ``log`` and ``threads`` are read.
        model: the step loads a model: warm, on the job's threads, timed (see the module).
        warm: run in a warm forked process on a local run (implied by ``model``).

    A model job's start-up, logged with the step's compute time, is the time since the job
    process started: interpreter, Snakemake's script preamble, and torch plus transformers'
    Llama code unless a warm server had them.
    """
    if model or warm:
        # imported here: `python -m read.runtime.jobserver` imports this package first
        from read.runtime.jobserver import JOB_START_ENV, offload

        offload(snakemake)  # on a local run this process waits for a warm forked child instead
    if snakemake.log:
        logging.basicConfig(filename=snakemake.log[0], level=logging.INFO)
    if not model:
        with user_errors():
            yield
        return
    limit_threads(snakemake.threads)
    import torch  # noqa: F401
    from transformers import AutoTokenizer, LlamaForCausalLM  # noqa: F401  (the lazy model code: ~3 s cold)

    started = os.environ.get(JOB_START_ENV)
    with user_errors(), compute_clock(time.time() - float(started) if started else process_age()):
        yield


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
