//! WSInfer's model `config.json` (wsinfer-zoo's model-config schema, spec
//! 1.0), read as a [`ModelConfig`] for an ONNX export of such a model:
//! `patch_size_pixels` and `spacing_um_px` give the window and the analysis
//! resolution, `transform` (Resize, ToTensor, Normalize) the input scaling,
//! `class_names` the output columns (`--class` picks one by name), and the
//! output is put through a softmax as WSInfer does (a sigmoid for one class).
//!
//! `Resize(size)` becomes the window `size` at `spacing_um_px ·
//! patch_size_pixels / size` µm/px: slidescale reads the smaller window by an
//! area average where WSInfer reads the patch and resizes it bilinearly, so
//! scores differ slightly (the pixels do; the tissue they see does not).
//! Anything else a config asks for is refused, naming the field.

use serde_json::{Map, Value};

use crate::config::{Activation, ModelConfig};

/// Keys of a WSInfer model config.
const KEYS: [&str; 7] = [
    "spec_version",
    "architecture",
    "num_classes",
    "class_names",
    "patch_size_pixels",
    "spacing_um_px",
    "transform",
];

/// Whether `value` is a WSInfer model config rather than a `MODEL.json`.
pub fn is_wsinfer(value: &Value) -> bool {
    value.get("patch_size_pixels").is_some() && value.get("spacing_um_px").is_some()
}

/// The [`ModelConfig`] a WSInfer config asks for; the error names the field
/// slidescale cannot honour.
pub fn from_wsinfer(value: &Value) -> Result<ModelConfig, String> {
    let obj = value.as_object().ok_or("not a JSON object")?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("{k}: not a field of WSInfer's model config"));
    }
    match obj.get("spec_version").and_then(Value::as_str) {
        Some("1.0") | None => {}
        Some(v) => return Err(format!("spec_version {v:?}: slidescale reads spec 1.0")),
    }
    let patch = positive_int(obj, "patch_size_pixels")?;
    let spacing = obj
        .get("spacing_um_px")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or("spacing_um_px: must be a positive number")?;
    let classes = positive_int(obj, "num_classes")?;
    let names = class_names(obj, classes)?;
    let mut cfg = ModelConfig {
        activation: if classes == 1 {
            Activation::Sigmoid
        } else {
            Activation::Softmax
        },
        class_names: Some(names),
        window: Some(patch),
        mpp: Some(spacing),
        ..ModelConfig::default()
    };
    apply_transforms(obj.get("transform"), patch, spacing, &mut cfg)?;
    Ok(cfg)
}

fn positive_int(obj: &Map<String, Value>, key: &str) -> Result<u32, String> {
    obj.get(key)
        .and_then(Value::as_u64)
        .filter(|&v| v >= 1 && v <= u32::MAX as u64)
        .map(|v| v as u32)
        .ok_or_else(|| format!("{key}: must be a positive integer"))
}

fn class_names(obj: &Map<String, Value>, classes: u32) -> Result<Vec<String>, String> {
    let names: Vec<String> = obj
        .get("class_names")
        .and_then(Value::as_array)
        .ok_or("class_names: must be a list of names")?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<_>>()
        .ok_or("class_names: every name must be a string")?;
    if names.len() != classes as usize {
        return Err(format!(
            "class_names: {} names for num_classes {classes}",
            names.len()
        ));
    }
    Ok(names)
}

/// Resize, then ToTensor, then an optional Normalize: the pipeline
/// WSInfer's configs use.
fn apply_transforms(
    transforms: Option<&Value>,
    patch: u32,
    spacing: f64,
    cfg: &mut ModelConfig,
) -> Result<(), String> {
    let list = transforms
        .and_then(Value::as_array)
        .ok_or("transform: must be a list")?;
    let mut to_tensor = false;
    for (i, t) in list.iter().enumerate() {
        let field = |f: &str| format!("transform[{i}].{f}");
        let name = t.get("name").and_then(Value::as_str).unwrap_or("");
        let args = t.get("arguments");
        match name {
            "Resize" if !to_tensor => {
                let size = resize_size(args).ok_or_else(|| {
                    format!("{}: a square size (one integer)", field("arguments.size"))
                })?;
                cfg.window = Some(size);
                cfg.mpp = Some(spacing * patch as f64 / size as f64);
            }
            "ToTensor" => to_tensor = true,
            "Normalize" if to_tensor => {
                cfg.mean =
                    Some(triple(args, "mean").ok_or_else(|| field("arguments.mean: 3 numbers"))?);
                cfg.std =
                    Some(triple(args, "std").ok_or_else(|| field("arguments.std: 3 numbers"))?);
            }
            "Resize" | "Normalize" => {
                return Err(format!(
                    "{}: {name} in this order is not supported (Resize, ToTensor, Normalize)",
                    field("name")
                ))
            }
            other => {
                return Err(format!(
                    "{}: transform {other:?} is not supported (Resize, ToTensor, Normalize)",
                    field("name")
                ))
            }
        }
    }
    if !to_tensor {
        return Err("transform: no ToTensor (slidescale feeds values scaled to 0–1)".into());
    }
    Ok(())
}

