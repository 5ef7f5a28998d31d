"""Shared by the comparison benchmarks: the machine, a JSON result beside the printed table, medians."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path

OUT = Path(__file__).parent / "out"


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo, as ``lscpu | grep 'Model name'``), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What a figure was measured on: CPU, core count, load when it started, date, command."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu_model(), "cpus": os.cpu_count(), "load_1min_at_start": load,
            "date": datetime.date.today().isoformat(), "command": " ".join([".venv/bin/python", *sys.argv])}


def write_result(name: str, result: dict) -> Path:
    """``benchmarks/out/<name>.json`` (git-ignored), with the machine block added."""
    path = OUT / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2, sort_keys=True, default=float) + "\n")
    print(f"wrote {path}")
    return path


def median(values) -> float:
    return float(statistics.median(values))


def verdict(value: float, goal: float, higher_is_better: bool = True) -> str:
    ok = value >= goal if higher_is_better else value <= goal
    return "met" if ok else "MISSED"
