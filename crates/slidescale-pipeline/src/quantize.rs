//! `slidescale quantize`: a static int8 (QDQ) copy of a model, calibrated
//! on a seeded sample of a work directory's own stored tiles, written in
//! Rust ([`slidescale_onnx::quant`] for the graph, ONNX Runtime for the
//! ranges through [`slidescale_infer::calibrate`]).
//!
//! * Calibration windows: `windows` context tiles drawn without replacement
//!   over every store by `seed` — the sample `check-fast` draws
//!   ([`sample_tiles`]) — and of each the window of its own patch (the one
//!   window at stride T), preprocessed as scoring preprocesses it
//!   ([`Scorer::model_input`]).
//! * The output is an ordinary ONNX model: `process`/`run --model` score it
//!   like any other, its bytes make it another run identity, and the model
//!   config it was calibrated with is written beside it (`OUT.json`), so it
//!   is fed exactly as the source was. Its `metadata_props` say where it
//!   came from ([`METADATA_SOURCE_BYTES`] and the other `slidescale.quantize.*`
//!   keys).
//! * An existing `--out` is replaced only when slidescale quantize wrote it
//!   (its metadata says so, [`may_replace`]); any other file is refused,
//!   never lost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_core::workdir::write_atomic;
use slidescale_core::{Stride, TileGeometry, WorkDir};
use slidescale_infer::calibrate::tensor_ranges;
use slidescale_infer::{InferError, ModelConfig, ScoreMode, Scorer, ScorerOptions};
use slidescale_onnx::quant;
use thiserror::Error;

use crate::check_fast::{sample_tiles, CheckError, Sample};
use crate::spec::{file_id, SpecError};

/// Calibration windows when not told otherwise (onnxruntime's examples
/// calibrate on a few dozen; 32 took the int8 GoogLeNet of issue 11 to
/// r = 0.93 on random weights).
pub const DEFAULT_WINDOWS: usize = 32;
/// Seed of the calibration sample when not told otherwise.
pub const DEFAULT_SEED: u64 = 0;

/// Metadata key: the source model's size and FNV-1a hash, as `run.json`
/// records a model (`model.bytes`). Its presence marks a model slidescale
/// quantize wrote.
pub const METADATA_SOURCE_BYTES: &str = "slidescale.quantize.source_bytes";

/// What to quantize and how.
#[derive(Debug, Clone)]
pub struct QuantizeRequest {
    pub model: PathBuf,
    /// How the model is fed (its config); the mode is ignored (calibration
    /// runs windows one by one).
    pub scorer: ScorerOptions,
    pub out: PathBuf,
    /// Calibration windows (tiles drawn) and the draw's seed.
    pub windows: usize,
    pub seed: u64,
}

/// What [`quantize_model`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    pub out: PathBuf,
    /// The model config beside it.
    pub config: PathBuf,
    /// Nodes quantized (op and name), Relu/Clip folded into their Conv
    /// included.
    pub nodes: Vec<String>,
    pub convs: usize,
    /// Activation tensors calibrated.
    pub tensors: usize,
    pub windows: usize,
    pub source_bytes: String,
    pub calibrate_s: f64,
    pub total_s: f64,
}

