//! The inference engines behind a [`crate::Scorer`]: ONNX Runtime (always
//! built, loaded at run time) and tract (cargo feature `tract`).

use std::path::{Path, PathBuf};

use crate::model::ModelInfo;
use crate::{InferError, ModelConfig, ScorerOptions};

pub(crate) mod ort;
#[cfg(feature = "tract")]
pub(crate) mod tract;

/// Which engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// ONNX Runtime when its library is found, else tract (when built in).
    #[default]
    Auto,
    Ort,
    Tract,
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            "ort" | "onnxruntime" => Ok(BackendChoice::Ort),
            "tract" => Ok(BackendChoice::Tract),
            _ => Err(format!("unknown backend {s:?} (auto|ort|tract)")),
        }
    }
}

impl std::fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Ort => "ort",
            BackendChoice::Tract => "tract",
        })
    }
}

/// One loaded model, ready to run batches of preprocessed windows.
pub(crate) trait Backend: Send {
    /// "onnxruntime" or "tract".
    fn name(&self) -> &'static str;
    /// Run `n` windows (`input` holds exactly `n` × 3·224·224 floats in the
    /// model's layout). Append the selected output's rows to `out` and return
    /// the row length k (1 for an `[N]` output).
    fn run(&mut self, input: &[f32], n: usize, out: &mut Vec<f32>) -> Result<usize, InferError>;
    /// Run one input of any `shape` (a dense pass over an image larger
    /// than a window); append the selected output to `out` and return its
    /// shape.
    fn run_shaped(
        &mut self,
        input: &[f32],
        shape: [usize; 4],
        out: &mut Vec<f32>,
    ) -> Result<Vec<usize>, InferError>;
}

/// A loaded backend and what validation found out about its model.
pub(crate) type Loaded = (Box<dyn Backend>, ModelInfo);

/// Load `model` with the chosen engine (see [`BackendChoice::Auto`]).
pub(crate) fn load(
    model: &Path,
    cfg: &ModelConfig,
    opts: &ScorerOptions,
) -> Result<Loaded, InferError> {
    let ort_lib = opts.ort_lib.as_deref();
    let batch = opts.batch.max(1);
    match opts.backend {
        BackendChoice::Ort => ort::load(model, cfg, &crate::locate::find_library(ort_lib)?, opts),
        BackendChoice::Tract => load_tract(model, cfg, batch),
        BackendChoice::Auto => match crate::locate::find_library(ort_lib) {
            Ok(lib) => match ort::load(model, cfg, &lib, opts) {
                Err(InferError::OrtLoad { path, reason }) if cfg!(feature = "tract") => {
                    tracing::warn!(
                        "ONNX Runtime at {} does not load ({reason}); using tract (slower)",
                        path.display()
                    );
                    load_tract(model, cfg, batch)
                }
                other => other,
            },
            Err(not_found) if cfg!(feature = "tract") => {
                tracing::warn!("ONNX Runtime not found ({not_found}); using tract (slower)");
                load_tract(model, cfg, batch)
            }
            Err(not_found) => Err(not_found),
        },
    }
}

/// The side of the windows `model` takes, from its input alone (its
/// outputs are checked when it is loaded), with the engine [`load`] would
/// pick.
pub(crate) fn input_window(
    model: &Path,
    cfg: &ModelConfig,
    opts: &ScorerOptions,
) -> Result<u32, InferError> {
    let ort_lib = opts.ort_lib.as_deref();
    match opts.backend {
        BackendChoice::Ort => ort::input_window(model, cfg, &crate::locate::find_library(ort_lib)?),
        BackendChoice::Tract => tract_window(model, cfg),
        BackendChoice::Auto => match crate::locate::find_library(ort_lib) {
            Ok(lib) => match ort::input_window(model, cfg, &lib) {
                Err(InferError::OrtLoad { .. }) if cfg!(feature = "tract") => {
                    tract_window(model, cfg)
                }
                other => other,
            },
            Err(_) if cfg!(feature = "tract") => tract_window(model, cfg),
            Err(not_found) => Err(not_found),
        },
    }
}

#[cfg(feature = "tract")]
fn tract_window(model: &Path, cfg: &ModelConfig) -> Result<u32, InferError> {
    tract::input_window(model, cfg)
}

#[cfg(not(feature = "tract"))]
fn tract_window(_model: &Path, _cfg: &ModelConfig) -> Result<u32, InferError> {
    Err(InferError::TractNotBuilt)
}

#[cfg(feature = "tract")]
fn load_tract(model: &Path, cfg: &ModelConfig, batch: usize) -> Result<Loaded, InferError> {
    tract::load(model, cfg, batch)
}

#[cfg(not(feature = "tract"))]
fn load_tract(_model: &Path, _cfg: &ModelConfig, _batch: usize) -> Result<Loaded, InferError> {
    Err(InferError::TractNotBuilt)
}

pub(crate) fn model_error(path: &Path, e: impl std::fmt::Display) -> InferError {
    InferError::Model {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

pub(crate) fn run_error(path: &Path, e: impl std::fmt::Display) -> InferError {
    InferError::Run {
        path: PathBuf::from(path),
        reason: e.to_string(),
    }
}
