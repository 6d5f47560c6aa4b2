//! `status` of a batch work directory: per input and part, done, failed
//! (exit status, log) or missing — as a table, or as the same `status
//! --json` document a run gets (`status_view::print_status_json`) — and
//! with `--verify`, every counted output re-read against the size and
//! CRC-32 its task recorded. The data come from
//! `slidescale_pipeline::batch::state`; only the rendering is here.

use std::path::{Path, PathBuf};

use serde::Serialize;
use slidescale_core::exit;
use slidescale_pipeline::batch::spec::BatchSpec;
use slidescale_pipeline::batch::state::{
    batch_state, verify_batch, BatchVerification, InputState, PartCounts, TaskState,
};
use slidescale_pipeline::batch::task::{failure_text, BatchTask};
use slidescale_pipeline::batch::BATCH_FILE;

use super::bad_input;
use super::batch::subject;

/// Print the status of the batch in `work` (text or JSON, optionally
/// verified); returns the exit status: 0 complete, 1 not, 65 damaged.
pub fn print_status(work: &Path, json: bool, verify: bool) -> anyhow::Result<i32> {
    let spec = BatchSpec::read(&work.join(BATCH_FILE)).map_err(bad_input)?;
    let state = batch_state(&spec);
    let code = if state.is_complete() {
        exit::OK
    } else {
        exit::FAILURE
    };
    if json {
        let files = BatchJson {
            batch: &spec,
            inputs: state.inputs.iter().map(InputJson::from).collect(),
            total: Total::of(&state.inputs),
        };
        super::status_view::print_status_json(work, state.is_complete(), &files)?;
        return Ok(code);
    }
    print_table(&spec, &state.inputs);
    super::cluster::print_scheduler_section(work)?;
    if verify {
        let found = verify_batch(&state);
        print_verification(&found);
        if !found.damage.is_empty() {
            return Ok(exit::BAD_INPUT);
        }
    }
    Ok(code)
}

fn word(s: &TaskState) -> &'static str {
    match s {
        TaskState::Done(_) => "done",
        TaskState::Failed(_) => "failed",
        TaskState::Missing => "missing",
    }
}

fn print_table(spec: &BatchSpec, inputs: &[InputState]) {
    println!("batch: {}", spec.program.join(" "));
    let width = super::name_width(inputs.iter().map(|s| s.input.name.as_str()));
    println!(
        "{:width$}  {:>7} {:>6} {:>6} {:>6} {:>7}  gather",
        "input", "first", "parts", "done", "failed", "missing"
    );
    for s in inputs {
        let c = s.part_counts();
        let shown = |n: u32| {
            if s.parts.is_some() {
                n.to_string()
            } else {
                "-".into()
            }
        };
        println!(
            "{:width$}  {:>7} {:>6} {:>6} {:>6} {:>7}  {}",
            s.input.name,
            word(&s.first),
            shown(c.parts),
            shown(c.done),
            shown(c.failed),
            shown(c.missing),
            s.gather.as_ref().map_or("-", word)
        );
    }
    for s in inputs {
        for (task, st) in s.tasks() {
            let TaskState::Failed(r) = st else { continue };
            let line = match task {
                BatchTask::Part(_, n) => s
                    .parts
                    .as_ref()
                    .and_then(|p| p.get(n as usize - 1))
                    .map(|(p, _)| format!(" ({p:?})"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            println!(
                "failed: {}{line}: {} (log {})",
                subject(task),
                failure_text(r),
                r.log.display()
            );
        }
    }
    let complete = inputs.iter().filter(|s| s.is_complete()).count();
    println!("{complete} of {} input(s) complete", inputs.len());
}

/// One line per damaged output, then what was checked.
fn print_verification(v: &BatchVerification) {
    for d in &v.damage {
        let who = match d.part {
            Some(n) => format!("{} {:?} part {n}", d.stage, d.input),
            None => format!("{} {:?}", d.stage, d.input),
        };
        println!("damaged: {who}: {}: {}", d.path.display(), d.why);
    }
    let unchecked = if v.unchecked > 0 {
        format!(" ({} done task(s) recorded no sums)", v.unchecked)
    } else {
        String::new()
    };
    println!(
        "verify: {} output file(s) ({} bytes) checked{unchecked}: {}",
        v.files,
        v.bytes,
        if v.damage.is_empty() {
            "no damage".to_string()
        } else {
            format!("{} damaged", v.damage.len())
        }
    );
}

/// A batch's part of `status --json`.
#[derive(Serialize)]
struct BatchJson<'a> {
    batch: &'a BatchSpec,
    inputs: Vec<InputJson>,
    total: Total,
}

#[derive(Serialize)]
struct InputJson {
    name: String,
    path: PathBuf,
    complete: bool,
    first: TaskJson,
    /// `null` until the parts command succeeded (or without --parts).
    parts: Option<PartsJson>,
    gather: Option<TaskJson>,
}

#[derive(Serialize)]
struct PartsJson {
    #[serde(flatten)]
    counts: PartCounts,
    tasks: Vec<PartJson>,
}

#[derive(Serialize)]
struct PartJson {
    part: u32,
    line: String,
    #[serde(flatten)]
    task: TaskJson,
}

/// A task's state; the record's fields are `null` for a missing task.
#[derive(Serialize)]
struct TaskJson {
    state: &'static str,
    rc: Option<i32>,
    failure: Option<String>,
    log: Option<PathBuf>,
    start: Option<f64>,
    end: Option<f64>,
    outputs: Vec<PathBuf>,
}

impl From<&TaskState> for TaskJson {
    fn from(s: &TaskState) -> TaskJson {
        let r = match s {
            TaskState::Done(r) | TaskState::Failed(r) => Some(r),
            TaskState::Missing => None,
        };
        TaskJson {
            state: word(s),
            rc: r.map(|r| r.rc),
            failure: r.filter(|r| r.rc != 0).map(failure_text),
            log: r.map(|r| r.log.clone()),
            start: r.map(|r| r.start),
            end: r.map(|r| r.end),
            outputs: r.map(|r| r.outputs.clone()).unwrap_or_default(),
        }
    }
}

impl From<&InputState> for InputJson {
    fn from(s: &InputState) -> InputJson {
        InputJson {
            name: s.input.name.clone(),
            path: s.input.path.clone(),
            complete: s.is_complete(),
            first: TaskJson::from(&s.first),
            parts: s.parts.as_ref().map(|p| PartsJson {
                counts: s.part_counts(),
                tasks: p
                    .iter()
                    .enumerate()
                    .map(|(k, (line, st))| PartJson {
                        part: k as u32 + 1,
                        line: line.clone(),
                        task: TaskJson::from(st),
                    })
                    .collect(),
            }),
            gather: s.gather.as_ref().map(TaskJson::from),
        }
    }
}

#[derive(Serialize)]
struct Total {
    inputs: u32,
    complete: u32,
    #[serde(flatten)]
    parts: PartCounts,
}

impl Total {
    fn of(inputs: &[InputState]) -> Total {
        let mut parts = PartCounts::default();
        for s in inputs {
            parts += s.part_counts();
        }
        Total {
            inputs: inputs.len() as u32,
            complete: inputs.iter().filter(|s| s.is_complete()).count() as u32,
            parts,
        }
    }
}
