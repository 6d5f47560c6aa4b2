"""Oracle for `slidescale check-fast --json` (run by tests/check_fast_cli.rs).

usage: oracle.py WORK CHECK.json FP32.onnx FAST.onnx|FAST_SCORES.npy

Reads the tiles CHECK.json names as sampled (store, group, index) from
WORK/<store>.h5 with h5py, cuts every window as slidescale does (offsets
s//2 + k*s in the context tile, x*(1/255) float32, NCHW), scores them with
onnxruntime: FP32.onnx is the exact side; the fast side is FAST.onnx scored
the same way (sliding int8) or, for dense mode, slidescale's own fast scores
of the same tiles (FAST_SCORES.npy: the dense pass has no Python twin).
Prints one JSON line: the figures recomputed, and the tile count it read.
"""
import json
import sys

import h5py
import hdf5plugin  # noqa: F401  (blosc-lz4 filter for h5py)
import numpy as np
import onnxruntime as ort


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def windows(tiles, window, stride):
    tile = tiles.shape[1] - 2 * (window // 2)
    offs = [stride // 2 + k * stride for k in range(tile // stride)]
    x = np.multiply(tiles.transpose(0, 3, 1, 2), np.float32(1.0 / 255.0), dtype=np.float32)
    return np.stack([t[:, oy:oy + window, ox:ox + window]
                     for t in x for oy in offs for ox in offs])


def scores(path, wins):
    s = session(path)
    name = s.get_inputs()[0].name
    out = [s.run(None, {name: wins[i:i + 16]})[0] for i in range(0, len(wins), 16)]
    return np.concatenate(out).reshape(len(wins), -1)[:, 0].astype(np.float32)


def main():
    work, check, fp32, fast = sys.argv[1:5]
    report = json.load(open(check))
    tiles = []
    for t in report["sampled"]:
        with h5py.File(f"{work}/{t['store']}.h5", "r") as f:
            tiles.append(f["groups"][f"{t['group']:06d}"]["tiles"][t["index"]])
    tiles = np.stack(tiles)
    window = int(session(fp32).get_inputs()[0].shape[2])
    wins = windows(tiles, window, report["stride"])
    a = scores(fp32, wins)
    b = np.load(fast).astype(np.float32) if fast.endswith(".npy") else scores(fast, wins)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    d = np.abs(a64 - b64)
    print(json.dumps(dict(
        tiles=len(tiles), windows=len(a),
        max_abs=float(d.max()), mean_abs=float(d.mean()),
        correlation=float(np.corrcoef(a64, b64)[0, 1]),
        agree_05=float(np.mean((a >= 0.5) == (b >= 0.5))))))


main()
