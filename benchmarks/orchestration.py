"""Orchestration overhead: the main job's wall time against the ideal two-core schedule of its jobs.

    .venv/bin/python benchmarks/orchestration.py [--log .snakemake/log/<stamp>.snakemake.log] [--cores 2]

Reads a finished ``snakemake --cores 2`` run of config/config.yaml (default: the newest
such ``.snakemake/log`` file) and its ``benchmark:`` files, and compares the run's wall time
(the log's "Elapsed time") with what a perfect scheduler could do with the same jobs:

- a job's compute c_j is its ``benchmark:`` seconds (s: the job process's wall time, its
  warm-server start-up included); jobs without a benchmark file (localrules: ledgers,
  allocation, bandit updates, aggregate tables) count 0 in the "compute" bound, and their
  logged duration (1-s stamps) in the "all jobs" bound;
- dependencies: a job depends on the jobs whose outputs (or output directories) it reads,
  from the log's input/output lines; a job holds ``threads:`` cores (the pretrainings 2);
- lower bound = max(critical path, sum_j c_j * threads_j / cores) (list-scheduling bound);
- list schedule = a greedy simulation: whenever cores are free, start the ready job with
  the longest path to the end (threads-aware), which any real schedule can at best match.

Goal: wall <= 1.3x the ideal schedule. The warm job server (what a job's start-up costs
with and without it) is measured by benchmarks/jobserver_overhead.py, not here.
Prints the figures and writes ``benchmarks/out/orchestration.json``.
"""

from __future__ import annotations

import argparse
import heapq
from collections import Counter, defaultdict
from pathlib import Path

from common import verdict, write_result
from runlog import attach_timings, dependencies, find_log, parse_log

GOAL = 1.3  # wall / ideal


def longest_paths(cost: dict[int, float], deps: dict[int, set[int]]) -> tuple[dict[int, float], dict[int, float]]:
    """(earliest finish along the heaviest chain ending at j, heaviest chain starting at j), both including c_j."""
    users = defaultdict(set)
    for j, ds in deps.items():
        for d in ds:
            users[d].add(j)
    order, seen = [], set()

    def visit(j):  # iterative DFS topological order
        stack = [(j, iter(deps[j]))]
        while stack:
            node, it = stack[-1]
            nxt = next((d for d in it if d not in seen), None)
            if nxt is None:
                stack.pop()
                if node not in seen:
                    seen.add(node)
                    order.append(node)
            else:
                stack.append((nxt, iter(deps[nxt])))

    for j in deps:
        if j not in seen:
            visit(j)
    head = {}
    for j in order:
        head[j] = cost[j] + max((head[d] for d in deps[j]), default=0.0)
    tail = {}
    for j in reversed(order):
        tail[j] = cost[j] + max((tail[u] for u in users[j]), default=0.0)
    return head, tail


def list_schedule(cost: dict[int, float], threads: dict[int, int], deps: dict[int, set[int]], cores: int,
                  priority: dict[int, float]) -> float:
    """Makespan of greedy list scheduling: at each completion, start ready jobs by priority while cores allow."""
    waiting = {j: set(ds) for j, ds in deps.items()}
    ready = [(-priority[j], j) for j, ds in waiting.items() if not ds]
    heapq.heapify(ready)
    running: list[tuple[float, int]] = []
    free, now, done = cores, 0.0, 0
    users = defaultdict(set)
    for j, ds in deps.items():
        for d in ds:
            users[d].add(j)
    while done < len(deps):
        skipped = []
        while ready:
            p, j = heapq.heappop(ready)
            need = min(threads[j], cores)  # Snakemake scales a job down to --cores
            if need <= free:
                free -= need
                heapq.heappush(running, (now + cost[j], j))
            else:
                skipped.append((p, j))
        for item in skipped:
            heapq.heappush(ready, item)
        now, j = heapq.heappop(running)
        free += min(threads[j], cores)
        done += 1
        for u in users[j]:
            waiting[u].discard(j)
            if not waiting[u]:
                heapq.heappush(ready, (-priority[u], u))
    return now


