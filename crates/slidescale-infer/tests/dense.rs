//! Dense mode against the sliding path, on models built here with only
//! valid convolutions and pooling (no padding effects: dense must equal
//! sliding), and the refusal of a model dense mode cannot rewrite.

use std::path::{Path, PathBuf};

use slidescale_core::{Stride, TileGeometry};
use slidescale_infer::{InferError, ScoreMode, Scorer, ScorerOptions};
use slidescale_onnx::graph::{self, Dim};
use slidescale_onnx::proto::{GraphProto, ModelProto, NodeProto, OperatorSetIdProto};
use slidescale_testutil::temp_dir;

const W: i64 = 32;

/// Deterministic weights in [-0.5, 0.5).
fn weights(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

fn conv(g: &mut GraphProto, name: &str, x: &str, cin: i64, cout: i64, k: i64, s: i64) -> String {
    let w = format!("{name}_w");
    g.initializer.push(graph::f32_tensor(
        &w,
        &[cout, cin, k, k],
        &weights(g.node.len() as u64, (cout * cin * k * k) as usize),
    ));
    let mut n = graph::node("Conv", name, &[x, &w], &[name]);
    n.attribute = vec![
        graph::ints_attr("kernel_shape", &[k, k]),
        graph::ints_attr("strides", &[s, s]),
    ];
    g.node.push(n);
    let relu = format!("{name}_relu");
    g.node.push(graph::node("Relu", &relu, &[name], &[&relu]));
    relu
}

/// W = 32: conv 3×3 → maxpool 2/2 → conv 3×3 → conv 3×3 /2 (network stride
/// 4, final map 6×6), then a global pooling and a linear layer of 2 outputs
/// (`matmul`: MatMul + Add instead of Gemm; `pooled`: false skips the
/// pooling, which dense mode must refuse).
fn build(pool: &str, matmul: bool, pooled: bool) -> ModelProto {
    let mut g = GraphProto {
        name: "valid".into(),
        ..Default::default()
    };
    g.input.push(graph::f32_value_info(
        "input",
        &[
            Dim::Named("N".into()),
            Dim::Fixed(3),
            Dim::Fixed(W),
            Dim::Fixed(W),
        ],
    ));
    let a = conv(&mut g, "c1", "input", 3, 4, 3, 1);
    let mut mp = graph::node("MaxPool", "mp", &[&a], &["mp"]);
    mp.attribute = vec![
        graph::ints_attr("kernel_shape", &[2, 2]),
        graph::ints_attr("strides", &[2, 2]),
    ];
    g.node.push(mp);
    let b = conv(&mut g, "c2", "mp", 4, 6, 3, 1);
    let c = conv(&mut g, "c3", &b, 6, 6, 3, 2);
    let feat = if pooled {
        g.node.push(graph::node(pool, "gp", &[&c], &["gp"]));
        "gp"
    } else {
        &c
    };
    g.node.push(graph::node("Flatten", "fl", &[feat], &["fl"]));
    let k = if pooled { 6 } else { 6 * 6 * 6 };
    g.initializer
        .push(graph::f32_tensor("bias", &[2], &[0.1, -0.2]));
    if matmul {
        g.initializer.push(graph::f32_tensor(
            "fc_w",
            &[k, 2],
            &weights(7, 2 * k as usize),
        ));
        g.node
            .push(graph::node("MatMul", "mm", &["fl", "fc_w"], &["mm"]));
        g.node
            .push(graph::node("Add", "fc", &["mm", "bias"], &["logits"]));
    } else {
        g.initializer.push(graph::f32_tensor(
            "fc_w",
            &[2, k],
            &weights(7, 2 * k as usize),
        ));
        let mut fc: NodeProto = graph::node("Gemm", "fc", &["fl", "fc_w", "bias"], &["logits"]);
        fc.attribute = vec![graph::int_attr("transB", 1)];
        g.node.push(fc);
    }
    g.node
        .push(graph::node("Sigmoid", "sig", &["logits"], &["prob"]));
    g.output.push(graph::f32_value_info(
        "prob",
        &[Dim::Named("N".into()), Dim::Fixed(2)],
    ));
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: "slidescale-test".into(),
        graph: Some(g),
        ..Default::default()
    }
}

fn write(model: &ModelProto, tag: &str) -> PathBuf {
    let path = temp_dir(tag).join("valid.onnx");
    std::fs::write(&path, slidescale_onnx::encode(model)).unwrap();
    path
}

fn scorer(path: &Path, mode: ScoreMode, geometry: TileGeometry) -> Result<Scorer, InferError> {
    let opts = ScorerOptions {
        mode,
        ..ScorerOptions::default()
    };
    let mut s = Scorer::load(path, &opts)?;
    s.use_geometry(geometry)?;
    Ok(s)
}

fn tiles(geometry: TileGeometry, n: usize) -> Vec<u8> {
    let bytes = geometry.context_bytes() as usize * n;
    weights(3, bytes)
        .into_iter()
        .map(|v| ((v + 0.5) * 255.0) as u8)
        .collect()
}

fn assert_dense_equals_sliding(model: &ModelProto, tag: &str) {
    let path = write(model, tag);
    // T = 64: 16 windows per axis at stride 4, 32 at stride 2
    let geometry = TileGeometry::new(W as u32, Some(64)).unwrap();
    let mut sliding = scorer(&path, ScoreMode::Sliding, geometry).unwrap();
    let mut dense = scorer(&path, ScoreMode::Dense, geometry).unwrap();
    assert_eq!(dense.mode(), ScoreMode::Dense);
    let input = tiles(geometry, 2);
    // 8: a multiple of the network stride (one pass); 2: below it (two
    // phases per axis); 64: one window per tile
    for s in [8, 2, 64] {
        let stride = Stride::new(s).unwrap();
        let a = sliding.score_tiles(&input, stride).unwrap();
        let b = dense.score_tiles(&input, stride).unwrap();
        let n = geometry.windows_per_tile(stride) as usize;
        assert_eq!((a.scores.len(), b.scores.len()), (2 * n, 2 * n));
        assert_eq!(b.stats.windows, 2 * n as u64);
        let max = a
            .scores
            .iter()
            .zip(&b.scores)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(max < 1e-5, "{tag} stride {s}: max |dense − sliding| {max}");
        // the scores are not all alike (the comparison means something)
        let spread = a
            .scores
            .iter()
            .fold(0f32, |m, v| m.max((v - a.scores[0]).abs()));
        assert!(spread > 1e-3, "{tag} stride {s}: flat scores");
    }
}

#[test]
fn dense_equals_sliding_without_padding_effects() {
    assert_dense_equals_sliding(&build("GlobalAveragePool", false, true), "dense-gap-gemm");
    assert_dense_equals_sliding(&build("GlobalMaxPool", true, true), "dense-gmp-matmul");
}

#[test]
fn a_model_without_global_pooling_is_refused_with_the_reason() {
    let path = write(&build("GlobalAveragePool", false, false), "dense-refused");
    let geometry = TileGeometry::new(W as u32, None).unwrap();
    let e = scorer(&path, ScoreMode::Dense, geometry)
        .err()
        .expect("refused");
    let msg = e.to_string();
    assert!(matches!(e, InferError::Dense { .. }), "{msg}");
    assert!(
        msg.contains("not GlobalAveragePool or GlobalMaxPool"),
        "{msg}"
    );
    // the same model still scores in sliding mode
    assert!(scorer(&path, ScoreMode::Sliding, geometry).is_ok());
}
