#!/usr/bin/env python3
"""Heatmap pipeline benchmark: slidescale vs the Python baseline, side by side.

usage: bench/run/run.sh [--reps 3] [--parts a,b,c] [--quick] [--batch N] [--slide /tmp/bench.tif]

Issue 3, requirement 8, on the large benchmark slide (16000x12000 tiled-JPEG
BigTIFF from CMU-1-Small-Region's H&E, ../shared/bench/make_bench_slide.sh),
2 cores for both sides, every configuration interleaved A/B then B/A:

  (a) one group (400 tiles), `process` throughput, windows/s:
        A  slidescale process WORK/bench.h5 --group 1 --model M --stride S --threads 2 --force
        B  python ../shared/bench/process.py bench.h5 g000001 M OUT --stride S --threads 2
      "task" = the command's own timing line (read + preprocess + infer +
      write, both exclude the model load); "wall" = windows over the whole
      command, start-up and model load included.
  (b) one slide end to end (split + process + stitch), slides/hour, wall clock:
        A  slidescale run SLIDE --model M --stride S --out FRESH --min-tissue 0.5
        B  python ../shared/bench/run_local.py SLIDE M FRESH --stride S
           (its defaults: 2 workers x 1 thread, groups of 400)
      --min-tissue 0.5 makes slidescale keep about the baseline's tissue
      (1169 vs 1158 tiles on the bench slide); windows/s are also shown.
  (c) the bare model: target/release/examples/bench_infer M --batch B
      --threads 2 (preprocessed random input, images/s per batch, median),
      to state (a) as a percentage of it.

--batch N passes --batch N to slidescale and to the bare-model run (default:
slidescale's own default batch, 32, for both; the baseline keeps its 64).

Each run records wall, its CPU seconds and the foreign load (CPU seconds of
other processes per wall second, from /proc/stat): the machine is shared.
Prints medians, ratios and the issue's targets; raw records go to
bench/out/run.jsonl. Build: run.sh builds the release binaries first.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("SLIDESCALE_SHARED", os.path.join(ROOT, "..", "shared"))
PY = os.environ.get("SLIDESCALE_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
RUST = os.path.join(ROOT, "target", "release", "slidescale")
INFER = os.path.join(ROOT, "target", "release", "examples", "bench_infer")
BASE = os.path.join(SHARED, "bench")
MODELS = {m: os.path.join(SHARED, "models", f"{m}.onnx") for m in ("googlenet", "smallcnn")}
CLK = os.sysconf("SC_CLK_TCK")
THREADS = 2
BATCH = []  # extra slidescale arguments, e.g. ["--batch", "32"]
DEFAULT_BATCH = "32"  # slidescale_infer::DEFAULT_BATCH


def busy_seconds():
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, cwd=None):
    """Run cmd; wall, own CPU, foreign load and the JSON lines it printed."""
    b0, c0, t0 = busy_seconds(), children_cpu(), time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - c0
    foreign = max(0.0, (busy_seconds() - b0 - cpu) / wall)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    lines = []
    for line in p.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    return dict(wall_s=wall, cpu_s=cpu, foreign=foreign, json=lines, stdout=p.stdout)


def setup(slide, tmp):
    """Split once for (a): slidescale's store and the baseline's."""
    if not os.path.exists(slide):
        subprocess.run([os.path.join(BASE, "make_bench_slide.sh"),
                        os.path.join(SHARED, "data", "slides", "CMU-1-Small-Region.svs"), slide],
                       check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    rs = os.path.join(tmp, "store")
    timed([RUST, "split", slide, "--out", rs, "--min-tissue", "0.5"])
    os.makedirs(os.path.join(tmp, "py"))
    timed([PY, os.path.join(BASE, "split.py"), slide, os.path.join(tmp, "py", "bench.h5")])
    name = os.path.splitext(os.path.basename(slide))[0]
    return os.path.join(rs, f"{name}.h5"), os.path.join(tmp, "py", "bench.h5")


def rust_process(store, tmp, model, stride):
    # One work directory per setting (run.json binds model and stride); the
    # store is hard-linked, not copied.
    work = os.path.join(tmp, f"a-{model}-{stride}")
    linked = os.path.join(work, os.path.basename(store))
    if not os.path.exists(linked):
        os.makedirs(work, exist_ok=True)
        os.link(store, linked)
    r = timed([RUST, "process", linked, "--group", "1", "--model", MODELS[model],
               "--stride", str(stride), "--threads", str(THREADS), "--force"] + BATCH)
    t = r["json"][-1]
    return dict(r, windows=t["windows"], task_wps=t["windows_per_s"],
                read_s=t["read_s"], infer_s=t["infer_s"], task_s=t["seconds"])


def py_process(h5, tmp, model, stride):
    out = os.path.join(tmp, "py-out")
    r = timed([PY, os.path.join(BASE, "process.py"), h5, "g000001", MODELS[model], out,
               "--stride", str(stride), "--threads", str(THREADS), "--batch", "64"])
    t = [j for j in r["json"] if j.get("stage") == "process"][-1]
    return dict(r, windows=t["windows"], task_wps=t["windows_per_s"],
                read_s=t["t_read"], infer_s=t["t_infer"], task_s=t["total_s"])


def bare_model(model):
    iters = "5" if model == "googlenet" else "20"
    batch = BATCH[1] if BATCH else DEFAULT_BATCH
    r = timed([INFER, MODELS[model], "--batch", batch, "--threads", str(THREADS),
               "--iters", iters, "--tiles", "1", "--stride", "224"])
    return dict(r, img_s=statistics.median(r["json"][-1]["all"]))


def rust_run(slide, tmp, model, stride):
    work = os.path.join(tmp, "b-rust")
    shutil.rmtree(work, ignore_errors=True)
    r = timed([RUST, "run", slide, "--model", MODELS[model], "--stride", str(stride),
               "--out", work, "--min-tissue", "0.5"] + BATCH)
    windows = int(r["stdout"].split(" windows")[0].rsplit("), ", 1)[-1])
    shutil.rmtree(work, ignore_errors=True)
    return dict(r, windows=windows)


def py_run(slide, tmp, model, stride):
    work = os.path.join(tmp, "b-py")
    shutil.rmtree(work, ignore_errors=True)
    r = timed([PY, os.path.join(BASE, "run_local.py"), slide, MODELS[model], work,
               "--stride", str(stride)], cwd=BASE)
    windows = [j for j in r["json"] if j.get("stage") == "process"][-1]["windows"]
    shutil.rmtree(work, ignore_errors=True)
    return dict(r, windows=windows)


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parts", default="a,b,c", help="comma list of a (process), b (run), c (bare model)")
    ap.add_argument("--quick", action="store_true", help="skip smallcnn stride 16 (the long one)")
    ap.add_argument("--batch", type=int, help="slidescale's --batch (and the bare model's)")
    ap.add_argument("--slide", default=os.environ.get("BENCH_SLIDE", "/tmp/bench.tif"))
    ap.add_argument("--tmp", default=os.environ.get("BENCH_TMP", "/tmp/slidescale-bench-run"))
    a = ap.parse_args()
    parts = set(a.parts.split(","))
    if a.batch:
        BATCH.extend(["--batch", str(a.batch)])
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    log = open(os.path.join(ROOT, "bench", "out", "run.jsonl"), "a")
    store, h5 = setup(a.slide, a.tmp)

    proc_cfgs = [("googlenet", 224), ("smallcnn", 224)] + ([] if a.quick else [("smallcnn", 16)])
    run_cfgs = [("googlenet", 224), ("smallcnn", 224)]
    res = {}

    def record(key, side, rep, r):
        r = {k: v for k, v in r.items() if k not in ("stdout",)}
        res.setdefault(key, {}).setdefault(side, []).append(r)
        log.write(json.dumps(dict(r, key=list(key), side=side, rep=rep)) + "\n")
        log.flush()
        print(f"  rep {rep} {key[0]:8s} {key[1]:9s} s{key[2]:<3d} {side:6s} wall {r['wall_s']:7.2f} s"
              f"  foreign load {r['foreign']:.2f}", flush=True)

    for rep in range(a.reps):
        flip = rep % 2 == 1
        if "a" in parts or "c" in parts:
            for model, stride in proc_cfgs:
                jobs = []
                if "a" in parts:
                    jobs += [("rust", lambda: rust_process(store, a.tmp, model, stride)),
                             ("python", lambda: py_process(h5, a.tmp, model, stride))]
                if "c" in parts and (model, stride) != ("smallcnn", 16):
                    jobs.append(("bare", lambda: bare_model(model)))
                for side, job in (jobs[::-1] if flip else jobs):
                    record(("process", model, stride), side, rep, job())
        if "b" in parts:
            for model, stride in run_cfgs:
                jobs = [("rust", lambda: rust_run(a.slide, a.tmp, model, stride)),
                        ("python", lambda: py_run(a.slide, a.tmp, model, stride))]
                for side, job in (jobs[::-1] if flip else jobs):
                    record(("run", model, stride), side, rep, job())

    report(res, a.reps, BATCH[1] if BATCH else f"{DEFAULT_BATCH} (default)")
    shutil.rmtree(a.tmp, ignore_errors=True)


def report(res, reps, batch):
    print(f"\nmedians of {reps} interleaved reps, 2 cores each side, slidescale batch {batch}, "
          f"baseline batch 64 (foreign load = other processes' cores in use, median)\n")
    print("| what | model | stride | slidescale | Python baseline | ratio | bare model | slidescale % of bare | foreign load |")
    print("|---|---|---|---|---|---|---|---|---|")
    bare = {}
    for (stage, model, stride), sides in res.items():
        if "bare" in sides:
            bare[model] = med(sides["bare"], "img_s")
    verdicts = []
    for (stage, model, stride), sides in res.items():
        load = statistics.median(r["foreign"] for rows in sides.values() for r in rows)
        if stage == "process" and "rust" in sides:
            rs, py = med(sides["rust"], "task_wps"), med(sides["python"], "task_wps")
            rw = statistics.median(r["windows"] / r["wall_s"] for r in sides["rust"])
            pw = statistics.median(r["windows"] / r["wall_s"] for r in sides["python"])
            b = bare.get(model)
            pct = f"{100 * rs / b:.0f}%" if b else "-"
            bs = f"{b:.1f} img/s" if b else "-"
            print(f"| process, 1 group, windows/s (task) | {model} | {stride} | {rs:.1f} | {py:.1f} | "
                  f"{rs / py:.2f} | {bs} | {pct} | {load:.2f} |")
            print(f"| process, 1 group, windows/s (wall) | {model} | {stride} | {rw:.1f} | {pw:.1f} | "
                  f"{rw / pw:.2f} | | | |")
            if b:
                verdicts.append((f"process {model} s{stride} >= 90% of bare model", rs / b >= 0.9,
                                 f"{100 * rs / b:.0f}%"))
            if model == "googlenet":
                verdicts.append((f"process googlenet s{stride} >= baseline", rs >= py, f"x{rs / py:.2f}"))
        elif stage == "run":
            rs, py = med(sides["rust"], "wall_s"), med(sides["python"], "wall_s")
            rwin = statistics.median(r["windows"] / r["wall_s"] for r in sides["rust"])
            pwin = statistics.median(r["windows"] / r["wall_s"] for r in sides["python"])
            print(f"| run end to end, slides/hour | {model} | {stride} | {3600 / rs:.0f} ({rs:.1f} s) | "
                  f"{3600 / py:.0f} ({py:.1f} s) | {py / rs:.2f} | | | {load:.2f} |")
            print(f"| run end to end, windows/s | {model} | {stride} | {rwin:.1f} | {pwin:.1f} | "
                  f"{rwin / pwin:.2f} | | | |")
            need = 1.0 if model == "googlenet" else 3.0
            verdicts.append((f"run {model} s{stride} >= {need:g}x baseline", py / rs >= need,
                             f"x{py / rs:.2f}"))
        elif "bare" in sides:
            print(f"| bare model, images/s (batch {BATCH[1] if BATCH else DEFAULT_BATCH}) | {model} | - | {bare[model]:.1f} | | | | | {load:.2f} |")
    print("\ntargets (issue 3, requirement 8):")
    for what, ok, value in verdicts:
        print(f"  {'MET   ' if ok else 'MISSED'} {what}: {value}")


if __name__ == "__main__":
    sys.exit(main())
