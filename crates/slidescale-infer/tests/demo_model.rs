//! The bundled demo model (`models/hematoxylin.onnx`): reproducible from its
//! script, and its scores follow hematoxylin (nuclei) density on real H&E.

use slidescale_infer::{BackendChoice, Scorer, ScorerOptions};
use slidescale_testutil::{fixture, repo_root, run_python, temp_dir};

#[test]
fn demo_model_is_rebuilt_bit_for_bit_by_its_script() {
    let out = temp_dir("demo-model").join("h.onnx");
    let script = repo_root().join("models/make_hematoxylin_model.py");
    run_python(
        "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
        &[script.to_str().unwrap(), out.to_str().unwrap()],
    );
    let committed = std::fs::read(repo_root().join("models/hematoxylin.onnx")).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == committed,
        "models/hematoxylin.onnx is stale: rerun its script"
    );
}

/// Ranks (average ranks for ties are not needed: scores are continuous).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    for (rank, &i) in idx.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn demo_model_follows_hematoxylin_density_on_cmu() {
    // Every 224×224 target patch of the slide inside its bounds (9×13
    // cells), and skimage's hematoxylin channel (rgb2hed) mean of each: an
    // independent measure of how much nuclear stain the window holds.
    let dir = temp_dir("demo-cmu");
    let wins = dir.join("windows.u8");
    let hed = dir.join("hed.f64");
    run_python(
        r#"
import sys, numpy as np, openslide
from skimage.color import rgb2hed
s = openslide.OpenSlide(sys.argv[1])
wins, h = [], []
for r in range(13):
    for c in range(9):
        w = np.asarray(s.read_region((c * 224, r * 224), 0, (224, 224)).convert("RGB"))
        wins.append(w)
        h.append(rgb2hed(w)[..., 0].mean())
np.stack(wins).tofile(sys.argv[2])
np.array(h, np.float64).tofile(sys.argv[3])
"#,
        &[
            fixture("slides/CMU-1-Small-Region.svs").to_str().unwrap(),
            wins.to_str().unwrap(),
            hed.to_str().unwrap(),
        ],
    );
    let opts = ScorerOptions {
        backend: BackendChoice::Ort,
        ..ScorerOptions::default()
    };
    let mut scorer = Scorer::load(&repo_root().join("models/hematoxylin.onnx"), &opts).unwrap();
    let scores: Vec<f64> = scorer
        .score_windows(&std::fs::read(&wins).unwrap())
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect();
    let h: Vec<f64> = std::fs::read(&hed)
        .unwrap()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let rho = pearson(&ranks(&scores), &ranks(&h));
    let at = |c: usize, r: usize| scores[r * 9 + c];
    let (lo, hi) = scores
        .iter()
        .fold((1.0f64, 0.0f64), |(l, u), &s| (l.min(s), u.max(s)));
    let saturated = scores.iter().filter(|&&s| s > 0.95).count();
    eprintln!(
        "spearman {rho:.4}; min {lo:.3} max {hi:.3}; {saturated}/{} above 0.95; white (1,1) {:.3}, dense (6,4) {:.3}",
        scores.len(),
        at(1, 1),
        at(6, 4)
    );
    assert!(
        rho > 0.98,
        "scores do not follow hematoxylin: spearman {rho}"
    );
    assert!(at(1, 1) < 0.1, "white background scores {}", at(1, 1));
    assert!(at(6, 4) > 0.9, "dense nuclei score {}", at(6, 4));
    // a useful spread: from background to nuclei, not all near 1
    assert!(lo < 0.1 && hi > 0.9);
    assert!(
        saturated * 5 < scores.len(),
        "{saturated} windows above 0.95"
    );
}
