//! Dense rewrite of a pooled classifier: a graph that ends in global average
//! (or max) pooling, a linear layer (Gemm, or MatMul + Add) and an optional
//! activation becomes a fully convolutional one — the pooling becomes a
//! stride-1 pooling over the final feature map's window size, the linear
//! layer a 1×1 convolution — so one pass over an image larger than the
//! window scores every window at the network's stride. Anything else is
//! refused with the reason: a global pooling elsewhere (squeeze-excitation)
//! would see the whole image, and an op whose output size this module cannot
//! follow would make the window↔output mapping a guess.

use crate::graph::{self, Dim};
use crate::proto::{GraphProto, ModelProto, NodeProto};

/// Ops that keep the spatial size of their (first non-constant) input.
const SAME_SIZE: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Elu",
    "Selu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Tanh",
    "Clip",
    "Softplus",
    "Erf",
    "Identity",
    "Dropout",
    "BatchNormalization",
    "InstanceNormalization",
    "LRN",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Concat",
    "Sum",
    "Max",
    "Min",
    // an int8 model's (`slidescale quantize`) activation quantize/dequantize pairs
    "QuantizeLinear",
    "DequantizeLinear",
];

/// Ops that mix the whole spatial extent: correct on one window, wrong on a
/// dense pass.
const GLOBAL: &[&str] = &[
    "GlobalAveragePool",
    "GlobalMaxPool",
    "GlobalLpPool",
    "ReduceMean",
    "ReduceMax",
    "ReduceSum",
    "Flatten",
    "Reshape",
    "Gemm",
    "MatMul",
    "Resize",
    "Upsample",
];

/// One spatial op on the path from the input to the pooled feature map, per
/// axis (0: height, 1: width).
#[derive(Debug, Clone, PartialEq)]
struct Spatial {
    kernel: [i64; 2],
    stride: [i64; 2],
    pad_begin: [i64; 2],
    pad_end: [i64; 2],
    ceil: bool,
    /// auto_pad SAME_UPPER / SAME_LOWER: output ⌈in / s⌉.
    same: bool,
}

impl Spatial {
    fn out(&self, axis: usize, n: i64) -> i64 {
        let (k, s) = (self.kernel[axis], self.stride[axis]);
        if self.same {
            return (n + s - 1) / s;
        }
        let span = n + self.pad_begin[axis] + self.pad_end[axis] - k;
        if span < 0 {
            return 0;
        }
        let mut o = if self.ceil {
            (span + s - 1) / s + 1
        } else {
            span / s + 1
        };
        // ONNX/PyTorch ceil mode: the last window must start inside the
        // input or its leading padding.
        if self.ceil && (o - 1) * s >= n + self.pad_begin[axis] {
            o -= 1;
        }
        o
    }
}

/// A model rewritten for dense scoring.
#[derive(Debug, Clone)]
pub struct Dense {
    /// The rewritten model: input `[N, 3, height, width]`, output
    /// `[N, K, rows, cols]` with output (a, b) the score of the window whose
    /// top-left is (b·stride, a·stride) in the input.
    pub model: ModelProto,
    /// The network's total stride along the path to the feature map.
    pub stride: u32,
    /// The final feature map's side for one window (the pooling's kernel).
    pub feature: u32,
    path: Vec<Spatial>,
}

impl Dense {
    /// Outputs per axis (rows, cols) for an input of `height`×`width`.
    pub fn output_size(&self, height: u32, width: u32) -> (u32, u32) {
        let side = |axis: usize, n: u32| {
            let f = self.path.iter().fold(n as i64, |n, op| op.out(axis, n));
            (f - self.feature as i64 + 1).max(0) as u32
        };
        (side(0, height), side(1, width))
    }
}

fn refuse<T>(reason: impl Into<String>) -> Result<T, String> {
    Err(reason.into())
}

