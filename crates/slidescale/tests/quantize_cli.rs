//! Issue 11, requirement 2 through the command line: `slidescale quantize
//! MODEL --calibrate-from WORK --out M8` writes a static int8 QDQ model
//! calibrated on the work directory's stored CMU tiles. Checked against
//! Python: onnxruntime runs it with slidescale's scores (1e-6), and
//! onnxruntime.quantization.quantize_static on the same windows writes the
//! same nodes and scales (`quantize_support/oracle.py`). The int8 model is
//! an ordinary model for `run` (a new run identity; `--mode dense` works),
//! its difference from fp32 is printed, and what cannot be quantized, a
//! work directory without stores and an `--out` slidescale did not write
//! are refused.

mod heatmap_support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use heatmap_support::{cmu, compare, run, run_ok, run_with, smallcnn, Ran, Source, CMU};
use serde_json::Value;
use slidescale_core::{Stride, WorkDir};
use slidescale_heatmap::write_npy_f32;
use slidescale_infer::{ModelConfig, Scorer, ScorerOptions};
use slidescale_onnx::graph::{self, Dim};
use slidescale_onnx::proto::{GraphProto, ModelProto};
use slidescale_pipeline::check_fast::{agreement, sample_tiles, Sample};
use slidescale_pipeline::quantize::{calibration_tiles, DEFAULT_SEED, DEFAULT_WINDOWS};
use slidescale_pipeline::spec::file_id;
use slidescale_testutil::{repo_root, run_python, temp_dir};

const ORACLE_PY: &str = include_str!("quantize_support/oracle.py");

fn hemacnn() -> PathBuf {
    repo_root().join("models/hemacnn.onnx")
}

