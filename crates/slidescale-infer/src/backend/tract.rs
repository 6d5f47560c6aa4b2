//! tract (pure Rust), the fallback when no ONNX Runtime library is found.
//! Single-threaded (`threads` is ignored: run one scorer per core instead);
//! the plan is compiled for a fixed batch and short batches are padded.

use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::{model_error, run_error, Backend, Loaded};
use crate::config::Layout;
use crate::model::{check_input, pick_input, validate, TensorSpec};
use crate::{InferError, ModelConfig};

type Plan = SimplePlan<TypedFact, Box<dyn TypedOp>, Graph<TypedFact, Box<dyn TypedOp>>>;

pub(crate) struct TractBackend {
    plan: Plan,
    path: PathBuf,
    batch: usize,
    layout: Layout,
    /// W: side of the model's input windows.
    window: usize,
    output_slot: usize,
    padded: Vec<f32>,
}

fn dim(d: &TDim) -> Option<usize> {
    d.to_i64().ok().filter(|&v| v >= 0).map(|v| v as usize)
}

fn input_specs(model: &InferenceModel) -> TractResult<Vec<TensorSpec>> {
    model
        .input_outlets()?
        .iter()
        .map(|&o| {
            let fact = model.outlet_fact(o)?;
            let elem = match fact.datum_type.concretize() {
                Some(DatumType::F32) => "f32".to_string(),
                Some(other) => format!("{other:?}"),
                None => "unknown".to_string(),
            };
            let dims = fact
                .shape
                .dims()
                .map(|d| d.concretize().and_then(|d| dim(&d)))
                .collect();
            Ok(TensorSpec {
                name: model.node(o.node).name.clone(),
                elem,
                dims,
            })
        })
        .collect()
}

fn output_specs(model: &TypedModel, dynamic_batch: bool) -> TractResult<Vec<TensorSpec>> {
    model
        .output_outlets()?
        .iter()
        .map(|&o| {
            let fact = model.outlet_fact(o)?;
            let mut dims: Vec<Option<usize>> = fact.shape.dims().iter().map(dim).collect();
            if dynamic_batch && !dims.is_empty() {
                dims[0] = None;
            }
            Ok(TensorSpec {
                name: model
                    .outlet_label(o)
                    .unwrap_or(&model.node(o.node).name)
                    .to_string(),
                elem: if fact.datum_type == DatumType::F32 {
                    "f32".into()
                } else {
                    format!("{:?}", fact.datum_type)
                },
                dims,
            })
        })
        .collect()
}

/// `model` parsed, its input specs, and the checked input: (layout, fixed
/// batch, window side) — what [`input_window`] and [`load`] both start from.
struct ParsedInput {
    inf: InferenceModel,
    inputs: Vec<TensorSpec>,
    name: String,
    layout: Layout,
    fixed: Option<usize>,
    window: u32,
}

fn parse_input(model: &Path, cfg: &ModelConfig) -> Result<ParsedInput, InferError> {
    let err = |e: TractError| model_error(model, format!("{e:#}"));
    if !model.is_file() {
        return Err(model_error(model, "no such file"));
    }
    let inf = tract_onnx::onnx().model_for_path(model).map_err(err)?;
    let inputs = input_specs(&inf).map_err(err)?;
    let input = pick_input(model, cfg, &inputs)?;
    let (layout, fixed, window) = check_input(model, cfg, input)?;
    let name = input.name.clone();
    Ok(ParsedInput {
        inf,
        inputs,
        name,
        layout,
        fixed,
        window,
    })
}

/// The window side of `model`'s input, as [`load`] checks it.
pub(crate) fn input_window(model: &Path, cfg: &ModelConfig) -> Result<u32, InferError> {
    Ok(parse_input(model, cfg)?.window)
}

/// Load, validate and compile `model` for batches of `batch` windows.
pub(crate) fn load(model: &Path, cfg: &ModelConfig, batch: usize) -> Result<Loaded, InferError> {
    let err = |e: TractError| model_error(model, format!("{e:#}"));
    let ParsedInput {
        inf,
        inputs,
        name,
        layout,
        fixed,
        window,
    } = parse_input(model, cfg)?;
    let slot = inputs.iter().position(|s| s.name == name).unwrap_or(0);
    let batch = fixed.unwrap_or(batch.max(1));
    let t = window as usize;
    let shape = match layout {
        Layout::Nchw => [batch, 3, t, t],
        Layout::Nhwc => [batch, t, t, 3],
    };
    let typed = inf
        .with_input_fact(slot, f32::fact(shape).into())
        .and_then(|m| m.into_typed())
        .map_err(err)?;
    let outputs = output_specs(&typed, fixed.is_none()).map_err(err)?;
    let info = validate(model, cfg, &inputs, &outputs)?;
    let output_slot = outputs
        .iter()
        .position(|s| s.name == info.output)
        .unwrap_or(0);
    let plan = typed
        .into_optimized()
        .and_then(|m| m.into_runnable())
        .map_err(err)?;
    let backend = TractBackend {
        plan,
        path: model.to_path_buf(),
        batch,
        layout,
        window: t,
        output_slot,
        padded: Vec::new(),
    };
    Ok((Box::new(backend), info))
}

impl Backend for TractBackend {
    fn name(&self) -> &'static str {
        "tract"
    }

    /// tract's plan is typed for one window shape; dense mode is refused
    /// before a tract backend is asked (see `crate::dense`).
    fn run_shaped(
        &mut self,
        _input: &[f32],
        _shape: [usize; 4],
        _out: &mut Vec<f32>,
    ) -> Result<Vec<usize>, InferError> {
        Err(InferError::Run {
            path: std::path::PathBuf::from("tract"),
            reason: "dense passes need ONNX Runtime".into(),
        })
    }

    fn run(&mut self, input: &[f32], n: usize, out: &mut Vec<f32>) -> Result<usize, InferError> {
        let t = self.window;
        let shape = match self.layout {
            Layout::Nchw => [self.batch, 3, t, t],
            Layout::Nhwc => [self.batch, t, t, 3],
        };
        let per = input.len() / n.max(1);
        let data: &[f32] = if n == self.batch {
            input
        } else {
            self.padded.clear();
            self.padded.extend_from_slice(input);
            self.padded.resize(self.batch * per, 0.0);
            &self.padded
        };
        let err = |e: TractError| run_error(&self.path, format!("{e:#}"));
        let tensor = Tensor::from_shape(&shape, data).map_err(err)?;
        let outputs = self.plan.run(tvec!(tensor.into())).map_err(err)?;
        let values = outputs[self.output_slot].as_slice::<f32>().map_err(err)?;
        if values.len() % self.batch != 0 {
            return Err(run_error(
                &self.path,
                "output size is not a multiple of the batch",
            ));
        }
        let k = values.len() / self.batch;
        out.extend_from_slice(&values[..n * k]);
        Ok(k)
    }
}
