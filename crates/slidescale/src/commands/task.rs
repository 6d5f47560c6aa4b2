//! `slidescale task`: one task of a run, as its typed job spec says — what
//! the job scripts of a cluster run execute. A task reads everything it
//! computes with from the spec file (no argument list rebuilt as strings)
//! and checks it against the run recorded in the work directory first.

use std::path::PathBuf;

use slidescale_core::WorkDir;
use slidescale_heatmap::ColourRange;
use slidescale_pipeline::batch::task::failure_text;
use slidescale_pipeline::batch::{run_task, BatchSpec, BatchTask};
use slidescale_pipeline::spec::{Admission, RunSpec};

use super::{bad_input, process, split, stitch};

/// (Run by a cluster run's job scripts) one split, process or stitch task
/// of the run whose job spec is SPEC.
#[derive(clap::Args)]
pub struct Args {
    /// The run's job spec (WORK/jobs/run-NNN/spec.json).
    pub spec: PathBuf,
    #[command(subcommand)]
    pub stage: Stage,
}

#[derive(clap::Subcommand)]
pub enum Stage {
    /// Split one slide into WORK/NAME.h5.
    Split { slide: PathBuf },
    /// Score group GROUP of the store WORK/NAME.h5.
    Process { store: PathBuf, group: u32 },
    /// Stitch the store's results into its heatmap.
    Stitch { store: PathBuf },
    /// Batch: the program (or the parts command) for one input.
    Input { input: PathBuf },
    /// Batch: the program for part PART (1-based) of one input.
    Part { input: PathBuf, part: u32 },
    /// Batch: the gather command of one input.
    Gather { input: PathBuf },
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let batch_task = |spec: &BatchSpec, input: &PathBuf, part: Option<u32>, gather: bool| {
        let i = spec.input(input).map_err(bad_input)?;
        let task = match (part, gather) {
            (Some(n), _) => BatchTask::Part(i, n),
            (None, true) => BatchTask::Gather(i),
            (None, false) => BatchTask::Input(i),
        };
        let r = run_task(spec, task).map_err(bad_input)?;
        if r.rc != 0 {
            eprintln!("{}: {}", i.name, failure_text(&r));
        }
        // The program's own status, except that a signal or slidescale's
        // own failure is 1 (the job wrapper records what it returns).
        Ok(if r.signal.is_some() {
            1
        } else {
            r.rc.clamp(0, 255)
        })
    };
    match &args.stage {
        Stage::Input { input } | Stage::Part { input, .. } | Stage::Gather { input } => {
            let spec = BatchSpec::read(&args.spec).map_err(bad_input)?;
            let part = match &args.stage {
                Stage::Part { part, .. } => Some(*part),
                _ => None,
            };
            return batch_task(
                &spec,
                input,
                part,
                matches!(args.stage, Stage::Gather { .. }),
            );
        }
        _ => {}
    }
    let spec = RunSpec::read(&args.spec).map_err(bad_input)?;
    if let Some(lib) = &spec.execution.openslide_lib {
        slidescale_slide::openslide::use_library(lib.clone());
    }
    spec.check_model_file().map_err(bad_input)?;
    match args.stage {
        Stage::Process { store, group } => process::process_task(&spec, &store, group, false),
        Stage::Split { slide } => {
            admit(&spec)?;
            let opts = spec.split_options(false).ok_or_else(|| {
                bad_input(format!(
                    "{}: the spec has no split settings",
                    args.spec.display()
                ))
            })?;
            split::split_and_report(&WorkDir::new(&opts.out), &[slide], &opts)
        }
        Stage::Stitch { store } => {
            admit(&spec)?;
            stitch::stitch_and_report(&store, spec.stride(), ColourRange::PROBABILITY)
        }
        Stage::Input { .. } | Stage::Part { .. } | Stage::Gather { .. } => unreachable!(),
    }
}

/// The task's spec is the run recorded in its work directory.
fn admit(spec: &RunSpec) -> anyhow::Result<()> {
    let work = WorkDir::new(&spec.execution.work);
    spec.admit(&work, Admission::Resume, true)
        .map_err(bad_input)
}
