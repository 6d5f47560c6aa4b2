//! ONNX models as data: read a `ModelProto`, edit its graph, write it back,
//! all in Rust with no Python or protoc at run time ([`proto`] holds the
//! prost messages). [`graph`] has the small editing vocabulary (find a
//! node, read or set attributes, initializers as f32); [`dense`] uses it to
//! turn a pooled classifier into a fully convolutional scorer; [`quant`]
//! writes a static int8 (QDQ) model from calibrated ranges.

pub mod dense;
pub mod graph;
pub mod proto;
pub mod quant;

use std::path::{Path, PathBuf};

use prost::Message;
pub use proto::ModelProto;

/// Reading or decoding a model failed.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error("{}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
}

/// Decode a model from its bytes.
pub fn decode(bytes: &[u8]) -> Result<ModelProto, prost::DecodeError> {
    ModelProto::decode(bytes)
}

/// Read and decode the model at `path`.
pub fn read(path: &Path) -> Result<ModelProto, OnnxError> {
    let err = |reason: String| OnnxError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    decode(&bytes).map_err(|e| err(format!("not an ONNX model: {e}")))
}

/// The model's protobuf bytes (what ONNX Runtime loads from memory, or what
/// a caller writes with `slidescale_core::workdir::write_atomic`).
pub fn encode(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}
