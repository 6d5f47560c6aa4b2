//! The options `process` and `run` share: the model, the sliding-window
//! stride, how to run the model ([`InferArgs`]) and stain normalisation
//! ([`StainArgs`]) — and the one place they become the run's typed job spec
//! ([`ModelArgs::spec`]), from which every executor and task then works.

use std::path::{Path, PathBuf};

use anyhow::Context;
use slidescale_core::{exit, Stride};
use slidescale_infer::{Scorer, ScorerOptions};
use slidescale_pipeline::spec::{RunSpec, SpecInputs};
use slidescale_pipeline::split::SplitOptions;
use slidescale_stain::target_identity;

use super::infer_args::InferArgs;
use super::stain_args::StainArgs;
use super::{bad_input, classified};

/// Model and scoring options.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// ONNX model scoring a square W×W RGB window, W from 32 to 1024
    /// (MODEL.json beside it, or a WSInfer config.json, sets input layout,
    /// scaling, output, resolution; see models/README.md).
    #[arg(long, value_name = "MODEL.onnx")]
    pub model: PathBuf,
    /// Sliding-window stride in analysis pixels; must divide the tile size
    /// (224 for a 224-px model: 1, 2, 4, 7, 8, 14, 16, 28, 32, 56, 112, 224)
    /// [default: the tile size, one score per cell].
    #[arg(long, value_name = "S")]
    pub stride: Option<Stride>,
    #[command(flatten)]
    pub infer: InferArgs,
    #[command(flatten)]
    pub stain: StainArgs,
}

impl ModelArgs {
    /// How to load the model: its config (file, sidecar or defaults) with
    /// every command-line override, and `window` for a model whose input
    /// size is dynamic.
    pub fn scorer_options(&self, window: Option<u32>) -> anyhow::Result<ScorerOptions> {
        let mut opts = self.infer.options(&self.model).map_err(infer_error)?;
        if let (Some(w), Some(config)) = (window, opts.config.as_mut()) {
            config.window = Some(w);
        }
        Ok(opts)
    }

    /// The stride asked for, or one score per cell of `tile`.
    pub fn stride_for(&self, tile: u32) -> Stride {
        self.stride
            .unwrap_or_else(|| Stride::new(tile).expect("a tile side is a valid stride"))
    }

    /// The job spec these options (and, for `run`, the split options) ask
    /// for in work directory `work`, with the model loaded with `scorer`
    /// (from [`ModelArgs::scorer_options`]) and scoring tiles `tile` px
    /// wide: the effective model config after `MODEL.json` and every
    /// override, the model's bytes, the stain target's identity. Reads the
    /// model and the target; writes nothing.
    pub fn spec(
        &self,
        work: &Path,
        scorer: &ScorerOptions,
        tile: u32,
        split: Option<&SplitOptions>,
    ) -> anyhow::Result<RunSpec> {
        let stain_image = self.stain.stain_target.as_deref();
        let stain_target = target_identity(self.stain.stain, stain_image).map_err(bad_input)?;
        RunSpec::new(&SpecInputs {
            work,
            model: &self.model,
            scorer,
            stride: self.stride_for(tile),
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

pub fn infer_error(e: slidescale_infer::InferError) -> anyhow::Error {
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
