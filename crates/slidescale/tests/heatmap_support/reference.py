"""Independent reference for slidescale's heatmaps (run by the heatmap_* tests).

usage: reference.py SOURCE SLIDE STORE.h5 MODEL.onnx STRIDE HEATMAP.npy [TILE]

The window W is the model's input side (NCHW or NHWC, read from its input
shape), the target T is TILE (default W), the margin M = W // 2 and the
context C = T + 2M (448 for the paper's W = T = 224).

SOURCE is "openslide" (each tile's CxC context window read again with
openslide-python from SLIDE at level 0, origin (Tc-M, Tr-M), RGBA composited on
white as ../shared/bench/split.py does), "store" (the tiles stored in
STORE.h5, read with h5py; SLIDE unused) or "raw" (SLIDE is a file of u8
tiles [n, C, C, 3] in the store's order, e.g. stain-normalised ones). The tissue cells are the store's, so the comparison checks
scoring and layout, not segmentation. Windows start at s//2 + k*s in the tile
(DESIGN section 3), are scaled x*(1/255) in float32, in the model's layout, batches of 64, and
are scored by onnxruntime with the session options of
../shared/bench/process.py. Prints one JSON line comparing the reference
heatmap with HEATMAP.npy (slidescale's).
"""
import json
import sys

import h5py
import hdf5plugin  # noqa: F401  (blosc-lz4 filter for h5py)
import numpy as np
import onnxruntime as ort

TILE = MARGIN = CONTEXT = WINDOW = None
NHWC = False


def set_geometry(sess, tile):
    """W and the layout from the model's input; T, M, C from them."""
    global TILE, MARGIN, CONTEXT, WINDOW, NHWC
    shape = sess.get_inputs()[0].shape
    NHWC = shape[3] == 3 and shape[1] != 3
    WINDOW = int(shape[1] if NHWC else shape[2])
    TILE = int(tile) if tile else WINDOW
    MARGIN = WINDOW // 2
    CONTEXT = TILE + 2 * MARGIN


def session(model):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def rgba_to_rgb_white(rgba):
    alpha = rgba[..., 3]
    if alpha.min() == 255:
        return rgba[..., :3]
    a = alpha[..., None].astype(np.float32) * (1.0 / 255.0)
    rgb = rgba[..., :3].astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.rint(rgb).astype(np.uint8)


def store_cells(f):
    """(coords [T, 2] of (col, row), tiles [T, 448, 448, 3]) in group order."""
    coords, tiles = [], []
    for k in sorted(f["groups"].keys()):
        coords.append(f["groups"][k]["coords"][...])
        tiles.append(f["groups"][k]["tiles"])
    return np.concatenate(coords), tiles


def tiles_from_openslide(slide_path, coords):
    import openslide

    slide = openslide.OpenSlide(slide_path)
    for c, r in coords:
        region = slide.read_region((int(c) * TILE - MARGIN, int(r) * TILE - MARGIN), 0,
                                   (CONTEXT, CONTEXT))
        yield rgba_to_rgb_white(np.asarray(region))


def tiles_from_store(groups):
    for g in groups:
        for i in range(g.shape[0]):
            yield g[i]


def score(sess, tiles, stride, batch=64):
    n = TILE // stride
    offs = [stride // 2 + k * stride for k in range(n)]
    name_in, name_out = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    w = WINDOW
    buf = np.empty((batch, w, w, 3) if NHWC else (batch, 3, w, w), dtype=np.float32)
    scores, fill = [], 0

    def flush():
        out = sess.run([name_out], {name_in: buf[:fill]})[0]
        scores.extend(out.reshape(fill, -1)[:, 0].tolist())

    for tile in tiles:
        hwc = tile if NHWC else tile.transpose(2, 0, 1)
        x = np.multiply(hwc, np.float32(1.0 / 255.0), dtype=np.float32)
        for oy in offs:
            for ox in offs:
                if NHWC:
                    buf[fill] = x[oy:oy + w, ox:ox + w, :]
                else:
                    buf[fill] = x[:, oy:oy + w, ox:ox + w]
                fill += 1
                if fill == batch:
                    flush()
                    fill = 0
    if fill:
        flush()
    return np.asarray(scores, dtype=np.float32).reshape(-1, n, n)


def main():
    source, slide_path, store, model, stride, heatmap = sys.argv[1:7]
    sess = session(model)
    set_geometry(sess, sys.argv[7] if len(sys.argv) > 7 else None)
    stride = int(stride)
    n = TILE // stride
    with h5py.File(store, "r") as f:
        rows, cols = int(f.attrs["grid_rows"]), int(f.attrs["grid_cols"])
        mask = f["tissue_mask"][...].astype(bool)
        coords, groups = store_cells(f)
        if source == "openslide":
            tiles = tiles_from_openslide(slide_path, coords)
        elif source == "raw":
            tiles = np.fromfile(slide_path, dtype=np.uint8).reshape(-1, CONTEXT, CONTEXT, 3)
            assert len(tiles) == len(coords), (len(tiles), len(coords))
        else:
            tiles = tiles_from_store(groups)
        blocks = score(sess, tiles, stride)
    ref = np.full((rows * n, cols * n), np.nan, dtype=np.float32)
    for (c, r), block in zip(coords, blocks):
        ref[r * n:(r + 1) * n, c * n:(c + 1) * n] = block
    got = np.load(heatmap)
    out = dict(ref_shape=list(ref.shape), got_shape=list(got.shape), dtype=str(got.dtype),
               tiles=int(len(coords)), mask_cells=int(mask.sum()),
               coords_match_mask=bool(
                   sorted(map(tuple, coords.tolist())) ==
                   sorted((int(c), int(r)) for r, c in np.argwhere(mask))))
    if got.shape == ref.shape:
        nan_ref, nan_got = np.isnan(ref), np.isnan(got)
        both = ~nan_ref & ~nan_got
        diff = np.abs(ref[both] - got[both])
        out.update(nan_mismatch=int((nan_ref != nan_got).sum()), scored=int(both.sum()),
                   max_abs_diff=float(diff.max()) if diff.size else 0.0,
                   ref_min=float(np.nanmin(ref)), ref_max=float(np.nanmax(ref)),
                   ref_std=float(np.nanstd(ref)))
    print(json.dumps(out))


main()
