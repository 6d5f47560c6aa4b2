//! Model validation and the per-model config, with small ONNX models built
//! in the test by the `onnx` Python package.

mod common;

use std::path::{Path, PathBuf};

use common::{compare, cut_cmu_tiles, read_f32};
use slidescale_core::Stride;
use slidescale_infer::{BackendChoice, InferError, Scorer, ScorerOptions};
use slidescale_testutil::{fixture, run_python, temp_dir};

/// Build a one-node-chain model: input `x` of `in_shape` (f32 unless
/// `in_type` says otherwise), output `y` = ReduceMean over `axes` (keepdims 0)
/// of x, then optionally Concat with ReduceMax to give two columns.
fn make_model(
    dir: &Path,
    name: &str,
    in_shape: &str,
    in_type: &str,
    axes: &str,
    two: bool,
) -> PathBuf {
    let path = dir.join(name);
    run_python(
        r#"
import sys, onnx
from onnx import helper, TensorProto as T
path, shape, ty, axes, two = sys.argv[1], eval(sys.argv[2]), sys.argv[3], eval(sys.argv[4]), sys.argv[5] == "1"
elem = {"f32": T.FLOAT, "u8": T.UINT8}[ty]
ax = helper.make_tensor("axes", T.INT64, [len(axes)], axes)
nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=0)]
out = "m"
if two:
    nodes += [helper.make_node("ReduceMax", ["x", "axes"], ["mx"], keepdims=0),
              helper.make_node("Unsqueeze", ["m", "one"], ["m1"]),
              helper.make_node("Unsqueeze", ["mx", "one"], ["mx1"]),
              helper.make_node("Concat", ["m1", "mx1"], ["y"], axis=1)]
    out = "y"
else:
    nodes += [helper.make_node("Identity", ["m"], ["y"])]
    out = "y"
one = helper.make_tensor("one", T.INT64, [1], [1])
g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", elem, shape)],
                      [helper.make_tensor_value_info(out, elem, None)], [ax, one])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
m.ir_version = 8
onnx.save(m, path)
"#,
        &[
            path.to_str().unwrap(),
            in_shape,
            in_type,
            axes,
            if two { "1" } else { "0" },
        ],
    );
    path
}

fn load(model: &Path) -> Result<Scorer, InferError> {
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        ..ScorerOptions::default()
    };
    Scorer::load(model, &opts)
}

fn load_err(model: &Path) -> String {
    match load(model) {
        Ok(_) => panic!("{} was accepted", model.display()),
        Err(e) => {
            assert!(e.is_bad_input(), "{e}");
            e.to_string()
        }
    }
}

#[test]
fn wrong_input_size_is_refused_naming_model_and_shape() {
    let dir = temp_dir("bad-in");
    for (name, shape) in [
        ("m299x300.onnx", "['N', 3, 299, 300]"),
        ("m16.onnx", "['N', 3, 16, 16]"),
    ] {
        let m = make_model(&dir, name, shape, "f32", "[1, 2, 3]", false);
        let e = load_err(&m);
        let found = shape.replace("'N'", "?").replace(' ', "");
        assert!(e.contains(name) && e.contains(&found), "{e}");
        assert!(e.contains("32 to 1024"), "{e}");
    }
}

#[test]
fn any_square_window_from_32_to_1024_is_the_models_window() {
    let dir = temp_dir("any-window");
    for side in [32, 96, 299] {
        let shape = format!("['N', 3, {side}, {side}]");
        let m = make_model(
            &dir,
            &format!("m{side}.onnx"),
            &shape,
            "f32",
            "[1, 2, 3]",
            false,
        );
        assert_eq!(load(&m).unwrap().window(), side);
    }
    let m = make_model(
        &dir,
        "nhwc96.onnx",
        "['N', 96, 96, 3]",
        "f32",
        "[1, 2, 3]",
        false,
    );
    assert_eq!(load(&m).unwrap().window(), 96);
}

