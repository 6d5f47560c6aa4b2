//! Errors of model loading and inference, each naming the file involved.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong between a model file and a score.
#[derive(Debug, Error)]
pub enum InferError {
    /// No ONNX Runtime library where we look; the message says how to get one.
    #[error("{0}")]
    OrtNotFound(String),
    /// A library was found but could not be loaded (wrong file, too old).
    #[error("cannot load ONNX Runtime from {path}: {reason}")]
    OrtLoad { path: PathBuf, reason: String },
    /// The tract backend was asked for but not compiled in.
    #[error("the tract backend is not compiled into this build (rebuild with `--features tract`)")]
    TractNotBuilt,
    /// The model file could not be read or parsed.
    #[error("cannot load model {path}: {reason}")]
    Model { path: PathBuf, reason: String },
    /// The model loads but its inputs or outputs do not fit the tool.
    #[error("model {path} is not usable: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    /// A `MODEL.json` that does not parse or has bad values.
    #[error("bad model config {path}: {reason}")]
    Config { path: PathBuf, reason: String },
    /// Tiles whose byte length is not a whole number of C×C×3 tiles.
    #[error("buffer of {len} bytes is not a whole number of {side}×{side}×3 tiles")]
    TileSize { len: usize, side: u32 },
    /// Tiles, a window or a stride that do not fit the model.
    #[error("model {path}: {reason}")]
    Geometry { path: PathBuf, reason: String },
    /// Dense mode asked for a model it cannot rewrite.
    #[error("model {path} cannot be scored in dense mode: {reason}")]
    Dense { path: PathBuf, reason: String },
    /// The backend failed while running a batch.
    #[error("inference failed on model {path}: {reason}")]
    Run { path: PathBuf, reason: String },
}

impl InferError {
    /// Whether retrying the same task cannot help (bad model, bad config,
    /// missing library) as opposed to a failure while running.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, InferError::Run { .. })
    }
}
