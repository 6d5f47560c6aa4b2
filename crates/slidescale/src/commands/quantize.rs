//! `slidescale quantize`: a static int8 (QDQ) copy of a model, calibrated
//! on a seeded sample of a work directory's own stored tiles; thin over
//! [`slidescale_pipeline::quantize`].

use std::io::Write;
use std::path::PathBuf;

use slidescale_core::WorkDir;
use slidescale_infer::{BackendChoice, ScoreMode, DEFAULT_BATCH};
use slidescale_pipeline::quantize::{
    quantize_from_work, QuantizeError, QuantizeRequest, Quantized, DEFAULT_SEED, DEFAULT_WINDOWS,
};

use super::bad_input;
use super::infer_args::InferArgs;

#[derive(clap::Args)]
#[command(after_help = "\
Conv weights become int8 per output channel, activations uint8 per tensor with \
their range measured (min/max) on the sampled windows; the global pooling and the \
classifier stay fp32, so `--mode dense` works on the result. OUT.json (the model \
config) is written beside OUT. Score with `--model OUT` as with any model; measure \
what int8 costs with `slidescale check-fast --model MODEL --int8 OUT WORK`. \
See docs/fast-modes.md.")]
pub struct Args {
    /// The fp32 model to quantize (its MODEL.json, if any, says how it is fed).
    #[arg(value_name = "MODEL.onnx")]
    pub model: PathBuf,
    /// Work directory whose stored tiles calibrate the activations (split
    /// slides into it first).
    #[arg(long, value_name = "WORK")]
    pub calibrate_from: PathBuf,
    /// Where to write the int8 model (refused if it exists and slidescale
    /// quantize did not write it).
    #[arg(long, value_name = "MODEL-int8.onnx")]
    pub out: PathBuf,
    /// Calibration windows: this many context tiles drawn over all stores,
    /// one window (the tile's own patch) from each.
    #[arg(long, default_value_t = DEFAULT_WINDOWS, value_name = "N")]
    pub windows: usize,
    /// Seed of the calibration draw (the same draw as check-fast's).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Intra-op threads for calibration [default: all cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,
    /// ONNX Runtime library to load (as for `process`).
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Model config JSON [default: MODEL.json beside MODEL.onnx]; copied to OUT.json.
    #[arg(long, value_name = "JSON")]
    pub model_config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let infer = InferArgs {
        batch: DEFAULT_BATCH,
        threads: args.threads,
        backend: BackendChoice::Ort,
        ort_lib: args.ort_lib.clone(),
        model_config: args.model_config.clone(),
        activation: None,
        output_column: None,
        layout: None,
        class: None,
        mode: ScoreMode::Sliding,
    };
    let scorer = infer
        .options(&args.model)
        .map_err(super::model_args::infer_error)?;
    let req = QuantizeRequest {
        model: args.model.clone(),
        scorer,
        out: args.out.clone(),
        windows: args.windows.max(1),
        seed: args.seed,
    };
    let progress = |done: usize, n: usize| {
        eprint!("\rcalibrating: {done}/{n} windows");
        if done == n {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    };
    let work = WorkDir::new(&args.calibrate_from);
    let q = quantize_from_work(&req, &work, &progress).map_err(|e| match e {
        QuantizeError::Infer(e) => super::model_args::infer_error(e),
        QuantizeError::Io { .. } => anyhow::Error::new(e),
        other => bad_input(other),
    })?;
    println!("{}", summary(&q));
    Ok(0)
}

/// The command's report.
fn summary(q: &Quantized) -> String {
    format!(
        "wrote {} (config {}): {} Conv quantized ({} nodes with folded Relu/Clip and MaxPool), \
         {} activation ranges from {} windows, calibration {:.1} s, total {:.1} s",
        q.out.display(),
        q.config.display(),
        q.convs,
        q.nodes.len(),
        q.tensors,
        q.windows,
        q.calibrate_s,
        q.total_s,
    )
}
