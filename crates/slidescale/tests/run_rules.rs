//! One table of admission rules (issue 7, requirement 6), run against the
//! local and the SLURM executor: each rule is one library function that both
//! call before any work, so both must refuse the same cases with the same
//! cause (exit 65) and leave nothing behind — no new run recorded, no job
//! submitted. (The identity fields have their own table in run_identity.rs.)

mod heatmap_support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use heatmap_support::{cmu, cmu_as, run, run_ok, smallcnn, Ran};

/// A case: the slides, the extra flags, and what the refusal must say.
struct Rule {
    what: &'static str,
    slides: Vec<PathBuf>,
    flags: Vec<&'static str>,
    says: String,
}

/// `run SLIDES --model smallcnn --out WORK --stride S …` on `executor`.
fn run_at(executor: &str, work: &Path, slides: &[PathBuf], stride: &str, flags: &[&str]) -> Ran {
    let mut args: Vec<OsString> = vec!["run".into()];
    args.extend(slides.iter().map(|s| s.clone().into_os_string()));
    args.extend(["--model".into(), smallcnn().into_os_string()]);
    args.extend(["--out".into(), work.as_os_str().to_owned()]);
    for f in [
        "--stride",
        stride,
        "--group-size",
        "40",
        "--threads",
        "1",
        "--executor",
        executor,
    ] {
        args.push(f.into());
    }
    args.extend(flags.iter().map(OsString::from));
    run(&args)
}

fn run_on(executor: &str, work: &Path, slides: &[PathBuf], flags: &[&str]) -> Ran {
    run_at(executor, work, slides, "224", flags)
}

/// Hold `work`'s lock from another process, as a running run would.
fn hold_lock(work: &Path) -> Child {
    let mut child = Command::new("flock")
        .arg(work.join(".lock"))
        .args(["sleep", "60"])
        .spawn()
        .expect("flock(1) from util-linux");
    // Until flock has it, a run would win the race: wait for the holder.
    for _ in 0..100 {
        let probe = Command::new("flock")
            .args(["-n"])
            .arg(work.join(".lock"))
            .arg("true")
            .status()
            .unwrap();
        if !probe.success() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
    panic!("flock never took {}", work.display());
}

fn snapshot(work: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = heatmap_support::files_under(work)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != ".lock"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_admission_rule_refuses_alike_on_the_local_and_the_slurm_executor() {
    let dir = slidescale_testutil::temp_dir("rules");
    let slides = dir.join("slides");
    let other = dir.join("other");
    std::fs::create_dir_all(&slides).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    let x = cmu_as(&slides, "x.svs");
    let x_elsewhere = other.join("x.svs");
    // Another file with the same name: different bytes, so not a moved copy.
    let mut bytes = std::fs::read(cmu()).unwrap();
    bytes.extend_from_slice(b"another file");
    std::fs::write(&x_elsewhere, bytes).unwrap();
    let newline = cmu_as(&slides, "line\nbreak.svs");
    let empty = slides.join("empty.svs");
    std::fs::write(&empty, b"").unwrap();
    let missing = slides.join("missing.svs");

    // A finished run, for the rules about an existing work directory.
    let done = dir.join("done");
    run_ok(
        &[&x],
        &smallcnn(),
        224,
        &done,
        &["--group-size", "40", "--threads", "1"],
    );
    // A directory that holds someone else's files.
    let foreign = dir.join("foreign");
    std::fs::create_dir_all(foreign.join("results")).unwrap();
    std::fs::write(foreign.join("results/important.csv"), b"a,b\n").unwrap();

    let fresh_rules = || {
        vec![
            Rule {
                what: "two slides with one name",
                slides: vec![x.clone(), x_elsewhere.clone()],
                flags: vec![],
                says: "two slides are called \"x\"".into(),
            },
            Rule {
                what: "a name with a line break",
                slides: vec![x.clone(), newline.clone()],
                flags: vec![],
                says: "line break".into(),
            },
            Rule {
                what: "a missing slide",
                slides: vec![x.clone(), missing.clone()],
                flags: vec![],
                says: format!("{}: no such file", missing.display()),
            },
            Rule {
                what: "an empty slide",
                slides: vec![x.clone(), empty.clone()],
                flags: vec![],
                says: "empty file".into(),
            },
        ]
    };
    for executor in ["local", "slurm"] {
        for (i, rule) in fresh_rules().into_iter().enumerate() {
            let work = dir.join(format!("{executor}-{i}"));
            let r = run_on(executor, &work, &rule.slides, &rule.flags);
            let what = format!("{executor}, {}: {}", rule.what, r.stderr);
            assert_eq!(r.code, 65, "{what}");
            assert!(r.stderr.contains(&rule.says), "{what}");
            assert!(
                !work.exists(),
                "{what}: a refused run left {}",
                work.display()
            );
        }

        let foreign_before = snapshot(&foreign);
        let r = run_on(executor, &foreign, std::slice::from_ref(&x), &[]);
        assert_eq!(r.code, 65, "{executor}, foreign --out: {}", r.stderr);
        assert!(r.stderr.contains("--allow-nonempty-out"), "{}", r.stderr);
        assert_eq!(
            snapshot(&foreign),
            foreign_before,
            "{executor}: foreign --out touched"
        );

        let done_before = snapshot(&done);
        let started = [
            (
                "a started run without --resume",
                vec![x.clone()],
                "224",
                vec![],
                "--resume",
            ),
            (
                "a same-named slide from another folder",
                vec![x_elsewhere.clone()],
                "224",
                vec!["--resume"],
                "another file with the same name",
            ),
            (
                "another stride on resume",
                vec![x.clone()],
                "112",
                vec!["--resume"],
                "stride (recorded 224, now 112)",
            ),
        ];
        for (what, slides, stride, flags, says) in started {
            let r = run_at(executor, &done, &slides, stride, &flags);
            let msg = format!("{executor}, {what}: {}", r.stderr);
            assert_eq!(r.code, 65, "{msg}");
            assert!(r.stderr.contains(says), "{msg}");
            if what.contains("another folder") {
                assert!(r.stderr.contains(&x.display().to_string()), "{msg}");
                assert!(
                    r.stderr.contains(&x_elsewhere.display().to_string()),
                    "{msg}"
                );
            }
        }
        let mut holder = hold_lock(&done);
        let r = run_on(executor, &done, std::slice::from_ref(&x), &["--resume"]);
        holder.kill().ok();
        holder.wait().ok();
        assert_eq!(
            r.code, 65,
            "{executor}, a held work directory: {}",
            r.stderr
        );
        assert!(r.stderr.contains("another slidescale run"), "{}", r.stderr);
        assert_eq!(
            snapshot(&done),
            done_before,
            "{executor}: refused runs changed {}",
            done.display()
        );
        assert!(
            !done.join("jobs").exists(),
            "{executor}: something was submitted"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
