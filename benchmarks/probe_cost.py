"""Probe cost: probe and dev-utility time as a share of interval time, in the main job.

    .venv/bin/python benchmarks/probe_cost.py [--log .snakemake/log/<stamp>.snakemake.log]

An interval k of a run is its jobs allocate, generate, train, probe and (adaptive bandit
methods) update_bandit. The probe job scores the student on the probe suite and, at dev
checkpoints, the task's dev utility, so its time is the probe cost. Reads a finished main
run (default: the newest ``snakemake --cores 2`` log of config/config.yaml):

- generate, train, probe: their ``benchmark:`` seconds (the job's wall time, warm-server
  start-up included), and the "job timing:" compute from each job log (start-up left out);
- allocate, update_bandit (localrules, no benchmark file): their logged duration (the
  log's 1-s stamps, so each is good to about ±1 s), and 0 in the compute-only figure.

Prints, over all intervals of all runs, probe share = probe / interval and probe overhead
= probe / (interval - probe) (the paper reports +3.12%), per method and budget and in all,
and writes ``benchmarks/out/probe_cost.json``. Goal: <= 10%. ``--profile`` adds where a
probe job's compute goes: cProfile of ``read.steps.setup.probe`` on one interval's student.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from collections import defaultdict
from pathlib import Path

from common import median, verdict, write_result
from runlog import attach_timings, find_log, parse_log

INTERVAL_RULES = ("allocate", "generate", "train", "train_final", "probe", "update_bandit")
GOAL = 0.10
PAPER = 0.0312


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", type=Path, default=None, help="a finished .snakemake/log file (default: the newest main run)")
    ap.add_argument("--profile", action="store_true", help="cProfile one probe call on an interval's student")
    ap.add_argument("--checkpoint", type=Path,
                    default=Path("results/embedded/runs/multilingual_arithmetic/read/B60000/seed0/i1/student"))
    ap.add_argument("--setup", type=Path, default=Path("results/embedded/setup"))
    args = ap.parse_args()

    path = args.log or find_log()
    run = parse_log(path)
    attach_timings(run)
    intervals: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for job in run.jobs.values():
        if job.rule not in INTERVAL_RULES:
            continue
        w = job.wildcards
        key = (w["task"], w["method"], int(w["budget"]), int(w["seed"]), int(w["k"]))
        rule = "train" if job.rule == "train_final" else job.rule
        wall = job.bench_s if job.bench_s is not None else job.logged_s
        intervals[key][rule] = {"wall_s": wall, "compute_s": job.compute_s or 0.0}
    incomplete = [k for k, v in intervals.items() if not {"generate", "train", "probe"} <= set(v)]
    if incomplete:
        raise ValueError(f"{path}: interval {incomplete[0]} lacks a generate, train or probe job")

    def totals(keys, field):
        probe = sum(intervals[k]["probe"][field] for k in keys)
        whole = sum(r[field] for k in keys for r in intervals[k].values())
        return {"probe_s": probe, "interval_s": whole, "share": probe / whole, "overhead": probe / (whole - probe)}

    groups = defaultdict(list)
    for key in intervals:
        groups[(key[1], key[2])].append(key)
    per_rule = {rule: sum(v[rule]["wall_s"] for v in intervals.values() if rule in v)
                for rule in ("allocate", "generate", "train", "probe", "update_bandit")}
    everything = {"wall": totals(list(intervals), "wall_s"), "compute": totals(list(intervals), "compute_s")}
    shares = [intervals[k]["probe"]["wall_s"] / sum(r["wall_s"] for r in intervals[k].values()) for k in intervals]

    print(f"run: {path}; {len(intervals)} intervals in {len({k[:4] for k in intervals})} runs")
    print("seconds by job, all intervals: " + ", ".join(f"{r} {s:.1f}" for r, s in per_rule.items()))
    print(f"\n{'method':22s} {'budget':>7s} {'intervals':>9s} {'probe s':>8s} {'interval s':>11s} {'share':>7s} {'overhead':>9s}")
    table = []
    for (method, budget), keys in sorted(groups.items()):
        t = totals(keys, "wall_s")
        table.append({"method": method, "budget": budget, "intervals": len(keys), **t})
        print(f"{method:22s} {budget:7d} {len(keys):9d} {t['probe_s']:8.1f} {t['interval_s']:11.1f} {t['share']:7.1%}"
              f" {t['overhead']:+9.1%}")
    for name, t in everything.items():
        print(f"{'all (' + name + ')':22s} {'':7s} {len(intervals):9d} {t['probe_s']:8.1f} {t['interval_s']:11.1f}"
              f" {t['share']:7.1%} {t['overhead']:+9.1%}")
    share = everything["wall"]["share"]
    print(f"\nprobe + dev utility: {share:.1%} of interval time (median interval {median(shares):.1%}), "
          f"{everything['wall']['overhead']:+.1%} on top of the rest (paper: +{PAPER:.2%}); goal <= {GOAL:.0%}: "
          f"{verdict(share, GOAL, higher_is_better=False)}")
    profile = probe_profile(args) if args.profile else None
    write_result("probe_cost", {"profile": profile, "log": str(path), "intervals": len(intervals), "seconds_by_job": per_rule,
                                "all": everything, "median_interval_share": median(shares), "by_method_budget": table,
                                "goal": GOAL, "paper_overhead": PAPER,
                                "verdict": verdict(share, GOAL, higher_is_better=False)})


def probe_profile(args) -> list[str]:
    """Top cumulative-time entries of one probe (no dev check), 1 thread as a probe job runs."""
    from read.runtime.jobs import limit_threads

    limit_threads(1)
    from read.steps.setup import probe

    def call():
        return probe(args.setup / "student0", args.checkpoint, args.setup / "probes.json", args.setup / "tokenizer",
                     batch_size=64)

    call()  # warm: imports and the file cache, as the warm job server has them
    prof = cProfile.Profile()
    prof.runcall(call)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"read/|generation/utils|modeling_llama", 16)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    total = next((ln for ln in lines if "function calls" in ln), "")
    top = lines[-16:]
    print(f"\ncProfile of one probe on {args.checkpoint} ({total.strip()}), cumulative:\n  " + "\n  ".join(top))
    return [total.strip(), *top]


if __name__ == "__main__":
    main()
