"""Seeded FROC cases built from the real CAMELYON16 outlines, and the
reference script's answers on them (tests/froc.rs compares slidescale's).

usage: froc_reference.py REFERENCE_DIR OUTLINES_DIR OUT_DIR

REFERENCE_DIR holds the unmodified Evaluation_FROC.py; OUTLINES_DIR the NCRF
JSON outlines Tumor_001.json and Tumor_002.json. Writes OUT_DIR/masks/*.u32
(evaluation-mask labels, little-endian uint32, row-major) and
OUT_DIR/cases.json. Floats are written as their IEEE bit patterns (f64 as
u64, the script's float32 lesion scores as u32) so that nothing is rounded on
the way.

Masks: the outlines (moved, scaled, mirrored copies of the real lesions) are
rasterised at level 5 at pixel centres, written as a tiled TIFF and passed
through the script's own computeEvaluationMask and computeITCList. The TIFF
holds the level-5 raster as its level 0, so those are called with level 0 and
a level-0 resolution of 0.243 * 2^5: the same growth and ITC thresholds,
bit for bit, as level 5 of a 0.243 um/px slide. Detections are then matched
at level 5, as the script does.
"""

import json
import os
import struct
import sys
import types
import warnings

import numpy as np

# The shims the reference's README lists for today's NumPy and SciPy.
np.object = object
import scipy.ndimage as nd  # noqa: E402

if not hasattr(nd, "morphology"):
    nd.morphology = types.SimpleNamespace(binary_fill_holes=nd.binary_fill_holes)

import tifffile  # noqa: E402
from matplotlib.path import Path  # noqa: E402

LEVEL = 5
BLOCK = 2**LEVEL
L0_MPP = 0.243
EVAL_RATES = [0.25, 0.5, 1, 2, 4, 8]


def f64_bits(v):
    return struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def f32_bits(v):
    return int(np.float32(v).view(np.uint32))


def load_outlines(directory):
    out = {}
    for name in ("Tumor_001", "Tumor_002"):
        with open(os.path.join(directory, name + ".json")) as f:
            doc = json.load(f)
        for p in doc["positive"]:
            out[name + p["name"]] = np.array(p["vertices"], dtype=float)
    return out


def place(poly, at, scale=1.0, mirror=False):
    """The polygon scaled about its centre, mirrored left-right, centred on
    `at` (level-0 pixels)."""
    c = (poly.min(0) + poly.max(0)) / 2
    v = (poly - c) * scale
    if mirror:
        v[:, 0] = -v[:, 0]
    return v + np.asarray(at, dtype=float)


def rasterise(polys, width, height):
    """Tumour (255) where a level-5 pixel's centre lies in any polygon."""
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    centres = np.column_stack([(cols.ravel() + 0.5) * BLOCK, (rows.ravel() + 0.5) * BLOCK])
    inside = np.zeros(width * height, dtype=bool)
    for p in polys:
        inside |= Path(p).contains_points(centres)
    return np.where(inside, 255, 0).astype(np.uint8).reshape(height, width)


def mask_specs(o):
    """Name -> (level-5 width, height, polygons). Sizes in level-5 pixels;
    polygon positions in level-0 pixels."""
    b = BLOCK
    a0, a1, b0 = o["Tumor_001_0"], o["Tumor_001_1"], o["Tumor_002_0"]
    return {
        # Tumor_001's two lesions as drawn, relative positions kept.
        "t001": (150, 430, [p - a1.min(0) + 20 * b for p in (a0, a1)]),
        "t002": (80, 110, [b0 - b0.min(0) + 15 * b]),
        # Large lesions, ITC-sized copies (well below, just below and just
        # above 275 um after growth) and two copies close enough to merge.
        "mixed": (
            260,
            260,
            [
                place(a0, (60 * b, 60 * b)),
                place(b0, (190 * b, 70 * b), mirror=True),
                place(b0, (40 * b, 170 * b), scale=0.2),
                place(b0, (90 * b, 170 * b), scale=0.345),
                place(b0, (140 * b, 170 * b), scale=0.37),
                place(a1, (200 * b, 200 * b), scale=0.3),
                place(a1, (213 * b, 200 * b), scale=0.3),
            ],
        ),
        # Only isolated tumour cells: a tumour slide without a counted lesion.
        "itc_only": (120, 80, [place(b0, (30 * b, 40 * b), scale=0.25), place(a0, (85 * b, 40 * b), scale=0.15)]),
        "t001_small": (90, 200, [place(a0, (40 * b, 50 * b), scale=0.6), place(a1, (45 * b, 140 * b), scale=0.6, mirror=True)]),
    }


