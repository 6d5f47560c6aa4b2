//! What the scheduler says about a run: per submitted job, which tasks are
//! pending, running, succeeded, failed (with their exit status) or vanished
//! (killed without a word: out of memory, time limit, node lost, cancelled).
//!
//! Data only, serialisable as `slidescale status --json` shows it; the CLI
//! renders the text.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use slidescale_core::WorkDir;

use crate::error::{ClusterError, Result};
use crate::job::{JobId, QueueState, SchedulerKind};
use crate::job_dir::{read_config, run_dirs};
use crate::ledger::{self, LedgerEntry, Stage};
use crate::scheduler::executor;

/// Outcome of one task. In JSON an object `{"state": "pending" | "running" |
/// "other" | "succeeded" | "failed" | "vanished"}`, with `"reason"` (the
/// scheduler's word) for pending and other, `"code"` (exit status) for failed.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    Pending(String),
    Running,
    /// Held, in error… (the scheduler's word).
    Other(String),
    Succeeded,
    Failed(i32),
    Vanished,
}

/// One submitted job and its tasks. In JSON the ledger entry's fields, and
/// `"outcomes"`.
#[derive(Debug, Clone, Serialize)]
pub struct JobStatus {
    #[serde(flatten)]
    pub entry: LedgerEntry,
    /// Outcome of task i at index i-1.
    #[serde(rename = "outcomes")]
    pub tasks: Vec<TaskOutcome>,
}

/// The scheduler section of `slidescale status`: the latest run of a work
/// directory.
#[derive(Debug, Clone, Serialize)]
pub struct SchedulerStatus {
    pub job_dir: PathBuf,
    pub scheduler: SchedulerKind,
    /// Whose stages these are (`run`'s or `batch`'s), for their labels.
    pub workflow: crate::job_dir::Workflow,
    pub jobs: Vec<JobStatus>,
    /// Set when the scheduler could not be asked; outcomes then come from
    /// the exit records alone and unfinished tasks show as vanished.
    pub query_error: Option<String>,
}

/// A task that did not succeed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedTask {
    pub stage: Stage,
    pub job: JobId,
    pub task: u32,
    pub subject: String,
    /// Exit status; `None` when it vanished.
    pub code: Option<i32>,
    pub log: PathBuf,
}

/// Task counts of one stage's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StageCounts {
    pub stage: Stage,
    pub jobs: usize,
    /// Queued, held or in another scheduler state.
    pub pending: usize,
    pub running: usize,
    pub succeeded: usize,
    /// Failed or vanished.
    pub failed: usize,
}

/// The latest cluster run of `work` that submitted something, with the
/// scheduler's view of it; `None` when no cluster run submitted anything.
pub fn scheduler_status(work: &WorkDir) -> Result<Option<SchedulerStatus>> {
    for dir in run_dirs(work)?.iter().rev() {
        if ledger::ledger_path(dir).exists() {
            return run_status(dir).map(Some);
        }
    }
    Ok(None)
}

/// The scheduler's view of the run in `job_dir`.
pub fn run_status(job_dir: &Path) -> Result<SchedulerStatus> {
    let config = read_config(job_dir)?;
    let entries = ledger::read(job_dir)?;
    let exec = executor(config.scheduler, &config.scheduler_options);
    let ids: Vec<JobId> = entries.iter().map(|e| e.job.clone()).collect();
    // Ask the queue first, then read the exit records: a task that ends in
    // between is then seen as ended, never as vanished.
    let (queue, query_error) = match exec.queue(&ids) {
        Ok(q) => (q, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let mut jobs = Vec::new();
    for entry in entries {
        let mut tasks = vec![TaskOutcome::Vanished; entry.tasks as usize];
        for q in queue.iter().filter(|q| q.job == entry.job) {
            let i = q.task.unwrap_or(1).saturating_sub(1) as usize;
            if let Some(t) = tasks.get_mut(i) {
                *t = match &q.state {
                    QueueState::Pending => TaskOutcome::Pending(q.reason.clone()),
                    QueueState::Running => TaskOutcome::Running,
                    QueueState::Other(s) => TaskOutcome::Other(s.clone()),
                };
            }
        }
        for (task, rec) in ledger::exit_records(job_dir, &entry.key)? {
            if let Some(t) = tasks.get_mut(task.saturating_sub(1) as usize) {
                *t = if rec.code == 0 {
                    TaskOutcome::Succeeded
                } else {
                    TaskOutcome::Failed(rec.code)
                };
            }
        }
        jobs.push(JobStatus { entry, tasks });
    }
    Ok(SchedulerStatus {
        job_dir: job_dir.to_path_buf(),
        scheduler: config.scheduler,
        workflow: config.workflow,
        jobs,
        query_error,
    })
}

impl SchedulerStatus {
    /// Jobs with at least one task still queued or running.
    pub fn queued_jobs(&self) -> Vec<JobId> {
        self.jobs
            .iter()
            .filter(|j| j.tasks.iter().any(TaskOutcome::is_queued))
            .map(|j| j.entry.job.clone())
            .collect()
    }

    /// Tasks that failed or vanished, with what they worked on and their log.
    pub fn failed_tasks(&self) -> Vec<FailedTask> {
        let mut out = Vec::new();
        for j in &self.jobs {
            for (i, t) in j.tasks.iter().enumerate() {
                let code = match t {
                    TaskOutcome::Failed(c) => Some(*c),
                    TaskOutcome::Vanished => None,
                    _ => continue,
                };
                let task = i as u32 + 1;
                out.push(FailedTask {
                    stage: j.entry.stage,
                    job: j.entry.job.clone(),
                    task,
                    subject: j.entry.task_subject(task),
                    code,
                    log: self
                        .job_dir
                        .join("logs")
                        .join(format!("{}.{task}.log", j.entry.key)),
                });
            }
        }
        out
    }

    /// Task counts per stage, in plan order, for the stages that have jobs.
    pub fn stage_counts(&self) -> Vec<StageCounts> {
        let stages = [Stage::Split, Stage::Master, Stage::Process, Stage::Stitch];
        stages
            .into_iter()
            .map(|stage| self.counts(stage))
            .filter(|c| c.jobs > 0)
            .collect()
    }

    fn counts(&self, stage: Stage) -> StageCounts {
        let mut c = StageCounts {
            stage,
            jobs: 0,
            pending: 0,
            running: 0,
            succeeded: 0,
            failed: 0,
        };
        for j in self.jobs.iter().filter(|j| j.entry.stage == stage) {
            c.jobs += 1;
            for t in &j.tasks {
                match t {
                    TaskOutcome::Pending(_) | TaskOutcome::Other(_) => c.pending += 1,
                    TaskOutcome::Running => c.running += 1,
                    TaskOutcome::Succeeded => c.succeeded += 1,
                    TaskOutcome::Failed(_) | TaskOutcome::Vanished => c.failed += 1,
                }
            }
        }
        c
    }
}

impl TaskOutcome {
    fn is_queued(&self) -> bool {
        matches!(
            self,
            TaskOutcome::Pending(_) | TaskOutcome::Running | TaskOutcome::Other(_)
        )
    }
}

impl Serialize for TaskOutcome {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Outcome<'a> {
            state: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            reason: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<i32>,
        }
        let (state, reason, code) = match self {
            TaskOutcome::Pending(r) => ("pending", Some(r.as_str()), None),
            TaskOutcome::Running => ("running", None, None),
            TaskOutcome::Other(r) => ("other", Some(r.as_str()), None),
            TaskOutcome::Succeeded => ("succeeded", None, None),
            TaskOutcome::Failed(c) => ("failed", None, Some(*c)),
            TaskOutcome::Vanished => ("vanished", None, None),
        };
        Outcome {
            state,
            reason,
            code,
        }
        .serialize(ser)
    }
}

