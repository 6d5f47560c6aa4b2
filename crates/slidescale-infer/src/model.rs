//! Checking a model's inputs and outputs against what the tool feeds and
//! reads, before any work starts. Backends describe their model's tensors as
//! [`TensorSpec`]s; [`validate`] turns them into a [`ModelInfo`] or an error
//! that names the model and what was found.

use std::path::Path;

use slidescale_core::geometry::{MAX_WINDOW, MIN_WINDOW};

use crate::config::{Activation, Layout, ModelConfig};
use crate::InferError;

/// A model input or output as the backend reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    /// Element type, e.g. "f32", "u8"; only "f32" is usable.
    pub elem: String,
    /// `None` for a dynamic dimension.
    pub dims: Vec<Option<usize>>,
}

/// What the scorer needs to know about a validated model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub input: String,
    pub layout: Layout,
    /// `Some(b)` when the model's batch dimension is fixed: batches are then
    /// exactly `b` windows (the last one padded).
    pub fixed_batch: Option<usize>,
    pub output: String,
    /// Which column of the output row is the score.
    pub column: usize,
    /// W: side of the square window the model takes (its input's, or the
    /// config's `window` for a model whose spatial size is dynamic).
    pub window: u32,
}

fn shape_str(dims: &[Option<usize>]) -> String {
    let d: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", d.join(","))
}

fn unsupported(path: &Path, reason: String) -> InferError {
    InferError::Unsupported {
        path: path.to_path_buf(),
        reason,
    }
}

/// Check the model against the config; see the module doc.
pub fn validate(
    path: &Path,
    cfg: &ModelConfig,
    inputs: &[TensorSpec],
    outputs: &[TensorSpec],
) -> Result<ModelInfo, InferError> {
    let input = pick_input(path, cfg, inputs)?;
    let (layout, fixed_batch, window) = check_input(path, cfg, input)?;
    let output = pick_output(path, cfg, outputs)?;
    check_output(path, cfg, output, fixed_batch)?;
    Ok(ModelInfo {
        input: input.name.clone(),
        layout,
        fixed_batch,
        output: output.name.clone(),
        column: cfg.column,
        window,
    })
}

fn names(specs: &[TensorSpec]) -> String {
    let n: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    n.join(", ")
}

pub(crate) fn pick_input<'a>(
    path: &Path,
    cfg: &ModelConfig,
    inputs: &'a [TensorSpec],
) -> Result<&'a TensorSpec, InferError> {
    match &cfg.input {
        Some(name) => inputs.iter().find(|s| &s.name == name).ok_or_else(|| {
            unsupported(
                path,
                format!("no input named {name:?} (inputs: {})", names(inputs)),
            )
        }),
        None if inputs.len() == 1 => Ok(&inputs[0]),
        None => Err(unsupported(
            path,
            format!(
                "{} inputs ({}); slidescale feeds one image tensor — name it with \"input\" in the model config",
                inputs.len(),
                names(inputs)
            ),
        )),
    }
}

/// The layout to use: the configured one, else read off the shape.
fn detect_layout(cfg: &ModelConfig, dims: &[Option<usize>]) -> Layout {
    cfg.layout.unwrap_or(match (dims[1], dims[3]) {
        (Some(3), _) => Layout::Nchw,
        (_, Some(3)) => Layout::Nhwc,
        _ => Layout::Nchw,
    })
}

