"""Orchestration overhead of a workflow run: job wall time against in-job compute.

    python -m read.runtime.overhead results/embedded

Snakemake's ``benchmark:`` file gives each heavy job's wall time (column ``s``); the job's
log gives its ``job timing: startup X s, compute Y s`` line (:mod:`read.runtime.clock`).
Both sit at the same relative path under ``benchmarks/`` and ``logs/``. The overhead ratio is
(Σ wall − Σ compute) / Σ wall: the share of the model jobs' time that is not the step
itself (interpreter, imports, model loading counted as start-up, Snakemake's own work).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from read.runtime.clock import TIMING_PREFIX

_TIMING = re.compile(re.escape(TIMING_PREFIX) + r" startup ([\d.]+) s, compute ([\d.]+) s")


def job_timings(exp_dir: str | Path) -> list[dict]:
    """One row per benchmarked job: {"rule", "path", "wall_s", "startup_s", "compute_s"}.

    "rule" is the benchmark file's stem: the rule name (per model for the setup rules,
    e.g. ``pretrain_teacher``).

    ``startup_s`` / ``compute_s`` are None for jobs whose log has no timing line (a job that
    loads no model, or one killed before its end)."""
    exp_dir = Path(exp_dir)
    rows = []
    for tsv in sorted((exp_dir / "benchmarks").rglob("*.tsv")):
        rel = tsv.relative_to(exp_dir / "benchmarks")
        lines = tsv.read_text().splitlines()
        if len(lines) < 2:
            continue
        header, values = lines[0].split("\t"), lines[-1].split("\t")
        wall = float(values[header.index("s")])
        log = exp_dir / "logs" / rel.with_suffix(".log")
        match = _TIMING.search(log.read_text()) if log.is_file() else None
        rows.append({"rule": rel.stem, "path": str(rel.with_suffix("")), "wall_s": wall,
                     "startup_s": float(match.group(1)) if match else None,
                     "compute_s": float(match.group(2)) if match else None})
    return rows


def summarise(rows: list[dict]) -> dict:
    """Per rule and in total: jobs, Σ wall, Σ startup, Σ compute, overhead ratio."""
    by_rule: dict[str, dict] = {}
    for row in rows:
        if row["compute_s"] is None:
            continue
        agg = by_rule.setdefault(row["rule"], {"jobs": 0, "wall_s": 0.0, "startup_s": 0.0, "compute_s": 0.0})
        agg["jobs"] += 1
        for key in ("wall_s", "startup_s", "compute_s"):
            agg[key] += row[key]
    total = {key: sum(a[key] for a in by_rule.values()) for key in ("jobs", "wall_s", "startup_s", "compute_s")}
    for agg in [*by_rule.values(), total]:
        agg["overhead_ratio"] = (agg["wall_s"] - agg["compute_s"]) / agg["wall_s"] if agg["wall_s"] else None
    return {"rules": dict(sorted(by_rule.items())), "total": total}


def to_markdown(summary: dict) -> str:
    lines = ["| rule | jobs | Σ wall (s) | Σ start-up (s) | Σ compute (s) | overhead ratio |", "|---|---|---|---|---|---|"]
    for name, a in [*summary["rules"].items(), ("**all model jobs**", summary["total"])]:
        lines.append(f"| {name} | {a['jobs']} | {a['wall_s']:.1f} | {a['startup_s']:.1f} | {a['compute_s']:.1f} | "
                     f"{a['overhead_ratio']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exp_dir", help="results/<experiment>")
    args = ap.parse_args(argv)
    print(to_markdown(summarise(job_timings(args.exp_dir))))


if __name__ == "__main__":
    main()