/// Rewrite `model` (input tensor `input`, NCHW, W×W windows; score output
/// `output`) for dense scoring, or say why it cannot be.
pub fn convert(
    model: &ModelProto,
    input: &str,
    output: &str,
    window: u32,
) -> Result<Dense, String> {
    let mut model = model.clone();
    let opset = graph::default_opset(&model);
    let graph = model.graph.as_mut().ok_or("the model has no graph")?;
    if let Some(n) = graph
        .node
        .iter()
        .find(|n| !n.domain.is_empty() && n.domain != "ai.onnx")
    {
        return refuse(format!("node {:?} is in domain {:?}", n.name, n.domain));
    }
    let head = Head::find(graph, output, opset)?;
    let feature_map = graph.node[head.pool].input[0].clone();
    let path = spatial_path(graph, input, &feature_map)?;
    if let Some(n) = graph
        .node
        .iter()
        .enumerate()
        .find(|(i, n)| GLOBAL.contains(&n.op_type.as_str()) && !head.nodes().contains(i))
    {
        return refuse(format!(
            "{} node {:?} outside the classifier head would see the whole image, not one window",
            n.1.op_type, n.1.name
        ));
    }
    let side = |axis: usize| path.iter().fold(window as i64, |n, op| op.out(axis, n));
    let (fh, fw) = (side(0), side(1));
    if fh != fw || fh < 1 {
        return refuse(format!("the final feature map for one window is {fh}×{fw}"));
    }
    let stride = path.iter().map(|op| op.stride[0]).product::<i64>();
    if path.iter().any(|op| op.stride[0] != op.stride[1]) {
        return refuse("the network's strides differ between height and width");
    }
    head.rewrite(graph, fh)?;
    set_dynamic_io(graph, input, output)?;
    Ok(Dense {
        model,
        stride: stride as u32,
        feature: fh as u32,
        path,
    })
}

/// The classifier head: activation? ← Gemm | MatMul+Add ← Flatten? ← global pool.
struct Head {
    act: Option<usize>,
    linear: usize,
    /// The MatMul under an Add (`linear` is then the Add).
    matmul: Option<usize>,
    flatten: Option<usize>,
    pool: usize,
}

impl Head {
    fn find(g: &GraphProto, output: &str, opset: i64) -> Result<Head, String> {
        let prod = |name: &str| {
            graph::producer(g, name).ok_or_else(|| format!("no node produces {name:?}"))
        };
        let mut at = prod(output)?;
        let mut act = None;
        match g.node[at].op_type.as_str() {
            "Sigmoid" | "Identity" => act = Some(at),
            "Softmax" => {
                if opset < 13 {
                    return refuse(
                        "Softmax before opset 13 flattens its input; export with opset ≥ 13",
                    );
                }
                act = Some(at);
            }
            _ => {}
        }
        if act.is_some() {
            at = prod(&g.node[at].input[0])?;
        }
        let (linear, matmul) = match g.node[at].op_type.as_str() {
            "Gemm" => (at, None),
            "Add" => {
                let m = g.node[at]
                    .input
                    .iter()
                    .find_map(|i| graph::producer(g, i).filter(|&p| g.node[p].op_type == "MatMul"))
                    .ok_or("the output's Add does not follow a MatMul")?;
                (at, Some(m))
            }
            other => {
                return refuse(format!(
                    "the score output comes from {other}, not a linear layer (Gemm or MatMul+Add) after global pooling"
                ))
            }
        };
        let a = &g.node[matmul.unwrap_or(linear)].input[0];
        let mut at = prod(a)?;
        let mut flatten = None;
        if matches!(
            g.node[at].op_type.as_str(),
            "Flatten" | "Reshape" | "Squeeze"
        ) {
            flatten = Some(at);
            at = prod(&g.node[at].input[0])?;
        }
        if !matches!(
            g.node[at].op_type.as_str(),
            "GlobalAveragePool" | "GlobalMaxPool"
        ) {
            return refuse(format!(
                "the linear layer reads {} {:?}, not GlobalAveragePool or GlobalMaxPool",
                g.node[at].op_type, g.node[at].name
            ));
        }
        Ok(Head {
            act,
            linear,
            matmul,
            flatten,
            pool: at,
        })
    }

    fn nodes(&self) -> Vec<usize> {
        [
            Some(self.linear),
            self.matmul,
            self.flatten,
            Some(self.pool),
        ]
        .into_iter()
        .flatten()
        .chain(self.act)
        .collect()
    }