def evaluation_masks(ref, outlines, out_dir):
    masks = {}
    os.makedirs(os.path.join(out_dir, "masks"), exist_ok=True)
    for name, (w, h, polys) in mask_specs(outlines).items():
        tif = os.path.join(out_dir, "masks", name + ".tif")
        tifffile.imwrite(tif, rasterise(polys, w, h), tile=(256, 256), photometric="minisblack")
        labels = ref.computeEvaluationMask(tif, L0_MPP * BLOCK, 0)
        itc = [int(i) for i in ref.computeITCList(labels, L0_MPP * BLOCK, 0)]
        labels.astype("<u4").tofile(os.path.join(out_dir, "masks", name + ".u32"))
        masks[name] = {"labels": labels, "itc": itc}
    return masks


class Sampler:
    """Level-0 points on chosen kinds of mask pixels."""

    def __init__(self, labels, itc, rng):
        self.labels, self.rng = labels, rng
        lesion = labels > 0
        padded = np.pad(lesion, 1)
        near = np.zeros_like(lesion)
        inner = np.zeros_like(lesion)
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            shifted = padded[1 + dr : 1 + dr + lesion.shape[0], 1 + dc : 1 + dc + lesion.shape[1]]
            inner |= lesion & ~shifted
            near |= ~lesion & shifted
        is_itc = np.isin(labels, itc) & lesion
        self.kinds = {
            "inside": lesion & ~is_itc,
            "edge_in": inner & ~is_itc,
            "edge_out": near,
            "itc": is_itc,
            "background": ~lesion,
        }

    def point(self, kind, label=None):
        where = self.kinds[kind]
        if label is not None:
            where = where & (self.labels == label)
        rows, cols = np.nonzero(where)
        if len(rows) == 0:
            return None
        k = self.rng.integers(len(rows))
        # Anywhere in the level-0 block, often on its first or last pixel.
        off = self.rng.choice([0, BLOCK - 1, int(self.rng.integers(BLOCK))], size=2)
        return int(cols[k] * BLOCK + off[0]), int(rows[k] * BLOCK + off[1])

    def counted_labels(self):
        return sorted(set(np.unique(self.labels[self.kinds["inside"]]).tolist()))


def f32_exact_or_below(values):
    """Values whose float32 rounding is not above them: a tie between a
    false positive and a lesion score at such a value is not order-dependent
    in the script (see froc/mod.rs)."""
    return [v for v in values if float(np.float32(v)) <= v]


TIE_POOL = f32_exact_or_below([0.5, 0.625, 0.7, 0.75, 0.9, 0.875, 0.99, 0.3, 0.6])


def probability(rng, mode, base):
    if mode == "uniform":
        return float(rng.random())
    if mode == "ties":
        return float(rng.choice(TIE_POOL))
    if mode == "sub_f32":
        # Values around a few bases that differ below float32 precision,
        # and the float32 rounding of a base itself.
        b = float(rng.choice(base))
        step = float(rng.choice([0.0, 2.0**-40, -(2.0**-40), 3 * 2.0**-41]))
        return float(np.float32(b)) if rng.random() < 0.2 else b + step
    if mode == "odd":
        return float(rng.uniform(-0.5, 1.5))
    if mode == "round_up_ties":
        return float(rng.choice([0.1, 0.3000001, 0.2]))
    raise ValueError(mode)


def tumour_detections(sampler, rng, knobs, mode, base):
    dets = []

    def add(kind, label=None):
        p = sampler.point(kind, label)
        if p is not None:
            dets.append([probability(rng, mode, base), p[0], p[1]])

    labels = sampler.counted_labels()
    if not knobs.get("miss_all"):
        for label in labels:
            if rng.random() < 0.75:
                for _ in range(1 + int(rng.integers(knobs.get("hits_per_lesion", 2)))):
                    add("inside" if rng.random() < 0.6 else "edge_in", label)
    for _ in range(int(rng.integers(0, knobs.get("fps", 6) + 1))):
        add("background" if rng.random() < 0.5 else "edge_out")
    for _ in range(int(rng.integers(0, 3))):
        add("itc")
    order = rng.permutation(len(dets))
    return [dets[i] for i in order]


def normal_detections(rng, knobs, mode, base):
    n = int(rng.integers(0, knobs.get("fps", 6) + 1))
    return [[probability(rng, mode, base), int(rng.integers(0, 40000)), int(rng.integers(0, 40000))] for _ in range(n)]


