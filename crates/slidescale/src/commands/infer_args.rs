//! Inference options (engine, threads, batch, model-config overrides),
//! flattened into `process` and `run` through [`super::model_args::ModelArgs`]
//! so every command spells them the same way.

use std::path::{Path, PathBuf};

use slidescale_infer::{
    Activation, BackendChoice, InferError, Layout, ModelConfig, ScoreMode, ScorerOptions,
    DEFAULT_BATCH,
};

#[derive(clap::Args, Debug, Clone)]
pub struct InferArgs {
    /// Windows per inference call.
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    pub batch: usize,
    /// Intra-op threads of the model (inter-op is 1) [default: all cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,
    /// Inference engine: auto (ONNX Runtime if found, else tract) | ort | tract.
    #[arg(long, default_value = "auto", value_name = "ENGINE")]
    pub backend: BackendChoice,
    /// ONNX Runtime library to load [default: $ORT_DYLIB_PATH, then
    /// $SLIDESCALE_HOME/lib/libonnxruntime.so, then next to the executable].
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Model config JSON [default: MODEL.json beside MODEL.onnx, else the
    /// defaults: input x/255 NCHW, output column 0, no activation].
    #[arg(long, value_name = "JSON")]
    pub model_config: Option<PathBuf>,
    /// Override the config's activation: none | sigmoid | softmax.
    #[arg(long, value_name = "FN")]
    pub activation: Option<Activation>,
    /// Override the config's output column.
    #[arg(long, value_name = "K")]
    pub output_column: Option<usize>,
    /// Override the config's input layout: NCHW | NHWC.
    #[arg(long, value_name = "LAYOUT")]
    pub layout: Option<Layout>,
    /// Score with the output column of this class (by the config's
    /// class_names, e.g. a WSInfer config's).
    #[arg(long, value_name = "NAME")]
    pub class: Option<String>,
    /// Scoring: sliding (every window on its own, exact) | dense (the model
    /// rewritten to score a whole tile per pass; faster, differs near
    /// padding; measure with `slidescale check-fast`). Part of the run's
    /// identity.
    #[arg(long, default_value = "sliding", value_name = "MODE")]
    pub mode: ScoreMode,
}

impl InferArgs {
    /// Inference threads: `--threads`, else every core.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// Scorer options for `model`: its config (file or sidecar or defaults)
    /// with the command-line overrides applied.
    pub fn options(&self, model: &Path) -> Result<ScorerOptions, InferError> {
        let mut config = match &self.model_config {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| InferError::Config {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                ModelConfig::from_json(&bytes, path)?
            }
            None => ModelConfig::for_model(model)?,
        };
        if let Some(a) = self.activation {
            config.activation = a;
        }
        if let Some(c) = self.output_column {
            config.column = c;
        }
        if let Some(l) = self.layout {
            config.layout = Some(l);
        }
        if let Some(class) = &self.class {
            config
                .select_class(class)
                .map_err(|reason| InferError::Config {
                    path: model.to_path_buf(),
                    reason,
                })?;
        }
        Ok(ScorerOptions {
            backend: self.backend,
            ort_lib: self.ort_lib.clone(),
            threads: self.threads(),
            batch: self.batch.max(1),
            config: Some(config),
            mode: self.mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        infer: InferArgs,
    }

    #[test]
    fn flags_parse_and_override_the_config() {
        let cli = Cli::parse_from([
            "x",
            "--batch",
            "32",
            "--backend",
            "ort",
            "--activation",
            "sigmoid",
            "--layout",
            "nhwc",
            "--output-column",
            "1",
        ]);
        let opts = cli.infer.options(Path::new("/nonexistent/m.onnx")).unwrap();
        assert_eq!(opts.batch, 32);
        assert_eq!(opts.backend, BackendChoice::Ort);
        let cfg = opts.config.unwrap();
        assert_eq!(cfg.activation, Activation::Sigmoid);
        assert_eq!(cfg.layout, Some(Layout::Nhwc));
        assert_eq!(cfg.column, 1);
        assert!(Cli::try_parse_from(["x", "--backend", "gpu"]).is_err());
    }
}
