//! The executor interface against the real single-node SLURM and SGE of
//! `scripts/cluster/ci.sh --start` (as root):
//! `cargo test -p slidescale-cluster --test executors`.
//!
//! An array whose tasks succeed, fail (exit 3) and die (SIGKILL, so they
//! leave no exit record: "vanished", as a task killed for memory or a lost
//! node would), a job waiting on it ("after any"), a job cancelled while it
//! runs; what the queue and the status say about each.

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use slidescale_cluster::job_dir::RunConfig;
use slidescale_cluster::ledger::{self, LedgerEntry, Stage};
use slidescale_cluster::script::LIB_SH;
use slidescale_cluster::shell::{shell_quote, write_nul_list};
use slidescale_cluster::status::{run_status, TaskOutcome};
use slidescale_cluster::{
    executor, Dependency, Executor, JobId, JobSpec, QueueState, Resources, SchedulerKind,
};

fn resources() -> Resources {
    Resources {
        cores: 1,
        memory_mb: 100,
        time: None,
        queue: None,
    }
}

/// A job directory as `run` makes one, without slidescale in the scripts.
fn job_dir(kind: SchedulerKind) -> std::path::PathBuf {
    let dir = slidescale_testutil::temp_dir(&format!("executors-{kind}"));
    let cfg = RunConfig {
        scheduler: kind,
        scheduler_options: Default::default(),
        resources: resources(),
        max_array_size: None,
        submit_args: vec![],
        dry_run: false,
        workflow: Default::default(),
        max_running: None,
    };
    fs::write(
        dir.join("config.json"),
        serde_json::to_string(&cfg).unwrap(),
    )
    .unwrap();
    fs::write(dir.join("lib.sh"), LIB_SH).unwrap();
    // The scheduler's own output goes there: it must exist before submission.
    fs::create_dir_all(dir.join("logs")).unwrap();
    let run: Vec<OsString> = vec!["/bin/true".into(), dir.clone().into(), dir.clone().into()];
    write_nul_list(&dir.join("run.nul"), &run).unwrap();
    write_nul_list(&dir.join("env.nul"), &[]).unwrap();
    dir
}

fn spec(dir: &Path, key: &str, tasks: Option<u32>, work: &str) -> JobSpec {
    JobSpec {
        name: format!("ss-test-{key}"),
        tasks,
        max_running: None,
        resources: resources(),
        sched_log_dir: Some(dir.join("logs")),
        body: format!(
            "set -u\nSS_JOBDIR={}\nSS_KEY={key}\n. \"$SS_JOBDIR/lib.sh\" || exit 1\nss_begin\n{work}\n",
            shell_quote(dir.to_str().unwrap())
        ),
    }
}

fn submit(exec: &dyn Executor, dir: &Path, spec: &JobSpec, key: &str, after: &[JobId]) -> JobId {
    let path = dir.join(format!("{key}.sh"));
    fs::write(&path, exec.render(spec)).unwrap();
    let id = exec
        .submit(&path, after, Dependency::AfterAny, &[])
        .unwrap();
    let entry = LedgerEntry {
        job: id.clone(),
        stage: Stage::Process,
        key: key.into(),
        tasks: spec.tasks.unwrap_or(1),
        slide: Some("s".into()),
        groups: (1..=spec.tasks.unwrap_or(1)).collect(),
        slides: vec![],
        submitted: 0.0,
    };
    ledger::append(dir, &entry).unwrap();
    id
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let t = Instant::now();
    while !done() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn exercise(kind: SchedulerKind) {
    let exec = executor(kind, &Default::default());
    if let Err(e) = exec.max_array_tasks() {
        panic!("{kind} is not running here ({e}); start it (as root) with `scripts/cluster/ci.sh --start`");
    }
    let dir = job_dir(kind);
    // Task 1 succeeds, 2 exits 3, 3 kills itself (bash and the wrapper).
    let work = "sleep 2\ncase $SS_TASK in 2) ss_finish 3 ;; 3) kill -9 $$ ;; esac\nss_finish 0";
    let array = submit(
        exec.as_ref(),
        &dir,
        &spec(&dir, "array", Some(3), work),
        "array",
        &[],
    );
    let after = submit(
        exec.as_ref(),
        &dir,
        &spec(&dir, "after", None, "ss_finish 0"),
        "after",
        std::slice::from_ref(&array),
    );
    // While the array runs, its dependant waits.
    let q = exec.queue(std::slice::from_ref(&after)).unwrap();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].state, QueueState::Pending, "{q:?}");
    let busy = submit(
        exec.as_ref(),
        &dir,
        &spec(&dir, "busy", None, "sleep 300\nss_finish 0"),
        "busy",
        &[],
    );
    wait_until("the long job to run", || {
        exec.queue(std::slice::from_ref(&busy))
            .unwrap()
            .iter()
            .any(|t| t.state == QueueState::Running)
    });
    exec.cancel(std::slice::from_ref(&busy)).unwrap();
    let all = [array.clone(), after.clone(), busy.clone()];
    wait_until("every job to leave the queue", || {
        exec.queue(&all).unwrap().is_empty()
    });

    let status = run_status(&dir).unwrap();
    let outcomes: Vec<Vec<TaskOutcome>> = status.jobs.iter().map(|j| j.tasks.clone()).collect();
    assert_eq!(
        outcomes,
        [
            vec![
                TaskOutcome::Succeeded,
                TaskOutcome::Failed(3),
                TaskOutcome::Vanished
            ],
            vec![TaskOutcome::Succeeded], // "after any": ran despite the failures
            vec![TaskOutcome::Vanished],  // cancelled while running
        ],
        "{status:?}"
    );
    assert_eq!(status.failed_tasks().len(), 3);
    assert!(status.queued_jobs().is_empty());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn slurm_arrays_dependencies_failures_and_cancel() {
    exercise(SchedulerKind::Slurm);
}

#[test]
fn sge_arrays_dependencies_failures_and_cancel() {
    exercise(SchedulerKind::Sge);
}
