#!/usr/bin/env python3
"""Build slidescale's demo model: hematoxylin density of a 224x224 window.

usage: make_hematoxylin_model.py [OUT.onnx]     (default: models/hematoxylin.onnx)

This is NOT a tumour detector and was never trained: every number in it is
written below. It exists so that the bundled demo produces a heatmap that
follows something real in H&E (where the nuclei are), with the same I/O
contract as ../shared/models/*.onnx:

  input  "input"  float32 [N, 3, 224, 224], RGB scaled x/255 by slidescale
  output "prob"   float32 [N, 1] in (0, 1)

Graph (all constants fixed):
  1. optical density per channel: OD = -ln(clip(x, 1/255, 1))
  2. hematoxylin concentration per pixel by colour deconvolution
     (Ruifrok & Johnston 2001, the H/E/DAB vectors of skimage.color.rgb2hed):
     h = OD . hed_from_rgb[:, 0], a 1x1 convolution, then ReLU (no negative stain)
  3. mean over the window (GlobalAveragePool)
  4. a fixed sigmoid: prob = 1 / (1 + exp(-K (mean_h - C))) with C = 0.5, K = 6.
     C and K were chosen by looking at CMU-1-Small-Region.svs: white background
     has mean_h ~ 0.04 (-> 0.06), pale stroma 0.2-0.3 (-> 0.14-0.23), dense
     nuclei 0.9-1.3 (-> 0.92-0.99), so the heatmap uses the whole range.

Deterministic: the same onnx version writes the same bytes.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

C_CENTRE = 0.5
K_SLOPE = 6.0

# Ruifrok & Johnston stain vectors (rows: hematoxylin, eosin, DAB), as in
# skimage.color.colorconv.rgb_from_hed; rows normalised, then inverted.
RGB_FROM_HED = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])


def hematoxylin_weights():
    m = RGB_FROM_HED / np.linalg.norm(RGB_FROM_HED, axis=1, keepdims=True)
    return np.linalg.inv(m)[:, 0]


def build():
    w = hematoxylin_weights()
    # Conv on ln(x) = -OD, so the weights carry the minus sign.
    conv_w = (-w).astype(np.float32).reshape(1, 3, 1, 1)
    inits = [
        numpy_helper.from_array(np.array(1.0 / 255.0, np.float32), "x_min"),
        numpy_helper.from_array(np.array(1.0, np.float32), "x_max"),
        numpy_helper.from_array(conv_w, "h_weights"),
        numpy_helper.from_array(np.array(C_CENTRE, np.float32), "centre"),
        numpy_helper.from_array(np.array(K_SLOPE, np.float32), "slope"),
    ]
    nodes = [
        helper.make_node("Clip", ["input", "x_min", "x_max"], ["x_clipped"]),
        helper.make_node("Log", ["x_clipped"], ["log_x"]),
        helper.make_node("Conv", ["log_x", "h_weights"], ["h_raw"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["h_raw"], ["h"]),
        helper.make_node("GlobalAveragePool", ["h"], ["h_mean4"]),
        helper.make_node("Flatten", ["h_mean4"], ["h_mean"], axis=1),
        helper.make_node("Sub", ["h_mean", "centre"], ["h_centred"]),
        helper.make_node("Mul", ["h_centred", "slope"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["prob"]),
    ]
    graph = helper.make_graph(
        nodes,
        "hematoxylin_density",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="slidescale models/make_hematoxylin_model.py",
        doc_string="Demo model: mean hematoxylin density (colour deconvolution) "
        "through a fixed sigmoid. Not trained; not a tumour detector.",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def reference(x):
    """The same computation in numpy, float64, for checking."""
    od = -np.log(np.clip(x, 1 / 255, 1))
    h = np.maximum(np.einsum("nchw,c->nhw", od, hematoxylin_weights()), 0)
    return 1 / (1 + np.exp(-K_SLOPE * (h.mean(axis=(1, 2)) - C_CENTRE)))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "hematoxylin.onnx")
    onnx.save(build(), out)
    try:
        import onnxruntime as ort
    except ImportError:
        print(f"wrote {out} (onnxruntime not installed: not checked)")
        return
    x = np.random.default_rng(0).random((4, 3, 224, 224), dtype=np.float32)
    x[0] = 1.0  # white
    got = ort.InferenceSession(out, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    assert got.shape == (4, 1)
    err = np.abs(got[:, 0] - reference(x.astype(np.float64))).max()
    assert err < 1e-5, err
    print(f"wrote {out}; onnxruntime vs numpy max |diff| {err:.2e}")


if __name__ == "__main__":
    main()
