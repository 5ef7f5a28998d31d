#!/usr/bin/env bash
# Create or refresh .venv with read-distill installed; safe to run again (it then does nothing).
#   tools/setup.sh            runtime + dev (tests, snakefmt) + eval (lm-evaluation-harness) extras
#   tools/setup.sh gpu        adds the gpu extra (vllm) on a CUDA machine
# On a machine without an NVIDIA GPU, torch is pinned to the 2.13.0 CPU build so that no
# resolver step pulls a multi-GB CUDA wheel. Outside a workplace that ships that wheel,
# point pip at the CPU index: PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."
extras="dev,eval${1:+,$1}"
venv=.venv
stamp="$venv/.read-distill-installed"
want="$(cat pyproject.toml; echo "$extras")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0  # already installed for this pyproject and these extras
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    "${pip[@]}" "torch>=2.6,<2.14"
else
    "${pip[@]}" "torch==2.13.0"
fi
"${pip[@]}" -e ".[$extras]"
printf '%s' "$want" >"$stamp"
