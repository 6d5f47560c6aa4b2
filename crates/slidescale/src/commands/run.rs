//! `slidescale run`: every stage for a set of slides, in this process
//! (`--executor local`, the default) or as array jobs on a cluster.

use std::path::PathBuf;

use slidescale_cluster::{claim_work_dir, SchedulerKind};
use slidescale_core::{exit, WorkDir};
use slidescale_infer::{ScoreMode, Scorer};
use slidescale_pipeline::check_fast::{check_fast, sample_tiles, CheckSetup, Sample};
use slidescale_pipeline::local::{discard_outputs, run_local, LocalRun, LocalRunSummary, RunError};
use slidescale_pipeline::spec::{Admission, RunSpec};
use slidescale_pipeline::split::{
    check_slide_inputs, decide_store, SlideOutcome, SplitError, SplitOptions, StoreDecision,
};

use super::cluster::{run_on_cluster, ClusterArgs, ClusterRun};
use super::model_args::{absolute, infer_error, load_scorer, ModelArgs};
use super::run_progress::RunProgress;
use super::{bad_input, classified, classified_error, explain, split};

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
    /// Run, or submit, every stage of `spec`; `scorer` is its model,
    /// already validated. Returns the exit status.
    fn execute(&self, args: &Args, spec: &RunSpec, scorer: Scorer) -> anyhow::Result<i32>;
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
    // The model's input decides the window (and its config may ask for a
    // resolution): tiles are cut for it.
    let scorer_opts = args.model.scorer_options(args.split.geometry.window)?;
    let window = Scorer::model_window(&args.model.model, &scorer_opts).map_err(infer_error)?;
    let model = split::ModelView {
        window,
        mpp: scorer_opts.config.as_ref().and_then(|c| c.mpp),
    };
    let split_opts = split::options(&args.split, Some(&model))?;
    let tile = split_opts.geometry.tile;
    let spec = args
        .model
        .spec(&split_opts.out, &scorer_opts, tile, Some(&split_opts))?;
    // Refuse another run's work directory, missing or unusable slides, then
    // a bad model: before any slide is touched or anything is written (the
    // stain target is fitted into the work directory only after this).
    let work = WorkDir::new(&spec.execution.work);
    spec.admit(&work, admission(&args), false)
        .map_err(bad_input)?;
    store_decisions(&args, &work, &split_opts)?;
    note_execution_changes(&work, &spec, admission(&args));
    let scorer = load_scorer(&spec)?;
    tracing::info!("tiles: {}, {}", split_opts.geometry, split_opts.resolution);
    args.executor.executor().execute(&args, &spec, scorer)
}

/// What split will do with each slide's store (`None`: the slide cannot be
/// read; its split reports why); refused up front, for every executor, when
/// a slide would replace the finished store of another file with its name.
fn store_decisions(
    args: &Args,
    work: &WorkDir,
    split_opts: &SplitOptions,
) -> anyhow::Result<Vec<(PathBuf, String, Option<StoreDecision>)>> {
    let names = check_slide_inputs(&args.split.slides, work.root()).map_err(bad_input)?;
    let mut out = Vec::new();
    for (slide, name) in args.split.slides.iter().zip(names) {
        let decision = decide_store(slide, &name, split_opts).ok();
        if let Some(StoreDecision::OtherSlide {
            store_source,
            slide,
        }) = decision
        {
            return Err(bad_input(SplitError::OtherSlide {
                store: work.store_path(&name),
                store_source,
                slide,
            }));
        }
        out.push((slide.clone(), name, decision));
    }
    Ok(out)
}

/// Split options that are not part of the identity are applied on resume,
/// but only to what is still to be written: say so where that matters.
fn note_execution_changes(work: &WorkDir, spec: &RunSpec, admission: Admission) {
    let Ok(Some(recorded)) = RunSpec::load(work) else {
        return;
    };
    if admission == Admission::Resume
        && recorded.execution.compression != spec.execution.compression
    {
        eprintln!(
            "note: --compression {} applies only to stores written from now on; the existing \
             ones stay {} (lossless either way: scores do not change)",
            spec.execution.compression, recorded.execution.compression
        );
    }
}

/// What `--resume` and `--force` mean, for every executor alike.
fn admission(args: &Args) -> Admission {
    if args.split.force {
        Admission::Replace
    } else if args.resume {
        Admission::Resume
    } else {
        Admission::Fresh
    }
}

impl RunExecutor for LocalExecutor {
    fn execute(&self, args: &Args, spec: &RunSpec, mut scorer: Scorer) -> anyhow::Result<i32> {
        run_here(args, spec, &mut scorer)
    }
}

impl RunExecutor for SchedulerExecutor {
    fn execute(&self, args: &Args, spec: &RunSpec, scorer: Scorer) -> anyhow::Result<i32> {
        drop(scorer); // the tasks load their own
        on_cluster(args, spec, self.0)
    }
}

