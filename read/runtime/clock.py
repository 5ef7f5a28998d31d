"""A job's two clocks: its process age (start-up) and the time its step takes (compute).

A model job logs one line when its step ends, ``job timing: startup 3.41 s, compute 0.87 s``
(:func:`compute_clock`); :mod:`read.runtime.overhead` sums those lines over a workflow run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

TIMING_PREFIX = "job timing:"


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
