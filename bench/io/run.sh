#!/usr/bin/env bash
# The paper's I/O study (its Fig. 5): reading N tiles from the store as one
# group, tile by tile, from one file per tile, and straight from the slide,
# N = 50 … 3200, warm and cold page cache. See README.md beside this file.
#
#   bench/io/run.sh [--reps N] [--ns 50,100,…] [--no-cold] [--slide PATH] [--out DIR]
#
# Makes a 24000x18000 benchmark slide from real H&E if missing
# (shared/bench/make_bench_slide.sh; ~3300 tissue tiles), builds slidescale
# and the io_bench example in release mode, splits the slide into a store
# whose group 1 holds every tile (once LZ4-compressed, the default, once
# uncompressed), exports one raw file per tile, then runs
# run.py with the repository's venv. Cold runs drop the page cache
# (`sync; echo 3 > /proc/sys/vm/drop_caches`) and need root.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED=${SLIDESCALE_SHARED:-$ROOT/../shared}
OUT=$ROOT/bench/out/io
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
SLIDE=${SLIDE:-$OUT/bench_24000x18000.tif}
if [ ! -f "$SLIDE" ]; then
  echo "[bench] making $SLIDE" >&2
  bash "$SHARED/bench/make_bench_slide.sh" "$SHARED/data/slides/CMU-1-Small-Region.svs" "$SLIDE" 24000 18000 >/dev/null
fi
cargo build --release -q -p slidescale -p slidescale-store --example io_bench
SS=$ROOT/target/release/slidescale
BENCH=$ROOT/target/release/examples/io_bench
NAME=$(basename "${SLIDE%.*}")
if [ ! -f "$OUT/work/$NAME.h5" ]; then
  "$SS" split "$SLIDE" --out "$OUT/work" --group-size 100000 >&2
fi
if [ ! -f "$OUT/work-raw/$NAME.h5" ]; then
  "$SS" split "$SLIDE" --out "$OUT/work-raw" --group-size 100000 --compression none >&2
fi
if [ ! -d "$OUT/files" ]; then
  "$BENCH" export "$OUT/work/$NAME.h5" "$OUT/files.partial" >&2
  mv "$OUT/files.partial" "$OUT/files"
fi
exec "$ROOT/.venv/bin/python" "$ROOT/bench/io/run.py" \
  --bench "$BENCH" --store "$OUT/work/$NAME.h5" --raw-store "$OUT/work-raw/$NAME.h5" --files "$OUT/files" \
  --slide "$SLIDE" --out "$OUT" ${ARGS[@]+"${ARGS[@]}"}
