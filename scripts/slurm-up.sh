#!/usr/bin/env bash
# Start a one-node Slurm cluster (slurmctld + slurmd + munge) on loopback, for tests and for trying synthmix's
# Slurm executor on one machine. Container-safe settings: proctrack/linuxproc, task/none, no cgroup plugins,
# no accounting. Needs root. Installs Debian's slurm-wlm and munge when they are missing.
#
#   scripts/slurm-up.sh [STATE_DIR]     start (default STATE_DIR: /tmp/synthmix-slurm); prints the env to export
#   scripts/slurm-up.sh --down [STATE_DIR]   stop the daemons this script started (by their pid files)
#
# SLURM_CRED_EXPIRE (default 15 s) is the job credential lifetime, which is also how long Slurm holds a requeued
# job before it may start again (BeginTime = requeue + lifetime + 1 s). Sites keep Slurm's 120 s; a short one
# lets the preemption test see the requeued job rerun quickly. Never release a requeued job early
# (`scontrol update StartTime=now`): slurmd counts a credential issued in the same second as the revocation as
# revoked ("Job N already killed, do not launch batch job"), and the job then ends instead of rerunning.
set -euo pipefail

down=0
if [[ "${1:-}" == "--down" ]]; then down=1; shift; fi
state="${1:-/tmp/synthmix-slurm}"
conf="$state/slurm.conf"

stop_pidfile() {
    local f="$1"
    if [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; then kill "$(cat "$f")"; fi
    rm -f "$f"
}

if (( down )); then
    stop_pidfile "$state/slurmd.pid"
    stop_pidfile "$state/slurmctld.pid"
    echo "slurm stopped ($state); munged left running (shared by any other Slurm on this machine)"
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null; }
fi

# munge: one daemon per machine; start it unless it already answers.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log"
read -r cpus mem < <(slurmd -C | awk '/NodeName/ {for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}; print v["CPUs"], v["RealMemory"]}')
cat > "$conf" <<CONF
ClusterName=synthmix
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=cred_expire=${SLURM_CRED_EXPIRE:-15}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
JobRequeue=1
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF="$conf"
slurmctld -f "$conf"
for _ in $(seq 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
slurmd -f "$conf" -N localhost
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -qx idle && break; sleep 0.2; done
sinfo -h -o "%P %D %c %m %T" >&2
echo "export SLURM_CONF=$conf"
