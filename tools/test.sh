#!/usr/bin/env bash
# README command 2: install (idempotent), start the local single-node SLURM the SLURM
# test submits to, and run the whole test suite. Any failing test fails this script,
# and so does a run that collects no tests (pytest exit code 5).
#   tools/test.sh -m "not slow"     the fast tier (no workflow runs)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# The SLURM test needs a local SLURM, which needs root and no SLURM of the machine's own;
# elsewhere that one test is skipped (it says so) and the rest of the suite runs.
if ! slurm_err="$(tools/slurm_local.sh start 2>&1 >/dev/null)"; then
    echo "tools/test.sh: no local SLURM, so tests/test_slurm.py will be skipped: ${slurm_err##*slurm_local.sh: }" >&2
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1
exec .venv/bin/python -m pytest "$@"
