//! The shared models read, rewrite for dense mode and survive a
//! write/read round trip (ONNX Runtime running them is tested in
//! slidescale-infer).

use slidescale_onnx::{decode, dense, encode, read};
use slidescale_testutil::shared;

#[test]
fn the_shared_classifiers_become_dense() {
    // GoogLeNet: five stride-2 stages, 7×7 final map for 224 px; smallcnn
    let cases = [("googlenet.onnx", 32, 7), ("smallcnn.onnx", 16, 14)];
    for (file, stride, feature) in cases {
        let model = read(&shared(&format!("models/{file}"))).unwrap();
        let g = model.graph.as_ref().unwrap();
        let (input, output) = (g.input[0].name.clone(), g.output[0].name.clone());
        let d = dense::convert(&model, &input, &output, 224).unwrap();
        assert_eq!((d.stride, d.feature), (stride, feature), "{file}");
        // 448 px: (448 − 224) / P + 1 windows per axis
        let n = (448 - 224) / stride + 1;
        assert!(d.output_size(448, 448).0 >= n, "{file}");
        let ops: Vec<&str> = d
            .model
            .graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .map(|n| n.op_type.as_str())
            .collect();
        assert!(
            !ops.iter()
                .any(|o| o.starts_with("Global") || *o == "Gemm" || *o == "Flatten"),
            "{file}: {ops:?}"
        );
        assert_eq!(decode(&encode(&d.model)).unwrap(), d.model);
    }
}
