//! The run identity (issue 7, requirements 1 and 6): every setting that
//! changes a score is recorded in `WORK/run.json`, and a `run --resume` —
//! on the local executor and on SLURM — or a `process` (also `--force`)
//! that differs in any of them is refused before any work, naming the field
//! and both values. One table of variants, run against every executor.

mod heatmap_support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use heatmap_support::{cmu, result_path, run, run_ok, smallcnn, Ran, CMU};

const GROUP_SIZE: &str = "40";

/// One setting changed: the flags that change it (or a file written before
/// the run), and the field the refusal must name.
struct Variant {
    field: &'static str,
    /// `recorded …, now …` as the message must say it.
    values: &'static str,
    flags: Vec<OsString>,
    /// A `MODEL.json` to put beside the model for this variant.
    sidecar: Option<&'static str>,
}

fn flags(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

fn config_file(dir: &Path, name: &str, json: &str) -> OsString {
    let path = dir.join(name);
    std::fs::write(&path, json).unwrap();
    path.into_os_string()
}

fn variants(dir: &Path) -> Vec<Variant> {
    let cfg = |name: &str, json: &str| {
        vec![
            OsString::from("--model-config"),
            config_file(dir, name, json),
        ]
    };
    let other_target = slidescale_testutil::shared(
        "data/patches/tissue_tiles/tissue-level0-4302-10273-4814-10785.png",
    );
    let v = |field, values, flags, sidecar| Variant {
        field,
        values,
        flags,
        sidecar,
    };
    vec![
        v(
            "model.bytes",
            "recorded \"",
            vec![
                OsString::from("--model"),
                heatmap_support::googlenet().into(),
            ],
            None,
        ),
        v(
            "model.config.layout",
            "recorded null, now \"NCHW\"",
            flags(&["--layout", "nchw"]),
            None,
        ),
        v(
            "model.config.scale",
            "now 1.0",
            cfg("scale.json", r#"{"scale": 1.0}"#),
            None,
        ),
        v(
            "model.config.mean",
            "recorded null, now [0.5,0.5,0.5]",
            cfg("mean.json", r#"{"mean": [0.5, 0.5, 0.5]}"#),
            None,
        ),
        v(
            "model.config.std",
            "recorded null, now [2.0,2.0,2.0]",
            cfg("std.json", r#"{"std": [2.0, 2.0, 2.0]}"#),
            None,
        ),
        v(
            "model.config.output",
            "recorded null, now \"prob\"",
            cfg("output.json", r#"{"output": "prob"}"#),
            None,
        ),
        v(
            "model.config.column",
            "recorded 0, now 1",
            flags(&["--output-column", "1"]),
            None,
        ),
        v(
            "model.config.activation",
            "recorded \"none\", now \"sigmoid\"",
            flags(&["--activation", "sigmoid"]),
            None,
        ),
        v(
            "model.config.activation",
            "recorded \"none\", now \"softmax\"",
            vec![],
            Some(r#"{"activation": "softmax"}"#),
        ),
        v(
            "stride",
            "recorded 224, now 112",
            flags(&["--stride", "112"]),
            None,
        ),
        v(
            "mode",
            "recorded \"sliding\", now \"dense\"",
            flags(&["--mode", "dense"]),
            None,
        ),
        v(
            "stain.method",
            "recorded \"none\", now \"reinhard\"",
            flags(&["--stain", "reinhard"]),
            None,
        ),
        v(
            "stain.target",
            "recorded \"\", now \"512x512",
            {
                let mut f = flags(&["--stain", "reinhard", "--stain-target"]);
                f.push(other_target.into());
                f
            },
            None,
        ),
        v(
            "split.tile",
            "recorded 224, now 112",
            flags(&["--tile", "112", "--stride", "112"]),
            None,
        ),
        v(
            "split.resolution.mpp",
            "recorded null, now 0.499",
            flags(&["--mpp", "0.499"]),
            None,
        ),
        v(
            "split.reader",
            "recorded \"auto\", now \"openslide\"",
            flags(&["--reader", "openslide"]),
            None,
        ),
        v(
            "split.group_size",
            "recorded 40, now 41",
            flags(&["--group-size", "41"]),
            None,
        ),
        v(
            "split.min_tissue",
            "recorded 0.3, now 0.5",
            flags(&["--min-tissue", "0.5"]),
            None,
        ),
    ]
}

/// `run CMU --model MODEL --out WORK --resume --executor E` with the base
/// settings, each replaced by the same flag in `extra` where it has one.
fn resume(model: &Path, work: &Path, executor: &str, extra: &[OsString]) -> Ran {
    let base: [(&str, OsString); 5] = [
        ("--model", model.into()),
        ("--stride", "224".into()),
        ("--group-size", GROUP_SIZE.into()),
        ("--threads", "1".into()),
        ("--executor", executor.into()),
    ];
    let mut args: Vec<OsString> = flags(&["run"]);
    args.push(cmu().into());
    for (flag, value) in base {
        if !extra.iter().any(|e| e == flag) {
            args.extend([OsString::from(flag), value]);
        }
    }
    args.extend([OsString::from("--out"), work.into(), "--resume".into()]);
    args.extend(extra.iter().cloned());
    run(&args)
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn every_identity_field_is_refused_on_resume_by_every_executor() {
    let dir = slidescale_testutil::temp_dir("identity");
    let work = dir.join("work");
    // The model in a folder of its own, so a MODEL.json can appear beside it.
    let model_dir = dir.join("model");
    std::fs::create_dir_all(&model_dir).unwrap();
    let model = model_dir.join("m.onnx");
    std::fs::copy(smallcnn(), &model).unwrap();
    run_ok(
        &[&cmu()],
        &model,
        224,
        &work,
        &["--group-size", GROUP_SIZE, "--threads", "1"],
    );
    let recorded = std::fs::read(work.join("run.json")).unwrap();
    let result = result_path(&work, CMU, 1);
    let kept = modified(&result);

    for executor in ["local", "slurm"] {
        for v in variants(&dir) {
            let sidecar = model.with_extension("json");
            if let Some(json) = v.sidecar {
                std::fs::write(&sidecar, json).unwrap();
            }
            let r = resume(&model, &work, executor, &v.flags);
            if v.sidecar.is_some() {
                std::fs::remove_file(&sidecar).unwrap();
            }
            let what = format!("{executor}, {}: {}", v.field, r.stderr);
            assert_eq!(r.code, 65, "{what}");
            assert!(r.stderr.contains(&format!("{} (", v.field)), "{what}");
            assert!(r.stderr.contains(v.values), "{what}");
            assert_eq!(r.stderr.lines().count(), 1, "one line: {what}");
        }
        // Refused before any work: nothing recomputed, nothing submitted,
        // the record unchanged.
        assert_eq!(modified(&result), kept, "{executor}");
        assert!(!work.join("jobs").exists(), "{executor}: nothing submitted");
        assert_eq!(std::fs::read(work.join("run.json")).unwrap(), recorded);
    }

    // The same settings are admitted: a local resume has nothing to do, and
    // SLURM's dry run writes the scripts of what is left (nothing).
    let r = resume(&model, &work, "local", &[]).ok();
    assert!(r.stdout.contains("0 groups scored"), "{}", r.stdout);
    resume(&model, &work, "slurm", &flags(&["--dry-run"])).ok();
    // Compression is lossless: applied to new stores only, and said so.
    let r = resume(&model, &work, "local", &flags(&["--compression", "none"])).ok();
    assert!(
        r.stderr
            .contains("applies only to stores written from now on"),
        "{}",
        r.stderr
    );
    // Threads, batch and engine are not part of the identity.
    resume(
        &model,
        &work,
        "local",
        &flags(&["--threads", "2", "--batch", "7"]),
    )
    .ok();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn process_and_process_force_refuse_another_setting() {
    let dir = slidescale_testutil::temp_dir("identity-process");
    let work = dir.join("work");
    let model = smallcnn();
    run_ok(
        &[&cmu()],
        &model,
        224,
        &work,
        &["--group-size", GROUP_SIZE, "--threads", "1"],
    );
    let store: PathBuf = work.join(format!("{CMU}.h5"));
    let result = result_path(&work, CMU, 1);
    let before = std::fs::read(&result).unwrap();
    for force in [false, true] {
        let mut args = flags(&["process"]);
        args.push(store.clone().into());
        args.extend([OsString::from("--model"), model.clone().into()]);
        args.extend(flags(&[
            "--group",
            "1",
            "--stride",
            "224",
            "--activation",
            "sigmoid",
        ]));
        if force {
            args.push("--force".into());
        }
        let r = run(&args);
        assert_eq!(r.code, 65, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("model.config.activation (recorded \"none\", now \"sigmoid\")"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(std::fs::read(&result).unwrap(), before);
    std::fs::remove_dir_all(&dir).ok();
}
