//! Cluster execution for slidescale, after Li, Mikailov & Chen (IEEE TAI
//! 2023): the same tasks a laptop runs, scaled through a cluster's own
//! scheduler with array jobs submitted hierarchically — no MPI, no job
//! starvation.
//!
//! * [`scheduler`]: one [`Executor`] interface over SLURM, SGE and PBS
//!   (array jobs, dependencies, queue state, cancel);
//! * [`plan`]: the hierarchical plan (split array → master → one process
//!   array per slide → stitch per slide), its job scripts under
//!   `WORK/jobs/run-NNN/`, and resume by resubmitting what is missing;
//! * [`job_dir`]: a run's job directory and its `config.json`, shared by
//!   the plan and the status;
//! * [`status`]: what the scheduler says about a run's tasks.
//!
//! Run statistics and the scaling simulator serve local runs too and live in
//! `slidescale-runstats`. Job scripts never contain a slide name: see
//! [`shell`].

pub mod claim;
pub mod error;
pub mod job;
pub mod job_dir;
pub mod ledger;
pub mod lookup;
pub mod plan;
pub mod scheduler;
pub mod script;
pub mod shell;
pub mod status;

pub use claim::claim_work_dir;
pub use error::{ClusterError, Result};
pub use job::{Dependency, JobId, JobSpec, QueueState, QueuedTask, Resources, SchedulerKind};
pub use lookup::ResultCheck;
pub use plan::{submit, submit_groups, task_memory_mb, ClusterRequest, Submission};
pub use scheduler::{executor, Executor, SchedulerOptions};
pub use status::{scheduler_status, wait_idle, SchedulerStatus};
