#!/usr/bin/env python3
"""Evaluation benchmark: slidescale evaluate vs the reference pipeline (driven by run.sh).

Cases (inputs made by crates/slidescale/tests/eval_support/make_cohort.py):
  one   Tumor_001: ONE CAMELYON16-sized tumour slide (97,792 x 221,184 at
        0.243 um/px, the real Tumor_001 outlines, stride-16 heatmap
        13,832 x 6,118 float32, 338 MB), plus 9 cohort-size slides (16,384^2,
        heatmap 1,036^2: 4 tumour, 5 normal) because the slide-level forest
        cross-validates and needs >= 5 slides of each class; those 9 add
        about 9 x 1/80 of the big slide's pixels.
  400   400 slide names (200 tumour, 200 normal) over the 30 distinct
        cohort-size heatmaps (15 + 15) of `make_cohort.py --tumour 15
        --normal 15`: each name's .npy, outline and mask TIFF are symlinks to
        one of the 30, its sidecar a copy naming the slide (read_heatmap
        checks only shape and CRC-32, not the name). 400 CAMELYON-sized
        heatmaps (135 GB) do not fit on this disk.
  400-camelyon  slidescale only (--cases 400-camelyon; the reference would
        take hours): 400 names (200 tumour with the Tumor_001 outlines, 200
        normal) all linked to the one CAMELYON-sized heatmap.
Both sides get the same WORK and labels.csv; slidescale reads the outlines,
the reference the mask TIFFs slidescale writes from them (an untimed
`--write-masks` run first: the challenge's script takes mask TIFFs).
  A  slidescale evaluate WORK --annotations OUTLINES --labels labels.csv
       --strides 16,64,128,224 --out OUT
  B  python bench/eval/reference.py WORK labels.csv MASKS --strides 16,64,128,224
Each run under /usr/bin/time -v: wall clock and peak RSS (max resident set).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

STRIDES = "16,64,128,224"


def timed(cmd, log):
    """Run cmd under /usr/bin/time -v; (wall s, peak RSS bytes, stdout)."""
    p = subprocess.run(["/usr/bin/time", "-v", "-o", log, *cmd], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    text = open(log).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024
    return secs, rss, p.stdout


def make_inputs(a):
    """The CAMELYON-sized slide and the 30-slide cohort, once (kept in --data)."""
    gen = [sys.executable, a.make_cohort]
    big = os.path.join(a.data, "camelyon")
    if not os.path.exists(os.path.join(big, "labels.csv")):
        print("[bench] making the CAMELYON-sized slide", file=sys.stderr)
        subprocess.run([*gen, big, "--camelyon", "Tumor_001"], check=True)
    cohort = os.path.join(a.data, "cohort")
    if not os.path.exists(os.path.join(cohort, "labels.csv")):
        print("[bench] making the 30-slide cohort", file=sys.stderr)
        subprocess.run([*gen, cohort, "--tumour", "15", "--normal", "15"], check=True)
    return big, cohort


def link_slide(dst, name, src_dir, src, outline_of, tumour):
    """dst gets slide `name` as a link to slide `src` of src_dir (sidecar copied, renamed)."""
    for sub in ("work/heatmaps", "outlines", "masks"):
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    heat = os.path.join(src_dir, "work", "heatmaps")
    os.symlink(os.path.join(heat, src + ".npy"), os.path.join(dst, "work", "heatmaps", name + ".npy"))
    meta = json.load(open(os.path.join(heat, src + ".json")))
    meta["slide"] = name
    with open(os.path.join(dst, "work", "heatmaps", name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)
    if tumour:
        outline = outline_of[src]
        ext = os.path.splitext(outline)[1]
        os.symlink(outline, os.path.join(dst, "outlines", name + ext))
        os.symlink(os.path.join(src_dir, "masks", src + ".tif"), os.path.join(dst, "masks", name + ".tif"))


def outlines(d):
    o = os.path.join(d, "outlines")
    return {os.path.splitext(f)[0]: os.path.join(o, f) for f in os.listdir(o)}


def write_masks(a, d):
    """The untimed run that writes d/masks/NAME.tif from the outlines. On
    the lone CAMELYON slide it fails at the slide-level forest (one slide
    cannot be cross-validated), after the masks are written: checked here."""
    out = os.path.join(a.data, "masks-run-" + os.path.basename(d))
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([a.slidescale, "evaluate", os.path.join(d, "work"), "--annotations",
                    os.path.join(d, "outlines"), "--labels", os.path.join(d, "labels.csv"),
                    "--out", out, "--write-masks"], stdout=subprocess.DEVNULL)
    for name in outlines(d):
        if not os.path.exists(os.path.join(out, "masks", name + ".tif")):
            sys.exit(f"no mask {name}.tif written in {out}/masks")
    shutil.rmtree(os.path.join(d, "masks"), ignore_errors=True)
    shutil.move(os.path.join(out, "masks"), os.path.join(d, "masks"))


def build_case(dst, slides):
    """slides: [(name, src_dir, src, tumour)]."""
    shutil.rmtree(dst, ignore_errors=True)
    cache = {}
    for name, src_dir, src, tumour in slides:
        if src_dir not in cache:
            cache[src_dir] = outlines(src_dir)
        link_slide(dst, name, src_dir, src, cache[src_dir], tumour)
    with open(os.path.join(dst, "labels.csv"), "w") as f:
        f.write("slide,label\n" + "".join(f"{n},{'tumor' if t else 'normal'}\n" for n, *_, t in slides))
    return dst


def cases(big, cohort):
    one = [("Tumor_001", big, "Tumor_001", True)]
    one += [(f"tumor_{i:03d}", cohort, f"tumor_{i:03d}", True) for i in range(1, 5)]
    one += [(f"normal_{i:03d}", cohort, f"normal_{i:03d}", False) for i in range(1, 6)]
    many = [(f"tumor_{i:03d}", cohort, f"tumor_{i % 15 + 1:03d}", True) for i in range(200)]
    many += [(f"normal_{i:03d}", cohort, f"normal_{i % 15 + 1:03d}", False) for i in range(200)]
    big400 = [(f"tumor_{i:03d}", big, "Tumor_001", True) for i in range(200)]
    big400 += [(f"normal_{i:03d}", big, "Tumor_001", False) for i in range(200)]
    big_bytes = os.path.getsize(os.path.join(big, "work", "heatmaps", "Tumor_001.npy"))
    return {"one": (one, big_bytes), "400": (many, os.path.getsize(
                os.path.join(cohort, "work", "heatmaps", "tumor_001.npy"))),
            "400-camelyon": (big400, big_bytes)}


def run_rust(a, d, log):
    """slidescale evaluate; its per-stride FROC and AUC as stdout (from OUT's JSON tables)."""
    out = os.path.join(a.data, "out-rust")
    shutil.rmtree(out, ignore_errors=True)
    wall, rss, _ = timed([a.slidescale, "evaluate", os.path.join(d, "work"), "--annotations",
                          os.path.join(d, "outlines"), "--labels", os.path.join(d, "labels.csv"),
                          "--strides", STRIDES, "--out", out], log)
    summary = {}
    for table, key in (("froc_by_stride.json", "froc_score"), ("auc_by_stride.json", "auc")):
        for r in json.load(open(os.path.join(out, table)))["rows"]:
            summary.setdefault(str(r["stride"]), {})[key] = r[key]
    return wall, rss, json.dumps(summary)


def run_reference(a, d, log):
    return timed([sys.executable, a.reference, os.path.join(d, "work"),
                  os.path.join(d, "labels.csv"), os.path.join(d, "masks"),
                  "--strides", STRIDES], log)


def res_ran(med):
    return "reference" in med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slidescale", required=True)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--make-cohort", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--reps-one", type=int, default=3)
    ap.add_argument("--reps-400", type=int, default=1)
    ap.add_argument("--cases", default="one,400")
    a = ap.parse_args()
    a.data = os.path.abspath(a.data)  # symlinks are made to absolute paths
    os.makedirs(a.data, exist_ok=True)
    big, cohort = make_inputs(a)
    for d in (big, cohort):
        if not os.path.isdir(os.path.join(d, "masks")):
            write_masks(a, d)
    all_cases = cases(big, cohort)
    reps = {"one": a.reps_one, "400": a.reps_400, "400-camelyon": a.reps_400}
    log = os.path.join(a.data, "time.log")
    rows = []
    for case in a.cases.split(","):
        slides, heat_bytes = all_cases[case]
        d = build_case(os.path.join(a.data, "case-" + case), slides)
        res = {"rust": [], "reference": []}
        for rep in range(reps[case]):
            # interleaved, the order swapped every repetition
            arms = [("rust", run_rust), ("reference", run_reference)]
            if case == "400-camelyon":
                arms = arms[:1]
            for arm, fn in arms if rep % 2 == 0 else arms[::-1]:
                wall, rss, stdout = fn(a, d, log)
                res[arm].append((wall, rss))
                print(f"  {case} rep {rep + 1} {arm:9} {wall:8.2f} s  peak RSS {rss / 2**20:8.1f} MiB",
                      file=sys.stderr)
                print(f"    {arm} FROC/AUC per stride: {stdout.strip()}", file=sys.stderr)
        med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v))
               for k, v in res.items() if v}
        rows.append((case, reps[case], heat_bytes, med))
        with open(os.path.join(a.data, "eval.jsonl"), "a") as f:
            f.write(json.dumps({"case": case, "runs": res, "heatmap_bytes": heat_bytes}) + "\n")
    print(f"\nevaluate, {STRIDES}, medians (wall s, peak RSS); {os.cpu_count()} cores")
    print(f"| case | reps | slidescale | reference | time ratio | slidescale RSS / heatmap | reference RSS / heatmap |")
    print("|---|---|---|---|---|---|---|")
    for case, n, hb, med in rows:
        (rw, rr) = med["rust"]
        if not res_ran(med):
            print(f"| {case} | {n} | {rw:.2f} s / {rr / 2**20:.0f} MiB | not run | | {rr / hb:.2f} | |")
            continue
        (pw, pr) = med["reference"]
        print(f"| {case} | {n} | {rw:.2f} s / {rr / 2**20:.0f} MiB | {pw:.2f} s / {pr / 2**20:.0f} MiB "
              f"| {pw / rw:.2f}x | {rr / hb:.2f} | {pr / hb:.2f} |")
    print("(heatmap = one slide's .npy: %s)" % ", ".join(f"{c} {hb / 2**20:.1f} MiB" for c, _, hb, _ in rows))


if __name__ == "__main__":
    main()
