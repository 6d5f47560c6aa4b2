//! Window scores equal Python onnxruntime's on the same windows of real
//! H&E context tiles (requirement: within 1e-4; with the reference's batch
//! size they are bit-identical, and that is asserted too).

mod common;

use std::path::Path;

use common::{compare, cut_cmu_tiles, python_scores, CELLS};
use slidescale_core::Stride;
use slidescale_infer::{BackendChoice, Scorer, ScorerOptions};
use slidescale_testutil::{fixture, shared};

fn check(model: &Path, stride: u32, batch: usize, tag: &str) {
    let tiles_path = cut_cmu_tiles(CELLS, tag);
    let tiles = std::fs::read(&tiles_path).unwrap();
    let want = python_scores(model, &tiles_path, stride);
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        batch,
        ..ScorerOptions::default()
    };
    let mut scorer = Scorer::load(model, &opts).unwrap();
    let got = scorer
        .score_tiles(&tiles, Stride::new(stride).unwrap())
        .unwrap();
    let n = (224 / stride) as usize;
    assert_eq!(got.scores.len(), CELLS.len() * n * n);
    assert_eq!(got.stats.windows as usize, got.scores.len());
    let (max, same) = compare(&got.scores, &want);
    eprintln!(
        "{} stride {stride} batch {batch}: max |diff| {max:e}, {same}/{} bit-identical",
        model.display(),
        want.len()
    );
    assert!(max <= 1e-4, "max abs diff {max} > 1e-4");
    if batch == 64 {
        // same library, session options, batches and inputs as the
        // reference: the target is bit-identical, and it is reached
        assert_eq!(same, want.len(), "not bit-identical to Python onnxruntime");
    }
    // the scores vary: a constant model output would make the test vacuous
    let spread = want.iter().copied().fold(f32::MIN, f32::max)
        - want.iter().copied().fold(f32::MAX, f32::min);
    assert!(spread > 1e-3, "reference scores do not vary ({spread})");
}

#[test]
fn smallcnn_stride_32_matches_python_onnxruntime() {
    check(&fixture("models/smallcnn.onnx"), 32, 64, "par-s32");
}

#[test]
fn smallcnn_stride_224_matches_python_onnxruntime() {
    check(&fixture("models/smallcnn.onnx"), 224, 64, "par-s224");
}

#[test]
fn smallcnn_batches_crossing_tiles_do_not_change_scores() {
    // 49 windows per tile and batch 20: batches straddle tile boundaries
    check(&fixture("models/smallcnn.onnx"), 32, 20, "par-b20");
}

#[test]
fn googlenet_stride_224_matches_python_onnxruntime() {
    check(&shared("models/googlenet.onnx"), 224, 64, "par-gn");
}
