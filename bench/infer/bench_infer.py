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
(preprocessing included). Each run's foreign load (cores used by other
processes meanwhile, from /proc/stat) is recorded; --quiet-wait waits for an
idle machine before each run and --max-foreign keeps only quiet runs, as the
baseline's RESULTS.md does. Raw JSON lines go to bench/out/infer.jsonl.
Build first: cargo build --release -p slidescale-infer --example bench_infer
(bench/infer/run.sh does both).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("SLIDESCALE_SHARED", os.path.join(ROOT, "..", "shared"))
RUST = os.path.join(ROOT, "target", "release", "examples", "bench_infer")
PY = os.environ.get("SLIDESCALE_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))


def busy_seconds():
    """CPU seconds all processes spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wait_quiet(max_wait, threshold=0.25):
    """Wait (up to max_wait s) for a 1-second window in which other
    processes use under `threshold` cores; returns the last load seen."""
    deadline = time.monotonic() + max_wait
    while True:
        b0 = busy_seconds()
        time.sleep(1.0)
        load = busy_seconds() - b0
        if load < threshold or time.monotonic() >= deadline:
            return load


def run(cmd):
    """Run one benchmark; add the foreign load (cores used by other processes
    meanwhile) to its JSON line, as ../shared/bench/measure.py does."""
    b0, c0, t0 = busy_seconds(), children_seconds(), time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    foreign = max(0.0, (busy_seconds() - b0) - (children_seconds() - c0)) / wall
    r = json.loads(out.strip().splitlines()[-1])
    r["foreign_load"] = round(foreign, 2)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="one googlenet batch size, fewer iterations")
    ap.add_argument("--quiet-wait", type=float, default=0.0, metavar="S",
                    help="before each run wait up to S seconds for the machine to go idle")
    ap.add_argument("--max-foreign", type=float, default=None, metavar="CORES",
                    help="medians over runs whose foreign load was below CORES only")
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
        runs = []  # (side, rates, scorer_rates, foreign load)
        for rep in range(a.reps):
            order = ["A", "B"] if rep % 2 == 0 else ["B", "A"]
            for side in order:
                if a.quiet_wait:
                    wait_quiet(a.quiet_wait)
                if side == "A":
                    r = run([RUST] + common)
                    runs.append(("A", r["all"], r["scorer_all"], r["foreign_load"]))
                else:
                    r = run([PY, os.path.join(SHARED, "bench", "bench_ort.py")] + common)
                    runs.append(("B", r["all"], [], r["foreign_load"]))
                r["rep"] = rep
                log.write(json.dumps(r) + "\n")
                log.flush()
        kept = [x for x in runs if a.max_foreign is None or x[3] < a.max_foreign]
        rust = [v for side, r, _, _ in kept if side == "A" for v in r]
        py = [v for side, r, _, _ in kept if side == "B" for v in r]
        scorer = [v for _, _, sc, _ in kept for v in sc]
        if not rust or not py:
            print(f"{os.path.basename(model)} batch {batch}: no run quiet enough on one side", flush=True)
            continue
        mr, mp, ms = statistics.median(rust), statistics.median(py), statistics.median(scorer)
        fl = statistics.median([x[3] for x in kept])
        rows.append((os.path.basename(model), batch, mr, mp, mr / mp, ms, fl))
        print(f"{os.path.basename(model):16s} batch {batch:4d}: slidescale-infer {mr:8.1f} img/s | "
              f"python onnxruntime {mp:8.1f} img/s | ratio {mr / mp:5.2f} | scorer from u8 {ms:8.1f} img/s"
              f" | foreign load {fl:.2f} cores", flush=True)
    print("\n| model | batch | threads | slidescale-infer img/s | Python onnxruntime img/s | ratio | scorer path (u8 → score) img/s | foreign load (cores) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, batch, mr, mp, ratio, ms, fl in rows:
        print(f"| {name} | {batch} | {a.threads} | {mr:.1f} | {mp:.1f} | {ratio:.2f} | {ms:.1f} | {fl:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