/// Layout, fixed batch (if any) and window side of the model's input.
pub(crate) fn check_input(
    path: &Path,
    cfg: &ModelConfig,
    input: &TensorSpec,
) -> Result<(Layout, Option<usize>, u32), InferError> {
    let want = format!(
        "a float32 [N,3,W,W] (NCHW) or [N,W,W,3] (NHWC) image, W from {MIN_WINDOW} to {MAX_WINDOW}"
    );
    let found = format!(
        "input {:?} is {} {}",
        input.name,
        input.elem,
        shape_str(&input.dims)
    );
    if input.elem != "f32" || input.dims.len() != 4 {
        return Err(unsupported(
            path,
            format!("{found}; slidescale feeds {want}"),
        ));
    }
    let layout = detect_layout(cfg, &input.dims);
    let (c, h, w) = match layout {
        Layout::Nchw => (input.dims[1], input.dims[2], input.dims[3]),
        Layout::Nhwc => (input.dims[3], input.dims[1], input.dims[2]),
    };
    let refuse = |why: String| unsupported(path, format!("{found} (read as {layout:?}); {why}"));
    if c.is_some_and(|c| c != 3) {
        return Err(refuse(format!("slidescale feeds {want}")));
    }
    let window = match (h.or(w), cfg.window) {
        _ if h.is_some() && w.is_some() && h != w => {
            return Err(refuse(format!("not square; slidescale feeds {want}")))
        }
        (Some(side), Some(asked)) if side != asked as usize => {
            return Err(refuse(format!(
                "the config's window is {asked}, but the model takes {side}"
            )))
        }
        (Some(side), _) => side,
        (None, Some(asked)) => asked as usize,
        (None, None) => {
            return Err(refuse(
                "its spatial size is dynamic: give the window with --window W \
                 (or \"window\" in the model config)"
                    .into(),
            ))
        }
    };
    if !(MIN_WINDOW as usize..=MAX_WINDOW as usize).contains(&window) {
        return Err(refuse(format!("window {window}; slidescale feeds {want}")));
    }
    if input.dims[0] == Some(0) {
        return Err(unsupported(path, format!("{found}: batch dimension 0")));
    }
    Ok((layout, input.dims[0], window as u32))
}

fn pick_output<'a>(
    path: &Path,
    cfg: &ModelConfig,
    outputs: &'a [TensorSpec],
) -> Result<&'a TensorSpec, InferError> {
    match &cfg.output {
        Some(name) => outputs.iter().find(|s| &s.name == name).ok_or_else(|| {
            unsupported(
                path,
                format!("no output named {name:?} (outputs: {})", names(outputs)),
            )
        }),
        None => outputs.get(cfg.output_index).ok_or_else(|| {
            unsupported(
                path,
                format!(
                    "output index {} out of range ({} outputs: {})",
                    cfg.output_index,
                    outputs.len(),
                    names(outputs)
                ),
            )
        }),
    }
}

