//! The tract fallback agrees with ONNX Runtime within 1e-4 on real tiles
//! (built and run only with `--features tract`).
#![cfg(feature = "tract")]

mod common;

use common::{compare, cut_cmu_tiles};
use slidescale_core::Stride;
use slidescale_infer::{BackendChoice, Scorer, ScorerOptions};
use slidescale_testutil::fixture;

fn scores(backend: BackendChoice, tiles: &[u8], stride: u32) -> Vec<f32> {
    let opts = ScorerOptions {
        backend,
        batch: 16,
        ..ScorerOptions::default()
    };
    let mut s = Scorer::load(&fixture("models/smallcnn.onnx"), &opts).unwrap();
    s.score_tiles(tiles, Stride::new(stride).unwrap())
        .unwrap()
        .scores
}

#[test]
fn tract_agrees_with_onnxruntime() {
    let tiles = std::fs::read(cut_cmu_tiles(common::CELLS, "tract")).unwrap();
    for stride in [224, 56] {
        let ort = scores(BackendChoice::Ort, &tiles, stride);
        let tract = scores(BackendChoice::Tract, &tiles, stride);
        let (max, _) = compare(&tract, &ort);
        eprintln!("stride {stride}: tract vs onnxruntime max |diff| {max:e}");
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
