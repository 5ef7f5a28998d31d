"""A finished Snakemake run, read back: its jobs (rule, wildcards, threads, files, start and end
from the ``.snakemake/log`` file), each job's ``benchmark:`` seconds, and its logged timing.

Used by probe_cost.py and orchestration.py. The log stamps times to the second, so a job's
logged duration is good to about ±1 s; a ``benchmark:`` file's ``s`` column is the job's
wall time as Snakemake measured it, to 10 ms.
"""

from __future__ import annotations

import csv
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
START = re.compile(r"^(?:local)?rule (\w+):$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")
FIELD = re.compile(r"^    (\w+): (.*)$")
ELAPSED = re.compile(r"^Elapsed time: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def _timing():
    from read.runtime.clock import TIMING_PREFIX  # the line read.runtime.clock writes at a job's end

    return re.compile(re.escape(TIMING_PREFIX) + r" startup ([\d.]+) s, compute ([\d.]+) s")


@dataclass
class Job:
    jobid: int
    rule: str
    start: float  # seconds since the run's first stamp
    end: float | None = None
    threads: int = 1
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    log: str | None = None
    benchmark: str | None = None
    wildcards: dict[str, str] = field(default_factory=dict)
    bench_s: float | None = None  # benchmark: file's s
    startup_s: float | None = None  # the job log's "job timing:" line (model jobs)
    compute_s: float | None = None

    @property
    def logged_s(self) -> float:
        return self.end - self.start


@dataclass
class Run:
    log: Path
    command: str
    configs: str
    elapsed_s: float
    jobs: dict[int, Job]


def _stamp(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")


def parse_log(path: Path) -> Run:
    """Every job of one Snakemake log; raises if the run did not finish."""
    lines = path.read_text().splitlines()
    command = next((ln.split(":", 1)[1].strip() for ln in lines if ln.strip().startswith("Command:")), "")
    configs = next((ln.split(":", 1)[1].strip() for ln in lines if ln.strip().startswith("Config file(s):")), "")
    jobs: dict[int, Job] = {}
    t0 = now = None
    current: Job | None = None
    elapsed = None
    for i, line in enumerate(lines):
        if m := STAMP.match(line):
            now = _stamp(m.group(1))
            t0 = t0 or now
            current = None
            continue
        if (m := START.match(line)) and now is not None and i and STAMP.match(lines[i - 1]):
            current = Job(jobid=-1, rule=m.group(1), start=(now - t0).total_seconds())
            continue
        if current is not None and (m := FIELD.match(line)):
            key, value = m.groups()
            if key == "jobid":
                current.jobid = int(value)
                jobs[current.jobid] = current
            elif key in ("input", "output"):
                getattr(current, key + "s").extend(v.strip() for v in value.split(", "))
            elif key == "threads":
                current.threads = int(value)
            elif key in ("log", "benchmark"):
                setattr(current, key, value.split(", ")[0].strip())
            elif key == "wildcards":
                current.wildcards = dict(kv.split("=", 1) for kv in value.split(", "))
            continue
        if m := FINISHED.match(line):
            jobs[int(m.group(1))].end = (now - t0).total_seconds()
            current = None
            continue
        if m := ELAPSED.match(line):
            h, mnt, s = m.groups()
            elapsed = int(h) * 3600 + int(mnt) * 60 + float(s)
    open_jobs = [j.jobid for j in jobs.values() if j.end is None]
    if elapsed is None or open_jobs:
        raise ValueError(f"{path}: the run did not finish ({len(open_jobs)} jobs without an end); pick a finished log")
    return Run(path, command, configs, elapsed, jobs)


def attach_timings(run: Run, root: Path = Path(".")) -> None:
    """Fill each job's benchmark seconds and its log's "job timing:" start-up and compute."""
    timing = _timing()
    for job in run.jobs.values():
        if job.benchmark and (root / job.benchmark).is_file():
            with open(root / job.benchmark) as fh:
                job.bench_s = float(next(csv.DictReader(fh, delimiter="\t"))["s"])
        if job.log and (root / job.log).is_file():
            if m := timing.search((root / job.log).read_text()):
                job.startup_s, job.compute_s = float(m.group(1)), float(m.group(2))


def find_log(pattern: str = "--cores 2", config: str = "['config/config.yaml']", where: Path = Path(".snakemake/log")) -> Path:
    """The newest finished log of a ``snakemake --cores 2`` run of the default config."""
    for path in sorted(where.glob("*.snakemake.log"), reverse=True):
        text = path.read_text()
        if pattern in text and f"Config file(s): {config}" in text and "Elapsed time:" in text:
            return path
    raise FileNotFoundError(f"no finished '{pattern}' log with config {config} under {where}; run the workflow first")


def dependencies(run: Run) -> dict[int, set[int]]:
    """jobid -> the jobids whose outputs it reads (an input equal to an output, or inside an output directory)."""
    producer = {out: j.jobid for j in run.jobs.values() for out in j.outputs}
    deps: dict[int, set[int]] = {}
    for job in run.jobs.values():
        found = set()
        for path in job.inputs:
            if path in producer:
                found.add(producer[path])
                continue
            parent = Path(path).parent
            while str(parent) not in (".", "/"):
                if str(parent) in producer:
                    found.add(producer[str(parent)])
                    break
                parent = parent.parent
        deps[job.jobid] = found - {job.jobid}
    return deps
