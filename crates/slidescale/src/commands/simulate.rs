//! `slidescale simulate`: predict wall time, speedup and efficiency of a run
//! on a modelled cluster, from measured task durations or a distribution.

use std::path::PathBuf;

use anyhow::{bail, Context};
use slidescale_runstats::simulate::{
    from_distribution, from_timings, simulate, ClusterModel, Distribution, Prediction,
};

use super::report::hms;
use slidescale_cluster::job_dir::Workflow;
use slidescale_core::timing::{read_timings, timing_dir, TaskTiming};
use slidescale_core::{exit, WorkDir};

/// Predict a run's wall time on a cluster (discrete-event simulation).
///
/// Replays task durations through the hierarchical plan — split array,
/// master job, one process array per slide (split at the array limit), one
/// stitch job per slide — on a cluster of --cores cores where each task
/// takes --cores-per-task of them, with a cost per submission and a delay
/// before each task starts.
///
/// Durations come from a run (--groups-from WORK: its timing lines) or from
/// a distribution. WORK may hold a `batch`: its first level (the program
/// per input, or --parts) is replayed as the split, its parts as the process
/// tasks and its gather as the stitch, under the batch's stage names; a
/// batch without --parts has no master. Or from a distribution (--groups N with --task-seconds or --serial-cpu-hours).
/// Example, the paper's setting:
///   slidescale simulate --groups 27280 --slides 399 --serial-cpu-hours 133034
///   --cores 4000 --cores-per-task 7
///
/// Speedup is core-hours over wall-hours (the paper's definition, Tables
/// I–III); the speedup over one task of --cores-per-task cores is printed
/// beside it.
#[derive(clap::Args)]
#[command(
    after_help = "JSON (--json): {\"model\": {\"cores\", \"cores_per_task\", \
\"max_array_size\", \"submit_overhead_s\", \"dispatch_latency_s\", \"plan_s\", \
\"task_overhead_s\"}, \"stages\": [{\"stage\", \"tasks\", \"task_s\", \"core_s\", \
\"first_start_s\", \"last_end_s\"}], \"wall_s\", \"task_s\", \"core_s\", \"speedup\" \
(core_s / wall_s), \"task_speedup\" (task_s / wall_s), \"efficiency\" (speedup / cores), \
\"slots\", \"submissions\"}; times in seconds, totals without the master job."
)]
pub struct Args {
    /// Replay the tasks measured in this work directory.
    #[arg(long, conflicts_with = "groups")]
    pub groups_from: Option<PathBuf>,
    /// Number of groups (process tasks) to model.
    #[arg(long, required_unless_present = "groups_from")]
    pub groups: Option<usize>,
    /// Slides the groups belong to (one process array and stitch each).
    #[arg(long, default_value_t = 1)]
    pub slides: usize,
    /// Duration of one group on --cores-per-task cores, in seconds:
    /// S, constant:S, normal:MEAN,SD, lognormal:MEAN,CV or uniform:LO,HI.
    #[arg(long)]
    pub task_seconds: Option<String>,
    /// Total serial CPU time of all groups, in core-hours; sets the mean of
    /// --task-seconds (whose shape is kept) to this / groups / cores-per-task.
    #[arg(long)]
    pub serial_cpu_hours: Option<f64>,
    /// Seconds of each slide's split task (modelled only when given).
    #[arg(long)]
    pub split_seconds: Option<f64>,
    /// Seconds of each slide's stitch job (modelled only when given).
    #[arg(long)]
    pub stitch_seconds: Option<f64>,
    /// Cores of the cluster.
    #[arg(long)]
    pub cores: u32,
    /// Cores per task; default: the measured tasks' threads, else 1.
    #[arg(long)]
    pub cores_per_task: Option<u32>,
    /// Most tasks per array job.
    #[arg(long, default_value_t = 1000)]
    pub max_array_size: u32,
    /// Most tasks of the run running at once (run/batch --max-running).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_running: Option<u32>,
    /// Seconds one submission (sbatch/qsub) takes.
    #[arg(long, default_value_t = 0.2)]
    pub submit_overhead: f64,
    /// Seconds between a task becoming eligible and it starting.
    #[arg(long, default_value_t = 1.0)]
    pub dispatch_latency: f64,
    /// Seconds `slidescale plan` takes in the master job.
    #[arg(long, default_value_t = 1.0)]
    pub plan_seconds: f64,
    /// Seconds each task spends outside its measured work (job and process
    /// start, model load), added to every task.
    #[arg(long, default_value_t = 0.0)]
    pub task_overhead: f64,
    /// Seed of the random durations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let workflow = match &args.groups_from {
        Some(work) if work.join(slidescale_pipeline::batch::BATCH_FILE).exists() => Workflow::Batch,
        _ => Workflow::Run,
    };
    let stages = workflow.verbs();
    let (slides, notes, measured, per_task) = match &args.groups_from {
        Some(work) => {
            let lines = timing_lines(work)?;
            let per_task = args
                .cores_per_task
                .unwrap_or_else(|| measured_threads(&lines, stages[1]));
            let (slides, notes) = from_timings(&lines, args.cores_per_task, stages);
            (slides, notes, Some(lines), per_task)
        }
        None => {
            let per_task = args.cores_per_task.unwrap_or(1);
            let groups = args.groups.unwrap_or(0);
            let dist = distribution(&args, groups, per_task)?;
            let slides = from_distribution(
                groups,
                args.slides,
                &dist,
                args.seed,
                args.split_seconds,
                args.stitch_seconds,
            );
            (
                slides,
                vec![format!("task seconds: {dist:?}")],
                None,
                per_task,
            )
        }
    };
    if slides
        .iter()
        .all(|s| s.groups.is_empty() && (workflow == Workflow::Run || s.split_s.is_none()))
    {
        bail!("nothing to simulate: no {} tasks", stages[1]);
    }
    let model = ClusterModel {
        cores: args.cores,
        cores_per_task: per_task,
        max_array_size: args.max_array_size,
        submit_overhead_s: args.submit_overhead,
        dispatch_latency_s: args.dispatch_latency,
        plan_s: args.plan_seconds,
        task_overhead_s: args.task_overhead,
        max_running: args.max_running,
    };
    let mut prediction = simulate(&slides, &model);
    for s in &mut prediction.stages {
        s.stage = relabel(s.stage, workflow);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&prediction)?);
        return Ok(exit::OK);
    }
    print!("{}", render(&prediction));
    for n in notes {
        println!("note: {n}");
    }
    if let Some(lines) = measured {
        print_measured(&lines, stages[1]);
    }
    Ok(exit::OK)
}