fn check_output(
    path: &Path,
    cfg: &ModelConfig,
    out: &TensorSpec,
    fixed_batch: Option<usize>,
) -> Result<(), InferError> {
    let found = format!(
        "output {:?} is {} {}",
        out.name,
        out.elem,
        shape_str(&out.dims)
    );
    let want = "a float32 [N] or [N,k] score tensor";
    if out.elem != "f32" || !(1..=2).contains(&out.dims.len()) {
        return Err(unsupported(
            path,
            format!("{found}; slidescale needs {want}"),
        ));
    }
    if let (Some(b), Some(fb)) = (out.dims[0], fixed_batch) {
        if b != fb {
            return Err(unsupported(
                path,
                format!("{found}: its first dimension is not the batch ({fb})"),
            ));
        }
    }
    let k = if out.dims.len() == 2 {
        out.dims[1]
    } else {
        Some(1)
    };
    if let Some(k) = k {
        if cfg.column >= k {
            return Err(unsupported(
                path,
                format!("{found}: column {} does not exist", cfg.column),
            ));
        }
        if k == 1 && cfg.activation == Activation::Softmax {
            return Err(unsupported(
                path,
                format!("{found}: softmax over a single column is always 1"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, dims: &[i64]) -> TensorSpec {
        TensorSpec {
            name: name.into(),
            elem: "f32".into(),
            dims: dims
                .iter()
                .map(|&d| if d < 0 { None } else { Some(d as usize) })
                .collect(),
        }
    }

    #[test]
    fn shared_model_shapes_are_accepted_as_nchw_dynamic_batch() {
        let cfg = ModelConfig::default();
        let info = validate(
            Path::new("m.onnx"),
            &cfg,
            &[spec("input", &[-1, 3, 224, 224])],
            &[spec("prob", &[-1, 1])],
        )
        .unwrap();
        assert_eq!(info.layout, Layout::Nchw);
        assert_eq!(info.fixed_batch, None);
        assert_eq!(
            (info.input.as_str(), info.output.as_str()),
            ("input", "prob")
        );
    }

    #[test]
    fn nhwc_is_detected_and_fixed_batch_kept() {
        let info = validate(
            Path::new("m.onnx"),
            &ModelConfig::default(),
            &[spec("x", &[1, 224, 224, 3])],
            &[spec("y", &[1, 2])],
        )
        .unwrap();
        assert_eq!(info.layout, Layout::Nhwc);
        assert_eq!(info.fixed_batch, Some(1));
    }

    #[test]
    fn the_window_is_the_models_square_input() {
        let out = [spec("prob", &[-1, 1])];
        let p = Path::new("m.onnx");
        let cfg = ModelConfig::default();
        for side in [32, 96, 299, 1024] {
            let info = validate(p, &cfg, &[spec("input", &[-1, 3, side, side])], &out).unwrap();
            assert_eq!(info.window, side as u32);
        }
        let nhwc = validate(p, &cfg, &[spec("x", &[-1, 96, 96, 3])], &out).unwrap();
        assert_eq!((nhwc.layout, nhwc.window), (Layout::Nhwc, 96));
    }

    #[test]
    fn wrong_size_names_model_and_shape() {
        let out = [spec("prob", &[-1, 1])];
        let p = Path::new("dir/big.onnx");
        let cfg = ModelConfig::default();
        for dims in [[-1, 3, 299, 300], [-1, 3, 16, 16], [-1, 3, 2048, 2048]] {
            let e = validate(p, &cfg, &[spec("input", &dims)], &out)
                .unwrap_err()
                .to_string();
            let shape = format!("[?,3,{},{}]", dims[2], dims[3]);
            assert!(e.contains("dir/big.onnx") && e.contains(&shape), "{e}");
        }
    }

    #[test]
    fn a_dynamic_size_takes_the_configured_window() {
        let out = [spec("prob", &[-1, 1])];
        let p = Path::new("m.onnx");
        let inp = [spec("input", &[-1, 3, -1, -1])];
        let e = validate(p, &ModelConfig::default(), &inp, &out).unwrap_err();
        assert!(e.to_string().contains("--window"), "{e}");
        let cfg = ModelConfig {
            window: Some(128),
            ..ModelConfig::default()
        };
        assert_eq!(validate(p, &cfg, &inp, &out).unwrap().window, 128);
        let fixed = [spec("input", &[-1, 3, 224, 224])];
        let e = validate(p, &cfg, &fixed, &out).unwrap_err();
        assert!(e.to_string().contains("window is 128"), "{e}");
    }

    #[test]
    fn unusable_outputs_are_refused() {
        let inp = [spec("input", &[-1, 3, 224, 224])];
        let p = Path::new("m.onnx");
        let cfg = ModelConfig::default();
        let e = validate(p, &cfg, &inp, &[spec("feat", &[-1, 8, 7, 7])]).unwrap_err();
        assert!(e.to_string().contains("[?,8,7,7]"), "{e}");
        let cfg2 = ModelConfig {
            column: 3,
            ..ModelConfig::default()
        };
        let e = validate(p, &cfg2, &inp, &[spec("prob", &[-1, 2])]).unwrap_err();
        assert!(e.to_string().contains("column 3"), "{e}");
        let mut int_out = spec("prob", &[-1, 1]);
        int_out.elem = "i64".into();
        assert!(validate(p, &cfg, &inp, &[int_out]).is_err());
    }
}
