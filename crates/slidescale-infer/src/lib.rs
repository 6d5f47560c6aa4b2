//! Sliding-window inference for slidescale: score every W×W window of C×C
//! context tiles (DESIGN §3) with an ONNX model whose input is W×W.
//!
//! * Engines: ONNX Runtime through `ort`, with `libonnxruntime.so` loaded at
//!   run time from the places listed in [`locate`]; `tract` (pure Rust,
//!   cargo feature `tract`) when ONNX Runtime is absent.
//! * [`ModelConfig`] (`MODEL.json` beside `MODEL.onnx`, or a WSInfer
//!   `config.json`, see [`wsinfer`]): input name and layout, scaling (x/255,
//!   optional mean/std), output and column, activation, window, resolution.
//!   Defaults fit `../shared/models/*.onnx`.
//! * [`Scorer::load`] validates the model before any work: a model that does
//!   not take square W×W×3 windows or has no usable score output is refused
//!   with an error naming the file and the shapes found.
//! * [`Scorer::score_tiles`] for a whole group, [`Scorer::stream`] to push
//!   tiles as they are read, [`Scorer::score_prefetched`] to read/normalise
//!   on another thread while the model runs.
//!
//! Windows go from u8 tiles straight into the batch buffer through a lookup
//! table computed with the same f32 operations as numpy, so with the same
//! ONNX Runtime library and session options the scores are those of the
//! Python reference (`../shared/bench/process.py`), bit for bit.
//!
//! ```no_run
//! use slidescale_core::Stride;
//! use slidescale_infer::{Scorer, ScorerOptions};
//! let mut scorer = Scorer::load("model.onnx".as_ref(), &ScorerOptions::default())?;
//! let tiles: Vec<u8> = vec![255; 2 * 448 * 448 * 3]; // two white context tiles
//! let scored = scorer.score_tiles(&tiles, Stride::new(32)?)?;
//! assert_eq!(scored.scores.len(), 2 * 7 * 7); // [2, 224/32, 224/32] for W = T = 224
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backend;
pub mod calibrate;
pub mod config;
pub mod dense;
mod error;
pub mod locate;
pub mod model;
mod prefetch;
mod scorer;
mod window;
pub mod wsinfer;

pub use backend::BackendChoice;
pub use config::{Activation, Layout, ModelConfig};
pub use dense::ScoreMode;
pub use error::InferError;
pub use model::ModelInfo;
pub use prefetch::{PrefetchError, ScorerStopped, TileSender};
pub use scorer::{
    BatchProgress, ScoreStats, Scored, Scorer, ScorerOptions, TileStream, DEFAULT_BATCH,
};
