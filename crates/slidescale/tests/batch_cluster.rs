//! `slidescale batch` on the single-node SLURM and SGE of
//! `scripts/cluster/ci.sh --start`, through the engine `run` uses: the
//! same scenario as `batch_local`, outputs byte-equal to a local run's,
//! and with `--max-running 1` no two tasks of the run ever overlap.

mod batch_support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use batch_support::*;
use slidescale_cluster::{executor, wait_idle, SchedulerKind};
use slidescale_core::WorkDir;

fn require(kind: SchedulerKind) {
    if let Err(e) = executor(kind, &Default::default()).max_array_tasks() {
        panic!("{kind} is not running here ({e}); start it with `scripts/cluster/ci.sh --start`");
    }
}

fn wait(work: &Path) {
    wait_idle(
        &WorkDir::new(work),
        Duration::from_secs(600),
        Duration::from_millis(300),
    )
    .unwrap()
    .expect("submitted");
}

/// One level: a thumbnail per input, the broken input failing alone with
/// the program's exit status; the same files as the local executor's.
fn one_level(kind: SchedulerKind, root: &Path) {
    let all = inputs(root);
    let local = root.join("thumbs-local");
    assert_eq!(thumbnails(&all, &local, &[]).status.code(), Some(1));
    let work = root.join("thumbs");
    let o = thumbnails(&all, &work, &["--executor", kind.name()]);
    assert!(o.status.success(), "{}", text(&o));
    wait(&work);
    assert_eq!(record(&work, "input/a").unwrap().0, 0);
    let (rc, _, _) = record(&work, "input/broken").unwrap();
    assert_eq!(rc, record(&local, "input/broken").unwrap().0);
    let st = slidescale(&["status".as_ref(), work.as_os_str()]);
    let s = String::from_utf8_lossy(&st.stdout);
    assert!(
        s.contains(&format!("failed: input \"broken\": exit status {rc}")),
        "{s}"
    );
    assert!(s.contains("failed: input job"), "{s}");
    assert_eq!(outputs(&work), outputs(&local));
}

fn scenario(kind: SchedulerKind) {
    require(kind);
    let root = slidescale_testutil::temp_dir(&format!("batch-{kind}"));
    one_level(kind, &root);
    let ins = inputs(&root)[..2].to_vec();
    let flag = root.join("flag");
    let local = root.join("local");
    let o = crops(&ins, &local, &flag, false, &[]);
    assert!(o.status.success(), "{}", text(&o));

    let work = root.join("work dir");
    fs::write(&flag, "").unwrap();
    let ex = ["--executor", kind.name(), "--max-running", "1"];
    let o = crops(&ins, &work, &flag, true, &ex);
    assert!(o.status.success(), "{}", text(&o));
    wait(&work);
    for n in ["a", HOSTILE] {
        assert_eq!(record(&work, &part_rel(n, 1)).unwrap().0, 0);
        assert_eq!(record(&work, &part_rel(n, 2)).unwrap().0, 3);
        assert!(
            record(&work, &part_rel(n, 3)).is_none(),
            "killed: no record"
        );
    }
    let st = slidescale(&["status".as_ref(), work.as_os_str()]);
    let s = String::from_utf8_lossy(&st.stdout);
    assert!(s.contains("exit status 3") && s.contains("vanished"), "{s}");
    let kept = record(&work, &part_rel("a", 1)).unwrap();
    fs::remove_file(&flag).unwrap();
    let mut resume = ex.to_vec();
    resume.push("--resume");
    let o = crops(&ins, &work, &flag, true, &resume);
    assert!(o.status.success(), "{}", text(&o));
    wait(&work);
    assert_eq!(
        record(&work, &part_rel("a", 1)).unwrap(),
        kept,
        "part 1 not rerun"
    );
    assert_eq!(
        outputs(&work),
        outputs(&local),
        "same outputs as the local run"
    );
    let mut spans = Vec::new();
    for n in ["a", HOSTILE] {
        for rel in [format!("input/{n}"), format!("gather/{n}")]
            .into_iter()
            .chain((1..=3).map(|p| part_rel(n, p)))
        {
            let (_, s, e) = record(&work, &rel).unwrap();
            spans.push((s, e));
        }
    }
    assert_eq!(peak_overlap(&spans), 1, "--max-running 1: {spans:?}");
    assert!(!root.join("PWNED").exists());
    let r = slidescale(&["report".as_ref(), work.as_os_str()]);
    assert!(r.status.success(), "{}", text(&r));
    fs::remove_dir_all(&root).ok();
}

#[test]
fn slurm_batch_two_levels_failure_kill_resume_and_cap() {
    scenario(SchedulerKind::Slurm);
}

#[test]
fn sge_batch_two_levels_failure_kill_resume_and_cap() {
    scenario(SchedulerKind::Sge);
}
