#!/usr/bin/env bash
# Issue 9, requirement 8: this tree's W = T = 224 level-0 path against an
# earlier commit (default 12e9bbb, the last before the general geometry),
# side by side in one run: split wall time, process windows/s, and whether
# stores and results are the same bits. See bench/regress/README.md.
#
# usage: bench/regress/run.sh [--against REV] [--reps 3] [--stride 16] [--slide /tmp/bench.tif]
set -euo pipefail
cd "$(dirname "$0")/../.."
REV=12e9bbb REPS=3 STRIDE=16 SLIDE=/tmp/bench.tif
while [ $# -gt 0 ]; do
  case "$1" in
    --against) REV=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --stride) STRIDE=$2; shift 2 ;;
    --slide) SLIDE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
SHARED=${SLIDESCALE_SHARED:-../shared}
[ -f "$SLIDE" ] || "$SHARED/bench/make_bench_slide.sh" "$SHARED/data/slides/CMU-1-Small-Region.svs" "$SLIDE"
cargo build --release -q -p slidescale
OLD_SRC=${TMPDIR:-/tmp}/slidescale-regress-$REV
[ -d "$OLD_SRC" ] || git worktree add -q "$OLD_SRC" "$REV"
(cd "$OLD_SRC" && CARGO_TARGET_DIR="$PWD/../slidescale-regress-target" cargo build --release -q -p slidescale)
.venv/bin/python bench/regress/regress.py target/release/slidescale \
  "$OLD_SRC/../slidescale-regress-target/release/slidescale" "$SLIDE" \
  "$SHARED/models/smallcnn.onnx" --reps "$REPS" --stride "$STRIDE"
