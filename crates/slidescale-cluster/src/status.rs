//! What the scheduler says about a run: per submitted job, which tasks are
//! pending, running, succeeded, failed (with their exit status) or vanished
//! (killed without a word: out of memory, time limit, node lost, cancelled).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use slidescale_core::WorkDir;

use crate::error::{ClusterError, Result};
use crate::job::{JobId, QueueState, SchedulerKind};
use crate::job_dir::{read_config, run_dirs};
use crate::ledger::{self, LedgerEntry, Stage};
use crate::scheduler::executor;

/// Outcome of one task.
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

/// One submitted job and its tasks.
#[derive(Debug, Clone)]
pub struct JobStatus {
    pub entry: LedgerEntry,
    /// Outcome of task i at index i-1.
    pub tasks: Vec<TaskOutcome>,
}

/// The scheduler section of `slidescale status`: the latest run of a work
/// directory.
#[derive(Debug, Clone)]
pub struct SchedulerStatus {
    pub job_dir: PathBuf,
    pub scheduler: SchedulerKind,
    pub jobs: Vec<JobStatus>,
    /// Set when the scheduler could not be asked; outcomes then come from
    /// the exit records alone and unfinished tasks show as vanished.
    pub query_error: Option<String>,
}

/// A task that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedTask {
    pub stage: Stage,
    pub job: JobId,
    pub task: u32,
    pub subject: String,
    /// Exit status; `None` when it vanished.
    pub code: Option<i32>,
    pub log: PathBuf,
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

    /// Task counts of one stage: (pending, running, succeeded, failed).
    pub fn counts(&self, stage: Stage) -> [usize; 4] {
        let mut c = [0; 4];
        for j in self.jobs.iter().filter(|j| j.entry.stage == stage) {
            for t in &j.tasks {
                let k = match t {
                    TaskOutcome::Pending(_) | TaskOutcome::Other(_) => 0,
                    TaskOutcome::Running => 1,
                    TaskOutcome::Succeeded => 2,
                    TaskOutcome::Failed(_) | TaskOutcome::Vanished => 3,
                };
                c[k] += 1;
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

impl fmt::Display for SchedulerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scheduler ({}), {}:",
            self.scheduler,
            self.job_dir.display()
        )?;
        if let Some(e) = &self.query_error {
            writeln!(f, "  could not ask the scheduler: {e}")?;
        }
        writeln!(
            f,
            "  {:<8} {:>4} {:>8} {:>8} {:>10} {:>7}",
            "stage", "jobs", "pending", "running", "succeeded", "failed"
        )?;
        for stage in [Stage::Split, Stage::Master, Stage::Process, Stage::Stitch] {
            let n = self.jobs.iter().filter(|j| j.entry.stage == stage).count();
            if n == 0 {
                continue;
            }
            let [p, r, s, x] = self.counts(stage);
            writeln!(
                f,
                "  {:<8} {n:>4} {p:>8} {r:>8} {s:>10} {x:>7}",
                stage.name()
            )?;
        }
        for t in self.failed_tasks() {
            let how = t.code.map_or("vanished (killed or cancelled)".into(), |c| {
                format!("exit {c}")
            });
            writeln!(
                f,
                "  failed: {} job {} task {} ({}): {how}; log {}",
                t.stage.name(),
                t.job,
                t.task,
                t.subject,
                t.log.display()
            )?;
        }
        Ok(())
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
