//! The generated job scripts of a dry run, compared with reviewed copies in
//! `tests/golden/<scheduler>/` — the only check PBS gets, since no PBS
//! server runs here. Every script must also pass `bash -n`.
//!
//! After an intended change: `UPDATE_GOLDEN=1 cargo test -p slidescale-cluster --test golden`,
//! then review the diff of `tests/golden/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use slidescale_cluster::{submit, ClusterRequest, Resources, ResultCheck, SchedulerKind};
use slidescale_core::WorkDir;

/// No result is done yet: every group gets a task.
struct NothingDone;

impl ResultCheck for NothingDone {
    fn is_done(&self, _: &WorkDir, _: &str, _: u32) -> bool {
        false
    }
}

const WORK_TOKEN: &str = "@WORK@";

/// A work directory whose stores are already planned: two slides with
/// awkward names, 3 and 5 groups, arrays of at most 2 tasks.
fn planned_work(tag: &str) -> PathBuf {
    let dir = slidescale_testutil::temp_dir(tag);
    fs::write(
        dir.join("lookup.tsv"),
        "start\tend\tname\n1\t3\ta b\n4\t8\tit's $(x)\n",
    )
    .unwrap();
    dir
}

fn request(kind: SchedulerKind, work: &Path) -> ClusterRequest {
    ClusterRequest {
        scheduler: kind,
        scheduler_options: Default::default(),
        work: work.to_path_buf(),
        to_split: vec![
            (PathBuf::from("/slides/new slide.svs"), "new slide".into()),
            (PathBuf::from("/slides/second.tiff"), "second".into()),
            (PathBuf::from("/slides/third.svs"), "third".into()),
        ],
        spec_json: "{}".into(),
        resources: Resources {
            cores: 7,
            memory_mb: slidescale_cluster::task_memory_mb(
                400,
                &slidescale_core::TileGeometry::PAPER,
            ),
            time: Some("2:00:00".into()),
            queue: Some("batch".into()),
        },
        max_array_size: Some(2),
        submit_args: vec![],
        slidescale_bin: Some(PathBuf::from("/opt/slidescale/bin/slidescale")),
        dry_run: true,
        workflow: Default::default(),
        master: true,
        max_running: None,
    }
}

fn check(kind: SchedulerKind) {
    let work = planned_work(kind.name());
    let sub = submit(&request(kind, &work), &NothingDone).unwrap();
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(kind.name());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    if update {
        fs::create_dir_all(&golden_dir).unwrap();
    }
    let mut names = Vec::new();
    for script in &sub.scripts {
        let out = Command::new("bash").arg("-n").arg(script).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs::read_to_string(script)
            .unwrap()
            .replace(work.to_str().unwrap(), WORK_TOKEN);
        let name = script.file_name().unwrap().to_str().unwrap().to_string();
        let golden = golden_dir.join(&name);
        if update {
            fs::write(&golden, &text).unwrap();
        } else {
            let want = fs::read_to_string(&golden).unwrap_or_else(|e| {
                panic!("{}: {e} (UPDATE_GOLDEN=1 to create)", golden.display())
            });
            assert_eq!(text, want, "{name} differs from {}", golden.display());
        }
        names.push(name);
    }
    // 3 slides to split at 2 per array; master; slide 1: 3 groups → 2 arrays
    // + stitch; slide 2: 5 groups → 3 arrays + stitch.
    assert_eq!(
        names,
        [
            "split-1.sh",
            "split-2.sh",
            "master.sh",
            "process-0001-1.sh",
            "process-0001-2.sh",
            "stitch-0001.sh",
            "process-0002-1.sh",
            "process-0002-2.sh",
            "process-0002-3.sh",
            "stitch-0002.sh",
        ]
    );
    // A dry run submits nothing.
    assert!(!sub.job_dir.join("submitted.jsonl").exists());
    let groups = fs::read_to_string(sub.job_dir.join("process-0002-3.groups")).unwrap();
    assert_eq!(groups, "5\n");
    fs::remove_dir_all(work).unwrap();
}

#[test]
fn pbs_scripts_match_golden_files() {
    check(SchedulerKind::Pbs);
}

#[test]
fn slurm_scripts_match_golden_files() {
    check(SchedulerKind::Slurm);
}

#[test]
fn sge_scripts_match_golden_files() {
    check(SchedulerKind::Sge);
}
