//! ONNX Runtime through the `ort` crate, library loaded at run time.
//!
//! Session options are those of the Python baseline (`bench/process.py`):
//! CPU provider, sequential execution, inter-op 1 thread, intra-op `threads`,
//! `ORT_ENABLE_ALL`; with the same library this gives bit-identical scores.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{Outlet, TensorElementType, TensorRef, ValueType};

use super::{model_error, run_error, Backend, Loaded};
use crate::config::Layout;
use crate::model::{validate, ModelInfo, TensorSpec};
use crate::{InferError, ModelConfig, ScorerOptions};

/// ONNX Runtime allows one environment per process and ort loads one library
/// per process: both are kept here for the life of the process.
static ENV: OnceLock<(PathBuf, Environment)> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

fn environment(lib: &Path) -> Result<Environment, InferError> {
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((loaded, env)) = ENV.get() {
        if loaded != lib {
            tracing::debug!(
                "ONNX Runtime already loaded from {}; ignoring {}",
                loaded.display(),
                lib.display()
            );
        }
        return Ok(env.clone());
    }
    let load_err = |reason: String| InferError::OrtLoad {
        path: lib.to_path_buf(),
        reason,
    };
    let env = ort::init_from(lib)
        .map_err(|e| load_err(e.to_string()))?
        .with_name("slidescale")
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    tracing::debug!("ONNX Runtime loaded from {}", lib.display());
    let _ = ENV.set((lib.to_path_buf(), env.clone()));
    Ok(env)
}

fn spec(o: &Outlet) -> TensorSpec {
    match o.dtype() {
        ValueType::Tensor { ty, shape, .. } => TensorSpec {
            name: o.name().to_string(),
            elem: if *ty == TensorElementType::Float32 {
                "f32".into()
            } else {
                format!("{ty:?}")
            },
            dims: shape
                .iter()
                .map(|&d| (d >= 0).then_some(d as usize))
                .collect(),
        },
        other => TensorSpec {
            name: o.name().to_string(),
            elem: format!("{other:?}"),
            dims: vec![],
        },
    }
}

pub(crate) struct OrtBackend {
    session: Session,
    path: PathBuf,
    info: ModelInfo,
}

/// The window side of `model`'s input (checked as [`load`] checks it),
/// from a session opened without graph optimisation: quick, and nothing
/// about the outputs is asked yet.
pub(crate) fn input_window(model: &Path, cfg: &ModelConfig, lib: &Path) -> Result<u32, InferError> {
    let env = environment(lib)?;
    if !model.is_file() {
        return Err(model_error(model, "no such file"));
    }
    let session = Session::builder(&env)
        .and_then(|b| Ok(b.with_intra_threads(1)?))
        .and_then(|b| Ok(b.with_optimization_level(GraphOptimizationLevel::Disable)?))
        .and_then(|mut b| b.commit_from_file(model))
        .map_err(|e| model_error(model, e))?;
    let inputs: Vec<TensorSpec> = session.inputs().iter().map(spec).collect();
    let input = crate::model::pick_input(model, cfg, &inputs)?;
    Ok(crate::model::check_input(model, cfg, input)?.2)
}

/// Open `model` with the library at `lib` and validate it.
pub(crate) fn load(
    model: &Path,
    cfg: &ModelConfig,
    lib: &Path,
    opts: &ScorerOptions,
) -> Result<Loaded, InferError> {
    if !model.is_file() {
        return Err(model_error(model, "no such file"));
    }
    let session = open(lib, opts, model, GraphOptimizationLevel::All, |b| {
        b.commit_from_file(model)
    })?;
    let inputs: Vec<TensorSpec> = session.inputs().iter().map(spec).collect();
    let outputs: Vec<TensorSpec> = session.outputs().iter().map(spec).collect();
    let info = validate(model, cfg, &inputs, &outputs)?;
    let backend = OrtBackend {
        session,
        path: model.to_path_buf(),
        info: info.clone(),
    };
    Ok((Box::new(backend), info))
}