fn run_here(args: &Args, spec: &RunSpec, scorer: &mut Scorer) -> anyhow::Result<i32> {
    let work = split::adopt_out(&args.split)?;
    let _claim = claim_work_dir(&work).map_err(bad_input)?;
    let stain = spec.fitted_stain(&work).map_err(bad_input)?;
    let run = LocalRun {
        slides: &args.split.slides,
        spec,
        stain: stain.as_ref(),
        resume: args.resume,
        force: args.split.force,
    };
    let progress = RunProgress::new();
    let report = run_local(scorer, &run, &progress);
    progress.finish();
    let report = report.map_err(run_error)?;
    print_summary(&report);
    if spec.identity.mode != ScoreMode::Sliding {
        print_first_group_check(&work, spec);
    }
    Ok(report.exit_code())
}

/// A fast mode's cost in agreement, measured on the first group's first
/// tiles (a few, so the exact pass stays short) against sliding of the
/// run's own model (so an int8 model's line reads "vs sliding int8"); a
/// failure to measure is a warning, not a failed run.
fn print_first_group_check(work: &WorkDir, spec: &RunSpec) {
    let fast = spec.scorer_options();
    let setup = CheckSetup {
        exact_model: spec.execution.model.clone(),
        exact: fast.clone(),
        fast_model: spec.execution.model.clone(),
        fast,
        stride: spec.stride(),
    };
    let measured = sample_tiles(work, Sample::FirstGroup { tiles: 4 })
        .and_then(|(tiles, geometry)| check_fast(&setup, &tiles, geometry));
    match measured {
        Ok(r) => println!("first group: {}", super::check_fast::summary_line(&r)),
        Err(e) => tracing::warn!("could not compare with sliding: {e}"),
    }
}

/// A run stopped before scoring, with the exit status its cause calls for.
fn run_error(e: RunError) -> anyhow::Error {
    let otherwise = match &e {
        // transient only when every slide's disk was full
        RunError::NothingSplit(report) if report.exit_code() == exit::TRANSIENT => {
            return classified(exit::TRANSIENT, format!("{e} ({})", exit::DISK_FULL))
        }
        RunError::NothingSplit(report) => report.exit_code(),
        RunError::Spec(_) | RunError::Locked(_) | RunError::Split(SplitError::Inputs(_)) => {
            exit::BAD_INPUT
        }
        _ => exit::FAILURE,
    };
    classified_error(e, otherwise)
}

fn print_summary(report: &LocalRunSummary) {
    if let Some(split) = &report.split {
        // why a store was split again (changed slide, damaged store, …)
        for s in &split.slides {
            if let (SlideOutcome::Written, Some(note)) = (&s.outcome, &s.note) {
                println!("{}: {note}", s.name);
            }
        }
        for (s, e) in split.errors() {
            let line = format!("error: slide {} ({}): {e}", s.name, s.path.display());
            eprintln!("{}", explain(line, e));
        }
    }
    for (name, k, e, code) in &report.failed_groups {
        let hint = if *code == exit::TRANSIENT {
            " (transient: run again with --resume)"
        } else {
            ""
        };
        eprintln!("error: {name} group {k}: {e}{hint}");
    }
    for (name, e, code) in &report.failed_stitches {
        let hint = if *code == exit::TRANSIENT {
            format!(" ({})", exit::DISK_FULL)
        } else {
            String::new()
        };
        eprintln!("error: stitch {name}: {e}{hint}");
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

/// Everything a local run checks before work, then submit: the same
/// admission rule, name rule and store-reuse rule as `run_here`'s.
fn on_cluster(args: &Args, spec: &RunSpec, scheduler: SchedulerKind) -> anyhow::Result<i32> {
    let work = split::adopt_out(&args.split)?;
    let admission = admission(args);
    let dry_run = args.cluster.dry_run;
    // Held until everything is submitted; from then on the queued jobs keep
    // other runs out.
    let _claim = (!dry_run)
        .then(|| claim_work_dir(&work))
        .transpose()
        .map_err(bad_input)?;
    let split_opts = spec
        .split_options(args.split.force)
        .expect("run's spec has its split part");
    let decisions = store_decisions(args, &work, &split_opts)?;
    let to_discard: Vec<String> = decisions.iter().map(|(_, n, _)| n.clone()).collect();
    let mut to_split = Vec::new();
    for (slide, name, decision) in decisions {
        // (a slide that cannot be read fails in its split task, as locally)
        if !matches!(decision, Some(StoreDecision::Reuse { .. })) {
            to_split.push((absolute(&slide)?, name));
        }
    }
    if !dry_run {
        if admission == Admission::Replace {
            discard_outputs(&work, &to_discard).map_err(bad_input)?;
        }
        spec.fitted_stain(&work).map_err(bad_input)?;
        spec.admit(&work, admission, true).map_err(bad_input)?;
    }
    // A split task uses the cores it was given, not every core of its node.
    let mut spec = spec.clone();
    if spec.execution.split_threads == 0 {
        spec.execution.split_threads = spec.execution.threads;
    }
    let run = ClusterRun {
        scheduler,
        spec,
        reused: args.split.slides.len() - to_split.len(),
        to_split,
        group_size: split_opts.group_size,
    };
    run_on_cluster(run, &args.cluster)
}
