"""What the integrity checks cost: an earlier slidescale (OLD) against this one
(NEW) on the same slide, interleaved A/B in one invocation, medians and ratios.

Per repetition, for each binary in turn (order alternating):
  split    SLIDE --out DIR            tiles/s, CPU ms per tile   (native reader's
                                      JPEG checks + CRC-32 of every tile, new)
  process  DIR/NAME.h5 --group 1      windows/s, CPU s           (CRC-32 checked on
           --model smallcnn --stride 224                          every tile read, new)
  status   DIR --verify               seconds (new only: every tile and result)
smallcnn at stride 224 scores one window per tile, so `process` is the case
where reading (and checking) tiles weighs most against scoring them.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    """Run cmd; (wall seconds, child CPU seconds). Fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def tiles_of(stdout):
    for line in stdout.splitlines():
        if line.startswith("total:"):
            # "total: 1 slides (...), T tiles in G groups, ..."
            words = line.replace(",", " ").split()
            return int(words[words.index("tiles") - 1])
    sys.exit("no total line in split's output")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True, help="the earlier slidescale binary")
    ap.add_argument("--new", required=True)
    ap.add_argument("--slide", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="2")
    a = ap.parse_args()
    name = os.path.splitext(os.path.basename(a.slide))[0]
    res = {k: {"split_tps": [], "split_cpu_ms": [], "proc_wps": [], "proc_cpu": []} for k in ("old", "new")}
    verify = []
    tmp = tempfile.mkdtemp(prefix="slidescale-bench-integrity-")
    try:
        for rep in range(a.reps):
            order = ("old", "new") if rep % 2 == 0 else ("new", "old")
            for who in order:
                binary = getattr(a, who)
                work = os.path.join(tmp, f"{who}-{rep}")
                wall, cpu, out = timed([binary, "split", a.slide, "--out", work, "-j", a.threads])
                tiles = tiles_of(out)
                res[who]["split_tps"].append(tiles / wall)
                res[who]["split_cpu_ms"].append(1000 * cpu / tiles)
                store = os.path.join(work, f"{name}.h5")
                wall, cpu, _ = timed([binary, "process", store, "--group", "1", "--model", a.model,
                                      "--stride", "224", "--threads", a.threads])
                # group 1 holds the group size's worth of tiles, one window each
                group = min(tiles, 400)
                res[who]["proc_wps"].append(group / wall)
                res[who]["proc_cpu"].append(cpu)
                if who == "new":
                    # exit 1 (incomplete: only one group scored) is expected;
                    # 65 would mean damage
                    t = time.perf_counter()
                    done = subprocess.run([binary, "status", work, "--verify"], capture_output=True)
                    verify.append(time.perf_counter() - t)
                    if done.returncode == 65:
                        sys.exit(f"status --verify found damage in {work}")
                shutil.rmtree(work)
        load = os.getloadavg()[0]
        med = statistics.median
        print(f"slide {a.slide}: {tiles} tiles; {a.reps} interleaved reps, {a.threads} threads; "
              f"load average at the end {load:.2f}")
        rows = [("split tiles/s", "split_tps", True), ("split CPU ms/tile", "split_cpu_ms", False),
                ("process group 1 windows/s", "proc_wps", True), ("process CPU s", "proc_cpu", False)]
        print(f"{'':28} {'old':>10} {'new':>10} {'new/old':>8}")
        for label, key, _ in rows:
            o, n = med(res["old"][key]), med(res["new"][key])
            print(f"{label:28} {o:10.2f} {n:10.2f} {n / o:8.3f}")
        print(f"status --verify (new): median {med(verify):.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
