"""Independent references for a store's tiles at an analysis resolution.

usage: check_tiles.py MODE SLIDE STORE.h5 [ARG]

MODE "level": each tile is openslide-python's read_region at level ARG of
the context window (analysis origin (Tc-M, Tr-M), scaled to level 0 by the
level's downsample). MODE "raw": each tile is cut from the pixels stored
for level ARG (tifffile reads the TIFF page), white outside. MODE "resample": ARG is the requested µm/px; each tile
is OpenCV's INTER_AREA resize (an exact area average, fractional weights at
pixel borders) of level 0 over the window's level-0 extent [x*f, (x+C)*f),
f = ARG / the slide's µm/px, chosen by the test so that the extent's ends
are whole pixels (f = 1.5 on a grid of even origins). (Pillow's BOX filter
is no area average at fractional factors: it weighs a source pixel 1 or 0
by where its centre falls.) Prints one JSON line: tiles compared and the
largest per-pixel difference.
"""
import json
import sys

import h5py
import hdf5plugin  # noqa: F401
import numpy as np
import openslide
import cv2

mode, slide_path, store = sys.argv[1:4]
arg = sys.argv[4]
slide = openslide.OpenSlide(slide_path)


def rgb(region):
    a = np.asarray(region)
    alpha = a[..., 3:4].astype(np.float32) / 255.0
    return np.rint(a[..., :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)


_raw = {}


def raw_level(n):
    if n not in _raw:
        import tifffile
        _raw[n] = tifffile.TiffFile(slide_path).pages[n].asarray()
    return _raw[n]


with h5py.File(store, "r") as f:
    T, W = int(f.attrs["tile"]), int(f.attrs["window"])
    M, C = W // 2, int(f.attrs["tile"]) + 2 * (W // 2)
    worst, n = 0, 0
    for k in sorted(f["groups"].keys()):
        g = f["groups"][k]
        for (c, r), tile in zip(g["coords"][...], g["tiles"]):
            ax, ay = int(c) * T - M, int(r) * T - M
            if mode == "raw":
                level = raw_level(int(arg))
                h, w = level.shape[:2]
                ref = np.full((C, C, 3), 255, np.uint8)
                y0, x0, y1, x1 = max(ay, 0), max(ax, 0), min(ay + C, h), min(ax + C, w)
                ref[y0 - ay:y1 - ay, x0 - ax:x1 - ax] = level[y0:y1, x0:x1, :3]
            elif mode == "level":
                level = int(arg)
                ds = slide.level_downsamples[level]
                ref = rgb(slide.read_region((round(ax * ds), round(ay * ds)), level, (C, C)))
            else:
                fct = float(arg) / float(slide.properties["openslide.mpp-x"])
                ends = [v * fct for v in (ax, ay, ax + C, ay + C)]
                x0, y0, x1, y1 = [round(v) for v in ends]
                assert max(abs(v - round(v)) for v in ends) < 1e-3, ends
                src = rgb(slide.read_region((x0, y0), 0, (x1 - x0, y1 - y0)))
                ref = cv2.resize(src, (C, C), interpolation=cv2.INTER_AREA)
            worst = max(worst, int(np.abs(ref.astype(int) - tile.astype(int)).max()))
            n += 1
print(json.dumps(dict(tiles=n, max_diff=worst, tile=T, window=W)))
