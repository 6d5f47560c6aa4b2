//! `run --max-running 1` on the single-node SLURM and SGE of
//! `scripts/cluster/ci.sh --start`: no two tasks of the run (split,
//! process, stitch, and the master job that submits the process arrays)
//! ever run at once, where the cluster's two slots would otherwise run two.
//! Each task's span is the one it recorded in `logs/timing`; the master's
//! lasts at least until its last submission in the ledger.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use slidescale_cluster::ledger::{self, Stage};
use slidescale_cluster::{executor, wait_idle, SchedulerKind};
use slidescale_core::timing::TaskTiming;
use slidescale_core::WorkDir;
use slidescale_testutil::{fixture, peak_overlap, temp_dir};

fn require(kind: SchedulerKind) {
    if let Err(e) = executor(kind, &Default::default()).max_array_tasks() {
        panic!("{kind} is not running here ({e}); start it with `scripts/cluster/ci.sh --start`");
    }
}

/// Every timing line the run's tasks wrote: (stage, start, end).
fn task_spans(work: &WorkDir) -> Vec<(String, f64, f64)> {
    let mut spans = Vec::new();
    for stage in ["split", "process", "stitch"] {
        let dir = work.timing_dir().join(stage);
        for slide in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            for line in fs::read_dir(slide.unwrap().path()).unwrap() {
                let text = fs::read_to_string(line.unwrap().path()).unwrap();
                let t: TaskTiming = serde_json::from_str(&text).unwrap();
                spans.push((t.stage, t.start, t.end));
            }
        }
    }
    spans
}

fn run(kind: SchedulerKind, slides: &[PathBuf], work: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_slidescale"))
        .arg("run")
        .args(slides)
        .arg("--model")
        .arg(fixture("models/smallcnn.onnx"))
        .arg("--out")
        .arg(work)
        .args(["--executor", kind.name(), "--max-running", "1"])
        .args(["--stride", "32", "--group-size", "12", "--threads", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run --executor {kind} --max-running 1: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scenario(kind: SchedulerKind) {
    require(kind);
    let root = temp_dir(&format!("max-running-{kind}"));
    let slides: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|n| {
            let p = root.join(format!("{n}.svs"));
            fs::copy(fixture("slides/CMU-1-Small-Region.svs"), &p).unwrap();
            p
        })
        .collect();
    let work = root.join("work");
    run(kind, &slides, &work);
    let w = WorkDir::new(&work);
    let status = wait_idle(&w, Duration::from_secs(900), Duration::from_millis(500))
        .unwrap()
        .expect("submitted");
    for n in ["a", "b"] {
        assert!(w.heatmap_npy(n).is_file(), "{n} stitched: {status:?}");
    }
    let spans = task_spans(&w);
    let processed = spans.iter().filter(|(s, _, _)| s == "process").count();
    assert!(processed >= 4, "enough tasks to overlap: {spans:?}");
    let times: Vec<(f64, f64)> = spans.iter().map(|(_, s, e)| (*s, *e)).collect();
    assert_eq!(peak_overlap(&times), 1, "--max-running 1: {spans:?}");

    // The master submits every process array and stitch job, so it runs
    // at least until the last of them was submitted: no task of those may
    // start before that.
    let entries = ledger::read(&status.job_dir).unwrap();
    let master_busy_until = entries
        .iter()
        .filter(|e| matches!(e.stage, Stage::Process | Stage::Stitch))
        .map(|e| e.submitted)
        .fold(f64::MIN, f64::max);
    let first_after_master = spans
        .iter()
        .filter(|(s, _, _)| s != "split")
        .map(|(_, start, _)| *start)
        .fold(f64::MAX, f64::min);
    assert!(
        first_after_master >= master_busy_until,
        "a task started at {first_after_master} while the master was still submitting (until {master_busy_until})"
    );
    fs::remove_dir_all(&root).ok();
}

#[test]
fn slurm_run_max_running_one_never_overlaps() {
    scenario(SchedulerKind::Slurm);
}

#[test]
fn sge_run_max_running_one_never_overlaps() {
    scenario(SchedulerKind::Sge);
}
