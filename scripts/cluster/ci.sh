#!/usr/bin/env bash
# Start the single-node SLURM and SGE clusters the way slidescale's cluster
# tests need them (array limits lowered so that arrays get split), then run
# those tests. Run as root on Debian 12; idempotent.
#   scripts/cluster/ci.sh           start both clusters, run the cluster tests
#   scripts/cluster/ci.sh --start   only start them
#   scripts/cluster/ci.sh --stop    stop them (add --purge to wipe their state)
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in
  --stop) shift; scripts/cluster/stop-slurm.sh "$@"; scripts/cluster/stop-sge.sh "$@"; exit 0 ;;
esac
# SLURM: highest array index 4, so at most 4 tasks per array; SGE: 4 tasks.
export SLURM_CI_MAX_ARRAY_SIZE=${SLURM_CI_MAX_ARRAY_SIZE:-5}
export SGE_CI_MAX_AJ_TASKS=${SGE_CI_MAX_AJ_TASKS:-4}
# Room for the records of finished array tasks (SLURM keeps them 300 s).
export SLURM_CI_MAX_JOB_COUNT=${SLURM_CI_MAX_JOB_COUNT:-50000}
scripts/cluster/start-slurm.sh
scripts/cluster/start-sge.sh
[ "${1:-}" = --start ] && exit 0
# One test binary at a time: both clusters share the machine's cores.
cargo test -p slidescale-cluster --test executors
cargo test -p slidescale --test cluster_slurm --test cluster_sge --test batch_cluster -- --test-threads=1
