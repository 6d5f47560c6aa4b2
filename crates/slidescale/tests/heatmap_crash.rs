//! Issue 3, requirement 5: `slidescale run` killed with SIGKILL at many
//! moments — while splitting, while scoring, while stitching, and at random
//! times (seeded) — and resumed each time with `--resume`, ends with heatmaps
//! (and PNGs) bit-identical to an uninterrupted run's, and no `*.partial`
//! file anywhere. After every kill, every file under a final name is whole.

mod heatmap_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use heatmap_support::*;

/// A name with a space, quotes and a command substitution: it must reach no
/// shell unquoted.
const ODD_NAME: &str = "copy of 'CMU' \"x\" $(touch PWNED)";
const GROUP_SIZE: &str = "8";
const STRIDE: u32 = 56;

/// splitmix64: a seeded, dependency-free source of kill moments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi].
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// When to kill a run.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// A store is being written (`*.h5.partial` exists), then a delay.
    Splitting(Duration),
    /// This run has written at least this many group results.
    Scored(usize),
    /// A heatmap or its PNG is being written.
    Stitching,
    /// A heatmap's PNG is being written (its `.npy` is already in place).
    DrawingPng,
    /// This long after the start.
    After(Duration),
}

fn slides(dir: &Path) -> Vec<PathBuf> {
    vec![cmu(), cmu_as(dir, &format!("{ODD_NAME}.svs"))]
}

fn start_run(slides: &[PathBuf], work: &Path, resume: bool) -> Child {
    let mut cmd = slidescale();
    cmd.arg("run")
        .args(slides)
        .args(["--model".as_ref(), smallcnn().as_os_str()])
        .args(["--stride", &STRIDE.to_string(), "--group-size", GROUP_SIZE])
        .arg("--out")
        .arg(work)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if resume {
        cmd.arg("--resume");
    }
    cmd.spawn().expect("start slidescale run")
}

