"""Job-server overhead: N small model jobs through the warm job server against fresh processes.

    .venv/bin/python benchmarks/jobserver_overhead.py [--jobs 8] [--threads 1]

Each job is the same script, run the way Snakemake runs a ``script:`` job: a fresh
``python <script>`` whose preamble defines ``snakemake`` (here a plain namespace with its
``log`` and ``threads``), then ``with job(snakemake, model=True):`` around a tiny Llama's
forward passes. The two variants alternate job by job in one process, the order flipping
every pair so that machine load hits them alike:

- warm: ``READ_JOBSERVER=1``; the job process hands the script to the warm server's
  forked child (torch and transformers already imported) and waits for it;
- fresh: ``READ_JOBSERVER=0``; the job imports everything itself, as on SLURM.

One job of each variant runs first and is left out: it starts the server (its preload)
and fills the file cache. The job server has its own runtime dir here, so no workflow's
server is used or disturbed, and it is stopped (by its process id) at the end. Prints the
mean wall time per job of each variant, their ratio, and each variant's logged start-up
and compute (compute should agree: the same work), and writes the numbers to
``benchmarks/out/jobserver_overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from common import cpu_model

OUT = Path(__file__).parent / "out" / "jobserver_overhead.json"
VARIANTS = {"warm": "1", "fresh": "0"}
TIMING = re.compile(r"job timing: startup ([\d.]+) s, compute ([\d.]+) s")

JOB = textwrap.dedent("""
    import sys, types
    snakemake = types.SimpleNamespace(log=[sys.argv[1]], threads=int(sys.argv[2]))  # Snakemake's preamble

    from read.runtime import job

    with job(snakemake, model=True):
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        torch.manual_seed(0)
        cfg = LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=128)
        model = LlamaForCausalLM(cfg).eval()
        ids = torch.randint(0, 512, (8, 64))
        with torch.no_grad():
            for _ in range(5):
                model(input_ids=ids)
""")


def run_job(script: Path, log: Path, threads: int, env: dict) -> dict:
    """One job, timed from outside as Snakemake's ``benchmark:`` would; its logged timing."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(script), str(log), str(threads)], env=env, check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)
    wall = time.perf_counter() - t0
    match = TIMING.search(log.read_text())
    if match is None:
        raise RuntimeError(f"{log}: no 'job timing:' line; the job did not run as a model job")
    return {"wall_s": wall, "startup_s": float(match.group(1)), "compute_s": float(match.group(2))}


def server_pid(runtime_dir: Path) -> int | None:
    """The process listening on the benchmark's job-server socket (kernel peer credentials)."""
    for path in runtime_dir.glob("read-jobserver-*/*.sock"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(str(path))
            except OSError:
                continue
            return struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
    return None


def mean(rows: list[dict], key: str) -> float:
    return statistics.fmean(r[key] for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=8, help="measured jobs per variant (N)")
    ap.add_argument("--threads", type=int, default=1, help="each job's threads:")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="read-jobserver-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "run").mkdir()
        script = tmp / "model_job.py"
        script.write_text(JOB)
        base = {k: v for k, v in os.environ.items() if k not in ("SLURM_JOB_ID", "READ_JOBSERVER_CHILD")}
        base.update(XDG_RUNTIME_DIR=str(tmp / "run"), READ_JOBSERVER_IDLE="60", HF_HUB_OFFLINE="1")
        envs = {name: {**base, "READ_JOBSERVER": flag} for name, flag in VARIANTS.items()}
        rows: dict[str, list[dict]] = {name: [] for name in VARIANTS}
        first: dict[str, dict] = {}
        try:
            for name in VARIANTS:  # left out: the server's start and a cold file cache
                first[name] = run_job(script, tmp / f"{name}-first.log", args.threads, envs[name])
            for i in range(args.jobs):
                order = list(VARIANTS) if i % 2 == 0 else list(reversed(VARIANTS))
                for name in order:
                    rows[name].append(run_job(script, tmp / f"{name}-{i}.log", args.threads, envs[name]))
        finally:
            pid = server_pid(tmp / "run")
            if pid is not None:
                os.kill(pid, signal.SIGTERM)

    summary = {name: {key: mean(r, key) for key in ("wall_s", "startup_s", "compute_s")} for name, r in rows.items()}
    ratio = summary["fresh"]["wall_s"] / summary["warm"]["wall_s"]
    for name, s in summary.items():
        print(f"{name:5s}: {s['wall_s']:.2f} s a job (start-up {s['startup_s']:.2f} s, compute {s['compute_s']:.2f} s)"
              f", mean of {args.jobs}")
    print(f"fresh / warm wall time per job: {ratio:.2f}x "
          f"({summary['fresh']['wall_s'] - summary['warm']['wall_s']:.2f} s saved a job); "
          f"the server's first job took {first['warm']['wall_s']:.2f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"jobs": args.jobs, "threads": args.threads, "machine": cpu_model(), "cpus": os.cpu_count(), "first_job": first,
                               "mean": summary, "fresh_over_warm": ratio, "runs": rows}, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
