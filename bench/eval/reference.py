#!/usr/bin/env python3
"""The reference evaluation pipeline, for bench/eval (issue 8, requirement 8).

usage: reference.py WORK LABELS_CSV MASK_DIR --strides 16,64,128,224

What the authors' code and the CAMELYON16 script do, on the same inputs as
`slidescale evaluate WORK --labels LABELS_CSV --strides ...`, every slide in
turn, the stride-16 heatmap read once per slide:
  * truth: the CAMELYON16 script's computeEvaluationMask / computeITCList on
    MASK_DIR/NAME.tif (the challenge's input form: a mask TIFF, read through
    openslide-python at level 5), once per tumour slide;
  * per stride: the map made by numpy block mean (NaN-aware, partial edge
    blocks kept, slidescale's default --downsample mean);
  * detection, the authors' rule: threshold 0.9, cv2 close then open with a
    MORPH_ELLIPSE, skimage label (8-connected) + regionprops: centroid
    (level-0 pixels, pixel centres) and mean probability. The element is
    the authors' 20 px at stride 16 and max(1, round(320 / s)) px at stride
    s, as slidescale's default scales it, so both sides compute the same
    detections (the FROC scores printed must then agree);
  * the script's compute_FP_TP_Probs per slide, computeFROC + its __main__'s
    interpolation at 1/4 .. 8 FPs per slide;
  * features, the authors' extraction: global (fraction above and excess
    over t in 0.5..0.9) and skimage regionprops of the two largest
    border-cleared regions of heatmap > 0.5;
  * scikit-learn RandomForestClassifier (100 trees), 5-fold cross-validated
    predict_proba, roc_auc_score.
The script is imported from ../shared/reference/camelyon16 with the shims its
README lists, never copied. Prints one JSON line: per stride FROC and AUC.
"""
import argparse
import csv
import json
import os
import sys
import warnings

import cv2
import numpy as np
import scipy.ndimage
from skimage.measure import label, regionprops
from skimage.segmentation import clear_border
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("SLIDESCALE_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))
sys.dont_write_bytecode = True
np.object = object  # the README's shims for today's NumPy and SciPy
scipy.ndimage.morphology.binary_fill_holes = scipy.ndimage.binary_fill_holes
sys.path.insert(0, os.path.join(SHARED, "reference", "camelyon16"))
import Evaluation_FROC as ref  # noqa: E402

LEVEL, RESOLUTION, SOURCE_STRIDE = 5, 0.243, 16
T = [0.5, 0.6, 0.7, 0.8, 0.9]


def kernel(stride):
    """The authors' 20 px ellipse at stride 16, the same level-0 size at others."""
    k = max(1, round(20 * SOURCE_STRIDE / stride))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def block_mean(h, k):
    """Mean of each k x k block's non-NaN values; NaN where a block has none."""
    if k == 1:
        return h
    rows, cols = -(-h.shape[0] // k), -(-h.shape[1] // k)
    padded = np.full((rows * k, cols * k), np.nan, np.float32)
    padded[: h.shape[0], : h.shape[1]] = h
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(padded.reshape(rows, k, cols, k), axis=(1, 3))


def detect(h, stride):
    """The authors' rule: (prob, X, Y) per region, level-0 pixels."""
    heat = np.nan_to_num(h, nan=0.0)
    _, binary = cv2.threshold(heat, 0.9, 1, cv2.THRESH_BINARY)
    binary = binary.astype(np.uint8)
    closed = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel(stride))
    opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel(stride))
    out = []
    for p in regionprops(label(opened, connectivity=2), intensity_image=heat):
        r, c = p.centroid
        out.append((float(p.intensity_mean), int((c + 0.5) * stride), int((r + 0.5) * stride)))
    return out


def glob_features(h):
    tissue = np.count_nonzero(~np.isnan(h))
    if tissue == 0:
        return [0.0] * 10
    ratio = [np.count_nonzero(h > t) / tissue for t in T]
    total = [np.nansum(np.clip(h - t, 0, None).astype(np.float64)) / tissue for t in T]
    return ratio + total


def region(p):
    b = p["bbox"]
    return [p["area"], p["eccentricity"], p["extent"], p["bbox_area"], p["major_axis_length"],
            p["max_intensity"], p["min_intensity"], p["mean_intensity"],
            (b[2] - b[0]) / (b[3] - b[1]), p["solidity"]]


def local_features(h, t=0.5):
    props = regionprops(label(clear_border((h > t) * 1)), intensity_image=h.astype(np.float64))
    if not props:
        return [0.0] * 20
    order = sorted(range(len(props)), key=lambda i: -props[i]["area"])
    second = region(props[order[1]]) if len(order) > 1 else [0.0] * 10
    return region(props[order[0]]) + second


def truth_of(mask_dir, slide, tumour):
    if not tumour:
        return 0, []
    mask = ref.computeEvaluationMask(os.path.join(mask_dir, slide + ".tif"), RESOLUTION, LEVEL)
    return mask, ref.computeITCList(mask, RESOLUTION, LEVEL)


def froc(data):
    fps, sens = ref.computeFROC(data)
    at = np.interp([0.25, 0.5, 1, 2, 4, 8], fps[::-1], sens[::-1])
    return float(np.mean(at))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("labels")
    ap.add_argument("masks")
    ap.add_argument("--strides", default="16,64,128,224")
    a = ap.parse_args()
    strides = [int(s) for s in a.strides.split(",")]
    with open(a.labels) as f:
        truth = {r["slide"]: r["label"] in ("tumor", "tumour", "1") for r in csv.DictReader(f)}
    froc_data = {s: [[], [], [], []] for s in strides}
    features = {s: [] for s in strides}
    for slide, tumour in sorted(truth.items()):
        heat = np.load(os.path.join(a.work, "heatmaps", slide + ".npy"))
        mask, itc = truth_of(a.masks, slide, tumour)
        for s in strides:
            h = block_mean(heat, s // SOURCE_STRIDE)
            dets = detect(h, s)
            probs, xs, ys = [d[0] for d in dets], [d[1] for d in dets], [d[2] for d in dets]
            fp, tp, n, _, _ = ref.compute_FP_TP_Probs(ys, xs, probs, tumour, mask, itc, LEVEL)
            for k, v in enumerate((slide, fp, tp, n)):
                froc_data[s][k].append(v)
            features[s].append(glob_features(h) + local_features(h))
        del heat, mask
    y = np.array([truth[s] for s in sorted(truth)])
    out = {}
    for s in strides:
        row = {"froc_score": froc(froc_data[s])}
        if min(y.sum(), (~y).sum()) >= 5:
            forest = RandomForestClassifier(n_estimators=100, random_state=42)
            folds = StratifiedKFold(5, shuffle=True, random_state=42)
            p = cross_val_predict(forest, np.array(features[s]), y, cv=folds, method="predict_proba")
            row["auc"] = float(roc_auc_score(y, p[:, 1]))
        out[s] = row
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
