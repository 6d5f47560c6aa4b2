//! `slidescale batch`: any per-input program, run as the tasks of the same
//! hierarchical engine as `run` (the paper's Fig. 8 generalisation): one task
//! per input — or, with a parts command, one task per input that lists its
//! parts, then one task per part and an optional gather per input.
//!
//! * [`spec`]: the batch's typed job spec (`WORK/batch.json`), argument
//!   templates and their substitution — never through a shell;
//! * [`task`]: one task: run the program with a temporary output name,
//!   rename after exit 0, record the exit status;
//! * [`state`]: what is done, failed and missing, per input and part — the
//!   one rule that status, resume and the cluster's master job apply;
//! * [`local`]: the local executor.

pub mod local;
pub mod spec;
pub mod state;
pub mod task;

pub use spec::{BatchError, BatchInput, BatchSpec, BATCH_FILE};
pub use state::{batch_state, verify_batch, BatchState, BatchVerification, InputState, TaskState};
pub use task::{run_task, BatchTask, TaskRecord};
