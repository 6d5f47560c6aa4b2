//! Writing the QDQ model from a [`Plan`] and calibrated ranges. Names follow
//! the oracle's: `T_scale`, `T_zero_point`, `T_QuantizeLinear_Output`,
//! `T_DequantizeLinear_Output` for an activation `T`; `W_quantized`,
//! `W_scale`, `W_zero_point`, `W_DequantizeLinear_Output` for a weight;
//! `B_quantized`, `B_quantized_scale`, `B_quantized_zero_point` for a bias,
//! whose DequantizeLinear writes `B` itself.

use std::collections::{BTreeMap, BTreeSet};

use super::params::{activation_params, bias_scale, quantize_bias, quantize_weights};
use super::Plan;
use crate::graph;
use crate::proto::tensor_proto::DataType;
use crate::proto::{GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto};

/// The QDQ model of `plan` with activation ranges `ranges` (min, max per
/// tensor of [`Plan::calibrated`]) and `metadata` added to its
/// `metadata_props`.
pub fn quantize(
    plan: &Plan,
    ranges: &BTreeMap<String, (f32, f32)>,
    metadata: &[(String, String)],
) -> Result<ModelProto, String> {
    let mut model = plan.folded.clone();
    let g = model.graph.as_mut().ok_or("the model has no graph")?;
    let mut params: BTreeMap<String, (f32, u8)> = BTreeMap::new();
    for t in plan.calibrated() {
        let &(lo, hi) = ranges
            .get(&t)
            .ok_or_else(|| format!("no calibrated range for tensor {t:?}"))?;
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(format!("tensor {t:?} calibrated to [{lo}, {hi}]"));
        }
        params.insert(t, activation_params(lo, hi));
    }
    let mut front: Vec<NodeProto> = Vec::new();
    let mut new_inits: Vec<TensorProto> = Vec::new();
    let mut weight_scales: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    let mut biases = BTreeSet::new();
    let conv_nodes: BTreeSet<usize> = plan.convs.iter().map(|c| c.node).collect();
    for c in &plan.convs {
        let (input_scale, _) = params[&plan_root(plan, &c.input)];
        if !weight_scales.contains_key(&c.weight) {
            let scales = weight(g, &c.weight, &mut front, &mut new_inits)?;
            weight_scales.insert(c.weight.clone(), scales);
        }
        // a bias another node reads in float stays float
        if let Some(b) = c.bias.as_ref().filter(|b| {
            !biases.contains(*b)
                && graph::consumers(g, b)
                    .iter()
                    .all(|i| conv_nodes.contains(i) && g.node[*i].input.get(2) == Some(*b))
        }) {
            bias(
                g,
                b,
                input_scale,
                &weight_scales[&c.weight],
                &mut front,
                &mut new_inits,
            )?;
            biases.insert(b.clone());
        }
        g.node[c.node].input[1] = format!("{}_DequantizeLinear_Output", c.weight);
    }
    // a float weight another node still reads stays beside its int8 copy
    let mut dropped: BTreeSet<String> = weight_scales
        .into_keys()
        .filter(|w| graph::consumers(g, w).is_empty())
        .collect();
    dropped.extend(biases);
    g.initializer.retain(|t| !dropped.contains(&t.name));
    g.input.retain(|v| !dropped.contains(&v.name));
    for a in &plan.activations {
        if a.tensor == a.params_of {
            let (s, z) = params[&a.tensor];
            new_inits.push(scalar_f32(&format!("{}_scale", a.tensor), s));
            new_inits.push(graph::raw_tensor(
                &format!("{}_zero_point", a.tensor),
                &[],
                DataType::Uint8,
                vec![z],
            ));
        }
    }
    g.initializer.extend(new_inits);
    insert_qdq_pairs(g, plan, front);
    prune_value_info(g);
    model
        .metadata_props
        .extend(metadata.iter().map(|(k, v)| StringStringEntryProto {
            key: k.clone(),
            value: v.clone(),
        }));
    Ok(model)
}

fn plan_root(plan: &Plan, t: &str) -> String {
    plan.activations
        .iter()
        .find(|a| a.tensor == t)
        .map_or_else(|| t.to_string(), |a| a.params_of.clone())
}

fn scalar_f32(name: &str, v: f32) -> TensorProto {
    graph::raw_tensor(name, &[], DataType::Float, v.to_le_bytes().to_vec())
}

fn dequantize(name: &str, inputs: [&str; 3], output: &str, axis: Option<i64>) -> NodeProto {
    let mut n = graph::node("DequantizeLinear", name, &inputs, &[output]);
    if let Some(a) = axis {
        n.attribute.push(graph::int_attr("axis", a));
    }
    n
}

