//! The options `process` and `run` share: the model, the sliding-window
//! stride, how to run the model ([`InferArgs`]) and stain normalisation
//! ([`StainArgs`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_infer::{BackendChoice, Scorer};
use slidescale_pipeline::settings::RunSettings;
use slidescale_stain::FittedTarget;

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
    pub fn threads(&self) -> usize {
        self.infer.threads()
    }

    /// Load and validate the model; an unusable model is a bad-input error.
    pub fn load_scorer(&self) -> anyhow::Result<Scorer> {
        let fail = |e: slidescale_infer::InferError| {
            let code = if e.is_bad_input() {
                exit::BAD_INPUT
            } else {
                exit::FAILURE
            };
            classified(code, e)
        };
        let opts = self.infer.options(&self.model).map_err(fail)?;
        let scorer = Scorer::load(&self.model, &opts).map_err(fail)?;
        tracing::info!(
            "model {} on {} ({} threads, batch {})",
            self.model.display(),
            scorer.backend_name(),
            self.threads(),
            scorer.batch()
        );
        Ok(scorer)
    }

    /// The stain target fitted once per work directory and cached there
    /// (`WORK/stain/METHOD.json`); `None` for `--stain none`.
    pub fn fitted_stain(&self, work: &WorkDir) -> anyhow::Result<Option<FittedTarget>> {
        let cache = work.stain_target_path(&self.stain.stain.to_string());
        self.stain.fitted(&cache).map_err(bad_input)
    }

    /// What the results will be computed with, for `WORK/run.json`.
    pub fn settings(&self, stain: Option<&FittedTarget>) -> anyhow::Result<RunSettings> {
        let target = stain.map(|t| t.target.clone()).unwrap_or_default();
        RunSettings::new(
            &self.model,
            self.stride,
            &self.stain.stain.to_string(),
            &target,
        )
        .map_err(bad_input)
    }

    /// The same options as command-line arguments, for job scripts; paths
    /// made absolute so tasks can run from any directory.
    pub fn to_cli_args(&self) -> anyhow::Result<Vec<OsString>> {
        let mut out: Vec<OsString> = Vec::new();
        let mut push = |flag: &str, value: OsString| {
            out.push(flag.into());
            out.push(value);
        };
        push("--model", absolute(&self.model)?.into());
        push("--stride", self.stride.to_string().into());
        push("--threads", self.threads().to_string().into());
        push("--batch", self.infer.batch.to_string().into());
        if self.infer.backend != BackendChoice::Auto {
            push("--backend", self.infer.backend.to_string().into());
        }
        if let Some(p) = &self.infer.ort_lib {
            push("--ort-lib", absolute(p)?.into());
        }
        if let Some(p) = &self.infer.model_config {
            push("--model-config", absolute(p)?.into());
        }
        if let Some(a) = self.infer.activation {
            push("--activation", a.to_string().into());
        }
        if let Some(c) = self.infer.output_column {
            push("--output-column", c.to_string().into());
        }
        if let Some(l) = self.infer.layout {
            push("--layout", l.to_string().into());
        }
        push("--stain", self.stain.stain.to_string().into());
        if let Some(p) = &self.stain.stain_target {
            push("--stain-target", absolute(p)?.into());
        }
        Ok(out)
    }
}

pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("{}: cannot make the path absolute", path.display()))
}