/// A session with the baseline's options (graph optimisation `level`),
/// committed by `commit`.
fn open(
    lib: &Path,
    opts: &ScorerOptions,
    model: &Path,
    level: GraphOptimizationLevel,
    commit: impl FnOnce(&mut ort::session::builder::SessionBuilder) -> ort::Result<Session>,
) -> Result<Session, InferError> {
    let env = environment(lib)?;
    Session::builder(&env)
        .and_then(|b| Ok(b.with_intra_threads(opts.threads.max(1))?))
        .and_then(|b| Ok(b.with_inter_threads(1)?))
        .and_then(|b| Ok(b.with_parallel_execution(false)?))
        .and_then(|b| Ok(b.with_optimization_level(level)?))
        .and_then(|mut b| commit(&mut b))
        .map_err(|e| model_error(model, e))
}

/// Open a model held in memory (`bytes`, e.g. a rewritten `model`) with the
/// same options as [`load`]; `info` is the original model's (its names and
/// column), as the rewritten graph's shapes are not those of a window.
pub(crate) fn load_bytes(
    model: &Path,
    bytes: &[u8],
    info: &ModelInfo,
    lib: &Path,
    opts: &ScorerOptions,
) -> Result<Box<dyn Backend>, InferError> {
    let session = open(lib, opts, model, GraphOptimizationLevel::All, |b| {
        b.commit_from_memory(bytes)
    })?;
    Ok(Box::new(OrtBackend {
        session,
        path: model.to_path_buf(),
        info: info.clone(),
    }))
}

/// A model held in memory run for its intermediate tensors (int8
/// calibration), opened as `onnxruntime.quantization`'s calibrator opens its
/// augmented model: without graph optimisation, so every tensor asked for is
/// computed as the graph writes it, not fused away.
pub(crate) struct TensorSession {
    session: Session,
    path: PathBuf,
    input: String,
}

impl TensorSession {
    pub fn open(
        model: &Path,
        bytes: &[u8],
        input: &str,
        lib: &Path,
        opts: &ScorerOptions,
    ) -> Result<TensorSession, InferError> {
        let session = open(lib, opts, model, GraphOptimizationLevel::Disable, |b| {
            b.commit_from_memory(bytes)
        })?;
        Ok(TensorSession {
            session,
            path: model.to_path_buf(),
            input: input.to_string(),
        })
    }

    /// Run one input of `shape`; hand each output of `names` (by its
    /// index in `names`) to `each`.
    pub fn run_each(
        &mut self,
        input: &[f32],
        shape: [usize; 4],
        names: &[String],
        mut each: impl FnMut(usize, &[f32]),
    ) -> Result<(), InferError> {
        let tensor =
            TensorRef::from_array_view((shape, input)).map_err(|e| run_error(&self.path, e))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input.as_str() => tensor])
            .map_err(|e| run_error(&self.path, e))?;
        for (k, name) in names.iter().enumerate() {
            let value = outputs
                .get(name)
                .ok_or_else(|| run_error(&self.path, format!("no output {name:?}")))?;
            let (_, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| run_error(&self.path, e))?;
            each(k, data);
        }
        Ok(())
    }
}

impl Backend for OrtBackend {
    fn run_shaped(
        &mut self,
        input: &[f32],
        shape: [usize; 4],
        out: &mut Vec<f32>,
    ) -> Result<Vec<usize>, InferError> {
        let tensor =
            TensorRef::from_array_view((shape, input)).map_err(|e| run_error(&self.path, e))?;
        let outputs = self
            .session
            .run(ort::inputs![self.info.input.as_str() => tensor])
            .map_err(|e| run_error(&self.path, e))?;
        let value = outputs
            .get(&self.info.output)
            .ok_or_else(|| run_error(&self.path, format!("no output {:?}", self.info.output)))?;
        let (shape, data) = value
            .try_extract_tensor::<f32>()
            .map_err(|e| run_error(&self.path, e))?;
        out.extend_from_slice(data);
        Ok(shape.iter().map(|&d| d.max(0) as usize).collect())
    }

    fn name(&self) -> &'static str {
        "onnxruntime"
    }

    fn run(&mut self, input: &[f32], n: usize, out: &mut Vec<f32>) -> Result<usize, InferError> {
        let t = self.info.window as usize;
        let shape = match self.info.layout {
            Layout::Nchw => [n, 3, t, t],
            Layout::Nhwc => [n, t, t, 3],
        };
        let before = out.len();
        let dims = self.run_shaped(input, shape, out)?;
        let len = out.len() - before;
        if dims.first() != Some(&n) || !len.is_multiple_of(n) {
            out.truncate(before);
            return Err(run_error(
                &self.path,
                format!("output shape {dims:?} for a batch of {n}"),
            ));
        }
        Ok(len / n)
    }
}
