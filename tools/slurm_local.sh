#!/usr/bin/env bash
# A real single-node SLURM (controller + one compute node with one fake GPU) for tests and CI.
#
#   tools/slurm_local.sh start    install slurm-wlm + munge if missing, write the config,
#                                 start munged, slurmctld and slurmd, wait until the node is idle
#   tools/slurm_local.sh stop     stop the daemons this script started (by PID)
#   tools/slurm_local.sh status   print daemon PIDs and `sinfo`; exit 1 unless the node is up
#   tools/slurm_local.sh env      print `export SLURM_CONF=...` (eval it before sinfo/sbatch)
#
# Needs root and Debian/Ubuntu (apt-get); no systemd, no cgroups, no accounting database.
# Everything lives in $READ_SLURM_DIR (default /tmp/read-slurm): slurm.conf, gres.conf,
# state, spool, logs and PID files. /etc/slurm/{slurm,gres}.conf become symlinks to them,
# because the snakemake jobstep executor drops SLURM_CONF (and every other SLURM_* variable)
# before it calls srun inside a job, so srun only finds the default location. An existing
# /etc/slurm/slurm.conf that is not such a symlink is never touched: start then fails.
#
# Partitions: `debug` (default) and `gpu`, both on this one node, which has
# $READ_SLURM_GPUS (default 2) fake GPUs: gres gpu:fake:N backed by null character
# devices in $READ_SLURM_DIR/dev. `--gres=gpu:1` / `--gpus=1` jobs are scheduled and see
# CUDA_VISIBLE_DEVICES, but there is no device behind it (torch stays on CPU).
#
# Without slurmdbd `sacct` fails ("accounting storage is disabled"), and the snakemake slurm
# plugin hangs if it polls job status with sacct. So MinJobAge is 600 s, which keeps finished
# jobs visible to squeue, and snakemake must poll with `--slurm-status-command squeue` (the
# workflow's slurm profile sets it; the plugin uses squeue only while
# MinJobAge >= 3 x --slurm-init-seconds-before-status-checks, default 40 s).
set -euo pipefail

dir="${READ_SLURM_DIR:-/tmp/read-slurm}"
gpus="${READ_SLURM_GPUS:-2}"
conf="$dir/etc/slurm.conf"
etc=/etc/slurm
host="$(hostname -s)"
export SLURM_CONF="$conf"

die() { echo "slurm_local.sh: $*" >&2; exit 1; }

case "$gpus" in
    '' | *[!0-9]* | 0) die "READ_SLURM_GPUS must be a whole number >= 1, got '$gpus'" ;;
esac

pid_alive() {  # pid_alive FILE -> true if FILE holds the PID of a live process
    local pid
    pid="$(cat "$1" 2>/dev/null)" && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

install_packages() {
    local missing=()
    for pkg in slurm-wlm slurm-client munge; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "packages ${missing[*]} are missing; run as root to install them"
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_config() {
    mkdir -p "$dir"/{etc,state,spool,log,run,dev}
    local i
    for i in $(seq 0 $((gpus - 1))); do  # character devices like /dev/null (1:3)
        [ -c "$dir/dev/gpu$i" ] || { rm -f "$dir/dev/gpu$i"; mknod "$dir/dev/gpu$i" c 1 3; }
    done
    local cpus mem_mb
    cpus="$(nproc)"
    # Declare 90 % of physical memory: slurmd drains a node whose config claims more than it has.
    mem_mb="$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)"
    cat >"$conf" <<EOF
# Written by tools/slurm_local.sh; single-node test cluster, no accounting.
ClusterName=read-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Jobs without --mem get 1 GB per CPU, not the whole node.
DefMemPerCPU=1000
ReturnToService=2
# Finished jobs stay visible to squeue for 10 min (snakemake polls status with squeue).
MinJobAge=600
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:fake:$gpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
    cat >"$dir/etc/gres.conf" <<EOF
AutoDetect=off
NodeName=$host Name=gpu Type=fake File=$dir/dev/gpu[0-$((gpus - 1))]
EOF
    mkdir -p "$etc"
    local name
    for name in slurm.conf gres.conf; do
        if [ -e "$etc/$name" ] && [ "$(readlink "$etc/$name")" != "$dir/etc/$name" ]; then
            die "$etc/$name exists and is not ours; remove it or run on a machine without SLURM"
        fi
        ln -sfn "$dir/etc/$name" "$etc/$name"
    done
}

start_munge() {
    # Reuse a munged that already answers (ours or the system's); else start one as `munge`.
    if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
        return 0
    fi
    [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || /usr/sbin/create-munge-key -f; }
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged --force
    pgrep -u munge -n -x munged >"$dir/run/munged.pid"
    for _ in $(seq 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "munged did not come up"
}

node_state() {
    sinfo -h -n "$host" -o '%T' 2>/dev/null | head -1 | tr -d '*~#'
}

start() {
    [ "$(id -u)" -eq 0 ] || die "start needs root (it runs slurmctld and slurmd as root)"
    install_packages
    if pid_alive "$dir/run/slurmctld.pid" && pid_alive "$dir/run/slurmd.pid"; then
        case "$(node_state)" in
            idle | mixed | allocated) echo "already running" && sinfo && return 0 ;;
        esac
    fi
    write_config
    start_munge
    pid_alive "$dir/run/slurmctld.pid" || /usr/sbin/slurmctld -f "$conf" -i
    pid_alive "$dir/run/slurmd.pid" || /usr/sbin/slurmd -f "$conf"
    local state=""
    for _ in $(seq 300); do
        state="$(node_state)"
        case "$state" in
            idle | mixed | allocated) break ;;
            down | drained | draining | drain) scontrol update nodename="$host" state=resume || true ;;
        esac
        sleep 0.1
    done
    case "$state" in
        idle | mixed | allocated) sinfo ;;
        *) die "node $host is '$state' after 30 s; see $dir/log/slurmd.log and slurmctld.log" ;;
    esac
}

stop() {
    local name pidfile
    for name in slurmd slurmctld munged; do
        pidfile="$dir/run/$name.pid"
        if pid_alive "$pidfile"; then
            kill "$(cat "$pidfile")" 2>/dev/null || true
            for _ in $(seq 50); do pid_alive "$pidfile" || break; sleep 0.1; done
        fi
        rm -f "$pidfile"
    done
    for name in slurm.conf gres.conf; do
        [ "$(readlink "$etc/$name" 2>/dev/null)" = "$dir/etc/$name" ] && rm -f "$etc/$name"
    done
    return 0
}

status() {
    local name pidfile up=0
    for name in munged slurmctld slurmd; do
        pidfile="$dir/run/$name.pid"
        if pid_alive "$pidfile"; then echo "$name: pid $(cat "$pidfile")"; else echo "$name: not running (by this script)"; fi
    done
    if [ -f "$conf" ] && sinfo 2>/dev/null; then
        case "$(node_state)" in idle | mixed | allocated) up=1 ;; esac
    fi
    [ "$up" -eq 1 ]
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$conf" ;;
    *) die "usage: $0 start|stop|status|env" ;;
esac
