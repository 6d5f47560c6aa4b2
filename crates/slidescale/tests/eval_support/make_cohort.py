"""Build an evaluation cohort from the real CAMELYON16 outlines.

Tumour slides carry copies of the three real lesion outlines in
../shared/data/annotations/camelyon16 (Tumor_001: two lesions, Tumor_002:
one), each moved to a random place of a synthetic slide, turned by a
multiple of 90 degrees, mirrored or not, and scaled (1 down to 1/16, so that
the cohort holds lesions from far above to below the ITC size). Outlines are
written in the three formats slidescale reads (NCRF JSON, ASAP XML,
GeoJSON), in turn. Heatmaps are stride-16 float32 .npy files with NaN on
background cells (an elliptical tissue region) and a sidecar describing
them, exactly as `slidescale stitch` writes them (see write_heatmap).

  --mode perfect:   1 inside lesions, 0 elsewhere on tissue.
  --mode realistic: a speckled score inside lesions (a fraction of their
                    pixels high, the rest moderate), Gaussian noise, and
                    false-positive blobs on every slide.

usage: make_cohort.py OUT --tumour N --normal M --seed S --mode MODE
writes OUT/work/heatmaps/NAME.{npy,json}, OUT/outlines/NAME.{json,xml,geojson},
OUT/labels.csv

  --camelyon NAME:  instead, ONE CAMELYON16-sized tumour slide NAME (level 0
                    97,792 x 221,184 px at 0.243 um/px) carrying the real
                    Tumor_001 outlines at their real coordinates, its
                    stride-16 heatmap (6,118 x 13,832) made as --mode says,
                    computed window by window so that a few GB suffice
                    (bench/eval uses it).
"""
import argparse
import json
import os
import sys
import zlib

import numpy as np
from matplotlib.path import Path as MplPath
from scipy import ndimage as nd

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "..", "..", "shared")
OUTLINES = os.path.join(SHARED, "data", "annotations", "camelyon16")
STRIDE = 16
CELL = 224
MPP = 0.243


def real_lesions():
    """The real outlines, each centred on its own bounding-box centre."""
    lesions = []
    for name in ("Tumor_001.json", "Tumor_002.json"):
        with open(os.path.join(OUTLINES, name)) as f:
            for region in json.load(f)["positive"]:
                v = np.asarray(region["vertices"], dtype=float)
                lesions.append(v - (v.min(0) + v.max(0)) / 2)
    return lesions


def place(lesion, rng, size, scale):
    v = lesion * scale
    for _ in range(rng.integers(0, 4)):
        v = np.stack([-v[:, 1], v[:, 0]], axis=1)
    if rng.random() < 0.5:
        v = v * [-1, 1]
    half = (v.max(0) - v.min(0)) / 2
    margin = half + 600
    centre = rng.uniform(margin, size - margin)
    return v + centre


def tissue_cells(rng, cols, rows):
    """Cells inside a random ellipse covering most of the slide."""
    cy, cx = rows / 2 + rng.uniform(-2, 2), cols / 2 + rng.uniform(-2, 2)
    ry, rx = rows * rng.uniform(0.45, 0.6), cols * rng.uniform(0.45, 0.6)
    r, c = np.mgrid[0:rows, 0:cols]
    return ((r + 0.5 - cy) / ry) ** 2 + ((c + 0.5 - cx) / rx) ** 2 <= 1


