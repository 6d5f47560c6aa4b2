//! Small graph-editing vocabulary over the prost messages: find producers
//! and consumers, read and set node attributes, read and build f32
//! initializers, build nodes and value infos. Enough for rewrites that keep
//! the graph's names (dense mode, quantization), not a general IR.

use crate::proto::attribute_proto::AttributeType;
use crate::proto::tensor_proto::DataType;
use crate::proto::tensor_shape_proto::{dimension, Dimension};
use crate::proto::type_proto;
use crate::proto::{
    AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// Index of the node that produces tensor `name`.
pub fn producer(graph: &GraphProto, name: &str) -> Option<usize> {
    graph
        .node
        .iter()
        .position(|n| n.output.iter().any(|o| o == name))
}

/// Indices of the nodes that read tensor `name`.
pub fn consumers(graph: &GraphProto, name: &str) -> Vec<usize> {
    (0..graph.node.len())
        .filter(|&i| graph.node[i].input.iter().any(|x| x == name))
        .collect()
}

/// The attribute `name` of `node`.
pub fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// An integer attribute, or `default`.
pub fn attr_int(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map_or(default, |a| a.i)
}

/// A float attribute, or `default`.
pub fn attr_float(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map_or(default, |a| a.f)
}

/// An integer-list attribute (empty when absent).
pub fn attr_ints(node: &NodeProto, name: &str) -> Vec<i64> {
    attr(node, name).map_or_else(Vec::new, |a| a.ints.clone())
}

/// A string attribute ("" when absent).
pub fn attr_str(node: &NodeProto, name: &str) -> String {
    attr(node, name).map_or_else(String::new, |a| String::from_utf8_lossy(&a.s).into_owned())
}

/// An INT attribute.
pub fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

/// An INTS attribute.
pub fn ints_attr(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

/// A node in the default domain.
pub fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Index of initializer `name`.
pub fn initializer(graph: &GraphProto, name: &str) -> Option<usize> {
    graph.initializer.iter().position(|t| t.name == name)
}

/// The values of an f32 tensor (raw or typed storage), or why not.
pub fn tensor_f32(t: &TensorProto) -> Result<Vec<f32>, String> {
    if t.data_type != DataType::Float as i32 {
        return Err(format!("tensor {:?} is not float32", t.name));
    }
    if t.data_location == Some(1) {
        return Err(format!(
            "tensor {:?} is stored outside the model file",
            t.name
        ));
    }
    let n: i64 = t.dims.iter().product();
    let v: Vec<f32> = if !t.raw_data.is_empty() {
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        t.float_data.clone()
    };
    if v.len() as i64 != n {
        return Err(format!(
            "tensor {:?} holds {} values for dims {:?}",
            t.name,
            v.len(),
            t.dims
        ));
    }
    Ok(v)
}

/// An f32 tensor named `name` of shape `dims` (little-endian raw data).
pub fn f32_tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    debug_assert_eq!(dims.iter().product::<i64>() as usize, values.len());
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

/// One dimension of a shape: a size or a symbolic name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    Named(String),
}

/// A float32 tensor's value info with shape `dims`.
pub fn f32_value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            denotation: String::new(),
            value: Some(match d {
                Dim::Fixed(v) => dimension::Value::DimValue(*v),
                Dim::Named(s) => dimension::Value::DimParam(s.clone()),
            }),
        })
        .collect();
    f32_value(name, Some(TensorShapeProto { dim }))
}

fn f32_value(name: &str, shape: Option<TensorShapeProto>) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            denotation: String::new(),
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape,
            })),
        }),
        doc_string: String::new(),
    }
}

/// The dims of a value info (`None` for a symbolic or missing one).
pub fn value_dims(v: &ValueInfoProto) -> Vec<Option<i64>> {
    match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t.shape.as_ref().map_or_else(Vec::new, |s| {
            s.dim
                .iter()
                .map(|d| match d.value {
                    Some(dimension::Value::DimValue(v)) => Some(v),
                    _ => None,
                })
                .collect()
        }),
        None => Vec::new(),
    }
}

/// A tensor of `data_type` and shape `dims` (`[]`: a scalar) from its
/// little-endian bytes.
pub fn raw_tensor(name: &str, dims: &[i64], data_type: DataType, raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: data_type as i32,
        raw_data: raw,
        ..Default::default()
    }
}

/// A float32 value info of unknown shape (an extra output whose shape
/// ONNX Runtime infers).
pub fn f32_value_info_unshaped(name: &str) -> ValueInfoProto {
    f32_value(name, None)
}

/// A model of `graph` importing the default opset `opset` (models built in
/// code: tests' small graphs).
pub fn model_of(graph: GraphProto, opset: i64) -> crate::ModelProto {
    crate::ModelProto {
        ir_version: 8,
        opset_import: vec![crate::proto::OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(graph),
        ..Default::default()
    }
}

/// The default-domain opset the model imports (1 when none is listed).
pub fn default_opset(model: &crate::ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version)
}