def build_case(k, masks, knobs):
    rng = np.random.default_rng(20260 + k)
    mode = knobs.get("mode", "uniform")
    base = [float(v) for v in rng.random(3)]
    tumour = knobs.get("tumour") or list(rng.choice(["t001", "t002", "mixed", "t001_small", "itc_only"], size=int(rng.integers(1, 4))))
    if all(m == "itc_only" for m in tumour):
        tumour.append("mixed")
    n_slides = knobs.get("slides") or int(rng.choice([2, 4, 4, 8, 3, 5]))
    n_slides = max(n_slides, len(tumour))
    slides = []
    for i in range(n_slides):
        if i < len(tumour):
            m = masks[tumour[i]]
            sampler = Sampler(m["labels"], m["itc"], rng)
            dets = tumour_detections(sampler, rng, knobs, mode, base)
            slides.append({"name": f"tumour_{i}", "mask": tumour[i], "detections": dets})
        else:
            slides.append({"name": f"normal_{i}", "mask": None, "detections": normal_detections(rng, knobs, mode, base)})
    for i in knobs.get("empty", []):
        slides[i]["detections"] = []
    for i, extra in knobs.get("extra", {}).items():
        slides[i]["detections"] += extra(slides[i], masks, rng)
    return slides


def same_lesion_hits(slide, masks, rng):
    """Several hits on one lesion: rising, equal, and rising only below
    float32 precision, so that which hit is kept is tested."""
    m = masks[slide["mask"]]
    sampler = Sampler(m["labels"], m["itc"], rng)
    label = sampler.counted_labels()[0]
    probs = [0.4, 0.4, 0.8, 0.8 + 2.0**-40, 0.8 + 2.0**-30, 0.6, float(np.float32(0.8 + 2.0**-30))]
    return [[p, *sampler.point("inside", label)] for p in probs]


CASES = [
    {"mode": "uniform", "tumour": ["t001"], "slides": 2},
    {"mode": "uniform", "tumour": ["t002", "mixed"], "slides": 4, "empty": [0]},
    {"mode": "uniform", "tumour": ["t001", "mixed"], "slides": 4, "miss_all": True},
    {"mode": "uniform", "tumour": ["mixed"], "slides": 2, "extra": {0: same_lesion_hits}},
    {"mode": "ties", "tumour": ["t001", "t002", "mixed"], "slides": 4, "hits_per_lesion": 3, "fps": 8},
    {"mode": "sub_f32", "tumour": ["t001", "mixed"], "slides": 4, "hits_per_lesion": 3, "fps": 8},
    {"mode": "uniform", "tumour": ["t002"], "slides": 4, "empty": [0, 1, 2, 3]},
    {"mode": "uniform", "tumour": ["t001", "t002"], "slides": 2, "fps": 0},
    {"mode": "odd", "tumour": ["mixed", "t001_small"], "slides": 4},
    {"mode": "ties", "tumour": ["itc_only", "t002"], "slides": 8, "fps": 10},
    {"mode": "sub_f32", "tumour": ["t002"], "slides": 1, "fps": 12},
] + [{"mode": m} for m in ["uniform", "ties", "sub_f32", "uniform", "ties", "uniform", "sub_f32", "ties", "uniform", "uniform", "ties", "sub_f32", "uniform", "ties"]] + [
    # Ties at values whose float32 rounding is above them: the script's
    # threshold order then depends on CPython's set layout.
    {"mode": "round_up_ties", "tumour": ["t001", "mixed"], "slides": 4, "fps": 8},
]


def reference(ref, slides, masks):
    """The script's compute_FP_TP_Probs per slide, computeFROC, then the
    interpolation and mean its __main__ does."""
    froc_data = np.zeros((4, len(slides)), dtype=object)
    per_slide = []
    for i, s in enumerate(slides):
        probs = [d[0] for d in s["detections"]]
        xs = [d[1] for d in s["detections"]]
        ys = [d[2] for d in s["detections"]]
        if s["mask"] is None:
            mask, itc, is_tumor = 0, [], False
        else:
            mask, itc, is_tumor = masks[s["mask"]]["labels"], masks[s["mask"]]["itc"], True
        fp, tp, n, det_summary, fp_summary = ref.compute_FP_TP_Probs(ys, xs, probs, is_tumor, mask, itc, LEVEL)
        froc_data[0][i], froc_data[1][i], froc_data[2][i], froc_data[3][i] = s["name"], fp, tp, n
        per_slide.append(
            {
                "tp_probs": [f32_bits(t) for t in tp],
                "num_of_tumors": int(n),
                "detection_summary": {k[len("Label ") :]: summary(v) for k, v in det_summary.items()},
                "fp_summary": [summary(fp_summary[f"FP {j}"]) for j in range(len(fp_summary))],
            }
        )
    total_fps, total_sens = ref.computeFROC(froc_data)
    eval_tps = np.interp(EVAL_RATES, total_fps[::-1], total_sens[::-1])
    return {
        "fps": [f64_bits(v) for v in total_fps],
        "sensitivity": [f64_bits(v) for v in total_sens],
        "at": [f64_bits(v) for v in eval_tps],
        "score": f64_bits(np.mean(eval_tps)),
        "slides": per_slide,
        "order_dependent": order_dependent(froc_data),
    }


