#!/usr/bin/env bash
# README command 2: install (idempotent), start the local single-node SLURM the SLURM
# test submits to, and run the whole test suite. Any failing test fails this script,
# and so does a run that collects no tests (pytest exit code 5).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/slurm_local.sh start
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1
exec .venv/bin/python -m pytest "$@"
