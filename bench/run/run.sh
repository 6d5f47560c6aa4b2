#!/usr/bin/env bash
# Heatmap pipeline benchmark (issue 3, requirement 8): slidescale process/run
# vs the Python baseline (../shared/bench), interleaved, medians and ratios,
# plus the bare model's throughput. See bench_run.py for what is measured.
#
# usage: bench/run/run.sh [--reps 3] [--parts a,b,c] [--quick] [--slide /tmp/bench.tif]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p slidescale -p slidescale-infer --bin slidescale --example bench_infer
exec "${SLIDESCALE_PYTHON:-.venv/bin/python}" bench/run/bench_run.py "$@"