def bounds(cost, threads, deps, cores) -> dict:
    head, tail = longest_paths(cost, deps)
    critical = max(head.values())
    work = sum(cost[j] * min(threads[j], cores) for j in cost)
    lower = max(critical, work / cores)
    return {"critical_path_s": critical, "core_seconds": work, "work_over_cores_s": work / cores,
            "lower_bound_s": lower, "list_schedule_s": list_schedule(cost, threads, deps, cores, tail)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", type=Path, default=None, help="a finished .snakemake/log file (default: the newest main run)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--results", type=Path, default=Path("results/embedded"), help="the run's experiment directory")
    args = ap.parse_args()

    path = args.log or find_log(f"--cores {args.cores}")
    run = parse_log(path)
    attach_timings(run)
    deps = dependencies(run)
    jobs = run.jobs
    threads = {j: job.threads for j, job in jobs.items()}
    benched = {j for j, job in jobs.items() if job.bench_s is not None}
    missing = [job.benchmark for job in jobs.values() if job.benchmark and job.bench_s is None]
    if missing:
        raise FileNotFoundError(f"{len(missing)} benchmark files of {path} are gone (e.g. {missing[0]}); rerun the workflow")
    compute = {j: (jobs[j].bench_s if j in benched else 0.0) for j in jobs}
    everything = {j: (jobs[j].bench_s if j in benched else jobs[j].logged_s) for j in jobs}
    rows = {"compute": bounds(compute, threads, deps, args.cores), "all_jobs": bounds(everything, threads, deps, args.cores)}
    wall = run.elapsed_s
    for row in rows.values():
        row["wall_over_lower_bound"] = wall / row["lower_bound_s"]
        row["wall_over_list_schedule"] = wall / row["list_schedule_s"]
    by_rule = Counter()
    for j in benched:
        by_rule[jobs[j].rule] += jobs[j].bench_s * min(threads[j], args.cores)
    unbenched = Counter(jobs[j].rule for j in jobs if j not in benched)
    logged_unbenched = sum(jobs[j].logged_s for j in jobs if j not in benched)
    # the gap, job by job: Snakemake's own time between one job's end and the next one's start on a core
    busy = sum(jobs[j].logged_s * min(threads[j], args.cores) for j in jobs)

    print(f"run: {path} ({run.command}; config {run.configs}); {len(jobs)} jobs, {len(benched)} with a benchmark file")
    print(f"wall time (log 'Elapsed time'): {wall:.1f} s")
    print("core-seconds by rule (benchmark files): " + ", ".join(f"{r} {s:.0f}" for r, s in by_rule.most_common()))
    print(f"jobs without a benchmark file: {sum(unbenched.values())} ({', '.join(f'{r} {n}' for r, n in unbenched.most_common())}),"
          f" {logged_unbenched:.0f} s logged in all")
    print(f"cores busy (logged job durations x threads): {busy:.0f} core-s of {wall * args.cores:.0f} available "
          f"({busy / (wall * args.cores):.0%})")
    print(f"\n{'jobs counted':16s} {'critical path':>14s} {'work / cores':>13s} {'lower bound':>12s} {'list sched.':>12s}"
          f" {'wall / LB':>10s} {'wall / list':>12s}")
    for name, row in rows.items():
        print(f"{name:16s} {row['critical_path_s']:13.1f}s {row['work_over_cores_s']:12.1f}s {row['lower_bound_s']:11.1f}s"
              f" {row['list_schedule_s']:11.1f}s {row['wall_over_lower_bound']:9.2f}x {row['wall_over_list_schedule']:11.2f}x")
    ratio = rows["compute"]["wall_over_list_schedule"]
    print(f"\nwall / ideal two-core schedule of the benchmarked compute: {ratio:.2f}x (goal <= {GOAL}x: "
          f"{verdict(ratio, GOAL, higher_is_better=False)}); against the lower bound "
          f"{rows['compute']['wall_over_lower_bound']:.2f}x")
    from read.runtime.overhead import job_timings, summarise

    inside = summarise(job_timings(args.results))["total"]
    print(f"inside the model jobs (read.runtime.overhead): {inside['wall_s']:.0f} s wall, {inside['startup_s']:.0f} s "
          f"start-up, {inside['compute_s']:.0f} s compute ({inside['overhead_ratio']:.1%} not compute)")
    print("warm job server vs fresh processes: see benchmarks/jobserver_overhead.py (not redone here)")
    write_result("orchestration", {
        "log": str(path), "command": run.command, "configs": run.configs, "cores": args.cores, "wall_s": wall,
        "jobs": len(jobs), "benchmarked_jobs": len(benched), "core_seconds_by_rule": dict(by_rule),
        "unbenchmarked_jobs": dict(unbenched), "unbenchmarked_logged_s": logged_unbenched, "busy_core_s": busy,
        "bounds": rows, "inside_model_jobs": inside, "goal": GOAL, "verdict": verdict(ratio, GOAL, higher_is_better=False),
        "method": "compute c_j = benchmark s (0 for jobs without one, or their logged duration in all_jobs); "
                  "lower bound = max(critical path, sum c_j*threads_j / cores); list schedule = greedy, "
                  "longest-remaining-path first, threads-aware"})


if __name__ == "__main__":
    main()
