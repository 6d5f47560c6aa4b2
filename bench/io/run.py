#!/usr/bin/env python3
"""Drive bench/io: time each way of reading N tiles, warm and cold cache.

Called by bench/io/run.sh (which builds and prepares everything); prints
each run's JSON line, then a table of medians, writes io.jsonl, io.md and
io.png to --out, and ends with the recommended group size.

Modes: those of examples/io_bench.rs (group, pieces of 16, tile, files,
slide); `group-raw` and `tile-raw`, the same reads from a second store
split with `--compression none` (the bytes the one-file-per-tile copy holds,
so store vs files compares file layout alone, not LZ4); and `h5py`, the Python baseline's way (h5py + hdf5plugin reading the group's
first N tiles in one slice, CRC-32 of each tile, as the shared baseline's
process.py reads a group), timed inside the Python process.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

MODES = ["group", "pieces", "tile", "group-raw", "tile-raw", "files", "slide", "h5py"]

H5PY = r"""
import json, sys, time, zlib
import hdf5plugin, h5py
n = int(sys.argv[2])
t = time.perf_counter()
with h5py.File(sys.argv[1], "r") as f:
    tiles = f["groups/000001/tiles"][:n]
    s = sum(zlib.crc32(x.tobytes()) & 1 for x in tiles)
dt = time.perf_counter() - t
print(json.dumps({"mode": "h5py", "n": n, "seconds": dt, "tiles_per_s": n / dt, "checksum": s}))
"""


def drop_caches():
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def one(args, mode, n):
    if mode == "h5py":
        cmd = [sys.executable, "-c", H5PY, args.store, str(n)]
    else:
        base, raw = mode.removesuffix("-raw"), mode.endswith("-raw")
        store = args.raw_store if raw else args.store
        cmd = [args.bench, "read", "--mode", base, "--n", str(n), store, "--files", args.files, "--slide", args.slide]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    r["mode"] = mode  # io_bench names the read, not the store it read from
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--store", required=True)
    ap.add_argument("--raw-store", required=True, help="the same slide split with --compression none")
    ap.add_argument("--files", required=True)
    ap.add_argument("--slide", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ns", default="50,100,200,400,800,1600,3200")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--summarise", metavar="IO.JSONL", help="only summarise an earlier run's log")
    a = ap.parse_args()
    ns = [int(x) for x in a.ns.split(",")]
    modes = a.modes.split(",")
    caches = ["warm"] + ([] if a.no_cold else ["cold"])
    if a.summarise:
        rows = [json.loads(line) for line in open(a.summarise)]
        a.reps = len({r["rep"] for r in rows})
        return summarise(rows, ns, modes, caches, a)
    if "cold" in caches and os.geteuid() != 0:
        sys.exit("bench/io: cold runs drop the page cache and need root (or pass --no-cold)")
    rows = []
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "io.jsonl"), "w")
    # interleaved: every (cache, N, mode) once per repetition, so the shared
    # machine's load drifts over all arms alike
    for rep in range(a.reps):
        for cache in caches:
            for n in ns:
                for mode in modes:
                    if cache == "warm":
                        one(a, mode, n)  # bring the bytes into the page cache
                    else:
                        drop_caches()
                    r = one(a, mode, n)
                    r.update(cache=cache, rep=rep)
                    print(json.dumps(r), flush=True)
                    log.write(json.dumps(r) + "\n")
                    rows.append(r)
    log.close()
    summarise(rows, ns, modes, caches, a)


def summarise(rows, ns, modes, caches, a):
    med = {}
    for r in rows:
        med.setdefault((r["cache"], r["mode"], r["n"]), []).append(r["tiles_per_s"])
    med = {k: statistics.median(v) for k, v in med.items()}
    lines = [f"medians of {a.reps} repetitions, tiles/s (448x448x3 context tiles, one thread)", ""]
    for cache in caches:
        lines += [f"**{cache} cache**", "", "| N | " + " | ".join(modes) + " |", "|---" * (len(modes) + 1) + "|"]
        for n in ns:
            lines.append(f"| {n} | " + " | ".join(f"{med[(cache, m, n)]:.0f}" for m in modes) + " |")
        lines.append("")
    # Recommendation: the smallest N at which reading a group the way
    # `process` does (pieces of 16; the whole-group read when pieces were
    # not run), cold cache, reaches 90 % of its best rate. Read in pieces,
    # a group's size no longer sets a task's tile memory (2 pieces in
    # flight), so past that N a bigger group only costs scheduling freedom
    # (fewer, longer tasks; coarser resume).
    cache = "cold" if "cold" in caches else "warm"
    how = "pieces" if "pieces" in modes else "group"
    best = max(med[(cache, how, n)] for n in ns)
    rec = next(n for n in ns if med[(cache, how, n)] >= 0.9 * best)
    per_tile = " ".join(f"{n}:{1e3 / med[(cache, how, n)]:.2f}" for n in ns)
    lines.append(
        f"{cache}-cache `{how}` read, ms a tile by N: {per_tile}\n"
        f"recommended group size on this machine: {rec} tiles: the smallest N at which the {cache}-cache "
        f"`{how}` read reaches 90 % of its best rate ({best:.0f} tiles/s)"
        + (" (the largest measured: the rate was still rising)" if rec == ns[-1] else "")
    )
    text = "\n".join(lines)
    print("\n" + text)
    with open(os.path.join(a.out, "io.md"), "w") as f:
        f.write(text + "\n")
    plot(med, ns, modes, caches, os.path.join(a.out, "io.png"))


def plot(med, ns, modes, caches, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, mode in enumerate(modes):
        for cache, style in zip(caches, ["-", "--"]):
            ax.plot(ns, [med[(cache, mode, n)] for n in ns], style, marker="o", color=f"C{i}", label=f"{mode} ({cache})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.set_xlabel("tiles read (N)")
    ax.set_ylabel("tiles / s (median)")
    ax.set_title("Reading N 448x448 tiles: store group vs tile vs files vs slide")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
