#!/usr/bin/env bash
# A single-node Slurm cluster from the OS packages (munge, slurmctld, slurmd), for the Slurm test and for trying
# the README's array-job example on one machine. Run as root. Usage: scripts/slurm-up.sh [state dir] (default
# /tmp/egym-slurm); prints the SLURM_CONF to export. scripts/slurm-down.sh stops it.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
D="${1:-/tmp/egym-slurm}"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-up: slurmctld or munged missing (apt-get install slurm-wlm munge)" >&2
  exit 2
fi
mkdir -p "$D"/{state,spool,log,munge,run}
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM="$(awk '/MemTotal/ { print int($2 / 1024 / 2) }' /proc/meminfo)"
cat > "$D/slurm.conf" <<CONF
ClusterName=egym
SlurmctldHost=$HOST
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket.2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=egym Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
# munge: a key of its own, a socket in the state dir.
if [ ! -f "$D/munge/munge.key" ]; then
  dd if=/dev/urandom of="$D/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$D/munge/munge.key"
fi
chmod 700 "$D/munge"
munged --force --key-file="$D/munge/munge.key" --socket="$D/munge/munge.socket.2" --pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" --seed-file="$D/munge/munge.seed"
export SLURM_CONF="$D/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-up: the node did not become idle; see $D/log" >&2
sinfo >&2 || true
exit 1
