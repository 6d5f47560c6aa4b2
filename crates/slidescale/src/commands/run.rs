//! `slidescale run`: every stage for a set of slides, in this process
//! (`--executor local`, the default) or as array jobs on a cluster.

use std::ffi::OsString;

use slidescale_cluster::SchedulerKind;
use slidescale_infer::Scorer;
use slidescale_pipeline::local::{run_local, LocalRun, LocalRunSummary, RunError};
use slidescale_pipeline::split::SplitError;

use super::cluster::{run_on_cluster, ClusterArgs, ClusterRun};
use super::model_args::{absolute, ModelArgs};
use super::run_progress::RunProgress;
use super::{bad_input, split};

/// Where the work runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
    /// In this process, on this machine's cores.
    Local,
    Slurm,
    Sge,
    Pbs,
}

/// Split, process every group and stitch: heatmaps for every slide.
#[derive(clap::Args)]
#[command(
    after_help = "Local runs keep all cores busy (one model session on every core, \
the next group read and normalised meanwhile) and stitch each slide as soon as its last \
group is scored. Every file in WORK is written to a temporary name and renamed, so a run \
killed at any moment loses nothing: `run … --resume` recomputes only missing or invalid \
results. `slidescale status WORK` shows what is done."
)]
#[group(id = "run_args")]
pub struct Args {
    #[command(flatten)]
    pub split: split::Args,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Where tasks run.
    #[arg(long, value_enum, default_value = "local")]
    pub executor: ExecutorKind,
    /// Finish a run already started in --out: only missing or invalid results are computed.
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// The one interface `run` has to every executor: the in-process pool, or a
/// scheduler's array jobs (whose own interface, submitting scripts with
/// dependencies, is `slidescale_cluster::Executor`).
trait RunExecutor {
    /// Run, or submit, every stage `args` ask for; `scorer` is the model,
    /// already validated. Returns the exit status.
    fn execute(&self, args: &Args, scorer: Scorer) -> anyhow::Result<i32>;
}

/// `--executor local`.
struct LocalExecutor;

/// `--executor slurm|sge|pbs`.
struct SchedulerExecutor(SchedulerKind);

impl ExecutorKind {
    fn executor(self) -> Box<dyn RunExecutor> {
        match self {
            ExecutorKind::Local => Box::new(LocalExecutor),
            ExecutorKind::Slurm => Box::new(SchedulerExecutor(SchedulerKind::Slurm)),
            ExecutorKind::Sge => Box::new(SchedulerExecutor(SchedulerKind::Sge)),
            ExecutorKind::Pbs => Box::new(SchedulerExecutor(SchedulerKind::Pbs)),
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    // Fail on a bad model before any slide is touched.
    let scorer = args.model.load_scorer()?;
    args.executor.executor().execute(&args, scorer)
}

impl RunExecutor for LocalExecutor {
    fn execute(&self, args: &Args, mut scorer: Scorer) -> anyhow::Result<i32> {
        run_here(args, &mut scorer)
    }
}

impl RunExecutor for SchedulerExecutor {
    fn execute(&self, args: &Args, scorer: Scorer) -> anyhow::Result<i32> {
        drop(scorer); // the tasks load their own
        on_cluster(args, self.0)
    }
}

fn run_here(args: &Args, scorer: &mut Scorer) -> anyhow::Result<i32> {
    let split_opts = split::options(&args.split)?;
    std::fs::create_dir_all(&split_opts.out)?;
    let work = slidescale_core::WorkDir::new(&split_opts.out);
    let stain = args.model.fitted_stain(&work)?;
    let run = LocalRun {
        slides: &args.split.slides,
        settings: args.model.settings(stain.as_ref())?,
        split: split_opts,
        stride: args.model.stride,
        stain: stain.as_ref(),
        resume: args.resume,
        force: args.split.force,
        threads: args.model.threads() as u32,
    };
    let progress = RunProgress::new();
    let report = match run_local(scorer, &run, &progress) {
        Ok(r) => r,
        Err(e @ (RunError::AlreadyStarted(_) | RunError::Settings(_) | RunError::Locked(_))) => {
            return Err(bad_input(e))
        }
        Err(e @ RunError::Split(SplitError::DuplicateName { .. } | SplitError::BadName { .. })) => {
            return Err(bad_input(e))
        }
        Err(e) => return Err(e.into()),
    };
    progress.finish();
    print_summary(&report);
    Ok(report.exit_code())
}

fn print_summary(report: &LocalRunSummary) {
    if let Some(split) = &report.split {
        for s in split.failures() {
            if let slidescale_pipeline::split::SlideOutcome::Failed(e) = &s.outcome {
                eprintln!("error: slide {}: {e}", s.name);
            }
        }
    }
    for (name, k, e, _) in &report.failed_groups {
        eprintln!("error: {name} group {k}: {e}");
    }
    for (name, e) in &report.failed_stitches {
        eprintln!("error: stitch {name}: {e}");
    }
    for s in &report.stitched {
        println!("{}: {}", s.name, s.png.display());
    }
    let rate = if report.seconds > 0.0 {
        report.windows as f64 / report.seconds
    } else {
        0.0
    };
    println!(
        "{} groups scored ({} already done, {} failed), {} windows ({rate:.1}/s), \
         {} heatmaps, {} slides failed to split, {:.1} s",
        report.groups_scored,
        report.groups_skipped,
        report.failed_groups.len(),
        report.windows,
        report.stitched.len(),
        report.failed_slides(),
        report.seconds
    );
}

fn on_cluster(args: &Args, scheduler: SchedulerKind) -> anyhow::Result<i32> {
    let split_opts = split::options(&args.split)?;
    let split_args: Vec<OsString> = vec![
        "--reader".into(),
        reader_name(split_opts.reader).into(),
        "--group-size".into(),
        split_opts.group_size.to_string().into(),
        "--compression".into(),
        split_opts.compression.name().into(),
        "--min-tissue".into(),
        split_opts.tissue.min_fraction.to_string().into(),
    ];
    let slides = args
        .split
        .slides
        .iter()
        .map(|p| absolute(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let run = ClusterRun {
        scheduler,
        work: absolute(&split_opts.out)?,
        slides,
        split_args,
        process_args: args.model.to_cli_args()?,
        stitch_args: vec!["--stride".into(), args.model.stride.to_string().into()],
        threads: args.model.threads() as u32,
        group_size: split_opts.group_size,
        stride: args.model.stride.get(),
    };
    run_on_cluster(run, &args.cluster)
}

fn reader_name(kind: slidescale_slide::ReaderKind) -> &'static str {
    match kind {
        slidescale_slide::ReaderKind::Auto => "auto",
        slidescale_slide::ReaderKind::OpenSlide => "openslide",
        slidescale_slide::ReaderKind::Native => "native",
    }
}