fn count_results(work: &Path) -> usize {
    files_under(&work.join("results"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .count()
}

fn reached(moment: Moment, work: &Path, started: Instant, results_before: usize) -> bool {
    let partial_in = |dir: &Path, mid: &str| {
        partial_files(dir)
            .iter()
            .any(|p| p.to_string_lossy().contains(mid))
    };
    match moment {
        Moment::Splitting(_) => partial_in(work, ".h5."),
        Moment::Scored(n) => count_results(work) >= results_before + n,
        Moment::Stitching => partial_in(&work.join("heatmaps"), "."),
        Moment::DrawingPng => partial_in(&work.join("heatmaps"), ".png."),
        Moment::After(d) => started.elapsed() >= d,
    }
}

/// Run until `moment`, then SIGKILL; true when the run was killed, false
/// when it finished first (it must then have succeeded).
fn run_until(slides: &[PathBuf], work: &Path, resume: bool, moment: Moment) -> bool {
    let results_before = count_results(work);
    let started = Instant::now();
    let mut child = start_run(slides, work, resume);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).ok();
            assert!(status.success(), "run failed before {moment:?}: {err}");
            return false;
        }
        if reached(moment, work, started, results_before) {
            if let Moment::Splitting(d) = moment {
                std::thread::sleep(d);
            }
            child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
            let status = child.wait().unwrap();
            return status.code().is_none(); // killed by the signal, not exited
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What a killed writer may leave: partial files, and complete files under
/// final names — never a broken file under a final name.
fn assert_final_files_whole(work: &Path) {
    for path in files_under(work) {
        let name = path.to_string_lossy();
        if name.ends_with(".partial") {
            continue;
        }
        if name.ends_with(".npy") {
            slidescale_heatmap::read_npy_header(&path)
                .unwrap_or_else(|e| panic!("broken file under a final name: {e}"));
        } else if name.ends_with(".h5") {
            slidescale_store::Store::open(&path)
                .unwrap_or_else(|e| panic!("broken store under a final name: {e}"));
        } else if name.ends_with(".json") && name.contains("/logs/") {
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<serde_json::Value>(text.trim())
                .unwrap_or_else(|e| panic!("{name}: broken timing line: {e}"));
        }
    }
}

fn heatmap_files(work: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = files_under(&work.join("heatmaps"))
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// A chain's end: no partial file, status complete, heatmaps and PNGs
/// byte for byte those of the uninterrupted run.
fn check_finished(work: &Path, want: &[(String, Vec<u8>)]) {
    let left = partial_files(work);
    assert!(left.is_empty(), "partial files survived: {left:?}");
    let got = heatmap_files(work);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(want));
    for ((name, got), (_, want)) in got.iter().zip(want) {
        assert!(got == want, "{name} differs from the uninterrupted run's");
    }
    let status = run(&["status".as_ref(), work.as_os_str()]);
    assert_eq!(status.code, 0, "status after the resume: {}", status.stdout);
}

#[test]
fn killed_and_resumed_runs_end_bit_identical() {
    let dir = slidescale_testutil::temp_dir("crash");
    let slides = slides(&dir);

    let reference = dir.join("reference");
    let t0 = Instant::now();
    let mut child = start_run(&slides, &reference, false);
    assert!(child.wait().unwrap().success(), "uninterrupted run failed");
    let full = t0.elapsed();
    let want = heatmap_files(&reference);
    let names: Vec<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
    let odd = format!("{ODD_NAME}.npy");
    assert!(names.contains(&odd.as_str()), "heatmaps: {names:?}");
    assert_eq!(
        want.len(),
        6,
        "two .npy, two .json sidecars and two .png: {names:?}"
    );
    let groups_per_slide = count_results(&reference) / 2;
    assert!(groups_per_slide >= 4, "want many groups per slide");

    let mut rng = Rng(0x5eed_2023_0003);
    let ms = |rng: &mut Rng, hi: u64| Duration::from_millis(rng.range(0, hi));
    let full_ms = full.as_millis() as u64;
    let g = groups_per_slide as u64;
    let schedule = [
        Moment::Splitting(ms(&mut rng, 150)),
        Moment::Scored(rng.range(1, g - 1) as usize),
        Moment::Stitching,
        Moment::After(ms(&mut rng, full_ms / 2)),
        Moment::Scored(rng.range(1, g) as usize),
        Moment::Stitching,
        Moment::DrawingPng,
        Moment::After(ms(&mut rng, full_ms)),
        Moment::Splitting(ms(&mut rng, 300)),
        Moment::After(ms(&mut rng, full_ms / 2)),
        Moment::Scored(rng.range(g, 2 * g - 1) as usize),
        Moment::After(ms(&mut rng, full_ms / 3)),
    ];

    // A chain: a fresh run, killed and resumed until a run completes on its
    // own; then it is checked and the next moments start a new chain.
    let mut killed = Vec::new();
    let mut chain = 0;
    let mut runs_in_chain = 0;
    let mut work = dir.join("work0");
    for &moment in &schedule {
        if run_until(&slides, &work, runs_in_chain > 0, moment) {
            killed.push(moment);
            runs_in_chain += 1;
            assert_final_files_whole(&work);
        } else {
            check_finished(&work, &want);
            chain += 1;
            runs_in_chain = 0;
            work = dir.join(format!("work{chain}"));
        }
    }
    if runs_in_chain > 0 {
        let mut child = start_run(&slides, &work, true);
        assert!(child.wait().unwrap().success(), "final resume failed");
        check_finished(&work, &want);
    }
    println!(
        "uninterrupted {:.1} s; {} chains; killed {} times: {killed:?}",
        full.as_secs_f64(),
        chain + 1,
        killed.len()
    );
    assert!(
        killed.len() >= 6,
        "only {} kills landed: {killed:?}",
        killed.len()
    );
    for phase in ["Splitting", "Scored", "Stitching", "DrawingPng"] {
        assert!(
            killed.iter().any(|m| format!("{m:?}").starts_with(phase)),
            "no kill while {phase}: {killed:?}"
        );
    }
    assert!(!dir.join("PWNED").exists() && !Path::new("PWNED").exists());
    std::fs::remove_dir_all(&dir).ok();
}
