//! The tract fallback agrees with ONNX Runtime within 1e-4 on real tiles
//! (built and run only with `--features tract`).
#![cfg(feature = "tract")]

mod common;

use common::{compare, cut_cmu_tiles};
use slidescale_core::Stride;
use slidescale_infer::{BackendChoice, Scorer, ScorerOptions};
use std::path::Path;

use slidescale_testutil::{fixture, shared};

fn scores(model: &Path, backend: BackendChoice, tiles: &[u8], stride: u32) -> Vec<f32> {
    let opts = ScorerOptions {
        backend,
        batch: 16,
        ..ScorerOptions::default()
    };
    let mut s = Scorer::load(model, &opts).unwrap();
    s.score_tiles(tiles, Stride::new(stride).unwrap())
        .unwrap()
        .scores
}

#[test]
fn tract_agrees_with_onnxruntime() {
    let tiles = std::fs::read(cut_cmu_tiles(common::CELLS, "tract")).unwrap();
    let small = fixture("models/smallcnn.onnx");
    let googlenet = shared("models/googlenet.onnx");
    for (model, stride) in [(&small, 224), (&small, 56), (&googlenet, 224)] {
        let ort = scores(model, BackendChoice::Ort, &tiles, stride);
        let tract = scores(model, BackendChoice::Tract, &tiles, stride);
        let (max, _) = compare(&tract, &ort);
        eprintln!(
            "{} stride {stride}: tract vs onnxruntime max |diff| {max:e}",
            model.display()
        );
        assert!(max <= 1e-4, "tract differs by {max}");
    }
}

#[test]
fn tract_refuses_what_ort_refuses() {
    let dir = slidescale_testutil::temp_dir("tract-bad");
    let junk = dir.join("junk.onnx");
    std::fs::write(&junk, b"junk").unwrap();
    let opts = ScorerOptions {
        backend: BackendChoice::Tract,
        ..ScorerOptions::default()
    };
    let e = Scorer::load(&junk, &opts).err().unwrap().to_string();
    assert!(e.contains("junk.onnx"), "{e}");
}
