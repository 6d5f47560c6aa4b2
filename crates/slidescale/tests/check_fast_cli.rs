//! Issue 11, requirement 3 through the command line: `slidescale check-fast
//! --int8 M8 --json` on stored CMU tiles, with and without `--mode dense`.
//! A Python oracle (`check_fast_support/oracle.py`) reads the tiles the JSON
//! says were sampled with h5py, scores them with onnxruntime and recomputes
//! max/mean |Δ|, r and agreement at 0.5 (1e-5). Also: the one line names
//! what was compared, `run --mode dense` with an int8 model says "vs
//! sliding int8", and a check with nothing fast in it is refused.

mod heatmap_support;

use std::path::{Path, PathBuf};

use heatmap_support::{cmu, run, run_ok, smallcnn};
use serde_json::Value;
use slidescale_core::{Stride, WorkDir};
use slidescale_heatmap::write_npy_f32;
use slidescale_infer::{ScoreMode, Scorer, ScorerOptions};
use slidescale_pipeline::check_fast::{sample_with_origin, Sample};
use slidescale_testutil::{run_python, temp_dir};

const ORACLE_PY: &str = include_str!("check_fast_support/oracle.py");
const STRIDE: u32 = 56;
const TILES: usize = 5;
const SEED: u64 = 3;

/// A split of CMU (scored by smallcnn at stride 224) and an int8 smallcnn
/// quantized from its stores.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let work = dir.join("work");
    run_ok(&[&cmu()], &smallcnn(), 224, &work, &["--threads", "2"]);
    let m8 = dir.join("smallcnn-int8.onnx");
    let q = run(&[
        "quantize".as_ref(),
        smallcnn().as_os_str(),
        "--calibrate-from".as_ref(),
        work.as_os_str(),
        "--out".as_ref(),
        m8.as_os_str(),
        "--threads".as_ref(),
        "2".as_ref(),
    ]);
    q.ok();
    (work, m8)
}

/// `check-fast --model smallcnn --int8 M8 … EXTRA… WORK`.
fn check(work: &Path, m8: &Path, extra: &[&str]) -> heatmap_support::Ran {
    let (model, m8) = (smallcnn(), m8.to_str().unwrap().to_string());
    let (s, n, seed) = (STRIDE.to_string(), TILES.to_string(), SEED.to_string());
    let mut args = vec![
        "check-fast",
        "--model",
        model.to_str().unwrap(),
        "--int8",
        &m8,
        "--stride",
        &s,
        "--tiles",
        &n,
        "--seed",
        &seed,
        "--threads",
        "2",
    ];
    args.extend(extra);
    args.push(work.to_str().unwrap());
    run(&args)
}

fn oracle(work: &Path, json: &Path, fast: &Path) -> Value {
    let out = run_python(
        ORACLE_PY,
        &[
            work.to_str().unwrap(),
            json.to_str().unwrap(),
            smallcnn().to_str().unwrap(),
            fast.to_str().unwrap(),
        ],
    );
    serde_json::from_str(out.lines().last().expect("oracle printed nothing")).unwrap()
}

fn assert_figures_match(ours: &Value, py: &Value, what: &str) {
    assert_eq!(ours["windows"], py["windows"], "{what}: {ours} vs {py}");
    assert_eq!(ours["tiles"], py["tiles"], "{what}: {ours} vs {py}");
    for k in ["max_abs", "mean_abs", "correlation", "agree_05"] {
        let (a, b) = (ours[k].as_f64().unwrap(), py[k].as_f64().unwrap());
        assert!((a - b).abs() <= 1e-5, "{what}: {k} {a} vs {b}");
    }
    // int8 differs from fp32: a check that found nothing would be suspect
    assert!(ours["max_abs"].as_f64().unwrap() > 0.0, "{what}: {ours}");
}

/// slidescale's dense int8 scores of the sampled tiles (the dense pass has
/// no Python twin; the oracle checks the sample, the exact side and the
/// figures).
fn dense_scores(work: &Path, m8: &Path, dir: &Path, reported: &Value) -> PathBuf {
    let sampled = sample_with_origin(
        &WorkDir::new(work),
        Sample::Seeded {
            tiles: TILES,
            seed: SEED,
        },
    )
    .unwrap();
    let names: Vec<Value> = sampled
        .origin
        .iter()
        .map(|t| serde_json::json!({"store": t.store, "group": t.group, "index": t.index}))
        .collect();
    assert_eq!(reported["sampled"], Value::Array(names));
    let opts = ScorerOptions {
        threads: 2,
        mode: ScoreMode::Dense,
        ..ScorerOptions::default()
    };
    let mut s = Scorer::load(m8, &opts).unwrap();
    s.use_geometry(sampled.geometry).unwrap();
    let scores = s
        .score_tiles(&sampled.bytes, Stride::new(STRIDE).unwrap())
        .unwrap()
        .scores;
    let path = dir.join("dense.npy");
    write_npy_f32(&path, &[scores.len() as u64], &scores).unwrap();
    path
}

#[test]
fn check_fast_int8_figures_match_the_oracle() {
    let dir = temp_dir("check-fast-int8");
    let (work, m8) = setup(&dir);

    let sliding = check(&work, &m8, &["--json"]).ok();
    let v: Value = serde_json::from_str(sliding.stdout.trim()).unwrap();
    println!("sliding int8: {v}");
    assert_eq!(v["fast"]["mode"], "sliding");
    assert_eq!(v["fast"]["precision"], "int8");
    assert_eq!(v["exact"]["precision"], "fp32");
    assert_eq!(v["stride"], STRIDE);
    assert_eq!(v["tiles"], TILES);
    assert_eq!(v["sampled"].as_array().unwrap().len(), TILES);
    assert!(v["fast"]["windows_per_s"].as_f64().unwrap() > 0.0);
    let json = dir.join("sliding.json");
    std::fs::write(&json, &sliding.stdout).unwrap();
    let py = oracle(&work, &json, &m8);
    println!("oracle: {py}");
    assert_figures_match(&v, &py, "sliding int8");

    let dense = check(&work, &m8, &["--mode", "dense", "--json"]).ok();
    let d: Value = serde_json::from_str(dense.stdout.trim()).unwrap();
    println!("dense int8: {d}");
    assert_eq!(
        (&d["fast"]["mode"], &d["fast"]["precision"]),
        (&"dense".into(), &"int8".into())
    );
    let json = dir.join("dense.json");
    std::fs::write(&json, &dense.stdout).unwrap();
    let py = oracle(&work, &json, &dense_scores(&work, &m8, &dir, &d));
    println!("oracle: {py}");
    assert_figures_match(&d, &py, "dense int8");

    // the line names both sides
    let line = check(&work, &m8, &["--mode", "dense"]).ok();
    assert!(
        line.stdout
            .starts_with("dense int8 vs sliding fp32 at stride 56, "),
        "{}",
        line.stdout
    );
    // nothing fast to check
    let none = run(&[
        "check-fast".as_ref(),
        "--model".as_ref(),
        smallcnn().as_os_str(),
        work.as_os_str(),
    ]);
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("--int8"), "{}", none.stderr);
}

#[test]
fn run_dense_with_an_int8_model_compares_with_sliding_int8() {
    let dir = temp_dir("check-fast-run");
    let (_, m8) = setup(&dir);
    let r = run_ok(
        &[&cmu()],
        &m8,
        112,
        &dir.join("dense"),
        &["--threads", "2", "--mode", "dense"],
    );
    assert!(
        r.stdout
            .contains("first group: dense int8 vs sliding int8 at stride 112"),
        "{}",
        r.stdout
    );
}
