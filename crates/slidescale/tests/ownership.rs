//! slidescale touches only what it wrote, and no race publishes a partial
//! file (issue 7, requirements 4 and 5):
//!
//! * a non-empty `--out` that is not a slidescale work directory is refused
//!   untouched; with `--allow-nonempty-out` the run works, and neither it nor
//!   `run --force` changes a byte of the files already there;
//! * a partial file is removed only when it has slidescale's naming and its
//!   writer is gone, never one a live writer holds, never another program's;
//! * a run is refused while another run holds the directory (local run and
//!   cluster submission alike), or while a cluster run of it is queued;
//! * `split` racing `run` on the same slide and directory (20 seeded trials)
//!   never leaves an unreadable file under a final name, and both succeed
//!   (before: the run deleted the split's partial store, and one of the two
//!   failed — or published the other's half-written file).

mod heatmap_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use heatmap_support::{cmu, partial_files, run, slidescale, smallcnn, Ran, CMU};
use slidescale_core::partial::create_locked_partial;
use slidescale_core::WorkDir;

/// A pid no process has: above the kernel's largest (2^22).
const DEAD_PID: u32 = 99_999_999;

/// `slidescale run CMU --model smallcnn --stride 224 --out WORK EXTRA…`.
fn run_cmu(work: &Path, extra: &[&str]) -> Ran {
    let mut args: Vec<std::ffi::OsString> = vec!["run".into(), cmu().into()];
    args.extend(["--model".into(), smallcnn().into()]);
    args.extend(["--stride", "224", "--threads", "1", "--out"].map(Into::into));
    args.push(work.into());
    args.extend(extra.iter().map(Into::into));
    run(&args)
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    heatmap_support::files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Panic unless every file of `theirs` still has exactly its bytes.
fn assert_untouched(theirs: &[(PathBuf, Vec<u8>)], after: &str) {
    for (path, bytes) in theirs {
        let now = std::fs::read(path)
            .unwrap_or_else(|e| panic!("{after}: {} is gone: {e}", path.display()));
        assert!(&now == bytes, "{after}: {} changed", path.display());
    }
}

#[test]
fn a_foreign_out_is_refused_then_used_without_losing_a_byte() {
    let root = slidescale_testutil::temp_dir("own-proj");
    let proj = root.join("proj");
    let theirs: Vec<(PathBuf, Vec<u8>)> = [
        ("downloads/x.iso.partial", &b"half an ISO"[..]),
        ("results/important.csv", b"id,value\n1,42\n"),
        ("heatmaps/figure1.png", b"\x89PNG not ours"),
    ]
    .into_iter()
    .map(|(rel, bytes)| (proj.join(rel), bytes.to_vec()))
    .collect();
    for (path, bytes) in &theirs {
        put(path, bytes);
    }

    // Refused, and nothing written: no marker, no run.json, no lock file.
    let before = snapshot(&proj);
    let refused = run_cmu(&proj, &[]);
    assert_eq!(refused.code, 65, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("is not a slidescale work directory")
            && refused.stderr.contains("--allow-nonempty-out")
            && refused.stderr.contains(proj.to_str().unwrap()),
        "{}",
        refused.stderr
    );
    assert_eq!(snapshot(&proj), before, "a refused run wrote into proj/");
    let split = run(&[
        "split".as_ref(),
        cmu().as_os_str(),
        "--out".as_ref(),
        proj.as_os_str(),
    ]);
    assert_eq!(split.code, 65, "split too: {}", split.stderr);
    assert_eq!(snapshot(&proj), before);

    // Allowed: the run works and their files stay.
    run_cmu(&proj, &["--allow-nonempty-out"]).ok();
    let work = WorkDir::new(&proj);
    assert!(work.heatmap_png(CMU).is_file());
    assert_untouched(&theirs, "run --allow-nonempty-out");

    // Beside ours: a foreign file in our own results directory, a foreign
    // partial name, a partial of ours a live writer holds, one a dead writer
    // left, and an old result of ours (a group this slide does not have).
    let mut theirs = theirs;
    for (rel, bytes) in [
        (format!("results/{CMU}/notes.txt"), &b"mine"[..]),
        ("heatmaps/other.partial".to_string(), b"someone's download"),
        (format!("{CMU}.h5.partial"), b"an older tool's name"),
    ] {
        put(&proj.join(&rel), bytes);
        theirs.push((proj.join(rel), bytes.to_vec()));
    }
    let held = proj.join(format!("{CMU}.h5.{}.partial", DEAD_PID - 1));
    let _writer = create_locked_partial(&held).unwrap();
    let dead = work
        .result_path(CMU, 1)
        .with_extension(format!("npy.{DEAD_PID}.partial"));
    put(&dead, b"left by a killed writer");
    let stale = work.result_path(CMU, 9);
    put(&stale, b"an old result of ours");

    run_cmu(&proj, &["--force"]).ok();
    assert_untouched(&theirs, "run --force");
    assert!(held.exists(), "a partial file its writer holds was removed");
    assert!(!dead.exists(), "a dead writer's partial file survived");
    assert!(!stale.exists(), "--force kept an old result of ours");
    assert!(work.heatmap_png(CMU).is_file() && work.result_path(CMU, 1).is_file());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn the_override_is_documented() {
    for cmd in ["run", "split"] {
        let help = run(&[cmd, "--help"]).ok();
        assert!(
            help.stdout.contains("--allow-nonempty-out"),
            "{cmd} --help: {}",
            help.stdout
        );
    }
}

#[test]
fn a_held_work_dir_refuses_a_local_run_and_a_cluster_submission() {
    let root = slidescale_testutil::temp_dir("own-lock");
    let work = WorkDir::new(root.join("w"));
    work.adopt(false).unwrap();
    let held = work.lock().unwrap(); // as another run would: this is another process
    let local = run_cmu(work.root(), &[]);
    let cluster = run_cmu(work.root(), &["--executor", "slurm"]);
    assert_eq!(local.code, 65, "{}", local.stderr);
    for (what, ran) in [("local", &local), ("slurm", &cluster)] {
        assert_ne!(ran.code, 0, "{what}: {}", ran.stderr);
        assert!(
            ran.stderr.contains("another slidescale run is using"),
            "{what}: {}",
            ran.stderr
        );
    }
    assert!(
        !work.settings_path().exists(),
        "a refused run wrote run.json"
    );
    let ledgers = heatmap_support::files_under(&work.jobs_dir())
        .into_iter()
        .filter(|p| p.ends_with("submitted.jsonl"))
        .count();
    assert_eq!(ledgers, 0, "a refused submission submitted something");
    drop(held);
    run_cmu(work.root(), &[]).ok();
    std::fs::remove_dir_all(root).unwrap();
}

/// Needs the single-node SLURM of `scripts/cluster/ci.sh --start` (started
/// by `scripts/test.sh`, as for the other cluster tests).
#[test]
fn a_local_run_is_refused_while_a_cluster_run_is_queued() {
    let root = slidescale_testutil::temp_dir("own-queued");
    let work = WorkDir::new(root.join("w"));
    // Held jobs stay pending until released or cancelled.
    run_cmu(work.root(), &["--executor", "slurm", "--submit-arg=--hold"]).ok();
    let status = slidescale_cluster::scheduler_status(&work)
        .unwrap()
        .expect("a cluster run was submitted");
    let queued = status.queued_jobs();
    assert!(!queued.is_empty(), "nothing queued");

    let refused = run_cmu(work.root(), &["--resume"]);
    assert_eq!(refused.code, 65, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("still has jobs queued or running"),
        "{}",
        refused.stderr
    );
    assert!(
        !work.heatmaps_dir().exists(),
        "the refused run wrote heatmaps"
    );

    let cancel = Command::new("scancel")
        .args(queued.iter().map(|j| j.to_string()))
        .status()
        .unwrap();
    assert!(cancel.success());
    slidescale_cluster::wait_idle(&work, Duration::from_secs(120), Duration::from_millis(300))
        .unwrap();
    run_cmu(work.root(), &["--resume"]).ok();
    assert!(work.heatmap_png(CMU).is_file());
    std::fs::remove_dir_all(root).unwrap();
}

/// Opens every `*.h5` under a directory with h5py (reading every dataset)
/// and every `*.npy` with numpy; prints `checked<TAB>bad…`.
const CHECK_PY: &str = r#"
import os, sys
import h5py, hdf5plugin, numpy as np
bad, checked = [], 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        try:
            if f.endswith(".h5"):
                with h5py.File(p, "r") as h:
                    h.visititems(lambda n, o: o[()] if isinstance(o, h5py.Dataset) else None)
            elif f.endswith(".npy"):
                np.load(p)
            else:
                continue
            checked += 1
        except Exception as e:
            bad.append(f"{p}: {e}".replace("\n", " "))
print("\t".join([str(checked)] + bad))
"#;

/// (files checked, unreadable files) under `dir`.
fn unreadable_files(dir: &Path) -> (usize, Vec<String>) {
    let out = slidescale_testutil::run_python(CHECK_PY, &[dir.to_str().unwrap()]);
    let mut fields = out.trim_end().split('\t');
    let checked = fields.next().unwrap().parse().unwrap();
    (checked, fields.map(String::from).collect())
}

/// SplitMix64: the trials' delays, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// `slidescale split CMU --out WORK`, slowed (deflate, one thread) so that a
/// run started meanwhile meets its partial file.
fn start_split(work: &Path) -> std::process::Child {
    slidescale()
        .arg("split")
        .arg(cmu())
        .arg("--out")
        .arg(work)
        .args(["--compression", "deflate", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Exit 0. Both commands can succeed, each writing its own partial store
/// and publishing only that; a failure must at least say why (an `error:`
/// line), and is then shown with its message.
fn assert_succeeded(what: &str, code: i32, stderr: &str) {
    let clear = stderr.lines().any(|l| l.starts_with("error: "));
    assert!(
        code == 0,
        "{what} exited {code} (clear message: {clear}): {stderr}"
    );
}

/// Wait until `split` has its partial store in `work` (or has ended).
fn wait_for_partial(split: &mut std::process::Child, work: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while partial_files(work).is_empty() && split.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "split wrote no partial store");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn split_racing_run_never_publishes_a_partial_file() {
    const TRIALS: u64 = 20;
    let root = slidescale_testutil::temp_dir("own-race");
    // How long a split alone takes sets the range of the delays; it is
    // lowered to the shortest split seen, as the load of the machine varies.
    let clock = Instant::now();
    let alone = start_split(&root.join("alone")).wait_with_output().unwrap();
    assert!(alone.status.success());
    let mut window_ms = clock.elapsed().as_millis().max(50) as u64;
    let seed = 7;
    let mut rng = Rng(seed);
    let mut overlapped = 0;
    for trial in 0..TRIALS {
        let work = root.join(format!("w{trial}"));
        let started = Instant::now();
        let mut split = start_split(&work);
        // Odd trials start the run a random delay after the split's partial
        // store appears, even ones a random delay after the split started.
        let delay = if trial % 2 == 1 {
            wait_for_partial(&mut split, &work);
            rng.below(200)
        } else {
            rng.below(window_ms * 6 / 5)
        };
        std::thread::sleep(Duration::from_millis(delay));
        overlapped += split.try_wait().unwrap().is_none() as u32;
        let ran = run_cmu(&work, &[]);
        let split = split.wait_with_output().unwrap();
        window_ms = window_ms.min(started.elapsed().as_millis().max(50) as u64);
        let what = format!("seed {seed} trial {trial} (delay {delay} ms)");
        let split_err = String::from_utf8_lossy(&split.stderr);
        assert_succeeded(
            &format!("{what}: split"),
            split.status.code().unwrap_or(-1),
            &split_err,
        );
        assert_succeeded(&format!("{what}: run"), ran.code, &ran.stderr);

        let (checked, bad) = unreadable_files(&work);
        assert!(
            bad.is_empty(),
            "{what}: unreadable under a final name: {bad:?}"
        );
        let left = partial_files(&work);
        assert!(left.is_empty(), "{what}: partial files left: {left:?}");
        if ran.code == 0 {
            assert!(
                checked >= 3,
                "{what}: {checked} files (store, result, heatmap)"
            );
            assert!(WorkDir::new(&work).heatmap_png(CMU).is_file(), "{what}");
        }
        println!(
            "{what}: split {}, run {}, {checked} files readable",
            split.status, ran.code
        );
        std::fs::remove_dir_all(&work).unwrap();
    }
    // Else the race was never run and the trials prove nothing.
    assert!(
        overlapped * 4 >= TRIALS as u32,
        "the run started during the split in only {overlapped} of {TRIALS} trials"
    );
    println!("{overlapped} of {TRIALS} runs started while the split was writing");
    std::fs::remove_dir_all(root).unwrap();
}
