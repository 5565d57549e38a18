#!/usr/bin/env bash
# The Slurm workflow end to end on a real single-node Slurm: installs Debian's
# slurmctld, slurmd and munge, starts them as root (no systemd, no cgroups),
# runs the script `fleksim slurm` writes (a job array of 3 shards and a merge
# that depends on it) and compares the results byte for byte with the same
# command run on one machine. Needs root; uses target/release/fleksim.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
fleksim="$root/target/release/fleksim"
test -x "$fleksim" || { echo "build first: cargo build --release" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

# munge: a key, then the daemon as its own user.
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null

# One node, two CPUs, no cgroups: processes tracked by the Linux process tree.
mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat >/etc/slurm/slurm.conf <<EOF
ClusterName=fleksim-ci
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem_mb State=UNKNOWN
PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
started_slurm=0
if ! pgrep -x slurmctld >/dev/null; then
    slurmctld -c -i
    slurmd -N localhost
    started_slurm=1
fi
for _ in $(seq 60); do
    sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break
    sleep 1
done
sinfo

work="$(mktemp -d)"
stop() {
    if [ "$started_slurm" = 1 ]; then
        scontrol shutdown >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap stop EXIT

# The shipped DS comparison, small: one machine, then 3 shards on Slurm.
cmd=(compare scenarios/baseline.toml scenarios/proposals/ds.toml --scale 0.02 -n 3 --quiet)
"$fleksim" "${cmd[@]}" --out "$work/whole"
"$fleksim" slurm --tasks 3 --dir "$work/job" --out "$work/job.sh" -- "${cmd[@]}"
# This node has 2 CPUs and no memory accounting: lighten the resource lines.
sed -i 's/^#SBATCH --mem.*$//; s/^#SBATCH --time=.*/#SBATCH --time=00:10:00/' "$work/job.sh"
bash "$work/job.sh" | tee "$work/submitted"
merge_id=$(awk '/as job/ {print $NF}' "$work/submitted")
for _ in $(seq 300); do
    squeue -h >"$work/queue" 2>/dev/null || true
    [ -s "$work/queue" ] || break
    sleep 1
done
if ! cmp "$work/whole/compare.csv" "$work/job/results/compare.csv"; then
    echo "the Slurm run (merge job $merge_id) differs from the one-machine run" >&2
    tail -n 20 "$work"/job/logs/*.log >&2 || true
    exit 1
fi
ls "$work/job/parts"
echo "slurm: 3 shards and the merge equal the one-machine run byte for byte"
