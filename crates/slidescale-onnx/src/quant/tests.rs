use super::*;
use crate::graph::Dim;
use crate::proto::{NodeProto, OperatorSetIdProto};

fn conv(g: &mut GraphProto, name: &str, x: &str, cin: i64, cout: i64) -> String {
    let (w, b) = (format!("{name}_w"), format!("{name}_b"));
    let n = (cout * cin * 9) as usize;
    let vals: Vec<f32> = (0..n)
        .map(|i| ((i * 37 % 17) as f32 - 8.0) / 10.0)
        .collect();
    g.initializer
        .push(graph::f32_tensor(&w, &[cout, cin, 3, 3], &vals));
    g.initializer
        .push(graph::f32_tensor(&b, &[cout], &vec![0.25; cout as usize]));
    g.node
        .push(graph::node("Conv", name, &[x, &w, &b], &[name]));
    name.to_string()
}

fn relu(g: &mut GraphProto, x: &str) -> String {
    let out = format!("{x}_relu");
    g.node.push(NodeProto {
        ..graph::node("Relu", "", &[x], &[&out])
    });
    out
}

/// input → conv a → relu → maxpool → conv b → relu → GAP → Gemm → Sigmoid
fn tiny(opset: i64) -> ModelProto {
    let mut g = GraphProto::default();
    g.input.push(graph::f32_value_info(
        "input",
        &[
            Dim::Named("N".into()),
            Dim::Fixed(3),
            Dim::Fixed(8),
            Dim::Fixed(8),
        ],
    ));
    let a = conv(&mut g, "a", "input", 3, 4);
    let a = relu(&mut g, &a);
    g.node.push(graph::node("MaxPool", "mp", &[&a], &["mp"]));
    let b = conv(&mut g, "b", "mp", 4, 2);
    let b = relu(&mut g, &b);
    g.node
        .push(graph::node("GlobalAveragePool", "gap", &[&b], &["gap"]));
    g.initializer
        .push(graph::f32_tensor("fc_w", &[1, 2], &[1.0, -1.0]));
    g.node
        .push(graph::node("Gemm", "fc", &["gap", "fc_w"], &["logit"]));
    g.node
        .push(graph::node("Sigmoid", "s", &["logit"], &["prob"]));
    g.output.push(graph::f32_value_info(
        "prob",
        &[Dim::Named("N".into()), Dim::Fixed(1)],
    ));
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(g),
        ..Default::default()
    }
}

#[test]
fn relus_fold_maxpool_shares_and_the_head_stays_float() {
    let p = plan(&tiny(17)).unwrap();
    let acts: Vec<(&str, &str)> = p
        .activations
        .iter()
        .map(|a| (a.tensor.as_str(), a.params_of.as_str()))
        .collect();
    assert_eq!(
        acts,
        [
            ("input", "input"),
            ("a_relu", "a_relu"),
            ("mp", "a_relu"),
            ("b_relu", "b_relu")
        ]
    );
    assert_eq!(p.calibrated(), ["a_relu", "b_relu", "input"]);
    assert_eq!(p.convs.len(), 2);
    let ranges: BTreeMap<String, (f32, f32)> = [
        ("input".to_string(), (-1.0f32, 1.0f32)),
        ("a_relu".to_string(), (0.0, 5.1)),
        ("b_relu".to_string(), (0.0, 2.55)),
    ]
    .into_iter()
    .collect();
    let q = quantize(&p, &ranges, &[("k".into(), "v".into())]).unwrap();
    assert!(is_int8(&q) && !is_int8(&tiny(17)));
    let g = q.graph.as_ref().unwrap();
    let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    assert!(!ops.contains(&"Relu"), "{ops:?}");
    assert_eq!(ops.iter().filter(|o| **o == "QuantizeLinear").count(), 4);
    // weights and biases: 2 + 2 DQs, activations 4
    assert_eq!(ops.iter().filter(|o| **o == "DequantizeLinear").count(), 8);
    let gap = g
        .node
        .iter()
        .find(|n| n.op_type == "GlobalAveragePool")
        .unwrap();
    assert_eq!(gap.input[0], "b_relu_DequantizeLinear_Output");
    assert!(graph::initializer(g, "fc_w").is_some());
    assert!(graph::initializer(g, "a_w").is_none() && graph::initializer(g, "a_b").is_none());
    let zp = &g.initializer[graph::initializer(g, "input_zero_point").unwrap()];
    assert_eq!(zp.raw_data, vec![128]); // round(1 / (2/255)) = round(127.5) = 128
    assert_eq!(q.metadata_props[0].key, "k");
    // every node input is written before it is read
    let mut known: BTreeSet<String> = g.initializer.iter().map(|t| t.name.clone()).collect();
    known.insert("input".into());
    for n in &g.node {
        for i in &n.input {
            assert!(
                known.contains(i),
                "{} reads {i} before it is written",
                n.name
            );
        }
        known.extend(n.output.iter().cloned());
    }
}

#[test]
fn old_opsets_and_models_without_convs_are_refused() {
    assert!(plan(&tiny(11)).unwrap_err().contains("opset"));
    let mut m = tiny(17);
    let g = m.graph.as_mut().unwrap();
    g.node.retain(|n| n.op_type != "Conv");
    assert!(plan(&m).unwrap_err().contains("nothing to quantize"));
}

#[test]
fn scales_follow_the_oracle() {
    assert_eq!(activation_params(0.0, 0.0), (1.0, 0));
    let (s, z) = activation_params(0.5, 2.55); // widened to [0, 2.55]
    assert_eq!((s, z), ((2.55f32 as f64 / 255.0) as f32, 0));
    let (s, q) = quantize_weights(&[0.5, -1.27, 0.0, 0.0, 0.0, 0.0], 3);
    assert_eq!(s, [(2.0 * 1.27f32 as f64 / 254.0) as f32, 1.0, 1.0]);
    assert_eq!(q, [50, -127, 0, 0, 0, 0]);
    assert_eq!(quantize_bias(&[1.0, -2.5], &[0.5, 1.0]), [2, -2]);
}

#[test]
fn calibration_adds_outputs_but_not_inputs() {
    let m = calibration_model(&tiny(17), &["input".into(), "a_relu".into()]);
    let outs: Vec<&str> = m
        .graph
        .as_ref()
        .unwrap()
        .output
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(outs, ["prob", "a_relu"]);
}