fn resize_size(args: Option<&Value>) -> Option<u32> {
    let size = args?.get("size")?;
    let side = match size {
        Value::Array(v) if v.len() == 2 && v[0] == v[1] => v[0].as_u64()?,
        Value::Array(v) if v.len() == 1 => v[0].as_u64()?,
        v => v.as_u64()?,
    };
    u32::try_from(side).ok().filter(|&s| s > 0)
}

fn triple(args: Option<&Value>, key: &str) -> Option<[f32; 3]> {
    let v = args?.get(key)?.as_array()?;
    if v.len() != 3 {
        return None;
    }
    let f = |i: usize| v[i].as_f64().map(|x| x as f32);
    Some([f(0)?, f(1)?, f(2)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zoo() -> Value {
        // the shape of wsinfer-zoo's breast-tumor-resnet34.tcga-brca config
        json!({
            "spec_version": "1.0",
            "architecture": "resnet34",
            "num_classes": 2,
            "class_names": ["notumor", "tumor"],
            "patch_size_pixels": 350,
            "spacing_um_px": 0.25,
            "transform": [
                {"name": "Resize", "arguments": {"size": 224}},
                {"name": "ToTensor"},
                {"name": "Normalize", "arguments": {"mean": [0.7238, 0.5716, 0.6779],
                                                    "std": [0.1120, 0.1459, 0.1089]}}
            ]
        })
    }

    #[test]
    fn a_zoo_config_becomes_window_resolution_scaling_and_classes() {
        let v = zoo();
        assert!(is_wsinfer(&v));
        let cfg = from_wsinfer(&v).unwrap();
        assert_eq!(cfg.window, Some(224));
        assert!((cfg.mpp.unwrap() - 0.25 * 350.0 / 224.0).abs() < 1e-12);
        assert_eq!(cfg.mean, Some([0.7238, 0.5716, 0.6779]));
        assert_eq!(cfg.activation, Activation::Softmax);
        let mut cfg = cfg;
        cfg.select_class("tumor").unwrap();
        assert_eq!(cfg.column, 1);
        assert!(cfg
            .select_class("lymph")
            .unwrap_err()
            .contains("notumor, tumor"));
        cfg.check().unwrap();
    }

    #[test]
    fn without_resize_the_patch_is_the_window() {
        let mut v = zoo();
        v["transform"] = json!([{"name": "ToTensor"}]);
        let cfg = from_wsinfer(&v).unwrap();
        assert_eq!(
            (cfg.window, cfg.mpp, cfg.mean),
            (Some(350), Some(0.25), None)
        );
    }

    #[test]
    fn what_slidescale_cannot_do_is_refused_naming_the_field() {
        let refused = |edit: &dyn Fn(&mut Value), field: &str| {
            let mut v = zoo();
            edit(&mut v);
            let e = from_wsinfer(&v).unwrap_err();
            assert!(e.contains(field), "{field}: {e}");
        };
        refused(
            &|v| v["transform"][0] = json!({"name": "CenterCrop", "arguments": {"size": 200}}),
            "transform[0].name",
        );
        refused(
            &|v| v["transform"][0]["arguments"]["size"] = json!([224, 200]),
            "transform[0].arguments.size",
        );
        refused(
            &|v| v["transform"] = json!([{"name": "Resize", "arguments": {"size": 224}}]),
            "ToTensor",
        );
        refused(&|v| v["class_names"] = json!(["tumor"]), "class_names");
        refused(&|v| v["spec_version"] = json!("2.0"), "spec_version");
        refused(&|v| v["spacing_um_px"] = json!(-1), "spacing_um_px");
        refused(&|v| v["tta"] = json!(true), "tta");
    }
}
