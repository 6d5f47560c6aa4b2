#!/usr/bin/env bash
# The README's first command: install what slidescale needs, build it, and
# run the whole pipeline on the bundled sample slide with the bundled demo
# model. Writes work/demo/heatmaps/CMU-1-Small-Region.png (and .npy).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p slidescale
OUT=${OUT:-work/demo}
set -x
target/release/slidescale run fixtures/slides/CMU-1-Small-Region.svs \
  --model models/hematoxylin.onnx --stride 16 --out "$OUT" --resume
target/release/slidescale status "$OUT"
{ set +x; } 2>/dev/null
echo "heatmap over the slide: $OUT/heatmaps/CMU-1-Small-Region.png"
