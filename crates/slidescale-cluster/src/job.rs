//! What is submitted: a job (optionally an array of tasks 1..=n) with its
//! resources and the bash that each task runs, and what a scheduler says
//! about it afterwards.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ClusterError;
use crate::shell::directive_safe;

/// The batch systems slidescale can generate jobs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchedulerKind {
    Slurm,
    Sge,
    Pbs,
}

impl SchedulerKind {
    pub fn name(self) -> &'static str {
        match self {
            SchedulerKind::Slurm => "slurm",
            SchedulerKind::Sge => "sge",
            SchedulerKind::Pbs => "pbs",
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SchedulerKind {
    type Err = ClusterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "slurm" => Ok(SchedulerKind::Slurm),
            "sge" | "gridengine" => Ok(SchedulerKind::Sge),
            "pbs" | "pbspro" | "openpbs" | "torque" => Ok(SchedulerKind::Pbs),
            other => Err(ClusterError::Invalid(format!(
                "unknown scheduler {other:?} (expected slurm, sge or pbs)"
            ))),
        }
    }
}

/// What one task of a job asks the scheduler for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Cores of one task (`--threads`).
    pub cores: u32,
    /// Memory of one task in MiB.
    pub memory_mb: u64,
    /// Wall-time limit in the scheduler's own syntax (`2:00:00`, `1-00:00:00`).
    pub time: Option<String>,
    /// Partition (SLURM) or queue (SGE, PBS).
    pub queue: Option<String>,
}

impl Resources {
    /// Refuse values that cannot be written into a directive line safely.
    pub fn validate(&self) -> Result<(), ClusterError> {
        if self.cores == 0 {
            return Err(ClusterError::Invalid(
                "a task needs at least one core".into(),
            ));
        }
        if let Some(t) = &self.time {
            let ok = !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_digit() || c == ':' || c == '-');
            if !ok {
                return Err(ClusterError::Invalid(format!(
                    "time limit {t:?} is not of the form [D-]HH:MM:SS"
                )));
            }
        }
        if let Some(q) = &self.queue {
            if !directive_safe(q) {
                return Err(ClusterError::Invalid(format!(
                    "queue/partition name {q:?} has characters a scheduler directive cannot hold"
                )));
            }
        }
        Ok(())
    }
}

/// One job to submit.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Job name shown by the scheduler (directive-safe, made by slidescale).
    pub name: String,
    /// `Some(n)`: an array job of tasks 1..=n; `None`: a single task (id 1).
    pub tasks: Option<u32>,
    /// Most tasks of this array running at once (SLURM `%K`, SGE `-tc`,
    /// PBS `max_run_subjobs`); `None`: as many as the scheduler starts.
    pub max_running: Option<u32>,
    pub resources: Resources,
    /// Directory for the scheduler's own stdout/stderr files, when its path
    /// can be written into a directive; otherwise that output is discarded
    /// (each task also logs to a file of its own, see `script`).
    pub sched_log_dir: Option<PathBuf>,
    /// The bash run by every task, after the directives. The task id is in
    /// `$SS_TASK` (see [`crate::scheduler::Executor::task_id_setup`]).
    pub body: String,
}

/// A scheduler's id of a submitted job (for an array: the whole array).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub String);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a job waits for others: "after any", the one dependency slidescale's
/// plan uses (see `docs/cluster.md`): the dependants check completeness
/// themselves, so a failed task never leaves a job pending forever, and SGE
/// has no other kind. Kept as a type so that every submission says what it
/// waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// Start when the others have ended, whatever their exit status.
    AfterAny,
}

impl Dependency {
    /// The SLURM and PBS name of the dependency type.
    pub fn name(self) -> &'static str {
        match self {
            Dependency::AfterAny => "afterany",
        }
    }
}

/// Where a task is in the scheduler's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueState {
    Pending,
    Running,
    /// Held, in error, suspended, …: the scheduler's own word for it.
    Other(String),
}

/// One line of the scheduler's queue for one task of one of our jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedTask {
    pub job: JobId,
    /// Array task id, `None` for a job that is not an array.
    pub task: Option<u32>,
    pub state: QueueState,
    /// Why it waits (SLURM reason, SGE state letters), may be empty.
    pub reason: String,
}
