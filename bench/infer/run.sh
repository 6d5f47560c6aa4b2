#!/usr/bin/env bash
# Bare model throughput, slidescale-infer vs Python onnxruntime (see bench_infer.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p slidescale-infer --example bench_infer
exec .venv/bin/python bench/infer/bench_infer.py "$@"
