//! The options `process` and `run` share: the model, how to run it, the
//! sliding-window stride and stain normalisation.

use std::path::{Path, PathBuf};

use anyhow::Context;
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_infer::{BackendChoice, Scorer, ScorerOptions, DEFAULT_BATCH};
use slidescale_pipeline::settings::RunSettings;
use slidescale_stain::{fit_cached, FittedTarget, Method};

use super::Classified;

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
    /// Stain normalisation applied to every tile before scoring.
    #[arg(
        long,
        default_value = "none",
        value_name = "none|macenko|reinhard|vahadane"
    )]
    pub stain: Method,
    /// Stain target image (PNG) [default: the bundled H&E target].
    #[arg(long, value_name = "IMAGE.png")]
    pub stain_target: Option<PathBuf>,
    /// Inference threads [default: all cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,
    /// Windows per inference call.
    #[arg(long, default_value_t = DEFAULT_BATCH, value_name = "N")]
    pub batch: usize,
    /// Inference engine: auto (ONNX Runtime if found, else tract when built in), ort or tract.
    #[arg(long, default_value = "auto", value_name = "auto|ort|tract")]
    pub backend: BackendChoice,
    /// ONNX Runtime library to load [default: $ORT_DYLIB_PATH, then
    /// ~/.local/share/slidescale/lib/libonnxruntime.so, then beside the executable].
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
}

impl ModelArgs {
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// Load and validate the model; an unusable model is a bad-input error.
    pub fn load_scorer(&self) -> anyhow::Result<Scorer> {
        let opts = ScorerOptions {
            backend: self.backend,
            ort_lib: self.ort_lib.clone(),
            threads: self.threads(),
            batch: self.batch.max(1),
            config: None,
        };
        let scorer = Scorer::load(&self.model, &opts).map_err(|e| {
            let code = if e.is_bad_input() {
                exit::BAD_INPUT
            } else {
                exit::FAILURE
            };
            anyhow::Error::new(Classified(code)).context(e.to_string())
        })?;
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
        if self.stain == Method::None {
            return Ok(None);
        }
        let cache = work
            .root()
            .join("stain")
            .join(format!("{}.json", self.stain));
        let fitted = fit_cached(self.stain, self.stain_target.as_deref(), &cache)
            .map_err(|e| anyhow::Error::new(Classified(exit::BAD_INPUT)).context(e.to_string()))?;
        Ok(Some(fitted))
    }

    /// What the results will be computed with, for `WORK/run.json`.
    pub fn settings(&self, stain: Option<&FittedTarget>) -> anyhow::Result<RunSettings> {
        let target = stain.map(|t| t.target.clone()).unwrap_or_default();
        RunSettings::new(&self.model, self.stride, &self.stain.to_string(), &target)
            .map_err(|e| anyhow::Error::new(Classified(exit::BAD_INPUT)).context(e.to_string()))
    }

    /// The same options as command-line arguments, for job scripts; paths
    /// made absolute so tasks can run from any directory.
    pub fn to_cli_args(&self) -> anyhow::Result<Vec<std::ffi::OsString>> {
        let mut out: Vec<std::ffi::OsString> = vec![
            "--model".into(),
            absolute(&self.model)?.into(),
            "--stride".into(),
            self.stride.to_string().into(),
            "--stain".into(),
            self.stain.to_string().into(),
            "--threads".into(),
            self.threads().to_string().into(),
            "--batch".into(),
            self.batch.to_string().into(),
        ];
        if let Some(t) = &self.stain_target {
            out.extend(["--stain-target".into(), absolute(t)?.into()]);
        }
        if let Some(l) = &self.ort_lib {
            out.extend(["--ort-lib".into(), absolute(l)?.into()]);
        }
        if self.backend != BackendChoice::Auto {
            let name = match self.backend {
                BackendChoice::Ort => "ort",
                _ => "tract",
            };
            out.extend(["--backend".into(), name.into()]);
        }
        Ok(out)
    }
}

pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("{}: cannot make the path absolute", path.display()))
}
