//! `slidescale batch`: the user's own per-input program through the same
//! executors as `run` — locally, or as the hierarchical array jobs of
//! SLURM, SGE or PBS (`slidescale_cluster::submit`, the engine `run` uses).
//! The library (`slidescale_pipeline::batch`) runs and judges tasks; this
//! module parses the command line and prints.

use std::path::PathBuf;

use slidescale_cluster::{claim_work_dir, Resources, ResultCheck, SchedulerKind};
use slidescale_core::{exit, WorkDir};
use slidescale_pipeline::batch::spec::BatchSpec;
use slidescale_pipeline::batch::state::{batch_state, task_state, todo};
use slidescale_pipeline::batch::task::{failure_text, read_parts, BatchTask, TaskRecord};
use slidescale_pipeline::batch::{local::run_local, BatchInput};

use super::bad_input;
use super::cluster::{cluster_request, submit_and_follow, ClusterArgs};
use super::run::ExecutorKind;

/// Run PROGRAM once per input (or, with --parts, once per part of every
/// input), locally or as array jobs on a cluster.
#[derive(clap::Args)]
#[command(
    after_help = "PROGRAM and its arguments come after `--` and are run as an argument \
vector, never through a shell. In every word {input} (the input's absolute path), {name} \
(its file name without extension), {output} (where to write: a temporary name, renamed \
when the program exits 0; the program may append suffixes, e.g. {output}.png) and, with \
--parts, {part} (one line printed by the parts command) are replaced. --parts and \
--gather are one string each, split into words like a shell would (quotes), but never \
run by one; --parts may use {input} and {name}; --gather also {output} and {parts} \
(the directory of that input's part outputs). Outputs go to WORK/out/, logs to \
WORK/logs/batch/. `slidescale status WORK` shows every task; `--resume` reruns exactly \
what is missing or failed. See docs/batch.md."
)]
pub struct Args {
    /// Input files, one task each.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Work directory: outputs, logs, records.
    #[arg(long)]
    pub out: PathBuf,
    /// Where tasks run.
    #[arg(long, value_enum, default_value = "local")]
    pub executor: ExecutorKind,
    /// Command run first per input; prints one part per line.
    #[arg(long, value_name = "CMD")]
    pub parts: Option<String>,
    /// Command run per input after all its parts.
    #[arg(long, value_name = "CMD")]
    pub gather: Option<String>,
    /// Finish a batch already started in --out: rerun what is missing or failed.
    #[arg(long)]
    pub resume: bool,
    /// Cores of one task (what a cluster task asks for).
    #[arg(long, default_value_t = 1)]
    pub threads: u32,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The program and its arguments (after --).
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    pub program: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let words = |what: &str, cmd: &Option<String>| -> anyhow::Result<Option<Vec<String>>> {
        cmd.as_deref()
            .map(|c| {
                shlex::split(c).ok_or_else(|| bad_input(format!("{what} {c:?}: unbalanced quotes")))
            })
            .transpose()
    };
    let spec = BatchSpec::new(
        &args.out,
        &args.inputs,
        args.program.clone(),
        words("--parts", &args.parts)?,
        words("--gather", &args.gather)?,
    )
    .map_err(bad_input)?;
    let work = WorkDir::new(&spec.work);
    if work
        .root()
        .join(slidescale_pipeline::batch::BATCH_FILE)
        .exists()
        && !args.resume
    {
        return Err(bad_input(format!(
            "{} already holds a batch: add --resume to finish it",
            args.out.display()
        )));
    }
    spec.admit(&work).map_err(bad_input)?;
    let _claim = claim_work_dir(&work).map_err(bad_input)?;
    let scheduler = match args.executor {
        ExecutorKind::Local => return run_here(&spec, &args),
        ExecutorKind::Slurm => SchedulerKind::Slurm,
        ExecutorKind::Sge => SchedulerKind::Sge,
        ExecutorKind::Pbs => SchedulerKind::Pbs,
    };
    let state = batch_state(&spec);
    let first: Vec<(PathBuf, String)> = state
        .inputs
        .iter()
        .filter(|s| !s.first.is_done())
        .map(|s| (s.input.path.clone(), s.input.name.clone()))
        .collect();
    let resources = Resources {
        cores: args.threads.max(1),
        memory_mb: args.cluster.task_memory_mb.unwrap_or(2048),
        time: args.cluster.time.clone(),
        queue: args.cluster.partition.clone(),
    };
    let mut req = cluster_request(
        &args.cluster,
        spec.work.clone(),
        first,
        spec.to_json(),
        resources,
        scheduler,
    );
    req.workflow = slidescale_cluster::job_dir::Workflow::Batch;
    req.master = spec.parts.is_some();
    submit_and_follow(&req, &BatchCheck(spec), &args.cluster)
}

fn run_here(spec: &BatchSpec, args: &Args) -> anyhow::Result<i32> {
    let k = args.cluster.max_running.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |k| k as usize,
    );
    let observe = |t: BatchTask, r: &TaskRecord| {
        let what = subject(t);
        if r.rc == 0 {
            eprintln!("done: {what}");
        } else {
            eprintln!(
                "failed: {what}: {} (log {})",
                failure_text(r),
                r.log.display()
            );
        }
    };
    let state = run_local(spec, k, &observe).map_err(bad_input)?;
    let done = state.inputs.iter().filter(|s| s.is_complete()).count();
    println!("{done} of {} input(s) complete", state.inputs.len());
    Ok(if state.is_complete() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

/// How a task is named in messages: `input "a"`, `input "a" part 2`, `gather "a"`.
pub(crate) fn subject(t: BatchTask) -> String {
    let name = &t.input().name;
    match t {
        BatchTask::Input(_) => format!("input {name:?}"),
        BatchTask::Part(_, n) => format!("input {name:?} part {n}"),
        BatchTask::Gather(_) => format!("gather {name:?}"),
    }
}

/// What the cluster's master job submits for a batch: one array per input
/// over its parts not done, and its gather — by the rule of
/// `slidescale_pipeline::batch::state`, the one local runs follow.
pub struct BatchCheck(pub BatchSpec);

impl BatchCheck {
    fn input(&self, name: &str) -> Option<&BatchInput> {
        self.0.inputs.iter().find(|i| i.name == name)
    }
}

impl ResultCheck for BatchCheck {
    fn is_done(&self, work: &WorkDir, name: &str, part: u32) -> bool {
        self.input(name)
            .is_some_and(|i| task_state(work, BatchTask::Part(i, part)).is_done())
    }

    fn units(&self, work: &WorkDir) -> slidescale_cluster::Result<Vec<(String, u32)>> {
        let mut out: Vec<(String, u32)> = self
            .0
            .inputs
            .iter()
            .filter(|i| task_state(work, BatchTask::Input(i)).is_done())
            .filter_map(|i| Some((i.name.clone(), read_parts(work, i)?.len() as u32)))
            .collect();
        out.sort();
        Ok(out)
    }

    fn unit_item(&self, _work: &WorkDir, name: &str) -> PathBuf {
        self.input(name).map(|i| i.path.clone()).unwrap_or_default()
    }

    fn final_up_to_date(&self, _work: &WorkDir, name: &str, _tasks: u32) -> bool {
        if self.0.gather.is_none() {
            return true;
        }
        let state = batch_state(&self.0);
        state
            .inputs
            .iter()
            .find(|s| s.input.name == name)
            .is_some_and(|s| !todo(s).1)
    }

    fn has_final(&self) -> bool {
        self.0.gather.is_some()
    }
}
