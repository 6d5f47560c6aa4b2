//! The options `process` and `run` share: the model, the sliding-window
//! stride, how to run the model ([`InferArgs`]) and stain normalisation
//! ([`StainArgs`]) — and the one place they become the run's typed job spec
//! ([`ModelArgs::spec`]), from which every executor and task then works.

use std::path::{Path, PathBuf};

use anyhow::Context;
use slidescale_core::{exit, Stride};
use slidescale_infer::Scorer;
use slidescale_pipeline::spec::{RunSpec, SpecInputs};
use slidescale_pipeline::split::SplitOptions;
use slidescale_stain::target_identity;

use super::infer_args::InferArgs;
use super::stain_args::StainArgs;
use super::{bad_input, classified};

/// Model and scoring options.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// ONNX model scoring a 224×224 RGB window (MODEL.json beside it, if
    /// present, sets input layout, scaling and output; see models/README.md).
    #[arg(long, value_name = "MODEL.onnx")]
    pub model: PathBuf,
    /// Sliding-window stride in level-0 pixels; must divide 224
    /// (1, 2, 4, 7, 8, 14, 16, 28, 32, 56, 112, 224).
    #[arg(long, default_value = "224", value_name = "S")]
    pub stride: Stride,
    #[command(flatten)]
    pub infer: InferArgs,
    #[command(flatten)]
    pub stain: StainArgs,
}

impl ModelArgs {
    /// The job spec these options (and, for `run`, the split options) ask
    /// for in work directory `work`: the effective model config after
    /// `MODEL.json` and every override, the model's bytes, the stain
    /// target's identity. Reads the model and the target; writes nothing.
    pub fn spec(&self, work: &Path, split: Option<&SplitOptions>) -> anyhow::Result<RunSpec> {
        let scorer = self.infer.options(&self.model).map_err(infer_error)?;
        let stain_image = self.stain.stain_target.as_deref();
        let stain_target = target_identity(self.stain.stain, stain_image).map_err(bad_input)?;
        RunSpec::new(&SpecInputs {
            work,
            model: &self.model,
            scorer: &scorer,
            stride: self.stride,
            stain: self.stain.stain,
            stain_target,
            stain_target_image: stain_image,
            split,
        })
        .map_err(bad_input)
    }
}

/// Load and validate the model exactly as `spec` says; an unusable model is
/// a bad-input error.
pub fn load_scorer(spec: &RunSpec) -> anyhow::Result<Scorer> {
    let opts = spec.scorer_options();
    let scorer = Scorer::load(&spec.execution.model, &opts).map_err(infer_error)?;
    tracing::info!(
        "model {} on {} ({} threads, batch {})",
        spec.execution.model.display(),
        scorer.backend_name(),
        opts.threads,
        scorer.batch()
    );
    Ok(scorer)
}

fn infer_error(e: slidescale_infer::InferError) -> anyhow::Error {
    let code = if e.is_bad_input() {
        exit::BAD_INPUT
    } else {
        exit::FAILURE
    };
    classified(code, e)
}

pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("{}: cannot make the path absolute", path.display()))
}
