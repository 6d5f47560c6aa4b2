//! The trained model `models/hemacnn.onnx` (issue 11, requirement 4) loads
//! through slidescale with its `hemacnn.json` preprocessing and scores real
//! windows as Python onnxruntime does with the same arithmetic written out.

use slidescale_infer::{BackendChoice, Scorer, ScorerOptions};
use slidescale_testutil::{fixture, repo_root, run_python, temp_dir};

#[test]
fn trained_model_scores_like_python_onnxruntime() {
    let dir = temp_dir("hemacnn");
    let wins = dir.join("windows.u8");
    let model = repo_root().join("models/hemacnn.onnx");
    // Eight 224×224 windows across CMU-1-Small-Region (background, stroma,
    // nuclei); Python applies hemacnn.json's scale/mean/std itself.
    let out = run_python(
        r#"
import json, sys, numpy as np, onnxruntime as ort, openslide
s = openslide.OpenSlide(sys.argv[1])
cells = [(0, 0), (1, 1), (4, 2), (6, 4), (3, 7), (5, 9), (8, 12), (2, 11)]
w = np.stack([np.asarray(s.read_region((c * 224, r * 224), 0, (224, 224)).convert("RGB")) for c, r in cells])
w.tofile(sys.argv[3])
cfg = json.load(open(sys.argv[2][:-5] + ".json"))
x = w.astype(np.float32).transpose(0, 3, 1, 2) * np.float32(cfg["scale"])
x = (x - np.float32(cfg["mean"][0])) / np.float32(cfg["std"][0])
p = ort.InferenceSession(sys.argv[2], providers=["CPUExecutionProvider"]).run(None, {"input": x})[0][:, 0]
print(" ".join(f"{v:.9g}" for v in p))
"#,
        &[
            fixture("slides/CMU-1-Small-Region.svs").to_str().unwrap(),
            model.to_str().unwrap(),
            wins.to_str().unwrap(),
        ],
    );
    let want: Vec<f32> = out.split_whitespace().map(|v| v.parse().unwrap()).collect();
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        ..ScorerOptions::default()
    };
    let mut scorer = Scorer::load(&model, &opts).unwrap();
    let got = scorer
        .score_windows(&std::fs::read(&wins).unwrap())
        .unwrap();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() < 1e-4,
            "window {i}: slidescale {g}, onnxruntime {w}"
        );
    }
    // a trained model, not a constant: the windows span a real range
    let (lo, hi) = want
        .iter()
        .fold((1.0f32, 0.0f32), |(l, u), &s| (l.min(s), u.max(s)));
    assert!(lo < 0.2 && hi > 0.8, "scores {want:?}");
}
