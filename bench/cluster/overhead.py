"""Overhead of the scheduler path, end to end (not a timed test).

The same slides, model, stride and 2 cores through
  A  slidescale run --executor local           (in-process pool, both cores)
  B  slidescale run --executor slurm --wait    (single-node SLURM, 2 CPUs, 1 core per task)
  C  the Python baseline, shared/bench/run_local.py (2 workers), one slide after the other
interleaved A/B/C per repetition; prints medians and the ratios B/A and C/A.

After the last SLURM run it also replays that run through `slidescale simulate`
(2 cores, 1 per task, SLURM's measured costs) and prints predicted against
measured wall time.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd, **kw):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t


def ledger_and_exits(job_dir):
    """Submission times of the jobs and start/end of their tasks."""
    jobs = [json.loads(line) for line in open(os.path.join(job_dir, "submitted.jsonl"))]
    tasks = []
    for j in jobs:
        d = os.path.join(job_dir, "exit", j["key"])
        for t in os.listdir(d) if os.path.isdir(d) else []:
            if t.isdigit():
                rc, start, end = open(os.path.join(d, t)).read().split()[:3]
                tasks.append((j, float(start), float(end), int(t)))
    return jobs, tasks


def start_gaps(jobs, tasks, cores):
    """Per task start, the seconds since it could have started: since its
    job was eligible (submitted; for the master the last split end, for a
    stitch its slide's last group end) and one of the node's cores was free
    (replaying which core each task held)."""
    ends = {}
    for j, _, end, _ in tasks:
        key = "split" if j["stage"] == "split" else (j["stage"], j.get("slide"))
        ends[key] = max(ends.get(key, 0.0), end)
    free = [0.0] * cores
    gaps = []
    for j, start, end, _ in sorted(tasks, key=lambda t: t[1]):
        eligible = j["submitted"]
        if j["stage"] == "master":
            eligible = max(eligible, ends.get("split", 0.0))
        elif j["stage"] == "stitch":
            eligible = max(eligible, ends.get(("process", j["slide"]), 0.0))
        # the core freed most recently before this start
        i = max((k for k in range(cores) if free[k] <= start + 1e-6), key=lambda k: free[k], default=None)
        if i is None:  # more tasks than cores at once: take the earliest-free core
            i = min(range(cores), key=lambda k: free[k])
        gaps.append(start - max(eligible, free[i]))
        free[i] = end
    return gaps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slidescale", required=True)
    ap.add_argument("--baseline", required=True, help="shared/bench/run_local.py")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--slide", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--stride", type=int, default=32)
    ap.add_argument("--group-size", type=int, default=12)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tmp", default="/tmp/slidescale-bench-cluster")
    a = ap.parse_args()

    shutil.rmtree(a.tmp, ignore_errors=True)
    os.makedirs(os.path.join(a.tmp, "slides"))
    slides = []
    for i in range(a.copies):
        p = os.path.join(a.tmp, "slides", f"slide{i + 1}.svs")
        shutil.copy(a.slide, p)
        slides.append(p)
    common = ["--model", a.model, "--stride", str(a.stride), "--group-size", str(a.group_size)]
    times = {"local": [], "slurm": [], "python": []}
    for rep in range(a.reps):
        for kind in ("local", "slurm", "python"):
            work = os.path.join(a.tmp, kind)
            shutil.rmtree(work, ignore_errors=True)
            if kind == "local":
                cmd = [a.slidescale, "run", *slides, "--out", work, *common]
                times[kind].append(timed(cmd))
            elif kind == "slurm":
                cmd = [a.slidescale, "run", *slides, "--out", work, *common,
                       "--executor", "slurm", "--threads", "1", "--wait"]
                times[kind].append(timed(cmd))
            else:
                t = 0.0
                for s in slides:
                    name = os.path.splitext(os.path.basename(s))[0]
                    cmd = [a.python, a.baseline, s, a.model, os.path.join(work, name),
                           "--workers", "2", "--threads", "1", "--stride", str(a.stride),
                           "--group-size", str(a.group_size)]
                    t += timed(cmd, stderr=subprocess.DEVNULL)
                times[kind].append(t)
            print(f"rep {rep + 1} {kind:6} {times[kind][-1]:7.2f} s", flush=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{a.copies} x {os.path.basename(a.slide)}, stride {a.stride}, group size {a.group_size}, "
          f"2 cores, medians of {a.reps}:")
    print(f"  local executor      {med['local']:7.2f} s")
    print(f"  SLURM (--wait)      {med['slurm']:7.2f} s   ratio SLURM/local {med['slurm'] / med['local']:.2f}")
    print(f"  Python baseline     {med['python']:7.2f} s   ratio Python/local {med['python'] / med['local']:.2f}")

    # The last SLURM run against the model's prediction, with the scheduler's
    # costs measured in that run: dispatch latency (below) and start-up per
    # task (wrapper time - the task's own timing line, median over process
    # tasks).
    work = os.path.join(a.tmp, "slurm")
    job_dir = os.path.join(work, "jobs", "run-001")
    jobs, tasks = ledger_and_exits(job_dir)
    overheads = []
    for j, start, end, task in tasks:
        if j["stage"] == "process":
            group = j["groups"][task - 1]
            line = os.path.join(work, "logs", "timing", "process", j["slide"], f"{group:06d}.json")
            overheads.append((end - start) - json.load(open(line))["seconds"])
    latency = statistics.median(start_gaps(jobs, tasks, cores=2))
    overhead = statistics.median(overheads)
    first = min(j["submitted"] for j in jobs)
    last = max(end for _, _, end, _ in tasks)
    sim = subprocess.run(
        [a.slidescale, "simulate", "--groups-from", work, "--cores", "2", "--cores-per-task", "1",
         "--max-array-size", "1000", "--submit-overhead", "0.01", "--dispatch-latency", f"{latency:.3f}",
         "--task-overhead", f"{overhead:.3f}", "--plan-seconds", "0.5", "--json"],
        check=True, capture_output=True, text=True)
    pred = json.loads(sim.stdout)
    print(f"\nsimulate vs the last SLURM run (measured there: dispatch latency {latency:.2f} s, "
          f"start-up {overhead:.2f} s per task):")
    print(f"  measured: first submission to last task end {last - first:7.2f} s")
    print(f"  predicted wall time                         {pred['wall_s']:7.2f} s "
          f"({100 * (pred['wall_s'] / (last - first) - 1):+.1f}%)")


if __name__ == "__main__":
    main()