fn timing_lines(work: &std::path::Path) -> anyhow::Result<Vec<TaskTiming>> {
    let dir = timing_dir(&WorkDir::new(work));
    let lines: Vec<TaskTiming> = read_timings(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    if lines.is_empty() {
        bail!("no timing lines under {}", dir.display());
    }
    Ok(lines)
}

/// The simulator's stage (named as `run`'s) under `workflow`'s name.
fn relabel(stage: &'static str, workflow: Workflow) -> &'static str {
    match Workflow::Run.verbs().iter().position(|v| *v == stage) {
        Some(k) => workflow.verbs()[k],
        None => stage,
    }
}

/// The threads the measured second-level tasks had (most common value).
fn measured_threads(lines: &[TaskTiming], second: &str) -> u32 {
    let mut counts = std::collections::BTreeMap::new();
    for t in lines.iter().filter(|t| t.stage == second) {
        *counts.entry(t.threads.max(1)).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map_or(1, |(t, _)| t)
}

fn distribution(args: &Args, groups: usize, per_task: u32) -> anyhow::Result<Distribution> {
    let shape: Distribution = match &args.task_seconds {
        Some(s) => s.parse()?,
        None if args.serial_cpu_hours.is_some() => Distribution::Constant(1.0),
        None => bail!("give --task-seconds or --serial-cpu-hours with --groups"),
    };
    Ok(match args.serial_cpu_hours {
        Some(h) if groups > 0 => {
            shape.with_mean(h * 3600.0 / groups as f64 / f64::from(per_task.max(1)))
        }
        _ => shape,
    })
}

/// The prediction as `simulate` prints it. Speedup is said in both units:
/// core-hours over wall-hours (the paper's) and over one task of
/// `cores_per_task` cores, never one under the other's name.
fn render(p: &Prediction) -> String {
    let m = &p.model;
    let mut out = format!(
        "cluster: {} cores, {} per task ({} tasks at once), arrays of at most {} tasks, \
         {:.2} s per submission, {:.2} s dispatch latency\n",
        m.cores,
        m.cores_per_task,
        p.slots,
        m.max_array_size,
        m.submit_overhead_s,
        m.dispatch_latency_s
    );
    if let Some(k) = m.max_running {
        out += &format!("at most {k} tasks of the run at once (--max-running)\n");
    }
    out += &format!(
        "{:<8} {:>7} {:>14} {:>14} {:>14}\n",
        "stage", "tasks", "task time", "starts at", "ends at"
    );
    for s in &p.stages {
        out += &format!(
            "{:<8} {:>7} {:>14} {:>14} {:>14}\n",
            s.stage,
            s.tasks,
            hms(s.task_s),
            hms(s.first_start_s),
            hms(s.last_end_s)
        );
    }
    out += &format!(
        "predicted wall time {} ({:.2} h)\n",
        hms(p.wall_s),
        p.wall_s / 3600.0
    );
    out += &format!(
        "work: task time {} on {} core(s) each = {:.1} core-hours (the serial single-core time)\n",
        hms(p.task_s),
        m.cores_per_task,
        p.core_s / 3600.0
    );
    out += &format!(
        "speedup {:.1} in core-hours / wall-hours (the paper's definition), {:.1} over one \
         {}-core task; efficiency {:.1}%; {} submissions\n",
        p.speedup,
        p.task_speedup,
        m.cores_per_task,
        100.0 * p.efficiency,
        p.submissions
    );
    out
}

/// What the run really took, beside the prediction.
fn print_measured(lines: &[TaskTiming], second: &str) {
    let span = |f: &dyn Fn(&TaskTiming) -> bool| {
        let sel: Vec<&TaskTiming> = lines.iter().filter(|t| f(t)).collect();
        let start = sel.iter().map(|t| t.start).fold(f64::INFINITY, f64::min);
        let end = sel.iter().map(|t| t.end).fold(f64::NEG_INFINITY, f64::max);
        (!sel.is_empty()).then(|| (end - start).max(0.0))
    };
    if let Some(w) = span(&|t| t.stage == second) {
        println!("measured: {second} stage wall time {}", hms(w));
    }
    if let Some(w) = span(&|_| true) {
        println!("measured: first task start to last task end {}", hms(w));
    }
}
