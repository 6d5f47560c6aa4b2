"""Issue 9, requirement 8: the W = T = 224 level-0 path, this tree against an
earlier commit, side by side in one run.

usage: regress.py NEW_BIN OLD_BIN SLIDE MODEL [--reps 3] [--stride 16]

For each binary, interleaved (new, old, then old, new, …) on the same slide:
  split    `slidescale split SLIDE --out FRESH`           (wall, from outside)
  process  `slidescale process W/NAME.h5 --group 1 --model M --stride S
           --threads 2 --force`                           (its timing line)
Then checks the outputs are the same bits: every group's tiles, coordinates,
the tissue mask and the thumbnail of the two stores, and the two results.
Prints a table of medians and ratios (new / old) and one JSON line.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import h5py
import hdf5plugin  # noqa: F401
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("new")
p.add_argument("old")
p.add_argument("slide")
p.add_argument("model")
p.add_argument("--reps", type=int, default=3)
p.add_argument("--stride", type=int, default=16)
a = p.parse_args()
name = os.path.splitext(os.path.basename(a.slide))[0]
root = tempfile.mkdtemp(prefix="slidescale-regress-")
times = {"new": {"split": [], "process": []}, "old": {"split": [], "process": []}}


def split(which, binary, rep):
    work = os.path.join(root, f"{which}-{rep}")
    t = time.perf_counter()
    subprocess.run([binary, "split", a.slide, "--out", work, "-j", "2"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times[which]["split"].append(time.perf_counter() - t)
    return work


def process(which, binary, work):
    out = subprocess.run([binary, "process", os.path.join(work, f"{name}.h5"), "--group", "1",
                          "--model", a.model, "--stride", str(a.stride), "--threads", "2",
                          "--force"], check=True, capture_output=True, text=True).stdout
    line = json.loads(out.strip().splitlines()[-1])
    times[which]["process"].append(line["windows"] / line["seconds"])


works = {}
for rep in range(a.reps):
    order = [("new", a.new), ("old", a.old)]
    if rep % 2:
        order.reverse()
    for which, binary in order:
        works[which] = split(which, binary, rep)
        process(which, binary, works[which])


def same_stores(x, y):
    with h5py.File(x, "r") as f, h5py.File(y, "r") as g:
        parts = ["thumbnail", "tissue_mask"] + [f"groups/{k}/{d}" for k in f["groups"]
                                                for d in ("tiles", "coords")]
        return all(np.array_equal(f[p][...], g[p][...]) for p in parts), len(f["groups"])


stores_equal, groups = same_stores(os.path.join(works["new"], f"{name}.h5"),
                                   os.path.join(works["old"], f"{name}.h5"))
res = [np.load(os.path.join(works[w], "results", name, "000001.npy")) for w in ("new", "old")]
results_equal = res[0].tobytes() == res[1].tobytes()
med = {w: {k: statistics.median(v) for k, v in t.items()} for w, t in times.items()}
print(f"{'':28}{'new':>12}{'old':>12}{'new/old':>10}")
print(f"{'split, s (wall)':28}{med['new']['split']:12.2f}{med['old']['split']:12.2f}"
      f"{med['new']['split'] / med['old']['split']:10.3f}")
print(f"{'process, windows/s (task)':28}{med['new']['process']:12.1f}{med['old']['process']:12.1f}"
      f"{med['new']['process'] / med['old']['process']:10.3f}")
print(f"stores bit-identical: {stores_equal} ({groups} groups); group-1 results bit-identical: {results_equal}")
print(json.dumps(dict(times=times, medians=med, stores_equal=stores_equal,
                      results_equal=results_equal, reps=a.reps, stride=a.stride)))
shutil.rmtree(root)
