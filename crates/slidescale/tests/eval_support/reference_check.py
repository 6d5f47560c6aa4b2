"""Recompute an evaluation's numbers with the references, from its files.

usage: reference_check.py EVAL_DIR LABELS_CSV MASK_DIR [DETECT_DIR]

For every stride in EVAL_DIR/froc_by_stride.json:
  * FROC: the CAMELYON16 script's own computeEvaluationMask /
    computeITCList on MASK_DIR/NAME.tif (read through openslide-python),
    compute_FP_TP_Probs, computeFROC and its __main__'s interpolation, on the
    detections slidescale listed (EVAL_DIR/stride-S/detections.csv, written
    back as one CSV per slide, the challenge's format);
  * AUC: sklearn's roc_auc_score on EVAL_DIR/stride-S/slide_scores.csv.
With DETECT_DIR (`slidescale detect`'s CSVs at the heatmaps' stride), also
checks they are the evaluation's detections at that stride.
Prints one JSON object: per stride the reference's and slidescale's numbers.
"""
import csv
import warnings
import json
import os
import sys
import tempfile

import numpy as np
import scipy.ndimage
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "..", "..", "..", "..", "shared", "reference", "camelyon16")
sys.dont_write_bytecode = True
warnings.filterwarnings("ignore", category=FutureWarning)  # skimage 0.26 on the script
np.object = object  # the README's shims for today's NumPy and SciPy
scipy.ndimage.morphology.binary_fill_holes = scipy.ndimage.binary_fill_holes
sys.path.insert(0, REFERENCE)
import Evaluation_FROC as ref  # noqa: E402

LEVEL, RESOLUTION = 5, 0.243


def labels(path):
    with open(path) as f:
        return {r["slide"]: r["label"] in ("tumor", "tumour", "1") for r in csv.DictReader(f)}


def detections_by_slide(path, slides):
    by = {s: [] for s in slides}
    with open(path) as f:
        for r in csv.DictReader(f):
            by[r["slide"]].append((r["prob"], r["x"], r["y"]))
    return by


def reference_froc(by_slide, truth, mask_dir, tmp):
    masks = {}
    data = [[], [], [], []]
    for slide, rows in by_slide.items():
        path = os.path.join(tmp, slide + ".csv")
        with open(path, "w") as f:
            f.writelines(f"{p},{x},{y}\n" for p, x, y in rows)
        probs, xs, ys = ref.readCSVContent(path)
        if truth[slide]:
            if slide not in masks:
                m = ref.computeEvaluationMask(os.path.join(mask_dir, slide + ".tif"), RESOLUTION, LEVEL)
                masks[slide] = (m, ref.computeITCList(m, RESOLUTION, LEVEL))
            mask, itc = masks[slide]
        else:
            mask, itc = 0, []
        fp, tp, n, _, _ = ref.compute_FP_TP_Probs(ys, xs, probs, truth[slide], mask, itc, LEVEL)
        for k, v in enumerate((slide, fp, tp, n)):
            data[k].append(v)
    fps, sens = ref.computeFROC(data)
    at = np.interp([0.25, 0.5, 1, 2, 4, 8], fps[::-1], sens[::-1])
    return [float(v) for v in at], float(np.mean(at))


def main():
    eval_dir, labels_csv, mask_dir = sys.argv[1:4]
    detect_dir = sys.argv[4] if len(sys.argv) > 4 else None
    truth = labels(labels_csv)
    froc = json.load(open(os.path.join(eval_dir, "froc_by_stride.json")))["rows"]
    auc = {r["stride"]: r for r in json.load(open(os.path.join(eval_dir, "auc_by_stride.json")))["rows"]}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for row in froc:
            s = row["stride"]
            sdir = os.path.join(eval_dir, f"stride-{s}")
            by_slide = detections_by_slide(os.path.join(sdir, "detections.csv"), truth)
            at, score = reference_froc(by_slide, truth, mask_dir, tmp)
            with open(os.path.join(sdir, "slide_scores.csv")) as f:
                rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
            y = [r["label"] == "tumor" for r in rows]
            p = [float(r["score"]) for r in rows]
            out[s] = {
                "froc_at": at, "froc_score": score,
                "ours_froc_at": row["sensitivity_at_fps"], "ours_froc_score": row["froc_score"],
                "auc": float(roc_auc_score(y, p)), "ours_auc": auc[s]["auc"],
            }
            if detect_dir and s == froc[0]["stride"]:
                same = all(
                    [tuple(l.strip().split(",")) for l in open(os.path.join(detect_dir, n + ".csv")) if l.strip()]
                    == list(rows_)
                    for n, rows_ in by_slide.items()
                )
                out[s]["detect_files_equal"] = same
    print(json.dumps(out))


if __name__ == "__main__":
    main()
