"""Helpers of bench/fast/run.sh (no project code; reads check-fast --json).

  summarize.py export CHECK.json WORK OUT.h5   the sampled tiles in the Python
                                               baseline's layout (g000001/patches)
  summarize.py table RESULTS_DIR               the table from the JSON lines
"""
import glob
import json
import os
import statistics
import sys


def export(check, work, out):
    import h5py
    import hdf5plugin  # noqa: F401
    import numpy as np
    rep = lines(check)[0]
    tiles = []
    for t in rep["sampled"]:
        with h5py.File(os.path.join(work, t["store"] + ".h5"), "r") as f:
            tiles.append(f["groups"][f"{t['group']:06d}"]["tiles"][t["index"]])
    tiles = np.stack(tiles)
    margin = (tiles.shape[1] - 224) // 2
    with h5py.File(out, "w") as f:
        f.attrs.update(slide_name="sampled", tile=224, margin=margin)
        f.create_dataset("g000001/patches", data=tiles)


def lines(path):
    return [json.loads(x) for x in open(path) if x.startswith("{")]


def table(d):
    med = statistics.median
    print("%-6s %9s %9s %9s %9s %9s | %7s %7s %7s %7s | %-34s %-34s %-34s" % (
        "stride", "python", "slide32", "dense32", "slide8", "dense8",
        "d32/s32", "s8/s32", "d8/s32", "s32/py",
        "dense fp32: max|d| mean|d| r agr%", "sliding int8", "dense int8"))
    for s in (16, 32, 56, 224):
        runs = {k: lines(f"{d}/s{s}-{k}.jsonl") for k in ("dense", "int8", "dense-int8")}
        py = med(r["windows_per_s"] for r in lines(f"{d}/s{s}-python.jsonl")
                 if r.get("stage") == "process")
        exact = med(r["exact"]["windows_per_s"] for v in runs.values() for r in v)
        fast = {k: med(r["fast"]["windows_per_s"] for r in v) for k, v in runs.items()}
        fig = {k: "%.4f %.4f %.4f %.2f" % (v[0]["max_abs"], v[0]["mean_abs"],
                                             v[0]["correlation"] or float("nan"),
                                             100 * v[0]["agree_05"])
               for k, v in runs.items()}
        print("%-6d %9.1f %9.1f %9.1f %9.1f %9.1f | %6.1fx %6.1fx %6.1fx %6.2fx | %-34s %-34s %-34s" % (
            s, py, exact, fast["dense"], fast["int8"], fast["dense-int8"],
            fast["dense"] / exact, fast["int8"] / exact, fast["dense-int8"] / exact, exact / py,
            fig["dense"], fig["int8"], fig["dense-int8"]))
    w = d + "/e2e.json"
    if os.path.exists(w):
        e = json.load(open(w))
        print("end to end at stride 16: run %.1f windows/s (%d windows, %.1f s), process %.1f "
              "windows/s: run/process %.2f" % (e["run"], e["windows"], e["run_s"], e["process"],
                                               e["run"] / e["process"]))


if __name__ == "__main__":
    {"export": lambda: export(*sys.argv[2:5]), "table": lambda: table(sys.argv[2])}[sys.argv[1]]()
