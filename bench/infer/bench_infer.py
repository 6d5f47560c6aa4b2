#!/usr/bin/env python3
"""Bare model throughput: slidescale-infer vs the Python baseline, side by side.

usage: bench/infer/bench_infer.py [--reps 3] [--quick] [--threads 2]

Runs, interleaved A/B/B/A per configuration:
  A: target/release/examples/bench_infer MODEL --batch B --threads T   (Rust, ONNX Runtime via ort)
  B: .venv/bin/python ../shared/bench/bench_ort.py MODEL --batch B --threads T
Both time the same thing: one session, random [B,3,224,224] float input,
1 warm-up batch, then images/s of each timed batch. Prints per configuration
the medians over all timed batches of all reps, and the ratio Rust/Python.
The Rust line also reports the whole scorer path from u8 windows
(preprocessing included). Raw JSON lines go to bench/out/infer.jsonl.
Build first: cargo build --release -p slidescale-infer --example bench_infer
(bench/infer/run.sh does both).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("SLIDESCALE_SHARED", os.path.join(ROOT, "..", "shared"))
RUST = os.path.join(ROOT, "target", "release", "examples", "bench_infer")
PY = os.environ.get("SLIDESCALE_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="one googlenet batch size, fewer iterations")
    a = ap.parse_args()
    gn = os.path.join(SHARED, "models", "googlenet.onnx")
    sc = os.path.join(SHARED, "models", "smallcnn.onnx")
    configs = [(gn, b, 5) for b in ([64] if a.quick else [16, 32, 64])]
    configs += [(sc, 64, 20), (sc, 256, 8)] if not a.quick else [(sc, 64, 20)]
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    log = open(os.path.join(ROOT, "bench", "out", "infer.jsonl"), "a")
    rows = []
    for model, batch, iters in configs:
        common = [model, "--batch", str(batch), "--threads", str(a.threads), "--iters", str(iters)]
        rust, py, scorer = [], [], []
        for rep in range(a.reps):
            order = ["A", "B"] if rep % 2 == 0 else ["B", "A"]
            for side in order:
                if side == "A":
                    r = run([RUST] + common)
                    rust += r["all"]
                    scorer += r["scorer_all"]
                else:
                    r = run([PY, os.path.join(SHARED, "bench", "bench_ort.py")] + common)
                    py += r["all"]
                r["rep"] = rep
                log.write(json.dumps(r) + "\n")
                log.flush()
        mr, mp, ms = statistics.median(rust), statistics.median(py), statistics.median(scorer)
        rows.append((os.path.basename(model), batch, mr, mp, mr / mp, ms))
        print(f"{os.path.basename(model):16s} batch {batch:4d}: slidescale-infer {mr:8.1f} img/s | "
              f"python onnxruntime {mp:8.1f} img/s | ratio {mr / mp:5.2f} | scorer from u8 {ms:8.1f} img/s",
              flush=True)
    print("\n| model | batch | threads | slidescale-infer img/s | Python onnxruntime img/s | ratio | scorer path (u8 → score) img/s |")
    print("|---|---|---|---|---|---|---|")
    for name, batch, mr, mp, ratio, ms in rows:
        print(f"| {name} | {batch} | {a.threads} | {mr:.1f} | {mp:.1f} | {ratio:.2f} | {ms:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
