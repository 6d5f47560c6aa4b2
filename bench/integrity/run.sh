#!/usr/bin/env bash
# What issue 7's integrity checks cost (native reader's JPEG checks, CRC-32 of
# every stored tile and result): an earlier slidescale binary against this
# checkout's release build, interleaved in one invocation (compare.py).
#   bench/integrity/run.sh OLD_SLIDESCALE [--reps N] [--slide PATH]
# Builds an 8000x6000 bench slide from CMU-1-Small-Region with
# ../shared/bench/make_bench_slide.sh when --slide is not given.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OLD=${1:?usage: bench/integrity/run.sh OLD_SLIDESCALE [--reps N] [--slide PATH]}; shift
SLIDE=""; ARGS=()
while [ $# -gt 0 ]; do
  case $1 in
    --slide) SLIDE=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
SHARED=${SLIDESCALE_SHARED:-$ROOT/../shared}
if [ -z "$SLIDE" ]; then
  SLIDE=/tmp/slidescale-bench-8000x6000.tif
  [ -f "$SLIDE" ] || "$SHARED/bench/make_bench_slide.sh" fixtures/slides/CMU-1-Small-Region.svs "$SLIDE" 8000 6000
fi
cargo build --release -q -p slidescale
exec .venv/bin/python bench/integrity/compare.py --old "$OLD" --new "$ROOT/target/release/slidescale" \
  --slide "$SLIDE" --model "$ROOT/fixtures/models/smallcnn.onnx" ${ARGS[@]+"${ARGS[@]}"}
