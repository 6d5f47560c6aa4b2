//! `slidescale check-fast`: how far a fast scoring mode is from exact
//! sliding-window fp32 on a seeded sample of a work directory's own tiles,
//! and how much faster it is; the one-line rendering `run --mode dense`
//! prints too, and the `--json` object scripts read (bench/fast).

use std::path::PathBuf;

use serde_json::{json, Value};
use slidescale_core::{Stride, WorkDir};
use slidescale_infer::ScoreMode;
use slidescale_pipeline::check_fast::{
    check_fast, sample_with_origin, CheckReport, CheckSetup, Sample, SampledTile,
};
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
    /// An int8 copy of the model (`slidescale quantize`) to check: scored
    /// sliding, or dense with `--mode dense`, against sliding `--model`.
    #[arg(long, value_name = "M8.onnx")]
    pub int8: Option<PathBuf>,
    /// Print one JSON object (figures, windows/s, stride, sampled tiles)
    /// instead of the line.
    #[arg(long)]
    pub json: bool,
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
    let fast_model = args.int8.clone().unwrap_or_else(|| args.model.clone());
    // each model fed by its own config (M8.json beside an int8 model)
    let options = |m: &PathBuf| {
        args.infer
            .options(m)
            .map_err(super::model_args::infer_error)
    };
    let (exact, fast) = (options(&args.model)?, options(&fast_model)?);
    if fast.mode == ScoreMode::Sliding && args.int8.is_none() {
        return Err(bad_input(
            "check-fast compares a fast mode with sliding: pass --mode dense, --int8 M8.onnx or both",
        ));
    }
    let work = WorkDir::new(&args.work);
    let sampled = sample_with_origin(
        &work,
        Sample::Seeded {
            tiles: args.tiles.max(1),
            seed: args.seed,
        },
    )
    .map_err(bad_input)?;
    let geometry = sampled.geometry;
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
        exact,
        fast_model,
        fast,
        stride,
    };
    let report = check_fast(&setup, &sampled.bytes, geometry).map_err(bad_input)?;
    if args.json {
        println!("{}", report_json(&report, &sampled.origin, args.seed));
    } else {
        println!("{}", summary_line(&report));
    }
    Ok(0)
}

/// The `--json` object: the line's figures by name, plus what was sampled.
/// Correlation is null when a side is constant.
fn report_json(r: &CheckReport, origin: &[SampledTile], seed: u64) -> Value {
    let a = &r.agreement;
    let finite = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
    json!({
        "fast": {
            "mode": r.fast_mode.to_string(),
            "precision": r.fast_precision.to_string(),
            "windows_per_s": r.fast_rate(),
            "seconds": r.fast_s,
        },
        "exact": {
            "mode": "sliding",
            "precision": r.exact_precision.to_string(),
            "windows_per_s": r.exact_rate(),
            "seconds": r.exact_s,
        },
        "stride": r.stride.get(),
        "tiles": r.tiles,
        "windows": a.windows,
        "max_abs": a.max_abs,
        "mean_abs": a.mean_abs,
        "correlation": finite(a.correlation),
        "agree_05": a.agree_05,
        "speedup": r.speedup(),
        "seed": seed,
        "sampled": origin,
    })
}

/// The check's one line.
pub fn summary_line(r: &CheckReport) -> String {
    let a = &r.agreement;
    format!(
        "{} {} vs sliding {} at stride {}, {} windows of {} tiles: max |Δ| {:.4}, mean |Δ| {:.4}, \
         r {:.4}, agreement at 0.5 {:.2} %, speed-up {:.1}× ({:.1} vs {:.1} windows/s)",
        r.fast_mode,
        r.fast_precision,
        r.exact_precision,
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
