"""The job runtime: how a workflow job runs, apart from what it computes.

Process management lives here, away from the science: a warm job server (:mod:`.jobserver`),
a job's log, threads and error handling (:mod:`.jobs`), its timing (:mod:`.clock`) and the
sums of those timings over a run (:mod:`.overhead`). Imports go one way, overhead -> clock
and jobs -> jobserver -> clock; nothing else under ``read/`` imports this package, only the
workflow's scripts do, through one entry point::

    from read.runtime import job

    with job(snakemake, model=True):   # or job(snakemake), or job(snakemake, warm=True)
        ...
"""

from read.runtime.jobs import job

__all__ = ["job"]