#[test]
fn wrong_channel_count_and_rank_are_refused() {
    let dir = temp_dir("bad-ch");
    let m = make_model(
        &dir,
        "gray.onnx",
        "['N', 1, 224, 224]",
        "f32",
        "[1, 2, 3]",
        false,
    );
    assert!(load_err(&m).contains("[?,1,224,224]"));
    let m = make_model(
        &dir,
        "rank3.onnx",
        "['N', 224, 224]",
        "f32",
        "[1, 2]",
        false,
    );
    assert!(load_err(&m).contains("[?,224,224]"));
    let m = make_model(
        &dir,
        "u8.onnx",
        "['N', 3, 224, 224]",
        "u8",
        "[1, 2, 3]",
        false,
    );
    assert!(load_err(&m).contains("u8.onnx"));
}

#[test]
fn unusable_output_is_refused() {
    let dir = temp_dir("bad-out");
    // reducing only the channel axis leaves a [N,224,224] output
    let m = make_model(&dir, "map.onnx", "['N', 3, 224, 224]", "f32", "[1]", false);
    let e = load_err(&m);
    assert!(e.contains("map.onnx") && e.contains("output"), "{e}");
}

#[test]
fn missing_and_corrupt_model_files_are_named() {
    let dir = temp_dir("bad-file");
    let e = load_err(&dir.join("nope.onnx"));
    assert!(e.contains("nope.onnx"), "{e}");
    let junk = dir.join("junk.onnx");
    std::fs::write(&junk, b"not a model").unwrap();
    assert!(load_err(&junk).contains("junk.onnx"));
    let m = fixture("models/smallcnn.onnx");
    let copy = dir.join("cfg.onnx");
    std::fs::copy(&m, &copy).unwrap();
    std::fs::write(dir.join("cfg.json"), br#"{"layout": "NCWH"}"#).unwrap();
    assert!(load_err(&copy).contains("cfg.json"));
}

/// An NHWC model with a fixed batch of 1 and two output columns, read with
/// mean/std scaling and softmax from its MODEL.json, equals numpy.
#[test]
fn nhwc_fixed_batch_and_config_follow_the_sidecar() {
    let dir = temp_dir("cfg");
    let m = make_model(
        &dir,
        "nhwc.onnx",
        "[1, 224, 224, 3]",
        "f32",
        "[1, 2, 3]",
        true,
    );
    std::fs::write(
        dir.join("nhwc.json"),
        br#"{"scale": 0.00392156862745098, "mean": [0.485, 0.456, 0.406],
             "std": [0.229, 0.224, 0.225], "activation": "softmax", "column": 1}"#,
    )
    .unwrap();
    let tiles_path = cut_cmu_tiles(&[(4, 5), (0, 0)], "cfg-tiles");
    let tiles = std::fs::read(&tiles_path).unwrap();
    let mut scorer = load(&m).unwrap();
    assert_eq!(scorer.batch(), 1);
    let got = scorer
        .score_tiles(&tiles, Stride::new(112).unwrap())
        .unwrap();
    let out = dir.join("ref.f32");
    run_python(
        r#"
import sys, numpy as np
tiles = np.fromfile(sys.argv[1], np.uint8).reshape(-1, 448, 448, 3)
mean = np.array([0.485, 0.456, 0.406], np.float32); std = np.array([0.229, 0.224, 0.225], np.float32)
res = []
for t in tiles:
    f = (t.astype(np.float32) * np.float32(1 / 255) - mean) / std
    for oy in (56, 168):
        for ox in (56, 168):
            w = f[oy:oy + 224, ox:ox + 224]
            row = np.array([w.mean(dtype=np.float64), w.max()], np.float64)
            e = np.exp(row - row.max())
            res.append(e[1] / e.sum())
np.array(res, np.float32).tofile(sys.argv[2])
"#,
        &[tiles_path.to_str().unwrap(), out.to_str().unwrap()],
    );
    let want = read_f32(&out);
    let (max, _) = compare(&got.scores, &want);
    assert!(max < 1e-4, "max diff {max}: {:?} vs {want:?}", got.scores);
}
