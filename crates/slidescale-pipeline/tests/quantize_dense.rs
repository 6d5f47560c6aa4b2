//! Issue 11, requirement 2 with dense mode: an int8 model written by
//! `quantize_model` is rewritten by dense mode (which sees through its
//! QuantizeLinear/DequantizeLinear pairs) and, on a model with only valid
//! convolutions (no padding effects), scores what the int8 model scores
//! window by window. Real ONNX Runtime on both sides.

use std::path::{Path, PathBuf};

use slidescale_core::{Stride, TileGeometry};
use slidescale_infer::{ScoreMode, Scorer, ScorerOptions};
use slidescale_onnx::graph::{self, Dim};
use slidescale_onnx::proto::{GraphProto, ModelProto};
use slidescale_pipeline::check_fast::agreement;
use slidescale_pipeline::quantize::{quantize_model, QuantizeError, QuantizeRequest};
use slidescale_testutil::{temp_dir, SplitMix64};

const W: i64 = 32;

fn weights(rng: &mut SplitMix64, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.unit() as f32 - 0.5).collect()
}

/// Conv k×k stride s (no padding) with a bias, then Relu.
fn conv(
    g: &mut GraphProto,
    rng: &mut SplitMix64,
    x: &str,
    io: (i64, i64),
    k: i64,
    s: i64,
) -> String {
    let name = format!("c{}", g.node.len());
    let (w, b) = (format!("{name}_w"), format!("{name}_b"));
    let (cin, cout) = io;
    let scale = 1.0 / ((cin * k * k) as f32).sqrt();
    let vals: Vec<f32> = weights(rng, (cout * cin * k * k) as usize)
        .iter()
        .map(|v| 2.0 * v * scale)
        .collect();
    g.initializer
        .push(graph::f32_tensor(&w, &[cout, cin, k, k], &vals));
    g.initializer
        .push(graph::f32_tensor(&b, &[cout], &weights(rng, cout as usize)));
    let mut n = graph::node("Conv", &name, &[x, &w, &b], &[&name]);
    n.attribute = vec![
        graph::ints_attr("kernel_shape", &[k, k]),
        graph::ints_attr("strides", &[s, s]),
    ];
    g.node.push(n);
    let relu = format!("{name}_relu");
    g.node.push(graph::node("Relu", "", &[&name], &[&relu]));
    relu
}

/// W = 32: conv 3×3 → maxpool 2/2 → conv 3×3 → conv 3×3 /2 (network
/// stride 4, final map 5×5), global average pooling, Gemm, Sigmoid.
fn valid_model() -> ModelProto {
    let mut rng = SplitMix64(11);
    let mut g = GraphProto {
        name: "valid".into(),
        ..Default::default()
    };
    let n = Dim::Named("N".into());
    g.input.push(graph::f32_value_info(
        "input",
        &[n.clone(), Dim::Fixed(3), Dim::Fixed(W), Dim::Fixed(W)],
    ));
    let a = conv(&mut g, &mut rng, "input", (3, 8), 3, 1);
    let mut mp = graph::node("MaxPool", "mp", &[&a], &["mp"]);
    mp.attribute = vec![
        graph::ints_attr("kernel_shape", &[2, 2]),
        graph::ints_attr("strides", &[2, 2]),
    ];
    g.node.push(mp);
    let b = conv(&mut g, &mut rng, "mp", (8, 8), 3, 1);
    let c = conv(&mut g, &mut rng, &b, (8, 8), 3, 2);
    g.node
        .push(graph::node("GlobalAveragePool", "gap", &[&c], &["gap"]));
    g.node.push(graph::node("Flatten", "fl", &["gap"], &["fl"]));
    g.initializer
        .push(graph::f32_tensor("fc_w", &[1, 8], &weights(&mut rng, 8)));
    g.initializer.push(graph::f32_tensor("fc_b", &[1], &[0.1]));
    let mut fc = graph::node("Gemm", "fc", &["fl", "fc_w", "fc_b"], &["logit"]);
    fc.attribute = vec![graph::int_attr("transB", 1)];
    g.node.push(fc);
    g.node
        .push(graph::node("Sigmoid", "sig", &["logit"], &["prob"]));
    g.output
        .push(graph::f32_value_info("prob", &[n, Dim::Fixed(1)]));
    ModelProto {
        producer_name: "slidescale-test".into(),
        ..graph::model_of(g, 17)
    }
}