/// `slidescale quantize MODEL --calibrate-from WORK --out OUT EXTRA…`.
fn quantize(model: &Path, work: &Path, out: &Path, extra: &[&str]) -> Ran {
    let mut args: Vec<&OsStr> = vec![
        "quantize".as_ref(),
        model.as_os_str(),
        "--calibrate-from".as_ref(),
        work.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--threads".as_ref(),
        "2".as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// An fp32 run of CMU with smallcnn at stride 224: stores to calibrate on,
/// and a run.json an int8 resume must be refused by.
fn fp32_work(dir: &Path) -> PathBuf {
    let work = dir.join("work");
    run_ok(&[&cmu()], &smallcnn(), 224, &work, &["--threads", "2"]);
    work
}

fn metadata(model: &Path, key: &str) -> String {
    let m = slidescale_onnx::read(model).unwrap();
    m.metadata_props
        .iter()
        .find(|p| p.key == format!("slidescale.quantize.{key}"))
        .unwrap_or_else(|| panic!("no {key} in {:?}", m.metadata_props))
        .value
        .clone()
}

fn scorer(model: &Path, geometry: slidescale_core::TileGeometry) -> Scorer {
    let opts = ScorerOptions {
        threads: 2,
        ..ScorerOptions::default()
    };
    let mut s = Scorer::load(model, &opts).unwrap();
    s.use_geometry(geometry).unwrap();
    s
}

/// The oracle's verdict on `int8` (quantized from `fp32` on `work`).
fn oracle(dir: &Path, work: &Path, fp32: &Path, int8: &Path) -> Value {
    let (tiles, geometry) =
        calibration_tiles(&WorkDir::new(work), DEFAULT_WINDOWS, DEFAULT_SEED).unwrap();
    let own_patch = Stride::new(geometry.tile).unwrap();
    let windows = scorer(fp32, geometry)
        .model_input(&tiles, own_patch)
        .unwrap();
    let mut s8 = scorer(int8, geometry);
    // OUT.json feeds the int8 model exactly as the fp32 one is fed
    assert_eq!(s8.model_input(&tiles, own_patch).unwrap(), windows);
    let ours = s8.score_tiles(&tiles, own_patch).unwrap().scores;
    let w = geometry.window as u64;
    let n = ours.len() as u64;
    let (windows_npy, scores_npy) = (dir.join("windows.npy"), dir.join("scores.npy"));
    write_npy_f32(&windows_npy, &[n, 3, w, w], &windows).unwrap();
    write_npy_f32(&scores_npy, &[n], &ours).unwrap();
    let out = run_python(
        ORACLE_PY,
        &[
            fp32.to_str().unwrap(),
            windows_npy.to_str().unwrap(),
            int8.to_str().unwrap(),
            scores_npy.to_str().unwrap(),
            dir.join("oracle.onnx").to_str().unwrap(),
        ],
    );
    serde_json::from_str(out.lines().last().expect("oracle printed nothing")).unwrap()
}

/// int8 vs fp32 on 16 sampled tiles at stride 112 (printed: the agreement
/// check is `check-fast --int8`).
fn int8_vs_fp32(work: &Path, fp32: &Path, int8: &Path) -> String {
    let (tiles, geometry) =
        sample_tiles(&WorkDir::new(work), Sample::Seeded { tiles: 16, seed: 1 }).unwrap();
    let s = Stride::new(112).unwrap();
    let a = scorer(fp32, geometry)
        .score_tiles(&tiles, s)
        .unwrap()
        .scores;
    let b = scorer(int8, geometry)
        .score_tiles(&tiles, s)
        .unwrap()
        .scores;
    let d = agreement(&a, &b);
    format!(
        "int8 vs fp32, {} windows at stride 112: max |Δ| {:.4}, mean |Δ| {:.4}, r {:.4}, agreement at 0.5 {:.2} %",
        d.windows,
        d.max_abs,
        d.mean_abs,
        d.correlation,
        100.0 * d.agree_05
    )
}

#[test]
fn int8_models_score_as_in_python_and_match_the_oracle() {
    let dir = temp_dir("quantize-oracle");
    let work = fp32_work(&dir);
    let cases = [
        ("hemacnn", hemacnn(), 4),
        ("smallcnn", smallcnn(), 4),
        ("googlenet", heatmap_support::googlenet(), 57),
    ];
    for (name, fp32, convs) in cases {
        let case = dir.join(name);
        std::fs::create_dir_all(&case).unwrap();
        let int8 = case.join(format!("{name}-int8.onnx"));
        let r = quantize(&fp32, &work, &int8, &[]).ok();
        assert!(
            r.stdout.contains(&format!("{convs} Conv quantized")),
            "{name}: {}",
            r.stdout
        );
        println!("{name}: {}", r.stdout.trim());
        assert!(
            r.stderr.contains("calibrating: 32/32 windows"),
            "{}",
            r.stderr
        );
        // where it came from
        assert_eq!(metadata(&int8, "source_bytes"), file_id(&fp32).unwrap());
        assert_eq!(metadata(&int8, "windows"), "32");
        assert_eq!(metadata(&int8, "seed"), "0");
        // the config it was calibrated with is beside it
        let config = ModelConfig::for_model(&int8).unwrap();
        assert_eq!(config, ModelConfig::for_model(&fp32).unwrap(), "{name}");

        let v = oracle(&case, &work, &fp32, &int8);
        println!("{name} oracle: {v}");
        assert_eq!(v["windows"], 32, "{name}: {v}");
        let py = v["py_vs_slidescale_max"].as_f64().unwrap();
        assert!(
            py <= 1e-6,
            "{name}: onnxruntime in Python differs by {py}: {v}"
        );
        for k in [
            "nodes_only_ours",
            "nodes_only_oracle",
            "inits_only_ours",
            "inits_only_oracle",
            "dtype_mismatch",
            "int_mismatch",
        ] {
            assert_eq!(v[k], Value::Array(vec![]), "{name}: {k}: {v}");
        }
        assert_eq!(v["nodes_ours"], v["nodes_oracle"], "{name}: {v}");
        // calibrated on the same windows, one at a time as the oracle
        // does: every scale is the oracle's to the bit, and so are the
        // int8 model's outputs
        for k in [
            "weight_scale_max_rel",
            "bias_scale_max_rel",
            "activation_scale_max_rel",
            "oracle_vs_ours_max",
        ] {
            assert_eq!(v[k].as_f64(), Some(0.0), "{name}: {k}: {v}");
        }
        println!("{name}: {}", int8_vs_fp32(&work, &fp32, &int8));
    }
}

#[test]
fn the_int8_model_runs_as_any_model_and_is_another_identity() {
    let dir = temp_dir("quantize-run");
    let work = fp32_work(&dir);
    let int8 = dir.join("smallcnn-int8.onnx");
    quantize(&smallcnn(), &work, &int8, &[]).ok();
    // resuming the fp32 run with the int8 model is refused, naming the field
    let r = run_with(
        &[&cmu()],
        &int8,
        224,
        &work,
        &["--threads", "2", "--resume"],
    );
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("model.bytes ("), "{}", r.stderr);
    // a run with it scores what onnxruntime in Python scores on the stored
    // tiles (reference.py's own preprocessing)
    let run8 = dir.join("run8");
    run_ok(&[&cmu()], &int8, 56, &run8, &["--threads", "2"]);
    let c = compare(Source::Store, &run8, CMU, &int8, 56);
    let diff = c.get_f64("max_abs_diff");
    println!(
        "int8 run vs Python onnxruntime: {} windows, max |Δ| {diff:.3e}",
        c.json["scored"]
    );
    assert!(diff <= 1e-6, "{}", c.json);
    assert_eq!(c.get_f64("nan_mismatch"), 0.0, "{}", c.json);
    // and dense mode takes it (smallcnn pads: not exact, measured)
    let dense8 = dir.join("dense8");
    let r = run_ok(
        &[&cmu()],
        &int8,
        56,
        &dense8,
        &["--threads", "2", "--mode", "dense"],
    );
    let a = slidescale_heatmap::read_npy_f32(&run8.join("heatmaps").join(format!("{CMU}.npy")));
    let b = slidescale_heatmap::read_npy_f32(&dense8.join("heatmaps").join(format!("{CMU}.npy")));
    let (a, b) = (a.unwrap().1, b.unwrap().1);
    let pairs: (Vec<f32>, Vec<f32>) = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(x, y)| (*x, *y))
        .unzip();
    let d = agreement(&pairs.0, &pairs.1);
    println!(
        "int8 dense vs int8 sliding on smallcnn at stride 56: {} windows, max |Δ| {:.4}, mean |Δ| {:.4}\n{}",
        d.windows,
        d.max_abs,
        d.mean_abs,
        r.stdout.lines().find(|l| l.contains("vs sliding")).unwrap_or("")
    );
    assert!(d.windows > 0 && d.mean_abs < 0.1, "{d:?}");
}

