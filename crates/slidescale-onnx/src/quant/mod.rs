//! Static int8 quantization in the QDQ format, on the ONNX protobuf: what
//! `slidescale quantize` writes. The conventions are those of
//! `onnxruntime.quantization.quantize_static(QuantFormat.QDQ,
//! per_channel=True, activation_type=QUInt8, weight_type=QInt8,
//! calibrate_method=MinMax, op_types_to_quantize=QUANTIZED_OPS)`, so that
//! tool serves as an oracle (same nodes, same tensor names, same scales):
//!
//! * Conv weights per output channel (axis 0), symmetric int8 in
//!   [−127, 127], scale max|w|/127, stored as int8 initializers read through
//!   a DequantizeLinear; the bias as int32 with scale input scale × weight
//!   scale, zero point 0.
//! * Activations per tensor, asymmetric uint8 (scale (max − min)/255 of the
//!   range widened to hold 0), as a QuantizeLinear → DequantizeLinear pair on
//!   the Conv's input and output. uint8 activations with int8 weights (U8S8)
//!   is the pairing ONNX Runtime's x86 kernels (MLAS, `vpmaddubsw` /
//!   `vpdpbusd` multiply u8 by s8) run natively; int8 activations are shifted
//!   to uint8 at run time and measured no faster than fp32 on this machine's
//!   AVX2 CPU (docs/fast-modes.md).
//! * A Relu or Clip after a quantized tensor is folded into it (the
//!   producer writes the activation's output, whose calibrated range starts
//!   at its lower bound: the quantization does the clipping); a MaxPool on a
//!   quantized tensor keeps its input's scale and zero point.
//! * Everything else — the global pooling, the classifier's Gemm/MatMul,
//!   the final activation, Concat — stays fp32, reading the dequantized
//!   tensors: the classifier head is the one dense mode rewrites.
//!
//! [`plan`] decides what is quantized and which tensors need a calibrated
//! range; [`calibration_model`] is the model with those tensors as extra
//! outputs; [`quantize`] writes the QDQ model from the ranges.

mod params;
mod rewrite;

use std::collections::{BTreeMap, BTreeSet};

use crate::graph;
use crate::proto::{GraphProto, ModelProto};

pub use params::{activation_params, bias_scale, quantize_bias, quantize_weights, weight_scale};
pub use rewrite::quantize;

/// Ops that only a quantized graph has (QDQ or QOperator form, static or
/// dynamic, whoever wrote it).
const INT8_OPS: [&str; 7] = [
    "QuantizeLinear",
    "DequantizeLinear",
    "DynamicQuantizeLinear",
    "QLinearConv",
    "QLinearMatMul",
    "ConvInteger",
    "MatMulInteger",
];

/// Whether `model` computes in int8 anywhere: how an agreement line names
/// what it compared (`sliding int8`, not `sliding fp32`).
pub fn is_int8(model: &ModelProto) -> bool {
    model.graph.as_ref().is_some_and(|g| {
        g.node
            .iter()
            .any(|n| INT8_OPS.contains(&n.op_type.as_str()))
    })
}

/// The op types quantized (the oracle's `op_types_to_quantize`).
pub const QUANTIZED_OPS: &[&str] = &["Conv", "Relu", "Clip", "MaxPool"];

/// The lowest default-domain opset quantized: per-channel
/// DequantizeLinear (its `axis`) needs 13.
pub const MIN_OPSET: i64 = 13;

/// A tensor to quantize and whose range gives its scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub tensor: String,
    /// The tensor whose scale and zero point it uses: itself, or (a MaxPool
    /// output) its input's.
    pub params_of: String,
}

/// A Conv whose weight (and bias) become int8 (int32).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantConv {
    /// Index in the planned graph.
    pub node: usize,
    pub input: String,
    pub weight: String,
    pub bias: Option<String>,
}

/// What [`quantize`] will do to a model.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The model with the foldable activations folded (a Relu's producer
    /// writes the Relu's output); the graph [`quantize`] rewrites.
    pub(crate) folded: ModelProto,
    pub convs: Vec<QuantConv>,
    /// In the order they are first met.
    pub activations: Vec<Activation>,
    /// Op type and name (or `op#index` when unnamed) of every node
    /// quantized, folded ones included, in graph order.
    pub nodes: Vec<String>,
}

impl Plan {
    /// The tensors whose calibrated (min, max) [`quantize`] needs, sorted.
    pub fn calibrated(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.activations.iter().map(|a| &a.params_of).collect();
        set.into_iter().cloned().collect()
    }
}

/// What is quantized in `model`, or why nothing can be.
pub fn plan(model: &ModelProto) -> Result<Plan, String> {
    let opset = graph::default_opset(model);
    if opset < MIN_OPSET {
        return Err(format!(
            "the model imports opset {opset}; per-channel int8 needs opset ≥ {MIN_OPSET} (export it again with a newer opset)"
        ));
    }
    let mut folded = model.clone();
    let g = folded.graph.as_mut().ok_or("the model has no graph")?;
    let mut p = Planner::default();
    let mut i = 0;
    while i < g.node.len() {
        if p.visit(g, i) {
            i += 1;
        }
    }
    if p.convs.is_empty() {
        return Err(format!(
            "nothing to quantize: no Conv with a constant float 4-D weight (int8 quantizes {})",
            QUANTIZED_OPS.join(", ")
        ));
    }
    let activations = p
        .order
        .iter()
        .map(|t| Activation {
            tensor: t.clone(),
            params_of: p.params_of[t].clone(),
        })
        .collect();
    Ok(Plan {
        folded,
        convs: p.convs,
        activations,
        nodes: p.nodes,
    })
}

