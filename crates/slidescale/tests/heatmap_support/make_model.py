"""A small seeded CNN with a W x W input, for the window-size exactness tests.

usage: make_model.py W LAYOUT OUT.onnx [K]   (LAYOUT: NCHW or NHWC)

Conv 5x5/4 (padded) -> ReLU -> Conv 3x3/2 -> ReLU -> GlobalAveragePool ->
Gemm -> Sigmoid, input `input`, output `prob` [N, 1] (with K > 1 classes:
`logits` [N, K], no activation, as a WSInfer export), random weights from a
fixed seed: what matters is that every pixel of the window moves the score.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

w, layout, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
k = int(sys.argv[4]) if len(sys.argv) > 4 else 1
rng = np.random.default_rng(w)


def init(name, *shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


inits = [init("w1", 8, 3, 5, 5), init("b1", 8), init("w2", 8, 8, 3, 3), init("b2", 8),
         init("w3", k, 8, scale=1.0), init("b3", k)]
nodes = []
x = "input"
if layout == "NHWC":
    nodes.append(helper.make_node("Transpose", ["input"], ["x"], perm=[0, 3, 1, 2]))
    x = "x"
nodes += [
    helper.make_node("Conv", [x, "w1", "b1"], ["c1"], kernel_shape=[5, 5], strides=[4, 4], pads=[2, 2, 2, 2]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c2"], ["r2"]),
    helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
    helper.make_node("Flatten", ["g"], ["f"]),
    helper.make_node("Gemm", ["f", "w3", "b3"], ["logit" if k == 1 else "logits"], transB=1),
]
if k == 1:
    nodes.append(helper.make_node("Sigmoid", ["logit"], ["prob"]))
out_name = "prob" if k == 1 else "logits"
shape = ["N", 3, w, w] if layout == "NCHW" else ["N", w, w, 3]
graph = helper.make_graph(nodes, f"cnn{w}", [helper.make_tensor_value_info("input", T.FLOAT, shape)],
                          [helper.make_tensor_value_info(out_name, T.FLOAT, ["N", k])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out)