/// Wait until nothing of the latest run of `work` is queued or running —
/// including the jobs its master submits later — polling every `poll`.
/// Returns the final status; fails after `timeout`.
pub fn wait_idle(
    work: &WorkDir,
    timeout: Duration,
    poll: Duration,
) -> Result<Option<SchedulerStatus>> {
    let t0 = Instant::now();
    loop {
        let status = scheduler_status(work)?;
        let Some(st) = &status else { return Ok(None) };
        if let Some(e) = &st.query_error {
            return Err(ClusterError::Invalid(format!("cannot follow the run: {e}")));
        }
        if st.queued_jobs().is_empty() {
            // The master may have just ended: its submissions are in the
            // ledger by then, so one more look settles it.
            let again = scheduler_status(work)?;
            if again
                .as_ref()
                .is_some_and(|a| a.jobs.len() == st.jobs.len() && a.queued_jobs().is_empty())
            {
                return Ok(again);
            }
        } else if t0.elapsed() > timeout {
            return Err(ClusterError::Invalid(format!(
                "jobs still queued after {:.0} s: {:?}",
                timeout.as_secs_f64(),
                st.queued_jobs()
            )));
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(stage: Stage, key: &str, tasks: u32) -> LedgerEntry {
        LedgerEntry {
            job: JobId(format!("{key}-id")),
            stage,
            key: key.into(),
            tasks,
            slide: Some("a".into()),
            groups: (1..=tasks).collect(),
            slides: vec![],
            submitted: 0.0,
        }
    }

    /// Every outcome counts in one column, and serialises to one shape.
    #[test]
    fn counts_and_json_of_every_outcome() {
        use TaskOutcome::*;
        let st = SchedulerStatus {
            job_dir: PathBuf::from("/w/jobs/run-001"),
            scheduler: SchedulerKind::Sge,
            workflow: Default::default(),
            jobs: vec![
                JobStatus {
                    entry: entry(Stage::Master, "master", 1),
                    tasks: vec![Succeeded],
                },
                JobStatus {
                    entry: entry(Stage::Process, "process-0001-1", 6),
                    tasks: vec![
                        Pending("Resources".into()),
                        Other("Eqw".into()),
                        Running,
                        Succeeded,
                        Failed(75),
                        Vanished,
                    ],
                },
            ],
            query_error: None,
        };
        let counts = st.stage_counts();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].stage, Stage::Master);
        let p = counts[1];
        assert_eq!(
            (p.jobs, p.pending, p.running, p.succeeded, p.failed),
            (1, 2, 1, 1, 2)
        );
        assert_eq!(st.queued_jobs(), [JobId("process-0001-1-id".into())]);
        let json = serde_json::to_value(&st).unwrap();
        let job = &json["jobs"][1];
        assert_eq!(
            (job["tasks"].as_u64(), job["stage"].as_str()),
            (Some(6), Some("process"))
        );
        assert_eq!(
            job["outcomes"],
            serde_json::json!([
                {"state": "pending", "reason": "Resources"},
                {"state": "other", "reason": "Eqw"},
                {"state": "running"},
                {"state": "succeeded"},
                {"state": "failed", "code": 75},
                {"state": "vanished"}
            ])
        );
        assert_eq!(json["scheduler"], "sge");
        let failed = st.failed_tasks();
        assert_eq!(failed.len(), 2);
        assert_eq!(
            failed[0].log,
            Path::new("/w/jobs/run-001/logs/process-0001-1.5.log")
        );
    }
}
