//! Issue 8 through the command line, the parts that do not need the
//! evaluation's computations: `detect` and `evaluate` parse and check their
//! flags, labels.csv and the heatmaps (sidecars, strides) before any work,
//! and say what is wrong in one line with exit status 65.

mod heatmap_support;

use std::path::{Path, PathBuf};

use heatmap_support::*;

/// A work directory with one sidecar-less stride-16 heatmap `s1` (as NumPy
/// writes it: 2×3 cells of 14×14 pixels) and a labels file naming it.
fn work_with_old_heatmap(tag: &str) -> (PathBuf, PathBuf) {
    let dir = slidescale_testutil::temp_dir(tag);
    let work = dir.join("work");
    std::fs::create_dir_all(work.join("heatmaps")).unwrap();
    slidescale_testutil::run_python(
        "import sys, numpy as np; np.save(sys.argv[1], np.full((28, 42), 0.5, np.float32))",
        &[work.join("heatmaps/s1.npy").to_str().unwrap()],
    );
    let labels = dir.join("labels.csv");
    std::fs::write(&labels, "slide,label\ns1,normal\n").unwrap();
    (dir, labels)
}

fn evaluate(work: Option<&Path>, labels: &Path, out: &Path, extra: &[&str]) -> Ran {
    let mut args: Vec<String> = vec!["evaluate".into()];
    args.extend(work.map(|w| w.display().to_string()));
    args.extend(["--annotations".into(), "outlines".into()]);
    args.extend(["--labels".into(), labels.display().to_string()]);
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args)
}

fn assert_refused(r: &Ran, says: &str) {
    assert_eq!(r.code, 65, "stdout {}\nstderr {}", r.stdout, r.stderr);
    assert!(r.stderr.contains(says), "{says:?} not in {}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
}

#[test]
fn help_lists_every_option() {
    let help = run(&["evaluate", "--help"]).ok().stdout;
    for flag in [
        "--annotations",
        "--masks",
        "--detections",
        "--labels",
        "--strides",
        "--downsample",
        "--out",
        "--mask-level",
        "--mpp",
        "--ci",
        "--seed",
        "--folds",
        "--grid",
        "--heatmap-stride",
        "--detect",
        "--threshold",
        "auc_by_stride",
        "slide,label[,split]",
    ] {
        assert!(help.contains(flag), "evaluate --help lacks {flag}:\n{help}");
    }
    let help = run(&["detect", "--help"]).ok().stdout;
    for flag in [
        "--out",
        "--format",
        "--slide",
        "--detect",
        "--nms-radius",
        "prob,X,Y",
    ] {
        assert!(help.contains(flag), "detect --help lacks {flag}:\n{help}");
    }
}

#[test]
fn evaluate_refuses_contradictory_flags_before_any_work() {
    let (dir, labels) = work_with_old_heatmap("eval-flags");
    let out = dir.join("eval");
    let work = dir.join("work");
    let no_truth = run(&[
        "evaluate".as_ref(),
        work.as_os_str(),
        "--labels".as_ref(),
        labels.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(no_truth.code, 2, "{}", no_truth.stderr);
    assert!(
        no_truth.stderr.contains("--annotations"),
        "{}",
        no_truth.stderr
    );

    let r = evaluate(None, &labels, &out, &[]);
    assert_refused(&r, "give WORK (its heatmaps) or --detections DIR");
    let r = evaluate(
        None,
        &labels,
        &out,
        &["--detections", "d", "--strides", "16"],
    );
    assert_refused(&r, "--strides needs heatmaps");
    let r = evaluate(
        Some(&work),
        &labels,
        &out,
        &["--detections", "d", "--strides", "16,64"],
    );
    assert_refused(&r, "--detections are at one resolution");
    let r = evaluate(Some(&work), &labels, &out, &["--mpp", "0"]);
    assert_refused(&r, "--mpp");
    let r = evaluate(Some(&work), &labels, &out, &["--downsample", "median"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("expected mean, max or decimate"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing written");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn evaluate_checks_labels_and_heatmaps_and_names_the_fault() {
    let (dir, labels) = work_with_old_heatmap("eval-inputs");
    let out = dir.join("eval");
    let work = dir.join("work");

    let r = evaluate(Some(&work), &labels, &out, &[]);
    assert_refused(&r, "s1.npy: no sidecar");
    assert!(r.stderr.contains("slidescale stitch") && r.stderr.contains("--heatmap-stride"));

    let r = evaluate(
        Some(&work),
        &labels,
        &out,
        &["--heatmap-stride", "16", "--strides", "16,100"],
    );
    assert_refused(
        &r,
        "s1: stride 100 is not a multiple of the heatmap's stride 16",
    );

    std::fs::write(&labels, "slide,label\ns1,normal\ns1,tumour\n").unwrap();
    let r = evaluate(Some(&work), &labels, &out, &[]);
    assert_refused(&r, "labels.csv:3: slide \"s1\" is listed twice");

    std::fs::write(&labels, "slide,label\ns1,normal\ns2,tumor\n").unwrap();
    let r = evaluate(Some(&work), &labels, &out, &["--heatmap-stride", "16"]);
    assert_refused(&r, "no heatmap of s2");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn detect_needs_heatmaps_and_an_out_of_its_own() {
    let (dir, _) = work_with_old_heatmap("detect-inputs");
    let work = dir.join("work");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let r = run(&[
        "detect".as_ref(),
        empty.as_os_str(),
        "--out".as_ref(),
        dir.join("lesions").as_os_str(),
    ]);
    assert_refused(&r, "no heatmaps (run `slidescale run`");
    let foreign = dir.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("thesis.tex"), "x").unwrap();
    let r = run(&[
        "detect".as_ref(),
        work.as_os_str(),
        "--out".as_ref(),
        foreign.as_os_str(),
    ]);
    assert_refused(&r, "is not empty and is not a slidescale work directory");
    let r = run(&[
        "detect".as_ref(),
        work.as_os_str(),
        "--out".as_ref(),
        dir.join("lesions").as_os_str(),
        "--slide".as_ref(),
        "nope".as_ref(),
    ]);
    assert_refused(&r, "no heatmap of nope");
    std::fs::remove_dir_all(dir).unwrap();
}
