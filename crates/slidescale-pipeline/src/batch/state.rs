//! What is done, failed and missing in a batch, judged from the files in
//! its work directory alone (so it is right after a crash or a killed job).
//! A task is done when its last attempt exited 0 and every output it
//! recorded still exists; a gather is done only if it ran after the last of
//! its parts. `status`, `--resume` (local and cluster) and the cluster's
//! master job all apply this one rule.

use slidescale_core::WorkDir;

use super::spec::{BatchInput, BatchSpec};
use super::task::{read_parts, BatchTask, TaskRecord};

#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    Done(TaskRecord),
    /// Its last attempt failed (exit status, signal or slidescale's error).
    Failed(TaskRecord),
    /// Never run, killed before it recorded anything, or its outputs are gone.
    Missing,
}

impl TaskState {
    pub fn is_done(&self) -> bool {
        matches!(self, TaskState::Done(_))
    }
}

#[derive(Debug, Clone)]
pub struct InputState {
    pub input: BatchInput,
    /// The program (without parts) or the parts command.
    pub first: TaskState,
    /// Each part's state; `None` until the parts command succeeded.
    pub parts: Option<Vec<(String, TaskState)>>,
    /// `None` when the batch has no gather command.
    pub gather: Option<TaskState>,
}

impl InputState {
    /// Everything of this input is done.
    pub fn is_complete(&self) -> bool {
        self.first.is_done()
            && self
                .parts
                .as_ref()
                .is_none_or(|p| p.iter().all(|(_, s)| s.is_done()))
            && self.gather.as_ref().is_none_or(TaskState::is_done)
    }
}

#[derive(Debug, Clone)]
pub struct BatchState {
    pub spec: BatchSpec,
    pub inputs: Vec<InputState>,
}

impl BatchState {
    pub fn is_complete(&self) -> bool {
        self.inputs.iter().all(InputState::is_complete)
    }
}

/// The state of one task from its record.
pub fn task_state(work: &WorkDir, task: BatchTask) -> TaskState {
    match task.record(work) {
        None => TaskState::Missing,
        Some(r) if r.rc != 0 => TaskState::Failed(r),
        Some(r) if r.outputs.iter().all(|p| p.exists()) => TaskState::Done(r),
        Some(_) => TaskState::Missing,
    }
}

/// The state of every task of `spec`.
pub fn batch_state(spec: &BatchSpec) -> BatchState {
    let work = WorkDir::new(&spec.work);
    let inputs = spec
        .inputs
        .iter()
        .map(|i| input_state(spec, &work, i))
        .collect();
    BatchState {
        spec: spec.clone(),
        inputs,
    }
}

fn input_state(spec: &BatchSpec, work: &WorkDir, input: &BatchInput) -> InputState {
    let first = task_state(work, BatchTask::Input(input));
    let parts = match (&spec.parts, first.is_done()) {
        (Some(_), true) => read_parts(work, input).map(|list| {
            list.into_iter()
                .enumerate()
                .map(|(k, p)| (p, task_state(work, BatchTask::Part(input, k as u32 + 1))))
                .collect::<Vec<_>>()
        }),
        _ => None,
    };
    let gather = spec.gather.as_ref().map(|_| {
        let g = task_state(work, BatchTask::Gather(input));
        let last_part = parts
            .iter()
            .flatten()
            .filter_map(|(_, s)| match s {
                TaskState::Done(r) => Some(r.end),
                _ => None,
            })
            .fold(f64::MIN, f64::max);
        match g {
            // A part redone after the gather makes the gather stale.
            TaskState::Done(r) if r.start < last_part => TaskState::Missing,
            other => other,
        }
    });
    InputState {
        input: input.clone(),
        first,
        parts,
        gather,
    }
}

/// The parts of `input` not done yet, 1-based (empty before the parts are
/// listed), and whether its gather has to run.
pub fn todo(state: &InputState) -> (Vec<u32>, bool) {
    let parts: Vec<u32> = state
        .parts
        .iter()
        .flatten()
        .enumerate()
        .filter(|(_, (_, s))| !s.is_done())
        .map(|(k, _)| k as u32 + 1)
        .collect();
    let gather = state.gather.as_ref().is_some_and(|g| !g.is_done())
        || (!parts.is_empty() && state.gather.is_some());
    (parts, gather)
}

/// An input's parts by state (all zero before its parts are listed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PartCounts {
    pub parts: u32,
    pub done: u32,
    pub failed: u32,
    pub missing: u32,
}

impl std::ops::AddAssign for PartCounts {
    fn add_assign(&mut self, c: PartCounts) {
        self.parts += c.parts;
        self.done += c.done;
        self.failed += c.failed;
        self.missing += c.missing;
    }
}

impl InputState {
    pub fn part_counts(&self) -> PartCounts {
        let mut c = PartCounts::default();
        for (_, s) in self.parts.iter().flatten() {
            c.parts += 1;
            match s {
                TaskState::Done(_) => c.done += 1,
                TaskState::Failed(_) => c.failed += 1,
                TaskState::Missing => c.missing += 1,
            }
        }
        c
    }

    /// Every task of this input with its state, in order: first, parts, gather.
    pub fn tasks(&self) -> Vec<(BatchTask<'_>, &TaskState)> {
        let i = &self.input;
        let mut out = vec![(BatchTask::Input(i), &self.first)];
        for (k, (_, s)) in self.parts.iter().flatten().enumerate() {
            out.push((BatchTask::Part(i, k as u32 + 1), s));
        }
        out.extend(self.gather.iter().map(|g| (BatchTask::Gather(i), g)));
        out
    }
}

/// A counted output that is not what its task recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutputDamage {
    pub stage: &'static str,
    pub input: String,
    pub part: Option<u32>,
    pub path: std::path::PathBuf,
    pub why: String,
}

/// What [`verify_batch`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchVerification {
    /// Files re-read against their recorded size and CRC-32.
    pub files: u32,
    pub bytes: u64,
    pub damage: Vec<OutputDamage>,
    /// Done tasks whose record has no sums (written before sums existed).
    pub unchecked: u32,
}

/// Re-read every output of every done task and compare it with the size
/// and CRC-32 its task recorded on completion. Tasks not done are not
/// damage; [`batch_state`] counts them.
pub fn verify_batch(state: &BatchState) -> BatchVerification {
    let mut v = BatchVerification::default();
    for s in &state.inputs {
        for (task, st) in s.tasks() {
            let TaskState::Done(r) = st else { continue };
            if r.sums.is_empty() {
                v.unchecked += 1;
            }
            for want in &r.sums {
                v.files += 1;
                let why = match super::task::FileSum::of(&want.path) {
                    Err(e) => format!("cannot read: {e}"),
                    Ok(got) if got.bytes != want.bytes => {
                        format!("{} bytes, recorded {}", got.bytes, want.bytes)
                    }
                    Ok(got) if got.crc32 != want.crc32 => {
                        format!("CRC-32 {:08x}, recorded {:08x}", got.crc32, want.crc32)
                    }
                    Ok(got) => {
                        v.bytes += got.bytes;
                        continue;
                    }
                };
                v.damage.push(OutputDamage {
                    stage: task.stage(),
                    input: task.input().name.clone(),
                    part: task.part(),
                    path: want.path.clone(),
                    why,
                });
            }
        }
    }
    v
}