    /// The linear layer's weights as a 1×1 conv `[K, C]` and its bias `[K]`.
    fn conv_weights(&self, g: &GraphProto) -> Result<(Vec<f32>, usize, usize, Vec<f32>), String> {
        let init = |name: &str| -> Result<(Vec<f32>, Vec<i64>), String> {
            let i = graph::initializer(g, name).ok_or_else(|| {
                format!("the linear layer's {name:?} is not a constant initializer")
            })?;
            let t = &g.initializer[i];
            Ok((graph::tensor_f32(t)?, t.dims.clone()))
        };
        let (w, dims, trans, alpha, beta, bias_name) = match self.matmul {
            None => {
                let n = &g.node[self.linear];
                if graph::attr_int(n, "transA", 0) != 0 {
                    return refuse("Gemm with transA is not a linear layer on pooled features");
                }
                let (w, dims) = init(&n.input[1])?;
                (
                    w,
                    dims,
                    graph::attr_int(n, "transB", 0) != 0,
                    graph::attr_float(n, "alpha", 1.0),
                    graph::attr_float(n, "beta", 1.0),
                    n.input.get(2).cloned().filter(|s| !s.is_empty()),
                )
            }
            Some(m) => {
                let (w, dims) = init(&g.node[m].input[1])?;
                let mm_out = &g.node[m].output[0];
                let bias = g.node[self.linear]
                    .input
                    .iter()
                    .find(|i| *i != mm_out)
                    .cloned();
                (w, dims, false, 1.0, 1.0, bias)
            }
        };
        if dims.len() != 2 {
            return refuse(format!("the linear layer's weight has dims {dims:?}"));
        }
        // [K, C] = transB ? B : Bᵀ
        let (k, c) = if trans {
            (dims[0] as usize, dims[1] as usize)
        } else {
            (dims[1] as usize, dims[0] as usize)
        };
        let mut conv = vec![0f32; k * c];
        for o in 0..k {
            for i in 0..c {
                let v = if trans { w[o * c + i] } else { w[i * k + o] };
                conv[o * c + i] = alpha * v;
            }
        }
        let bias = match bias_name {
            None => vec![0.0; k],
            Some(name) => {
                let (b, _) = init(&name)?;
                match b.len() {
                    1 => vec![beta * b[0]; k],
                    n if n == k => b.iter().map(|v| beta * v).collect(),
                    n => {
                        return refuse(format!(
                            "the linear layer's bias has {n} values for {k} outputs"
                        ))
                    }
                }
            }
        };
        Ok((conv, k, c, bias))
    }

    fn rewrite(&self, g: &mut GraphProto, kernel: i64) -> Result<(), String> {
        let (w, k, c, b) = self.conv_weights(g)?;
        let pool = &mut g.node[self.pool];
        pool.op_type = match pool.op_type.as_str() {
            "GlobalAveragePool" => "AveragePool".into(),
            _ => "MaxPool".into(),
        };
        pool.attribute = vec![
            graph::ints_attr("kernel_shape", &[kernel, kernel]),
            graph::ints_attr("strides", &[1, 1]),
        ];
        let pooled = pool.output[0].clone();
        let out = g.node[self.linear].output[0].clone();
        let name = format!("{}_dense_conv", g.node[self.linear].name);
        let (wn, bn) = (format!("{name}_w"), format!("{name}_b"));
        g.initializer
            .push(graph::f32_tensor(&wn, &[k as i64, c as i64, 1, 1], &w));
        g.initializer.push(graph::f32_tensor(&bn, &[k as i64], &b));
        let conv: NodeProto = graph::node("Conv", &name, &[&pooled, &wn, &bn], &[&out]);
        g.node[self.linear] = conv;
        if let Some(a) = self.act {
            let n = &mut g.node[a];
            if n.op_type == "Softmax" {
                n.attribute = vec![graph::int_attr("axis", 1)];
            }
        }
        let mut drop: Vec<usize> = [self.matmul, self.flatten].into_iter().flatten().collect();
        drop.sort_unstable();
        for i in drop.into_iter().rev() {
            g.node.remove(i);
        }
        Ok(())
    }
}

