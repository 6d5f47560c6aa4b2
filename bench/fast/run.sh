#!/usr/bin/env bash
# Windows/s of sliding fp32 vs dense fp32 on the same sampled tiles, side by
# side in one run, at strides 16, 32, 56 and 224 (median of REPEATS runs of
# `slidescale check-fast`, which times both on the same tiles and also gives
# the agreement). Needs a work directory with at least one split store.
#
#   bench/fast/run.sh WORK [MODEL] [TILES] [REPEATS]
#
# BIN overrides the binary (default: a release build, built if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:?usage: run.sh WORK [MODEL] [TILES] [REPEATS]}
model=${2:-$root/../shared/models/googlenet.onnx}
tiles=${3:-8}
repeats=${4:-3}
threads=${THREADS:-2}
bin=${BIN:-$root/target/release/slidescale}
if [[ ! -x $bin ]]; then
  (cd "$root" && cargo build --release -p slidescale)
fi
printf "%-7s %14s %14s %9s %9s %9s %8s %8s\n" stride "sliding w/s" "dense w/s" speedup "max|d|" "mean|d|" r agree%
for s in 16 32 56 224; do
  for _ in $(seq "$repeats"); do
    "$bin" check-fast --model "$model" --mode dense --stride "$s" --tiles "$tiles" \
      --threads "$threads" "$work"
  done | python3 -c '
import re, statistics, sys
rows = []
for line in sys.stdin:
    m = re.search(r"max \|Δ\| ([\d.]+), mean \|Δ\| ([\d.]+), r ([-\d.naN]+), agreement at 0.5 ([\d.]+) %, speed-up ([\d.]+)× \(([\d.]+) vs ([\d.]+) windows/s\)", line)
    if m:
        rows.append([float(x) for x in m.groups()])
med = lambda i: statistics.median(r[i] for r in rows)
print("%-7s %14.1f %14.1f %8.1fx %9.4f %9.4f %8.4f %8.2f" % (sys.argv[1], med(6), med(5), med(4), rows[0][0], rows[0][1], rows[0][2], rows[0][3]))
' "$s"
done
