//! The local executor of a batch: the same tasks as on a cluster, in the
//! same order (inputs; then every input's parts; then its gather), at most
//! `max_running` at once on this machine. A resume runs exactly what
//! [`super::state`] says is not done.

use rayon::prelude::*;
use slidescale_core::WorkDir;

use super::spec::{BatchError, BatchSpec};
use super::state::{batch_state, todo, BatchState, TaskState};
use super::task::{run_task, BatchTask, TaskRecord};

/// Run what is not done yet; `observe` hears of every task as it ends.
/// Returns the batch's state afterwards.
pub fn run_local(
    spec: &BatchSpec,
    max_running: usize,
    observe: &(dyn Fn(BatchTask, &TaskRecord) + Sync),
) -> Result<BatchState, BatchError> {
    let work = WorkDir::new(&spec.work);
    let _lock = work
        .lock()
        .map_err(|e| BatchError::Invalid(e.to_string()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(max_running.max(1))
        .build()
        .map_err(|e| BatchError::Invalid(format!("thread pool: {e}")))?;
    let run_all = |tasks: Vec<BatchTask>| -> Result<(), BatchError> {
        pool.install(|| {
            tasks.into_par_iter().try_for_each(|t| {
                let r = run_task(spec, t)?;
                observe(t, &r);
                Ok(())
            })
        })
    };
    let state = batch_state(spec);
    let first: Vec<BatchTask> = state
        .inputs
        .iter()
        .filter(|s| !s.first.is_done())
        .map(|s| BatchTask::Input(spec.inputs.iter().find(|i| **i == s.input).expect("input")))
        .collect();
    run_all(first)?;
    if spec.parts.is_none() {
        return Ok(batch_state(spec));
    }
    let state = batch_state(spec);
    let mut parts = Vec::new();
    let mut gathers = Vec::new();
    for (s, input) in state.inputs.iter().zip(&spec.inputs) {
        if !matches!(s.first, TaskState::Done(_)) {
            continue;
        }
        let (missing, gather) = todo(s);
        parts.extend(missing.into_iter().map(|n| BatchTask::Part(input, n)));
        if gather {
            gathers.push(BatchTask::Gather(input));
        }
    }
    run_all(parts)?;
    run_all(gathers)?;
    Ok(batch_state(spec))
}