/// Quantize weight `w` per output channel; returns its scales.
fn weight(
    g: &GraphProto,
    w: &str,
    front: &mut Vec<NodeProto>,
    inits: &mut Vec<TensorProto>,
) -> Result<Vec<f32>, String> {
    let t = &g.initializer[graph::initializer(g, w).ok_or("weight vanished")?];
    let values = graph::tensor_f32(t)?;
    let channels = t.dims[0] as usize;
    let (scales, q) = quantize_weights(&values, channels);
    let (qn, sn, zn) = (
        format!("{w}_quantized"),
        format!("{w}_scale"),
        format!("{w}_zero_point"),
    );
    inits.push(graph::raw_tensor(
        &qn,
        &t.dims,
        DataType::Int8,
        q.iter().map(|&v| v as u8).collect(),
    ));
    inits.push(graph::f32_tensor(&sn, &[channels as i64], &scales));
    inits.push(graph::raw_tensor(
        &zn,
        &[channels as i64],
        DataType::Int8,
        vec![0; channels],
    ));
    front.push(dequantize(
        &format!("{w}_DequantizeLinear"),
        [&qn, &sn, &zn],
        &format!("{w}_DequantizeLinear_Output"),
        Some(0),
    ));
    Ok(scales)
}

/// Quantize bias `b` to int32 (scale input × weight); its DequantizeLinear
/// writes the bias's own name, so the Conv reads it unchanged.
fn bias(
    g: &GraphProto,
    b: &str,
    input_scale: f32,
    weight_scales: &[f32],
    front: &mut Vec<NodeProto>,
    inits: &mut Vec<TensorProto>,
) -> Result<(), String> {
    let t = &g.initializer[graph::initializer(g, b).ok_or("bias vanished")?];
    let values = graph::tensor_f32(t)?;
    if values.len() != weight_scales.len() {
        return Err(format!(
            "bias {b:?} has {} values for {} output channels",
            values.len(),
            weight_scales.len()
        ));
    }
    let scales = bias_scale(input_scale, weight_scales);
    let q = quantize_bias(&values, &scales);
    let n = scales.len() as i64;
    let (qn, sn, zn) = (
        format!("{b}_quantized"),
        format!("{b}_quantized_scale"),
        format!("{b}_quantized_zero_point"),
    );
    inits.push(graph::raw_tensor(
        &qn,
        &t.dims,
        DataType::Int32,
        q.iter().flat_map(|v| v.to_le_bytes()).collect(),
    ));
    inits.push(graph::f32_tensor(&sn, &[n], &scales));
    inits.push(graph::raw_tensor(
        &zn,
        &[n],
        DataType::Int32,
        vec![0; 4 * n as usize],
    ));
    front.push(dequantize(
        &format!("{b}_DequantizeLinear"),
        [&qn, &sn, &zn],
        b,
        Some(0),
    ));
    Ok(())
}

/// The Q → DQ pair of every planned activation right after the node that
/// writes it (graph inputs first), its readers rewired to the DQ output;
/// the weight and bias DequantizeLinears (`front`) before everything.
fn insert_qdq_pairs(g: &mut GraphProto, plan: &Plan, front: Vec<NodeProto>) {
    let mut pair_of: BTreeMap<&str, [NodeProto; 2]> = BTreeMap::new();
    for a in &plan.activations {
        let t = a.tensor.as_str();
        let (s, z) = (
            format!("{}_scale", a.params_of),
            format!("{}_zero_point", a.params_of),
        );
        let (qo, dqo) = (
            format!("{t}_QuantizeLinear_Output"),
            format!("{t}_DequantizeLinear_Output"),
        );
        let q = graph::node(
            "QuantizeLinear",
            &format!("{t}_QuantizeLinear"),
            &[t, &s, &z],
            &[&qo],
        );
        let dq = dequantize(&format!("{t}_DequantizeLinear"), [&qo, &s, &z], &dqo, None);
        pair_of.insert(t, [q, dq]);
    }
    for n in g.node.iter_mut() {
        for i in n.input.iter_mut() {
            if pair_of.contains_key(i.as_str()) {
                *i = format!("{i}_DequantizeLinear_Output");
            }
        }
    }
    let mut nodes = front;
    for v in &g.input {
        if let Some(pair) = pair_of.get(v.name.as_str()) {
            nodes.extend(pair.iter().cloned());
        }
    }
    for n in std::mem::take(&mut g.node) {
        let after: Vec<NodeProto> = n
            .output
            .iter()
            .filter_map(|o| pair_of.get(o.as_str()))
            .flat_map(|p| p.iter().cloned())
            .collect();
        nodes.push(n);
        nodes.extend(after);
    }
    g.node = nodes;
}

/// Drop value infos of tensors no node writes any more (a folded Conv's old
/// output).
fn prune_value_info(g: &mut GraphProto) {
    let written: BTreeSet<&str> = g
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(String::as_str))
        .collect();
    g.value_info.retain(|v| written.contains(v.name.as_str()));
}