#[derive(Debug, Error)]
pub enum QuantizeError {
    #[error("{0}")]
    Infer(#[from] InferError),
    #[error("{0}")]
    Sample(#[from] CheckError),
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("{}: {reason}", path.display())]
    Model { path: PathBuf, reason: String },
    #[error("{} exists and slidescale quantize did not write it; remove it or choose another --out", path.display())]
    Exists { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The calibration sample of `work`: `windows` tiles drawn by `seed`
/// ([`sample_tiles`]) and their geometry.
pub fn calibration_tiles(
    work: &WorkDir,
    windows: usize,
    seed: u64,
) -> Result<(Vec<u8>, TileGeometry), QuantizeError> {
    let sample = Sample::Seeded {
        tiles: windows.max(1),
        seed,
    };
    Ok(sample_tiles(work, sample)?)
}

/// The model config file written beside `out` (`OUT.json`, the sidecar
/// [`ModelConfig::for_model`] reads).
pub fn config_path(out: &Path) -> PathBuf {
    ModelConfig::sidecar_path(out)
}

/// Whether the file at `path` may be replaced by a quantized model: it does
/// not exist, or it is a model slidescale quantize wrote (its metadata has
/// [`METADATA_SOURCE_BYTES`]). Anything else is someone's file.
pub fn may_replace(path: &Path) -> bool {
    if !path.exists() {
        return true;
    }
    slidescale_onnx::read(path).is_ok_and(|m| {
        m.metadata_props
            .iter()
            .any(|p| p.key == METADATA_SOURCE_BYTES)
    })
}

/// Quantize `req.model`, calibrated on `work`'s stores; `progress(done, n)`
/// as calibration windows are run.
pub fn quantize_from_work(
    req: &QuantizeRequest,
    work: &WorkDir,
    progress: &dyn Fn(usize, usize),
) -> Result<Quantized, QuantizeError> {
    check_out(req)?;
    let (tiles, geometry) = calibration_tiles(work, req.windows, req.seed)?;
    quantize_model(req, &tiles, geometry, progress)
}

/// Refuse before any work an `--out` (or its config) that is not ours.
fn check_out(req: &QuantizeRequest) -> Result<(), QuantizeError> {
    if !may_replace(&req.out) {
        return Err(QuantizeError::Exists {
            path: req.out.clone(),
        });
    }
    let config = config_path(&req.out);
    let ours = req.out.exists(); // and ours, by the check above
    if config.exists() && !ours {
        let same = std::fs::read(&config).ok() == Some(config_bytes(&effective_config(req)?));
        if !same {
            return Err(QuantizeError::Exists { path: config });
        }
    }
    Ok(())
}

fn effective_config(req: &QuantizeRequest) -> Result<ModelConfig, QuantizeError> {
    match &req.scorer.config {
        Some(c) => Ok(c.clone()),
        None => Ok(ModelConfig::for_model(&req.model)?),
    }
}

fn config_bytes(config: &ModelConfig) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(config).expect("a config serialises");
    v.push(b'\n');
    v
}

/// Quantize `req.model` calibrated on the context `tiles` (cut with
/// `geometry`, one window each: the tile's own patch).
pub fn quantize_model(
    req: &QuantizeRequest,
    tiles: &[u8],
    geometry: TileGeometry,
    progress: &dyn Fn(usize, usize),
) -> Result<Quantized, QuantizeError> {
    let t0 = Instant::now();
    check_out(req)?;
    let model_err = |reason: String| QuantizeError::Model {
        path: req.model.clone(),
        reason,
    };
    let proto = slidescale_onnx::read(&req.model).map_err(|e| model_err(e.to_string()))?;
    let plan = quant::plan(&proto).map_err(model_err)?;
    let config = effective_config(req)?;
    let opts = ScorerOptions {
        mode: ScoreMode::Sliding,
        config: Some(config.clone()),
        ..req.scorer.clone()
    };
    let mut scorer = Scorer::load(&req.model, &opts)?;
    scorer.use_geometry(geometry)?;
    let own_patch = Stride::new(geometry.tile).expect("a tile side is a valid stride");
    let input = scorer.model_input(tiles, own_patch)?;
    let windows = input.len() / (3 * (geometry.window as usize).pow(2));
    if windows == 0 {
        return Err(model_err("no calibration windows".into()));
    }
    let tensors = plan.calibrated();
    let calibration = quant::calibration_model(&proto, &tensors);
    let t1 = Instant::now();
    let ranges = tensor_ranges(&scorer, &opts, &calibration, &tensors, &input, progress)?;
    let calibrate_s = t1.elapsed().as_secs_f64();
    let source_bytes = file_id(&req.model)?;
    let meta = metadata(req, &source_bytes, windows, tiles);
    let model = quant::quantize(&plan, &ranges, &meta).map_err(model_err)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| QuantizeError::Io { path, source }
    };
    let config_file = config_path(&req.out);
    write_atomic(&config_file, &config_bytes(&config)).map_err(io(&config_file))?;
    write_atomic(&req.out, &slidescale_onnx::encode(&model)).map_err(io(&req.out))?;
    Ok(Quantized {
        out: req.out.clone(),
        config: config_file,
        nodes: plan.nodes.clone(),
        convs: plan.convs.len(),
        tensors: tensors.len(),
        windows,
        source_bytes,
        calibrate_s,
        total_s: t0.elapsed().as_secs_f64(),
    })
}

/// The `slidescale.quantize.*` metadata: where the model came from and how
/// it was calibrated.
fn metadata(
    req: &QuantizeRequest,
    source_bytes: &str,
    windows: usize,
    tiles: &[u8],
) -> Vec<(String, String)> {
    let name = req
        .model
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let entries = BTreeMap::from([
        ("source", name),
        ("source_bytes", source_bytes.to_string()),
        (
            "scheme",
            "QDQ; Conv weights int8 symmetric per output channel (axis 0), bias int32; \
             activations uint8 per tensor; Relu/Clip folded, MaxPool shares its input's scale"
                .to_string(),
        ),
        ("calibration", "MinMax".to_string()),
        ("windows", windows.to_string()),
        ("seed", req.seed.to_string()),
        (
            "tiles_fnv1a64",
            format!("{:016x}", slidescale_core::fnv1a64(tiles)),
        ),
        ("version", env!("CARGO_PKG_VERSION").to_string()),
    ]);
    entries
        .into_iter()
        .map(|(k, v)| (format!("slidescale.quantize.{k}"), v))
        .collect()
}
