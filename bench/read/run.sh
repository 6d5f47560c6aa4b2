#!/usr/bin/env bash
# Slide-reading benchmark, Rust drivers side by side with the Python baseline
# (openslide-python read_region + the baseline's RGBA->RGB), interleaved.
#
# usage: bench/read/run.sh [SLIDE] [RUNS]
#   SLIDE  default /tmp/bench.tif, made by shared/bench/make_bench_slide.sh if missing
#   RUNS   interleaved rounds (default 3); each round runs every variant once
#
# Every variant reads the same 448x448 level-0 context windows (the tissue
# cells the baseline's split.tissue_grid picks, row-major) from a freshly
# opened slide. Prints each run's JSON line, then medians and ratios.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SLIDESCALE_SHARED:-$ROOT/../shared}
PY=${SLIDESCALE_PYTHON:-$ROOT/.venv/bin/python}
SLIDE=${1:-/tmp/bench.tif}
RUNS=${2:-3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ ! -e "$SLIDE" ]; then
  "$SHARED/bench/make_bench_slide.sh" "$SHARED/data/slides/CMU-1-Small-Region.svs" "$SLIDE" >/dev/null
fi
# The baseline's tissue cells, "col row" per line.
"$PY" - "$SHARED/bench" "$SLIDE" "$OUT/cells.txt" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, openslide, split
slide = openslide.OpenSlide(sys.argv[2])
tissue, _ = split.tissue_grid(slide)
np.savetxt(sys.argv[3], np.argwhere(tissue)[:, ::-1], fmt="%d")
PY
(cd "$ROOT" && cargo build -q --release -p slidescale-slide --example read_bench)
BENCH="$ROOT/target/release/examples/read_bench"

for run in $(seq 1 "$RUNS"); do
  (cd "$SHARED/bench" && "$PY" bench_read.py "$SLIDE") | grep '"read+rgb"' | tee -a "$OUT/runs.jsonl"
  for spec in "openslide 1" "native 1" "native 2"; do
    set -- $spec
    "$BENCH" "$SLIDE" --cells "$OUT/cells.txt" --reader "$1" --threads "$2" | tee -a "$OUT/runs.jsonl"
  done
done

"$PY" - "$OUT/runs.jsonl" "$RUNS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def key(r):
    if r.get("impl") == "rust":
        return f"rust {r['driver']} x{r['threads']}"
    return "python openslide-python x1"
med = {}
for r in rows:
    med.setdefault(key(r), []).append(r["patches_per_s"])
print(f"\nmedians of {sys.argv[2]} interleaved runs, {rows[0]['patches']} context tiles (448x448, level 0):")
base = statistics.median(med["python openslide-python x1"])
for k, v in med.items():
    m = statistics.median(v)
    print(f"  {k:30s} {m:8.1f} tiles/s   x{m / base:5.2f} vs Python")
n1 = statistics.median(med["rust native x1"]); o1 = statistics.median(med["rust openslide x1"])
print(f"  native / OpenSlide driver, 1 thread: x{n1 / o1:.2f}")
PY
