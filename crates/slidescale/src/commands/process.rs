//! `slidescale process`: score one group of one slide — the unit a
//! scheduler runs (DESIGN §6).

use std::path::PathBuf;

use slidescale_core::exit;
use slidescale_pipeline::process::{locate_store, process_group, ProcessOptions};

use super::model_args::ModelArgs;
use super::{bad_input, classified, explain};

/// Score one group of one slide: the unit a scheduler runs.
#[derive(clap::Args)]
#[command(after_help = "Reads only group K of WORK/NAME.h5 and writes only \
WORK/results/NAME/00000K.npy (float32 [N, 224/S, 224/S], written to a temporary name and \
renamed), plus one JSON timing line on stdout and in WORK/logs/timing/process/NAME/. \
Exits 0 when the result was written or a valid one already exists; 65 for bad input \
(corrupt store, no such group, unusable model: do not retry); 75 for transient failures \
(retry).")]
pub struct Args {
    /// The slide's store, WORK/NAME.h5.
    pub store: PathBuf,
    /// Group to score (1-based).
    #[arg(long, short = 'g', value_name = "K")]
    pub group: u32,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Recompute even if a valid result exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let (work, _) = locate_store(&args.store).map_err(bad_input)?;
    let mut scorer = args.model.load_scorer()?;
    let stain = args.model.fitted_stain(&work)?;
    args.model
        .settings(stain.as_ref())?
        .ensure(&work, false)
        .map_err(bad_input)?;
    let opts = ProcessOptions {
        stride: args.model.stride,
        stain: stain.as_ref(),
        force: args.force,
        threads: args.model.threads() as u32,
    };
    match process_group(&args.store, args.group, &mut scorer, &opts) {
        Ok(timing) => {
            println!("{}", serde_json::to_string(&timing)?);
            Ok(exit::OK)
        }
        Err(e) => Err(classified(e.exit_code(), explain(e.to_string(), &e))),
    }
}
