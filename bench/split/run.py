#!/usr/bin/env python3
"""Interleaved A/B benchmark of the split stage (driven by run.sh).

Arms, run in turn within each repetition so that machine noise hits all alike:
  rust      slidescale split SLIDE --out DIR --force   (all cores, default options)
  rust-j1   the same with --jobs 1                      (per-core comparison)
  rust-min0.5  --min-tissue 0.5, the baseline's threshold (output sizes over ~the same tiles)
  python    shared/bench/split.py SLIDE OUT.h5          (the baseline: openslide-python + h5py)

Throughput is context tiles per second of process wall time (start-up
included, for both). CPU milliseconds per tile (user + system, children's
rusage) are printed too: on a machine shared with other jobs they are the
figure that noise does not move. The baseline's own internal rate (its JSON line, which
leaves out interpreter start-up and imports) is printed too. With --sweep the
rust arm is repeated for every --compression, for docs/store.md.
"""
import argparse
import json
import resource
import os
import shutil
import statistics
import subprocess
import sys
import time

import h5py


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_rust(exe, slide, out, extra):
    shutil.rmtree(out, ignore_errors=True)
    c0, t0 = cpu_children(), time.perf_counter()
    subprocess.run([exe, "split", slide, "--out", out, "--force", *extra],
                   check=True, stdout=subprocess.DEVNULL)
    wall, cpu = time.perf_counter() - t0, cpu_children() - c0
    name = os.path.splitext(os.path.basename(slide))[0]
    store = os.path.join(out, name + ".h5")
    with h5py.File(store, "r") as f:
        tiles = int(f.attrs["n_patches"])
    return dict(wall=wall, cpu=cpu, tiles=tiles, bytes=os.path.getsize(store))


def run_python(baseline, slide, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    h5 = os.path.join(out, "baseline.h5")
    c0, t0 = cpu_children(), time.perf_counter()
    p = subprocess.run([sys.executable, baseline, slide, h5], check=True,
                       stdout=subprocess.PIPE, text=True)
    wall, cpu = time.perf_counter() - t0, cpu_children() - c0
    line = json.loads(p.stdout.strip().splitlines()[-1])
    return dict(wall=wall, cpu=cpu, tiles=line["patches"], bytes=os.path.getsize(h5),
                internal_rate=line["patches_per_s"])


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slidescale", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--slide", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sweep", action="store_true",
                    help="also run every --compression (for docs/store.md)")
    a = ap.parse_args()

    # rust-min0.5: the baseline's tissue threshold (> 0.5; ours is >= 0.3),
    # so that output sizes compare over about the same tiles.
    arms = {"rust": [], "rust-j1": ["--jobs", "1"], "rust-min0.5": ["--min-tissue", "0.5"]}
    if a.sweep:
        for c in ["none", "lzf", "blosc-lz4", "deflate"]:
            arms[f"rust-{c}"] = ["--compression", c]
    results = {k: [] for k in [*arms, "python"]}
    print(f"slide {a.slide}, {a.reps} interleaved repetitions, {os.cpu_count()} cores",
          file=sys.stderr)
    for rep in range(a.reps):
        for arm, extra in arms.items():
            r = run_rust(a.slidescale, a.slide, os.path.join(a.out, arm), extra)
            results[arm].append(r)
            print(f"  rep {rep + 1} {arm:16} {r['tiles'] / r['wall']:8.1f} tiles/s "
                  f"({r['tiles']} tiles, {r['wall']:.2f} s, {r['cpu']:.2f} CPU s, "
                  f"{r['bytes'] / 2**20:.1f} MiB)",
                  file=sys.stderr)
        r = run_python(a.baseline, a.slide, os.path.join(a.out, "python"))
        results["python"].append(r)
        print(f"  rep {rep + 1} {'python':16} {r['tiles'] / r['wall']:8.1f} tiles/s "
              f"({r['tiles']} tiles, {r['wall']:.2f} s, {r['cpu']:.2f} CPU s, "
              f"{r['bytes'] / 2**20:.1f} MiB; "
              f"internal {r['internal_rate']:.1f}/s)", file=sys.stderr)

    def rate(arm):
        return med([r["tiles"] / r["wall"] for r in results[arm]])

    def cpu_ms(arm):
        return med([1000 * r["cpu"] / r["tiles"] for r in results[arm]])

    print(f"\nsplit throughput, median of {a.reps} (context tiles per second of wall time)")
    print(f"{'arm':16} {'tiles/s':>9} {'CPU ms/tile':>11} {'tiles':>6} {'MiB':>8} "
          f"{'KiB/tile':>9} {'wall s':>7}")
    for arm, rs in results.items():
        r0 = rs[0]
        print(f"{arm:16} {rate(arm):9.1f} {cpu_ms(arm):11.2f} {r0['tiles']:6d} "
              f"{r0['bytes'] / 2**20:8.1f} {r0['bytes'] / 1024 / max(1, r0['tiles']):9.1f} "
              f"{med([r['wall'] for r in rs]):7.2f}")
    py_internal = med([r["internal_rate"] for r in results["python"]])
    print(f"python internal rate (no start-up): {py_internal:.1f} tiles/s")
    ratio = rate("rust") / rate("python")
    paired = med([(r["tiles"] / r["wall"]) / (p["tiles"] / p["wall"])
                  for r, p in zip(results["rust"], results["python"])])
    print(f"ratio rust / python: {ratio:.2f}x (medians of wall-time rates), "
          f"{paired:.2f}x (median of the per-repetition ratios), "
          f"{rate('rust') / py_internal:.2f}x against the baseline's internal rate; "
          f"per core (rust --jobs 1 / python): {rate('rust-j1') / rate('python'):.2f}x; "
          f"CPU time per tile python / rust: {cpu_ms('python') / cpu_ms('rust'):.2f}x")
    rb, pb = results["rust"][0]["bytes"], results["python"][0]["bytes"]
    rt, pt = results["rust"][0]["tiles"], results["python"][0]["tiles"]
    print(f"output size rust / python: {rb / 2**20:.1f} / {pb / 2**20:.1f} MiB = {rb / pb:.2f} "
          f"({rt} vs {pt} tiles; per tile {(rb / rt) / (pb / pt):.2f})")
    sb, st = results["rust-min0.5"][0]["bytes"], results["rust-min0.5"][0]["tiles"]
    print(f"with the baseline's threshold (--min-tissue 0.5, {st} tiles): "
          f"{sb / 2**20:.1f} MiB = {sb / pb:.2f} of the baseline's")


if __name__ == "__main__":
    main()
