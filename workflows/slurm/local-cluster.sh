#!/usr/bin/env bash
# Start (or stop) a single-node Slurm cluster on this machine, for testing the sbatch templates and the
# Snakemake Slurm profile: munge + slurmctld + slurmd, state under $SLURM_TEST_DIR (default /tmp/mofgap-slurm).
#   workflows/slurm/local-cluster.sh start    # exits 0 once `sinfo` shows the node idle
#   workflows/slurm/local-cluster.sh stop
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and root (or a writable /etc/slurm).
set -euo pipefail
dir=${SLURM_TEST_DIR:-/tmp/mofgap-slurm}
conf=/etc/slurm/slurm.conf
action=${1:-start}

if [ "$action" = stop ]; then
    for daemon in slurmd slurmctld; do
        [ -f "$dir/$daemon.pid" ] && kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
    done
    pkill -x munged 2>/dev/null || true
    exit 0
fi

command -v slurmctld >/dev/null || { echo "slurm-wlm is not installed" >&2; exit 3; }
mkdir -p "$dir"/{state,spool,log} /etc/slurm /run/munge /var/log/munge /var/lib/munge
chown -R munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chmod 400 /etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; }
pgrep -x munged >/dev/null || su -s /bin/sh munge -c "/usr/sbin/munged" || /usr/sbin/munged --force

host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cat > "$conf" <<CONF
ClusterName=mofgap-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SlurmctldTimeout=30
MinJobAge=900
SlurmdTimeout=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        sinfo
        exit 0
    fi
    sleep 1
done
echo "slurm did not come up; logs in $dir/log" >&2
exit 4
