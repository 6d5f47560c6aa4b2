//! `slidescale process`: score one group of one slide — the unit a
//! scheduler runs (DESIGN §6).

use std::path::{Path, PathBuf};

use slidescale_core::exit;
use slidescale_pipeline::process::{locate_store, process_group, ProcessOptions};
use slidescale_pipeline::spec::{Admission, RunSpec};

use super::model_args::{load_scorer, ModelArgs};
use super::{bad_input, classified, explain};

/// Score one group of one slide: the unit a scheduler runs.
#[derive(clap::Args)]
#[command(after_help = "Reads only group K of WORK/NAME.h5 and writes only \
WORK/results/NAME/00000K.npy (float32 [N, T/S, T/S], written to a temporary name and \
renamed), plus one JSON timing line on stdout and in WORK/logs/timing/process/NAME/. \
The settings must equal the run recorded in WORK/run.json (model bytes and config, \
stride, stain); any difference is refused, naming the field. \
Exits 0 when the result was written or a valid one already exists; 65 for bad input \
(corrupt store, no such group, unusable model, other settings: do not retry); 75 for \
transient failures (retry).")]
pub struct Args {
    /// The slide's store, WORK/NAME.h5.
    pub store: PathBuf,
    /// Group to score (1-based).
    #[arg(long, short = 'g', value_name = "K")]
    pub group: u32,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Window side for a model whose input size is dynamic (a fixed input
    /// gives its own).
    #[arg(long, value_name = "W")]
    pub window: Option<u32>,
    /// Recompute even if a valid result exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let (work, _) = locate_store(&args.store).map_err(bad_input)?;
    let scorer = args.model.scorer_options(args.window)?;
    // The default stride, one score per cell, is the store's tile.
    let tile = slidescale_store::Store::open(&args.store)
        .map(|s| s.info().geometry.tile)
        .map_err(bad_input)?;
    let spec = args.model.spec(work.root(), &scorer, tile, None)?;
    process_task(&spec, &args.store, args.group, args.force)
}

/// Group `group` of `store` scored as `spec` says: the one path both
/// `slidescale process` and a cluster run's process tasks take. Refused
/// before any work when `spec` differs from the run recorded in the work
/// directory.
pub fn process_task(spec: &RunSpec, store: &Path, group: u32, force: bool) -> anyhow::Result<i32> {
    let (work, _) = locate_store(store).map_err(bad_input)?;
    spec.admit(&work, Admission::Resume, true)
        .map_err(bad_input)?;
    let stain = spec.fitted_stain(&work).map_err(bad_input)?;
    let mut scorer = load_scorer(spec)?;
    let opts = ProcessOptions {
        stride: spec.stride(),
        stain: stain.as_ref(),
        force,
        threads: spec.execution.threads,
    };
    match process_group(store, group, &mut scorer, &opts) {
        Ok(timing) => {
            println!("{}", serde_json::to_string(&timing)?);
            Ok(exit::OK)
        }
        Err(e) => Err(classified(e.exit_code(), explain(e.to_string(), &e))),
    }
}
