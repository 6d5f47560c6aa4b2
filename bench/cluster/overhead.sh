#!/usr/bin/env bash
# Scheduler-path overhead, end to end: the same slides through the local
# executor, single-node SLURM (--wait) and the Python baseline, interleaved;
# medians and ratios; then `simulate` against the last SLURM run.
# Run as root (starts SLURM with its default array limit, and at the end
# with the cluster tests' limits again):
#   bench/cluster/overhead.sh [--copies 4] [--stride 32] [--group-size 12] [--reps 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED=${SLIDESCALE_SHARED:-$ROOT/../shared}
SLURM_CI_MAX_ARRAY_SIZE=1001 SLURM_CI_MAX_JOB_COUNT=50000 SLURM_CI_SMOKE=0 scripts/cluster/start-slurm.sh 2>/dev/null
cargo build --release -q -p slidescale
"$ROOT/.venv/bin/python" "$ROOT/bench/cluster/overhead.py" \
  --slidescale "$ROOT/target/release/slidescale" \
  --baseline "$SHARED/bench/run_local.py" --python "$ROOT/.venv/bin/python" \
  --slide "$ROOT/fixtures/slides/CMU-1-Small-Region.svs" \
  --model "$ROOT/fixtures/models/smallcnn.onnx" "$@"
scripts/cluster/ci.sh --start 2>/dev/null