def summary(v):
    return None if v == [] else [f64_bits(v[0]), int(v[1]), int(v[2])]


def order_dependent(froc_data):
    """Whether the script's thresholds, `sorted(set(FPs + TPs))` as
    computeFROC builds them, are not in value order (a false-positive
    probability and a lesion score that differ in float64 but round to the
    same float32 compare equal under NumPy >= 2; see froc/mod.rs)."""
    fps = [p for ps in froc_data[1] for p in ps]
    tps = [t for ts in froc_data[2] for t in ts]
    values = [float(v) for v in sorted(set(fps + tps))]
    return values != sorted(values)


def order_dependent_case(ref, masks):
    """A lesion hit and false positives at one probability whose float32
    rounding is above it, chosen so that the script's threshold order is not
    its value order (its curve then lists two points the other way round)."""
    m = masks["t002"]
    sampler = Sampler(m["labels"], m["itc"], np.random.default_rng(7))
    hit, fp1, fp2 = sampler.point("inside"), sampler.point("background"), sampler.point("background")
    # Many distinct probabilities: a larger set, where CPython's layout no
    # longer keeps the false positive ahead of the lesion score.
    others = [[float(p), 20, 20] for p in np.random.default_rng(8).random(30)]
    case = None
    for v in [k / 100 for k in range(1, 100) if float(np.float32(k / 100)) > k / 100]:
        slides = [
            {"name": "tumour_0", "mask": "t002", "detections": [[v, *hit], [v, *fp1], [0.95, *fp2]]},
            {"name": "normal_1", "mask": None, "detections": [[v, 10, 10], *others]},
        ]
        case = {"slides": slides, "reference": reference(ref, slides, masks)}
        if case["reference"]["order_dependent"]:
            break
    return case


def error_cases(ref, masks):
    """What the script does where slidescale stops with an error."""
    labels = masks["t002"]["labels"]
    h, w = labels.shape
    out = {}
    try:
        ref.compute_FP_TP_Probs([h * BLOCK], [10], [0.5], True, labels, [], LEVEL)
        out["outside"] = "no error"
    except IndexError as e:
        out["outside"] = "IndexError: " + str(e)
    # A negative coordinate wraps to the other side of the mask.
    fp, tp, *_ = ref.compute_FP_TP_Probs([-BLOCK], [-BLOCK], [0.5], True, labels, [], LEVEL)
    out["negative_wraps"] = bool(len(fp) == 1 and labels[-1, -1] == 0)
    # No lesion to detect: a normal slide and an ITC-only slide.
    data = np.zeros((4, 2), dtype=object)
    m = masks["itc_only"]
    for i, (mask, itc, tumour) in enumerate([(0, [], False), (m["labels"], m["itc"], True)]):
        fp, tp, n, _, _ = ref.compute_FP_TP_Probs([10, 20], [10, 20], [0.3, 0.6], tumour, mask, itc, LEVEL)
        data[0][i], data[1][i], data[2][i], data[3][i] = f"s{i}", fp, tp, n
    with np.errstate(all="ignore"):
        _, sens = ref.computeFROC(data)
    out["no_lesions_sensitivity_nan"] = bool(np.isnan(sens).all())
    return out


def main():
    # The script reads skimage's deprecated `major_axis_length`.
    warnings.filterwarnings("ignore", category=FutureWarning)
    ref_dir, outlines_dir, out_dir = sys.argv[1:4]
    sys.path.insert(0, ref_dir)
    import Evaluation_FROC as ref

    masks = evaluation_masks(ref, load_outlines(outlines_dir), out_dir)
    cases = []
    for k, knobs in enumerate(CASES):
        slides = build_case(k, masks, knobs)
        cases.append({"slides": slides, "reference": reference(ref, slides, masks)})
    cases.append(order_dependent_case(ref, masks))
    for c in cases:
        for s in c["slides"]:
            for d in s["detections"]:
                d[0] = f64_bits(d[0])
    doc = {
        "level": LEVEL,
        "masks": {
            name: {"width": int(m["labels"].shape[1]), "height": int(m["labels"].shape[0]), "itc": m["itc"], "max_label": int(m["labels"].max())}
            for name, m in masks.items()
        },
        "cases": cases,
        "errors": error_cases(ref, masks),
    }
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main()
