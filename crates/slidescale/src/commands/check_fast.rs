//! `slidescale check-fast`: how far a fast scoring mode is from exact
//! sliding-window fp32 on a seeded sample of a work directory's own tiles,
//! and how much faster it is; the one-line rendering `run --mode dense`
//! prints too.

use std::path::PathBuf;

use slidescale_core::{Stride, WorkDir};
use slidescale_infer::ScoreMode;
use slidescale_pipeline::check_fast::{check_fast, sample_tiles, CheckReport, CheckSetup, Sample};
use slidescale_pipeline::spec::RunSpec;

use super::bad_input;
use super::infer_args::InferArgs;

#[derive(clap::Args)]
#[command(
    after_help = "Tiles are scored as stored (no stain normalisation). Decide from the \
                  agreement at 0.5 and the mean difference; see docs/fast-modes.md."
)]
pub struct Args {
    /// Work directory whose stores to sample.
    #[arg(value_name = "WORK")]
    pub work: PathBuf,
    /// The model (its exact sliding fp32 scores are the reference).
    #[arg(long, value_name = "MODEL.onnx")]
    pub model: PathBuf,
    /// Stride to compare at [default: the recorded run's, else 16 when it
    /// divides the tile size, else the tile size].
    #[arg(long, value_name = "S")]
    pub stride: Option<Stride>,
    /// Context tiles to sample (over all stores).
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub tiles: usize,
    /// Seed of the sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub infer: InferArgs,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let fast = args
        .infer
        .options(&args.model)
        .map_err(super::model_args::infer_error)?;
    if fast.mode == ScoreMode::Sliding {
        return Err(bad_input(
            "check-fast compares a fast mode with sliding: pass --mode dense",
        ));
    }
    let work = WorkDir::new(&args.work);
    let (tiles, geometry) = sample_tiles(
        &work,
        Sample::Seeded {
            tiles: args.tiles.max(1),
            seed: args.seed,
        },
    )
    .map_err(bad_input)?;
    let recorded = RunSpec::load(&work).ok().flatten().map(|s| s.stride());
    let sixteen = Stride::new(16).expect("valid");
    let stride = args.stride.or(recorded).unwrap_or_else(|| {
        geometry
            .check_stride(sixteen)
            .unwrap_or_else(|_| Stride::new(geometry.tile).expect("a tile side is a valid stride"))
    });
    geometry.check_stride(stride).map_err(bad_input)?;
    let setup = CheckSetup {
        exact_model: args.model.clone(),
        exact: fast.clone(),
        fast_model: args.model.clone(),
        fast,
        stride,
    };
    let report = check_fast(&setup, &tiles, geometry).map_err(bad_input)?;
    println!("{}", summary_line(&report));
    Ok(0)
}

/// The check's one line.
pub fn summary_line(r: &CheckReport) -> String {
    let a = &r.agreement;
    format!(
        "{} vs sliding fp32 at stride {}, {} windows of {} tiles: max |Δ| {:.4}, mean |Δ| {:.4}, \
         r {:.4}, agreement at 0.5 {:.2} %, speed-up {:.1}× ({:.1} vs {:.1} windows/s)",
        r.fast_mode,
        r.stride,
        a.windows,
        r.tiles,
        a.max_abs,
        a.mean_abs,
        a.correlation,
        100.0 * a.agree_05,
        r.speedup(),
        r.fast_rate(),
        r.exact_rate(),
    )
}
