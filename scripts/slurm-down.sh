#!/usr/bin/env bash
# Stop the single-node cluster of scripts/slurm-up.sh. Usage: scripts/slurm-down.sh [state dir]
D="${1:-/tmp/egym-slurm}"
export PATH="$PATH:/usr/sbin:/sbin"
for p in slurmd slurmctld munged; do
  [ -f "$D/run/$p.pid" ] && kill "$(cat "$D/run/$p.pid")" 2>/dev/null
done
sleep 0.5
exit 0