def inside_mask(polygons, shape):
    """Heatmap pixels whose level-0 centre lies inside any polygon."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    pts = np.stack([(xs.ravel() + 0.5) * STRIDE, (ys.ravel() + 0.5) * STRIDE], 1)
    inside = np.zeros(h * w, bool)
    for poly in polygons:
        lo, hi = poly.min(0), poly.max(0)
        sel = np.all((pts >= lo) & (pts <= hi), axis=1)
        if sel.any():
            inside[sel] |= MplPath(poly).contains_points(pts[sel])
    return inside.reshape(h, w)


def blobs(rng, shape, count, peak_range):
    """Gaussian false-positive blobs, each drawn in its own 4-sigma window."""
    h, w = shape
    out = np.zeros(shape, np.float64)
    for _ in range(count):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        sigma = rng.uniform(3, 25)  # heatmap px: 48 to 400 level-0 px
        peak = rng.uniform(*peak_range)
        y0, y1 = max(0, int(cy - 4 * sigma)), min(h, int(cy + 4 * sigma) + 1)
        x0, x1 = max(0, int(cx - 4 * sigma)), min(w, int(cx + 4 * sigma) + 1)
        ys, xs = np.mgrid[y0:y1, x0:x1]
        blob = peak * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * sigma**2))
        out[y0:y1, x0:x1] = np.maximum(out[y0:y1, x0:x1], blob)
    return out


def speckle(rng, shape):
    """A lesion's speckled response: a fraction q of its pixels score high,
    the rest moderately. A close at a fine stride joins the speckle into the
    lesion; a block mean at a coarse stride averages it towards
    q·0.97 + (1 − q)·0.65, below the threshold when q is low."""
    q = rng.uniform(0.3, 0.9)
    return np.where(rng.random(shape) < q, 0.97, rng.uniform(0.5, 0.8, shape))


def heatmap_values(rng, mode, polygons, shape):
    inside = inside_mask(polygons, shape)
    if mode == "perfect":
        return inside.astype(np.float64)
    score = np.zeros(shape, np.float64)
    for poly in polygons:
        mine = inside_mask([poly], shape)
        score = np.where(mine, np.maximum(score, speckle(rng, shape)), score)
    score = np.maximum(score, blobs(rng, shape, rng.integers(2, 7), (0.5, 1.0)))
    score = score + rng.normal(0, 0.03, shape)
    return np.clip(score, 0, 1)


def write_npy(path, values):
    """A float32 .npy with slidescale's header comment (its CRC-32), which
    `slidescale evaluate` checks the sidecar against; NumPy reads it as any."""
    data = np.ascontiguousarray(values, dtype="<f4").tobytes()
    crc = zlib.crc32(data)
    shape = ", ".join(str(d) for d in values.shape)
    header = ("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }"
              " # slidescale crc32=%08x" % (shape, crc))
    unpadded = 6 + 2 + 2 + len(header) + 1
    header += " " * ((64 - unpadded % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little"))
        f.write(header.encode() + data)
    return crc


def write_heatmap(work, name, values, width, height):
    os.makedirs(os.path.join(work, "heatmaps"), exist_ok=True)
    npy = os.path.join(work, "heatmaps", name + ".npy")
    crc = write_npy(npy, values)
    meta = sidecar(name, values.shape, crc, width, height)
    with open(os.path.join(work, "heatmaps", name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)


def sidecar(name, shape, crc, width, height):
    """The sidecar `slidescale stitch` writes (slidescale_heatmap::HeatmapMeta);
    no model: these maps were made by this script."""
    return {
        "format_version": 1,
        "slidescale_version": "make_cohort.py",
        "slide": name,
        "source_path": None,
        "stride": STRIDE,
        "pixel_size": STRIDE,
        "shape": list(shape),
        "tile": CELL,
        "level0_width": width,
        "level0_height": height,
        "mpp_x": MPP,
        "mpp_y": MPP,
        "model": None,
        "scoring": None,
        "npy_crc32": crc,
    }


def write_outline(outdir, name, polygons, fmt):
    os.makedirs(outdir, exist_ok=True)
    if fmt == "json":
        doc = {"positive": [{"name": f"Annotation {i}", "vertices": p.tolist()}
                            for i, p in enumerate(polygons)], "negative": []}
        with open(os.path.join(outdir, name + ".json"), "w") as f:
            json.dump(doc, f)
    elif fmt == "geojson":
        feats = [{"type": "Feature", "id": f"lesion-{i}",
                  "geometry": {"type": "Polygon", "coordinates": [p.tolist() + [p[0].tolist()]]},
                  "properties": {"objectType": "annotation",
                                 "classification": {"name": "Tumor", "color": [200, 0, 0]}}}
                 for i, p in enumerate(polygons)]
        with open(os.path.join(outdir, name + ".geojson"), "w") as f:
            json.dump({"type": "FeatureCollection", "features": feats}, f)
    else:
        lines = ['<?xml version="1.0"?>', "<ASAP_Annotations>", "\t<Annotations>"]
        for i, p in enumerate(polygons):
            lines.append(f'\t\t<Annotation Name="Annotation {i}" Type="Polygon" '
                         f'PartOfGroup="_0" Color="#F4FA58">')
            lines.append("\t\t\t<Coordinates>")
            for k, (x, y) in enumerate(p):
                lines.append(f'\t\t\t\t<Coordinate Order="{k}" X="{x:.4f}" Y="{y:.4f}" />')
            lines.append("\t\t\t</Coordinates>")
            lines.append("\t\t</Annotation>")
        lines += ["\t</Annotations>", "\t<AnnotationGroups>",
                  '\t\t<Group Name="_0" PartOfGroup="None" Color="#FF0000"><Attributes /></Group>',
                  "\t</AnnotationGroups>", "</ASAP_Annotations>"]
        with open(os.path.join(outdir, name + ".xml"), "w") as f:
            f.write("\n".join(lines) + "\n")


SCALES = [1.0, 0.6, 0.4, 0.3, 0.2, 0.12, 0.06]


def make_slide(rng, args, lesions, name, tumour, fmt):
    size = args.size
    cols = rows = -(-size // CELL)
    n = CELL // STRIDE
    shape = (rows * n, cols * n)
    polygons = []
    if tumour:
        for _ in range(rng.integers(1, 5)):
            lesion = lesions[rng.integers(0, len(lesions))]
            scale = SCALES[rng.integers(0, len(SCALES))]
            scale = min(scale, (size - 1600) / np.ptp(lesion, axis=0).max())
            polygons.append(place(lesion, rng, size, scale))
        write_outline(os.path.join(args.out, "outlines"), name, polygons, fmt)
    values = heatmap_values(rng, args.mode, polygons, shape)
    tissue = np.kron(tissue_cells(rng, cols, rows), np.ones((n, n), bool))
    if polygons:
        tissue |= inside_mask(polygons, shape)  # lesions lie on tissue
    values = np.where(tissue, values, np.nan)
    write_heatmap(os.path.join(args.out, "work"), name, values, size, size)


CAMELYON_SIZE = (97792, 221184)  # Tumor_001's level 0, width x height


def inside_window(poly, y0, y1, x0, x1):
    """inside_mask of one polygon over heatmap rows y0..y1, columns x0..x1."""
    ys, xs = np.mgrid[y0:y1, x0:x1]
    pts = np.stack([(xs.ravel() + 0.5) * STRIDE, (ys.ravel() + 0.5) * STRIDE], 1)
    return MplPath(poly).contains_points(pts).reshape(y1 - y0, x1 - x0)


def tissue_ellipse(rng, shape):
    """Heatmap pixels inside a random ellipse covering most of the slide
    (tissue_cells' rule at pixel rather than cell resolution), row by row
    through broadcasting so no full-size coordinate grid is made."""
    rows, cols = shape
    cy, cx = rows / 2 + rng.uniform(-2, 2), cols / 2 + rng.uniform(-2, 2)
    ry, rx = rows * rng.uniform(0.45, 0.6), cols * rng.uniform(0.45, 0.6)
    r = ((np.arange(rows, dtype=np.float32) + 0.5 - cy) / ry) ** 2
    c = ((np.arange(cols, dtype=np.float32) + 0.5 - cx) / rx) ** 2
    return r[:, None] + c[None, :] <= 1


def make_camelyon_slide(rng, args, name):
    """One CAMELYON16-sized slide with the real Tumor_001 outlines where
    they are; the heatmap is built in float32 and lesion by lesion within
    each lesion's bounding box (the full-size rules of heatmap_values would
    need tens of GB here)."""
    width, height = CAMELYON_SIZE
    n = CELL // STRIDE
    shape = (-(-height // CELL) * n, -(-width // CELL) * n)
    with open(os.path.join(OUTLINES, "Tumor_001.json")) as f:
        polygons = [np.asarray(r["vertices"], float) for r in json.load(f)["positive"]]
    write_outline(os.path.join(args.out, "outlines"), name, polygons, "json")
    values = np.zeros(shape, np.float32)
    lesion = np.zeros(shape, bool)
    for poly in polygons:
        (x0, y0), (x1, y1) = poly.min(0) // STRIDE, poly.max(0) // STRIDE + 2
        x0, y0, x1, y1 = int(x0), int(y0), min(int(x1), shape[1]), min(int(y1), shape[0])
        mine = inside_window(poly, y0, y1, x0, x1)
        lesion[y0:y1, x0:x1] |= mine
        if args.mode == "perfect":
            values[y0:y1, x0:x1] = np.maximum(values[y0:y1, x0:x1], mine)
        else:
            window = values[y0:y1, x0:x1]
            window[mine] = np.maximum(window, speckle(rng, mine.shape))[mine]
    if args.mode == "realistic":
        values = np.maximum(values, blobs(rng, shape, rng.integers(2, 7), (0.5, 1.0)))
        values += rng.standard_normal(shape, dtype=np.float32) * np.float32(0.03)
        np.clip(values, 0, 1, out=values)
    tissue = tissue_ellipse(rng, shape) | lesion  # lesions lie on tissue
    values[~tissue] = np.nan
    write_heatmap(os.path.join(args.out, "work"), name, values, width, height)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tumour", type=int, default=15)
    p.add_argument("--normal", type=int, default=15)
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--size", type=int, default=16384, help="slide side, level-0 px")
    p.add_argument("--mode", choices=["perfect", "realistic"], default="realistic")
    p.add_argument("--camelyon", metavar="NAME",
                   help="write only one CAMELYON16-sized tumour slide NAME (see above)")
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    if args.camelyon:
        make_camelyon_slide(rng, args, args.camelyon)
        with open(os.path.join(args.out, "labels.csv"), "w") as f:
            f.write(f"slide,label\n{args.camelyon},tumor\n")
        return 0
    lesions = real_lesions()
    rows = ["slide,label"]
    formats = ["json", "xml", "geojson"]
    for i in range(args.tumour):
        name = f"tumor_{i + 1:03d}"
        make_slide(rng, args, lesions, name, True, formats[i % 3])
        rows.append(f"{name},tumor")
    for i in range(args.normal):
        name = f"normal_{i + 1:03d}"
        make_slide(rng, args, lesions, name, False, None)
        rows.append(f"{name},normal")
    with open(os.path.join(args.out, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    sys.exit(main())
