//! The local executor of a batch: its tasks as the stages of the one local
//! engine ([`crate::engine`]) — inputs; then every input's parts, its
//! gather as soon as its last part ends — at most `max_running` at once on
//! this machine. A resume runs exactly what [`super::state`] says is not
//! done.

use slidescale_core::workdir::WorkDirError;
use slidescale_core::WorkDir;

use super::spec::{BatchError, BatchSpec};
use super::state::{batch_state, todo, BatchState};
use super::task::{run_task, BatchTask, TaskRecord};
use crate::engine::{run_hierarchy, Pending, Stages, Task};

impl From<WorkDirError> for BatchError {
    fn from(e: WorkDirError) -> BatchError {
        BatchError::Invalid(e.to_string())
    }
}

/// Run what is not done yet; `observe` hears of every task as it ends.
/// Returns the batch's state afterwards.
pub fn run_local(
    spec: &BatchSpec,
    max_running: usize,
    observe: &(dyn Fn(BatchTask, &TaskRecord) + Sync),
) -> Result<BatchState, BatchError> {
    let stages = BatchStages(spec);
    let heard = |t: Task, r: &TaskRecord| observe(stages.task(t), r);
    run_hierarchy(&WorkDir::new(&spec.work), &stages, max_running, &heard)?;
    Ok(batch_state(spec))
}

/// A batch's units are its inputs, in the spec's order.
struct BatchStages<'a>(&'a BatchSpec);

impl<'a> BatchStages<'a> {
    fn task(&self, t: Task) -> BatchTask<'a> {
        let input = &self.0.inputs[t.unit()];
        match t {
            Task::First(_) => BatchTask::Input(input),
            Task::Part(_, n) => BatchTask::Part(input, n),
            Task::Final(_) => BatchTask::Gather(input),
        }
    }
}

impl Stages for BatchStages<'_> {
    type Loaded = ();
    type Outcome = TaskRecord;
    type Error = BatchError;
    // A gather checks its parts itself, as on a cluster ("after any").
    const FINAL_AFTER_ANY: bool = true;

    fn first_todo(&self) -> Vec<usize> {
        let state = batch_state(self.0);
        (0..state.inputs.len())
            .filter(|&k| !state.inputs[k].first.is_done())
            .collect()
    }

    fn second_todo(&self) -> Vec<Pending> {
        if self.0.parts.is_none() {
            return Vec::new();
        }
        batch_state(self.0)
            .inputs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.first.is_done())
            .map(|(unit, s)| {
                let (parts, final_job) = todo(s);
                Pending {
                    unit,
                    parts,
                    final_job,
                }
            })
            .collect()
    }

    fn load(&self, _task: Task) {}

    fn run(&self, task: Task, _: ()) -> Result<TaskRecord, BatchError> {
        run_task(self.0, self.task(task))
    }

    fn succeeded(&self, r: &TaskRecord) -> bool {
        r.rc == 0
    }
}
