#!/usr/bin/env bash
# Submission cost of 10,000 group tasks: dry run, and real (held, then
# cancelled) on the single-node SLURM and SGE clusters with their default
# array limits (1000 and 75000 tasks; SLURM's MaxJobCount raised to 50000 so
# that 10,000 held tasks fit). Restarts both clusters that way, and at the
# end with the lowered limits of the cluster tests. Run as root:
#   bench/cluster/submit.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SLURM_CI_MAX_ARRAY_SIZE=1001 SLURM_CI_MAX_JOB_COUNT=50000 SLURM_CI_SMOKE=0 scripts/cluster/start-slurm.sh
SGE_CI_MAX_AJ_TASKS=75000 SGE_CI_SMOKE=0 scripts/cluster/start-sge.sh
cargo bench -q -p slidescale-cluster --bench submit -- --real slurm
cargo bench -q -p slidescale-cluster --bench submit -- --real sge | tail -1
scripts/cluster/ci.sh --start
