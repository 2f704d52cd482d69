#!/usr/bin/env bash
# A one-node Slurm on this machine, for CI and for trying the cluster commands locally.
#   scripts/local-slurm.sh         install slurm-wlm + munge (Debian) if missing, configure, start,
#                                  wait until the node is idle. Safe to run again.
#   scripts/local-slurm.sh stop    stop slurmd, slurmctld and munged.
# Containers have no usable cgroups: processes are tracked with proctrack/linuxproc and tasks are
# not confined (TaskPlugin=task/none, no cgroup.conf). Checked with Slurm 22.05 (Debian 12).
set -euo pipefail

conf_dir=/etc/slurm
state_dir=/var/spool/slurmctld
node_dir=/var/spool/slurmd
log_dir=/var/log/slurm
run_dir=/run/slurm

pid_of() { # pid_of FILE: the pid in FILE if that process is alive
    local f=$1
    [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

stop() {
    for name in slurmd slurmctld; do
        if pid=$(pid_of "$run_dir/$name.pid"); then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            echo "stopped $name ($pid)"
        fi
    done
    if pid=$(pid_of /run/munge/munged.pid); then
        kill "$pid"; echo "stopped munged ($pid)"
    fi
}

if [ "${1:-}" = stop ]; then stop; exit 0; fi
if [ -n "${1:-}" ]; then echo "usage: $0 [stop]" >&2; exit 2; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "local-slurm.sh installs packages and starts daemons: run it as root" >&2; exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
# RealMemory in MB, a little below the total so slurmd's own check never drains the node.
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 95 / 100 ))

mkdir -p "$conf_dir" "$state_dir" "$node_dir" "$log_dir" "$run_dir" /run/munge /var/log/munge /var/lib/munge /etc/munge
conf="$conf_dir/slurm.conf"
new_conf=$(cat <<CONF
# Written by scripts/local-slurm.sh: one node, this machine.
ClusterName=local
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default a job takes the whole node's memory and array tasks could not share it.
DefMemPerCPU=$(( mem_mb / cpus ))
SchedulerType=sched/backfill
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$state_dir
SlurmdSpoolDir=$node_dir
SlurmctldPidFile=$run_dir/slurmctld.pid
SlurmdPidFile=$run_dir/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
)
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then
    printf '%s\n' "$new_conf" > "$conf.tmp" && mv "$conf.tmp" "$conf"
    rm -f "$conf_dir/cgroup.conf"
    changed=1
fi

if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
chmod 0700 /etc/munge
if ! pid_of /run/munge/munged.pid >/dev/null; then
    if id munge >/dev/null 2>&1; then
        su -s /bin/sh munge -c "munged" || munged --force
    else
        munged --force
    fi
fi

if [ "$changed" = 1 ]; then
    # New configuration: restart the daemons so they read it.
    for name in slurmd slurmctld; do
        if pid=$(pid_of "$run_dir/$name.pid"); then kill "$pid"; sleep 1; fi
    done
fi
pid_of "$run_dir/slurmctld.pid" >/dev/null || slurmctld
pid_of "$run_dir/slurmd.pid" >/dev/null || slurmd

# Wait (at most 60 s) for the node to be idle.
for _ in $(seq 120); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1 || true)
    case "$state" in
        idle|mixed|allocated) echo "local Slurm up: node $host ($cpus CPUs, $mem_mb MB) $state"; exit 0 ;;
        down*|drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
echo "local Slurm: node $host did not become idle within 60 s (state: ${state:-none}); see $log_dir/" >&2
exit 1
