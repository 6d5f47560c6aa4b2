#!/usr/bin/env bash
# Issue 11, requirement 5, in one invocation: GoogLeNet at strides 16, 32,
# 56 and 224, windows/s of sliding fp32, dense fp32, sliding int8 and dense
# int8 (median of REPEATS runs of `slidescale check-fast --json`, all on the
# same seeded TILES tiles), the agreement figures beside them, the Python
# baseline (../shared/bench/process.py) on the same tiles, and the
# end-to-end `run` at stride 16 vs `process` on the same slide.
#
#   bench/fast/run.sh [SLIDE] [TILES] [REPEATS]
#
# BIN overrides the binary (default: a release build, built if missing),
# MODEL the model, PYTHON the interpreter (onnxruntime, h5py, hdf5plugin).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
slide=${1:-$root/../shared/data/slides/CMU-1-Small-Region.svs}
tiles=${2:-4}
repeats=${3:-3}
model=${MODEL:-$root/../shared/models/googlenet.onnx}
py=${PYTHON:-$root/.venv/bin/python}
bin=${BIN:-$root/target/release/slidescale}
baseline=$root/../shared/bench/process.py
[[ -x $bin ]] || (cd "$root" && cargo build --release -p slidescale)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work=$tmp/work res=$tmp/res
mkdir -p "$res"
t2=(--threads 2)

# end to end: run (split, score, stitch) at stride 16, then process of its
# first group on the same store
t0=$(date +%s.%N)
"$bin" run "$slide" --model "$model" --stride 16 --out "$work" "${t2[@]}" > "$res/run.txt"
t1=$(date +%s.%N)
name=$(basename "${slide%.*}")
"$bin" process "$work/$name.h5" --group 1 --model "$model" --stride 16 --force "${t2[@]}" \
  | grep '^{' > "$res/process.json"
"$py" - "$work/$name.h5" "$t0" "$t1" "$res/process.json" > "$res/e2e.json" <<'PY'
import json, sys, h5py, hdf5plugin  # noqa
with h5py.File(sys.argv[1]) as f:
    n = sum(g["tiles"].shape[0] for g in f["groups"].values())
run_s = float(sys.argv[3]) - float(sys.argv[2])
p = json.load(open(sys.argv[4]))
print(json.dumps(dict(windows=n * 196, run_s=run_s, run=n * 196 / run_s,
                      process=p["windows_per_s"])))
PY

"$bin" quantize "$model" --calibrate-from "$work" --out "$tmp/int8.onnx" "${t2[@]}" > /dev/null
common=(--model "$model" --tiles "$tiles" --seed 0 --json "${t2[@]}")
for s in 16 32 56 224; do
  for _ in $(seq "$repeats"); do
    "$bin" check-fast "${common[@]}" --stride "$s" --mode dense "$work" >> "$res/s$s-dense.jsonl"
    "$bin" check-fast "${common[@]}" --stride "$s" --int8 "$tmp/int8.onnx" "$work" >> "$res/s$s-int8.jsonl"
    "$bin" check-fast "${common[@]}" --stride "$s" --mode dense --int8 "$tmp/int8.onnx" "$work" \
      >> "$res/s$s-dense-int8.jsonl"
  done
  [[ -f $tmp/base.h5 ]] || "$py" "$here/summarize.py" export "$res/s$s-dense.jsonl" "$work" "$tmp/base.h5"
  for _ in $(seq "$repeats"); do
    "$py" "$baseline" "$tmp/base.h5" g000001 "$model" "$tmp/py" --stride "$s" --threads 2 \
      >> "$res/s$s-python.jsonl"
  done
done
"$py" "$here/summarize.py" table "$res"
