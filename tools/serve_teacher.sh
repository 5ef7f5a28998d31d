#!/usr/bin/env bash
# Serve the teacher as its own SLURM job, so it loads once for the whole grid.
#
#   tools/serve_teacher.sh --model DIR --url-file FILE [--name teacher] [--port 8000]
#                          [--gpus 4] [--time 2-00:00:00] [--engine vllm|read] [-- EXTRA...]
#
# The job runs `vllm serve DIR --served-model-name NAME --port PORT --tensor-parallel-size
# GPUS [EXTRA...]` (or, with --engine read, `python -m read.teachers.serve`, the CPU server
# the tests use) and writes http://<node>:<port>/v1 into FILE once it starts. In the config:
#
#   models.teacher: {backend: openai, served_model: NAME, base_url_file: FILE, wait_s: 1800}
#
# Generation jobs then wait up to wait_s for FILE and the server's /health, and fail with one
# line if it never comes up. Site settings come from READ_SLURM_ACCOUNT and
# READ_SLURM_GPU_PARTITION (else READ_SLURM_PARTITION), as for the workflow's profile.
# Prints the SLURM job id; `scancel <id>` stops the server.
set -euo pipefail

model="" url_file="" name=teacher port=8000 gpus=1 walltime=2-00:00:00 engine=vllm extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model="$2"; shift 2 ;;
        --url-file) url_file="$2"; shift 2 ;;
        --name) name="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        --gpus) gpus="$2"; shift 2 ;;
        --time) walltime="$2"; shift 2 ;;
        --engine) engine="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        *) echo "serve_teacher.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
[ -n "$model" ] && [ -d "$model" ] || { echo "serve_teacher.sh: --model must name a local checkpoint directory, got '$model'" >&2; exit 2; }
[ -n "$url_file" ] || { echo "serve_teacher.sh: --url-file is required (the config's models.teacher.base_url_file)" >&2; exit 2; }
model="$(cd "$model" && pwd)"
mkdir -p "$(dirname "$url_file")"
url_file="$(cd "$(dirname "$url_file")" && pwd)/$(basename "$url_file")"
rm -f "$url_file"  # a stale URL from an earlier server must not be waited on
python="${READ_PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}"

case "$engine" in
    vllm) server=(vllm serve "$model" --served-model-name "$name" --host 0.0.0.0 --port "$port"
                  --tensor-parallel-size "$gpus" "${extra[@]}") ;;
    read) server=("$python" -m read.teachers.serve --model "$model" --name "$name" --host 0.0.0.0 --port "$port"
                  "${extra[@]}") ;;
    *) echo "serve_teacher.sh: --engine must be vllm or read, got '$engine'" >&2; exit 2 ;;
esac

args=(--parsable --job-name "read-teacher-$name" --time "$walltime" --output "${url_file%.*}.log")
[ -n "${READ_SLURM_ACCOUNT:-}" ] && args+=(--account "$READ_SLURM_ACCOUNT")
partition="${READ_SLURM_GPU_PARTITION:-${READ_SLURM_PARTITION:-}}"
[ -n "$partition" ] && args+=(--partition "$partition")
[ "$engine" = vllm ] && args+=(--gpus "$gpus")

# The job writes its URL, atomically, only after the server process has started.
script="#!/usr/bin/env bash
set -euo pipefail
${server[*]@Q} &
pid=\$!
printf 'http://%s:%s/v1\n' \"\$(hostname -f 2>/dev/null || hostname)\" $port > ${url_file@Q}.tmp
mv ${url_file@Q}.tmp ${url_file@Q}
wait \$pid"
sbatch "${args[@]}" <<<"$script"