/// The spatial ops from `input` to `feature_map`, following each node's
/// first non-constant input (every path has the same geometry, or the graph
/// would not be valid).
fn spatial_path(g: &GraphProto, input: &str, feature_map: &str) -> Result<Vec<Spatial>, String> {
    let mut path = Vec::new();
    let mut at = feature_map.to_string();
    while at != input {
        let i = graph::producer(g, &at)
            .ok_or_else(|| format!("tensor {at:?} on the path to the pooling has no producer"))?;
        let n = &g.node[i];
        let op = n.op_type.as_str();
        if op == "Conv" || op == "MaxPool" || op == "AveragePool" {
            path.push(spatial(g, n)?);
        } else if !SAME_SIZE.contains(&op) {
            return refuse(format!(
                "{op} node {:?} on the path to the pooling (dense mode follows only convolutions, pooling and size-keeping ops)",
                n.name
            ));
        }
        at = n
            .input
            .iter()
            .find(|x| !x.is_empty() && graph::initializer(g, x).is_none())
            .cloned()
            .ok_or_else(|| format!("node {:?} reads only constants", n.name))?;
    }
    path.reverse();
    Ok(path)
}

fn spatial(g: &GraphProto, n: &NodeProto) -> Result<Spatial, String> {
    let mut kernel = graph::attr_ints(n, "kernel_shape");
    if kernel.is_empty() && n.op_type == "Conv" {
        let w = graph::initializer(g, &weight_source(g, &n.input[1])).ok_or_else(|| {
            format!(
                "Conv {:?} has no kernel_shape and no constant weight",
                n.name
            )
        })?;
        kernel = g.initializer[w].dims[2..].to_vec();
    }
    if kernel.len() != 2 {
        return refuse(format!("{} {:?} is not 2-D", n.op_type, n.name));
    }
    let two = |v: Vec<i64>, d: i64| -> [i64; 2] {
        if v.len() >= 2 {
            [v[0], v[1]]
        } else {
            [d, d]
        }
    };
    let dil = two(graph::attr_ints(n, "dilations"), 1);
    let pads = graph::attr_ints(n, "pads");
    let (pad_begin, pad_end) = if pads.len() == 4 {
        ([pads[0], pads[1]], [pads[2], pads[3]])
    } else {
        ([0, 0], [0, 0])
    };
    let auto = graph::attr_str(n, "auto_pad");
    Ok(Spatial {
        kernel: [dil[0] * (kernel[0] - 1) + 1, dil[1] * (kernel[1] - 1) + 1],
        stride: two(graph::attr_ints(n, "strides"), 1),
        pad_begin,
        pad_end,
        ceil: graph::attr_int(n, "ceil_mode", 0) != 0,
        same: auto.starts_with("SAME"),
    })
}

/// The initializer a Conv weight comes from: itself, or the quantized
/// weight behind a DequantizeLinear (an int8 model's).
fn weight_source(g: &GraphProto, weight: &str) -> String {
    match graph::producer(g, weight).map(|i| &g.node[i]) {
        Some(n) if n.op_type == "DequantizeLinear" => n.input[0].clone(),
        _ => weight.to_string(),
    }
}

/// Input `[N, 3, height, width]`, output `[N, K, rows, cols]`; intermediate
/// shapes are dropped (they were for one window).
fn set_dynamic_io(g: &mut GraphProto, input: &str, output: &str) -> Result<(), String> {
    let vi = g
        .input
        .iter_mut()
        .find(|v| v.name == input)
        .ok_or_else(|| format!("no graph input {input:?}"))?;
    let dims = graph::value_dims(vi);
    if dims.len() != 4 || dims[1] != Some(3) {
        return refuse(format!(
            "dense mode needs an NCHW input, found dims {dims:?}"
        ));
    }
    *vi = graph::f32_value_info(
        input,
        &[
            Dim::Named("batch".into()),
            Dim::Fixed(3),
            Dim::Named("height".into()),
            Dim::Named("width".into()),
        ],
    );
    // Other outputs (logits, features) would be for one window: only the
    // score is kept.
    g.output.retain(|o| o.name == output);
    let named = |s: &str| Dim::Named(s.into());
    for o in g.output.iter_mut().filter(|o| o.name == output) {
        *o = graph::f32_value_info(
            output,
            &[
                named("batch"),
                named("classes"),
                named("rows"),
                named("cols"),
            ],
        );
    }
    g.value_info.clear();
    Ok(())
}