fn tiles(geometry: TileGeometry, n: usize, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64(seed);
    // smooth-ish content: a random level per 4×4 block, so activations
    // are not noise
    let c = geometry.context() as usize;
    let mut out = vec![0u8; n * c * c * 3];
    for t in 0..n {
        for by in 0..c / 4 {
            for bx in 0..c / 4 {
                let rgb = [rng.next() as u8, rng.next() as u8, rng.next() as u8];
                for y in 0..4 {
                    for x in 0..4 {
                        let at = ((t * c + by * 4 + y) * c + bx * 4 + x) * 3;
                        out[at..at + 3].copy_from_slice(&rgb);
                    }
                }
            }
        }
    }
    out
}

fn request(model: &Path, out: PathBuf) -> QuantizeRequest {
    QuantizeRequest {
        model: model.to_path_buf(),
        scorer: ScorerOptions::default(),
        out,
        windows: 16,
        seed: 0,
    }
}

fn scores(model: &Path, mode: ScoreMode, geometry: TileGeometry, tiles: &[u8], s: u32) -> Vec<f32> {
    let opts = ScorerOptions {
        mode,
        ..ScorerOptions::default()
    };
    let mut scorer = Scorer::load(model, &opts).unwrap();
    scorer.use_geometry(geometry).unwrap();
    scorer
        .score_tiles(tiles, Stride::new(s).unwrap())
        .unwrap()
        .scores
}

#[test]
fn dense_on_an_int8_unpadded_model_scores_what_int8_sliding_scores() {
    let dir = temp_dir("quantize-dense");
    let fp32 = dir.join("valid.onnx");
    std::fs::write(&fp32, slidescale_onnx::encode(&valid_model())).unwrap();
    let geometry = TileGeometry::new(W as u32, Some(64)).unwrap();
    let calib = tiles(geometry, 16, 1);
    let int8 = dir.join("valid-int8.onnx");
    let q = quantize_model(&request(&fp32, int8.clone()), &calib, geometry, &|_, _| {}).unwrap();
    assert_eq!((q.convs, q.windows), (3, 16));
    let test = tiles(geometry, 4, 2);
    for s in [8, 4, 2] {
        let sliding = scores(&int8, ScoreMode::Sliding, geometry, &test, s);
        let dense = scores(&int8, ScoreMode::Dense, geometry, &test, s);
        let fp = scores(&fp32, ScoreMode::Sliding, geometry, &test, s);
        let d = agreement(&sliding, &dense);
        let f = agreement(&fp, &sliding);
        println!(
            "stride {s}: int8 dense vs int8 sliding max |Δ| {:.3e} mean {:.3e} ({} windows); \
             int8 vs fp32 max |Δ| {:.3e} mean {:.3e}",
            d.max_abs, d.mean_abs, d.windows, f.max_abs, f.mean_abs
        );
        assert!(d.max_abs <= 1e-5, "stride {s}: {d:?}");
        // int8 is not fp32, but close on this small model
        assert!(f.max_abs > 0.0 && f.max_abs < 0.05, "stride {s}: {f:?}");
    }
}

#[test]
fn a_model_with_nothing_to_quantize_and_a_foreign_out_are_refused() {
    let dir = temp_dir("quantize-refuse");
    let fp32 = dir.join("valid.onnx");
    std::fs::write(&fp32, slidescale_onnx::encode(&valid_model())).unwrap();
    let geometry = TileGeometry::new(W as u32, Some(64)).unwrap();
    let calib = tiles(geometry, 4, 1);
    // someone's file at --out stays as it was
    let foreign = dir.join("foreign.onnx");
    std::fs::write(&foreign, b"not a model of ours").unwrap();
    let err = quantize_model(
        &request(&fp32, foreign.clone()),
        &calib,
        geometry,
        &|_, _| {},
    )
    .unwrap_err();
    assert!(matches!(err, QuantizeError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read(&foreign).unwrap(), b"not a model of ours");
    // the fp32 model itself is someone's file too
    let err =
        quantize_model(&request(&fp32, fp32.clone()), &calib, geometry, &|_, _| {}).unwrap_err();
    assert!(err.to_string().contains("did not write it"), "{err}");
    // ours is replaced
    let out = dir.join("int8.onnx");
    for _ in 0..2 {
        quantize_model(&request(&fp32, out.clone()), &calib, geometry, &|_, _| {}).unwrap();
    }
    // an int8 model has no float Conv left: nothing to quantize
    let err = quantize_model(
        &request(&out, dir.join("twice.onnx")),
        &calib,
        geometry,
        &|_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("nothing to quantize"), "{err}");
    assert!(!dir.join("twice.onnx").exists());
}