/// input → GlobalAveragePool → Flatten → Gemm → Sigmoid: no Conv.
fn no_conv_model() -> ModelProto {
    let mut g = GraphProto::default();
    let n = Dim::Named("N".into());
    g.input.push(graph::f32_value_info(
        "input",
        &[n.clone(), Dim::Fixed(3), Dim::Fixed(224), Dim::Fixed(224)],
    ));
    g.node.push(graph::node(
        "GlobalAveragePool",
        "gap",
        &["input"],
        &["gap"],
    ));
    g.node.push(graph::node("Flatten", "fl", &["gap"], &["fl"]));
    g.initializer
        .push(graph::f32_tensor("w", &[3, 1], &[1.0, -1.0, 0.5]));
    g.node
        .push(graph::node("Gemm", "fc", &["fl", "w"], &["logit"]));
    g.node
        .push(graph::node("Sigmoid", "s", &["logit"], &["prob"]));
    g.output
        .push(graph::f32_value_info("prob", &[n, Dim::Fixed(1)]));
    graph::model_of(g, 17)
}

#[test]
fn what_cannot_be_quantized_or_written_is_refused() {
    let dir = temp_dir("quantize-refused");
    let work = fp32_work(&dir);
    let refused = |r: Ran, needle: &str| {
        assert_eq!(r.code, 65, "{needle}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    };
    // a model with no Conv
    let plain = dir.join("plain.onnx");
    std::fs::write(&plain, slidescale_onnx::encode(&no_conv_model())).unwrap();
    let out = dir.join("plain-int8.onnx");
    refused(quantize(&plain, &work, &out, &[]), "nothing to quantize");
    assert!(!out.exists());
    // a work directory without stores
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = dir.join("m8.onnx");
    refused(
        quantize(&smallcnn(), &empty, &out, &[]),
        "has no store with tiles",
    );
    assert!(!out.exists());
    // an --out slidescale did not write, or its config beside it
    std::fs::write(&out, b"someone's file").unwrap();
    refused(quantize(&smallcnn(), &work, &out, &[]), "did not write it");
    assert_eq!(std::fs::read(&out).unwrap(), b"someone's file");
    std::fs::remove_file(&out).unwrap();
    let config = out.with_extension("json");
    std::fs::write(&config, b"{\"scale\": 1.0}").unwrap();
    refused(quantize(&smallcnn(), &work, &out, &[]), "m8.json exists");
    assert!(!out.exists());
    std::fs::remove_file(&config).unwrap();
    // its own output it replaces (another seed: another model)
    quantize(&smallcnn(), &work, &out, &[]).ok();
    let first = std::fs::read(&out).unwrap();
    quantize(&smallcnn(), &work, &out, &["--seed", "5"]).ok();
    assert_ne!(std::fs::read(&out).unwrap(), first);
    assert_eq!(metadata(&out, "seed"), "5");
}
