"""Oracle for `slidescale quantize` (run by tests/quantize_cli.rs).

usage: oracle.py FP32.onnx WINDOWS.npy OURS_INT8.onnx OURS_SCORES.npy ORACLE_OUT.onnx

WINDOWS.npy holds the calibration windows slidescale used, in the model's
input form ([n, 3, W, W] float32). This script

1. runs slidescale's int8 model in onnxruntime (session options of
   ../shared/bench/process.py) on those windows and compares the first
   output column with OURS_SCORES.npy (slidescale's scores of the same
   windows);
2. quantizes FP32.onnx with onnxruntime.quantization.quantize_static
   (QDQ, per_channel=True, uint8 activations, int8 weights, MinMax,
   op_types_to_quantize = Conv, Relu, Clip, MaxPool), calibrated on the same
   windows one at a time, and compares the two models: nodes (op, inputs,
   outputs), initializer names, integer initializers exactly, float ones
   (scales) by relative difference;
3. runs the oracle's model on the windows and compares it with ours.

Prints one JSON line.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def scores(path, windows):
    s = session(path)
    name = s.get_inputs()[0].name
    out = [s.run(None, {name: windows[i:i + 8]})[0] for i in range(0, len(windows), 8)]
    return np.concatenate(out).reshape(len(windows), -1)[:, 0]


class Windows(CalibrationDataReader):
    def __init__(self, name, windows):
        self.items = iter([{name: windows[i:i + 1]} for i in range(len(windows))])

    def get_next(self):
        return next(self.items, None)


def nodes(model):
    return sorted((n.op_type, tuple(n.input), tuple(n.output)) for n in model.graph.node)


def inits(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def main():
    fp32, windows_npy, ours, ours_scores, oracle_out = sys.argv[1:6]
    windows = np.load(windows_npy)
    got = np.load(ours_scores).reshape(-1)
    py = scores(ours, windows)
    name = onnx.load(fp32).graph.input[0].name
    quantize_static(fp32, oracle_out, Windows(name, windows), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                    op_types_to_quantize=["Conv", "Relu", "Clip", "MaxPool"])
    a, b = onnx.load(ours), onnx.load(oracle_out)
    na, nb = nodes(a), nodes(b)
    ia, ib = inits(a), inits(b)
    common = sorted(set(ia) & set(ib))
    int_mismatch, dtype_mismatch = [], []
    rel_of = dict(weight=0.0, bias=0.0, activation=0.0)
    for k in common:
        x, y = ia[k], ib[k]
        if x.dtype != y.dtype or x.shape != y.shape:
            dtype_mismatch.append(k)
        elif x.dtype.kind in "iu":
            if not np.array_equal(x, y):
                int_mismatch.append([k, int(np.sum(x != y)), int(np.max(np.abs(x.astype(np.int64) - y.astype(np.int64))))])
        else:
            rel = float(np.max(np.abs(x.astype(np.float64) - y) / np.maximum(np.abs(y), 1e-30)))
            kind = ("bias" if k.endswith("_quantized_scale") else
                    "activation" if x.ndim == 0 else "weight")
            rel_of[kind] = max(rel_of[kind], rel)
    oracle = scores(oracle_out, windows)
    print(json.dumps(dict(
        windows=int(len(windows)),
        py_vs_slidescale_max=float(np.max(np.abs(py - got))),
        nodes_ours=len(na), nodes_oracle=len(nb),
        nodes_only_ours=[list(map(str, n)) for n in sorted(set(na) - set(nb))][:5],
        nodes_only_oracle=[list(map(str, n)) for n in sorted(set(nb) - set(na))][:5],
        inits_only_ours=sorted(set(ia) - set(ib))[:5],
        inits_only_oracle=sorted(set(ib) - set(ia))[:5],
        inits_compared=len(common),
        dtype_mismatch=dtype_mismatch[:5],
        int_mismatch=int_mismatch[:5],
        weight_scale_max_rel=rel_of["weight"],
        bias_scale_max_rel=rel_of["bias"],
        activation_scale_max_rel=rel_of["activation"],
        oracle_vs_ours_max=float(np.max(np.abs(oracle - py))),
        quantized_ops=sorted({n.op_type for n in b.graph.node}),
    )))


main()
