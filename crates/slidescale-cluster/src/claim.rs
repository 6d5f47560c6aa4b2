//! The one decision "may a run use this work directory now", made the same
//! way for a local run and for a cluster submission: no other run holds its
//! lock, and no cluster run of it still has jobs queued or running (a local
//! run in between would race the cluster's tasks for the same files).

use slidescale_core::workdir::WorkDirLock;
use slidescale_core::WorkDir;

use crate::error::{ClusterError, Result};

/// Take `work`'s lock and refuse when a cluster run of it is still in
/// flight. Hold the returned lock for as long as the run (local) or the
/// submission (cluster) writes into `work`; within this process further
/// `WorkDir::lock` calls share it.
pub fn claim_work_dir(work: &WorkDir) -> Result<WorkDirLock> {
    let lock = work.lock()?;
    refuse_if_in_flight(work)?;
    Ok(lock)
}

/// An error naming the jobs when the latest cluster run of `work` has any
/// task still queued or running.
fn refuse_if_in_flight(work: &WorkDir) -> Result<()> {
    let Some(status) = crate::status::scheduler_status(work)? else {
        return Ok(());
    };
    let queued = status.queued_jobs();
    if queued.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = queued.iter().map(|j| j.to_string()).collect();
    Err(ClusterError::Invalid(format!(
        "{} still has jobs queued or running ({}); wait for them or cancel them before running again",
        status.job_dir.display(),
        ids.join(" ")
    )))
}