/// The planner's state: the tensors registered so far, in order.
#[derive(Default)]
struct Planner {
    order: Vec<String>,
    params_of: BTreeMap<String, String>,
    convs: Vec<QuantConv>,
    nodes: Vec<String>,
}

fn label(g: &GraphProto, i: usize) -> String {
    let n = &g.node[i];
    if n.name.is_empty() {
        format!("{}#{i}", n.op_type)
    } else {
        format!("{} {}", n.op_type, n.name)
    }
}

fn is_graph_input(g: &GraphProto, t: &str) -> bool {
    g.input.iter().any(|v| v.name == t)
}

fn is_graph_output(g: &GraphProto, t: &str) -> bool {
    g.output.iter().any(|v| v.name == t)
}

impl Planner {
    /// Register `t` with its own range (a graph output is left fp32: its
    /// consumers are outside the graph).
    fn register(&mut self, g: &GraphProto, t: &str, params_of: &str) {
        if t.is_empty() || is_graph_output(g, t) || self.params_of.contains_key(t) {
            return;
        }
        self.order.push(t.to_string());
        self.params_of
            .insert(t.to_string(), self.root(params_of).to_string());
    }

    /// The tensor whose range gives `t`'s scale.
    fn root<'a>(&'a self, t: &'a str) -> &'a str {
        self.params_of.get(t).map_or(t, |p| p.as_str())
    }

    fn quantized(&self, t: &str) -> bool {
        self.params_of.contains_key(t)
    }

    fn unregister(&mut self, t: &str) {
        self.params_of.remove(t);
        self.order.retain(|x| x != t);
    }

    /// Plan node `i`; false when it was removed (folded), so the next node
    /// now has index `i`.
    fn visit(&mut self, g: &mut GraphProto, i: usize) -> bool {
        let op = g.node[i].op_type.clone();
        if !g.node[i].domain.is_empty() && g.node[i].domain != "ai.onnx" {
            return true;
        }
        match op.as_str() {
            "Conv" => self.conv(g, i),
            "Relu" | "Clip" => return self.activation(g, i),
            "MaxPool" => self.max_pool(g, i),
            _ => {}
        }
        true
    }

    fn conv(&mut self, g: &GraphProto, i: usize) {
        let n = &g.node[i];
        let weight = n.input.get(1).cloned().unwrap_or_default();
        let float_4d = graph::initializer(g, &weight).is_some_and(|w| {
            let t = &g.initializer[w];
            t.dims.len() == 4 && graph::tensor_f32(t).is_ok()
        });
        if !float_4d {
            return;
        }
        let bias = n
            .input
            .get(2)
            .filter(|b| !b.is_empty())
            .filter(|b| {
                graph::initializer(g, b)
                    .is_some_and(|t| graph::tensor_f32(&g.initializer[t]).is_ok())
            })
            .cloned();
        let (input, output) = (n.input[0].clone(), n.output[0].clone());
        self.register(g, &input, &input);
        self.register(g, &output, &output);
        self.convs.push(QuantConv {
            node: i,
            input,
            weight,
            bias,
        });
        self.nodes.push(label(g, i));
    }

    /// A Relu/Clip on a quantized tensor: folded into its producer when it
    /// is that tensor's only reader, else quantized on both sides.
    fn activation(&mut self, g: &mut GraphProto, i: usize) -> bool {
        let (input, output) = (g.node[i].input[0].clone(), g.node[i].output[0].clone());
        if !self.quantized(&input) {
            return true;
        }
        self.nodes.push(label(g, i));
        let foldable = graph::consumers(g, &input).len() == 1
            && !is_graph_output(g, &input)
            && !is_graph_input(g, &input)
            && !is_graph_output(g, &output)
            && !self.quantized(&output);
        if foldable {
            for n in g.node.iter_mut() {
                for o in n.output.iter_mut().filter(|o| **o == input) {
                    *o = output.clone();
                }
            }
            self.unregister(&input);
            for c in self.convs.iter_mut().filter(|c| c.node > i) {
                c.node -= 1;
            }
            g.node.remove(i);
            self.register(g, &output, &output);
            return false;
        }
        self.register(g, &output, &output);
        true
    }

    /// A MaxPool on a quantized tensor keeps its input's scale.
    fn max_pool(&mut self, g: &GraphProto, i: usize) {
        let (input, output) = (g.node[i].input[0].clone(), g.node[i].output[0].clone());
        if self.quantized(&input) {
            self.register(g, &output, &input);
            self.nodes.push(label(g, i));
        }
    }
}

/// `model` with every tensor of `tensors` that is not a graph input added
/// as an output (a copy: what the calibration runs).
pub fn calibration_model(model: &ModelProto, tensors: &[String]) -> ModelProto {
    let mut m = model.clone();
    if let Some(g) = m.graph.as_mut() {
        for t in tensors {
            if !is_graph_input(g, t) && !is_graph_output(g, t) {
                g.output.push(graph::f32_value_info_unshaped(t));
            }
        }
    }
    m
}

#[cfg(test)]
mod tests;
