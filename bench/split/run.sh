#!/usr/bin/env bash
# Split throughput, slidescale vs the Python baseline, on the same large slide
# in the same invocation (interleaved A/B runs). See README.md beside this file.
#
#   bench/split/run.sh [--reps N] [--sweep] [--slide PATH] [--out DIR]
#
# Builds the benchmark slide from real H&E (shared/bench/make_bench_slide.sh)
# if it is missing, builds slidescale in release mode, then runs run.py with
# the repository's venv (scripts/setup.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED=${SLIDESCALE_SHARED:-$ROOT/../shared}
OUT=$ROOT/bench/out/split
SLIDE=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --slide) SLIDE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
mkdir -p "$OUT"
SLIDE=${SLIDE:-$OUT/bench_16000x12000.tif}
if [ ! -f "$SLIDE" ]; then
  echo "[bench] making $SLIDE" >&2
  bash "$SHARED/bench/make_bench_slide.sh" "$SHARED/data/slides/CMU-1-Small-Region.svs" "$SLIDE" >/dev/null
fi
cargo build --release -q -p slidescale
exec "$ROOT/.venv/bin/python" "$ROOT/bench/split/run.py" \
  --slidescale "$ROOT/target/release/slidescale" \
  --baseline "$SHARED/bench/split.py" \
  --slide "$SLIDE" --out "$OUT" ${ARGS[@]+"${ARGS[@]}"}
