//! The per-model configuration: how to turn window pixels into the model's
//! input tensor and which number of its output is the score.
//!
//! Loaded from `MODEL.json` beside `MODEL.onnx` when present; every field is
//! optional and defaults to what `../shared/models/*.onnx` need (input
//! `input` `[N,3,224,224]` f32 scaled x/255, output `prob` `[N,1]` already
//! through a sigmoid).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::InferError;

/// Memory layout of the model's input tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Layout {
    /// `[N, 3, H, W]` (PyTorch exports).
    Nchw,
    /// `[N, H, W, 3]` (TensorFlow/Keras exports).
    Nhwc,
}

/// What to apply to the selected output before it becomes a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// The output already is a probability (the shared models end in a sigmoid).
    #[default]
    None,
    /// Logistic function of the selected column.
    Sigmoid,
    /// Softmax over the output row, then the selected column.
    Softmax,
}

impl std::str::FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Activation::None),
            "sigmoid" => Ok(Activation::Sigmoid),
            "softmax" => Ok(Activation::Softmax),
            _ => Err(format!("unknown activation {s:?} (none|sigmoid|softmax)")),
        }
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Activation::None => "none",
            Activation::Sigmoid => "sigmoid",
            Activation::Softmax => "softmax",
        })
    }
}

/// Case-insensitive, as the command line takes it.
impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "NCHW" => Ok(Layout::Nchw),
            "NHWC" => Ok(Layout::Nhwc),
            _ => Err(format!("unknown layout {s:?} (NCHW|NHWC)")),
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Nchw => "NCHW",
            Layout::Nhwc => "NHWC",
        })
    }
}

/// How a model is fed and read. All fields are optional in `MODEL.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Name of the input tensor; `None`: the model's only input.
    pub input: Option<String>,
    /// Input layout; `None`: read it from the model's input shape (a
    /// dimension of 3 in position 1 means NCHW, in position 3 NHWC).
    pub layout: Option<Layout>,
    /// Pixel value v (0–255) becomes `(v · scale − mean[c]) / std[c]`.
    pub scale: f32,
    /// Per-channel (R, G, B) mean subtracted after scaling; default 0.
    pub mean: Option<[f32; 3]>,
    /// Per-channel (R, G, B) divisor applied after the mean; default 1.
    pub std: Option<[f32; 3]>,
    /// Output tensor by name; takes precedence over `output_index`.
    pub output: Option<String>,
    /// Output tensor by position (default 0, the first output).
    pub output_index: usize,
    /// Column of an `[N, k]` output that is the score (default 0).
    pub column: usize,
    /// Applied to the output row before the column is taken.
    pub activation: Activation,
    /// W, for a model whose input's spatial size is dynamic (`--window`);
    /// must equal the input's size when that is fixed.
    pub window: Option<u32>,
    /// µm per pixel the model was trained at: the analysis resolution unless
    /// `--mpp` or `--level` says otherwise; `None`: level 0.
    pub mpp: Option<f64>,
    /// Names of the output's columns (WSInfer's `class_names`), so `--class`
    /// can pick the score by name.
    pub class_names: Option<Vec<String>>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            input: None,
            layout: None,
            scale: (1.0f64 / 255.0) as f32,
            mean: None,
            std: None,
            output: None,
            output_index: 0,
            column: 0,
            activation: Activation::None,
            window: None,
            mpp: None,
            class_names: None,
        }
    }
}

impl ModelConfig {
    /// `MODEL.json` beside `MODEL.onnx` (same stem).
    pub fn sidecar_path(model: &Path) -> PathBuf {
        model.with_extension("json")
    }

    /// The config of `model`: `MODEL.json` beside it, else a WSInfer
    /// `config.json` in its directory, else the defaults.
    pub fn for_model(model: &Path) -> Result<ModelConfig, InferError> {
        let path = Self::sidecar_path(model);
        match std::fs::read(&path) {
            Ok(bytes) => return Self::from_json(&bytes, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(InferError::Config {
                    path,
                    reason: e.to_string(),
                })
            }
        }
        let wsinfer = model.with_file_name("config.json");
        if let Ok(bytes) = std::fs::read(&wsinfer) {
            let value: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
            if value.as_ref().is_some_and(crate::wsinfer::is_wsinfer) {
                return Self::from_json(&bytes, &wsinfer);
            }
        }
        Ok(ModelConfig::default())
    }

    /// Parse and check a config, a `MODEL.json` or a WSInfer `config.json`
    /// (told apart by their fields); `path` is only used in error messages.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<ModelConfig, InferError> {
        let bad = |reason: String| InferError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        let cfg: ModelConfig = if crate::wsinfer::is_wsinfer(&value) {
            crate::wsinfer::from_wsinfer(&value).map_err(|e| bad(format!("WSInfer config: {e}")))?
        } else {
            serde_json::from_value(value).map_err(|e| bad(e.to_string()))?
        };
        cfg.check().map_err(bad)?;
        Ok(cfg)
    }

    /// Reject values that would silently produce garbage.
    pub fn check(&self) -> Result<(), String> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(format!(
                "scale must be a positive number, got {}",
                self.scale
            ));
        }
        if let Some(m) = self.mpp {
            if !(m.is_finite() && m > 0.0) {
                return Err(format!("mpp must be a positive number, got {m}"));
            }
        }
        if let Some(names) = &self.class_names {
            if self.column >= names.len() {
                return Err(format!(
                    "column {} but class_names has {} names",
                    self.column,
                    names.len()
                ));
            }
        }
        if let Some(std) = self.std {
            if std.iter().any(|s| !(s.is_finite() && *s != 0.0)) {
                return Err(format!("std must be finite and non-zero, got {std:?}"));
            }
        }
        Ok(())
    }

    /// Take the score from the column named `class` in `class_names`.
    pub fn select_class(&mut self, class: &str) -> Result<(), String> {
        let names = self
            .class_names
            .as_ref()
            .ok_or_else(|| format!("--class {class}: the model config has no class_names"))?;
        self.column = names.iter().position(|n| n == class).ok_or_else(|| {
            format!(
                "--class {class}: not one of the model's classes ({})",
                names.join(", ")
            )
        })?;
        Ok(())
    }

    /// Per channel, the input value of each of the 256 pixel values. Computed
    /// exactly as `(f32(v) * scale - mean) / std` in f32, the same operations
    /// numpy does on a float32 array, so inputs are bit-identical to a Python
    /// reference that scales with `np.float32(scale)`.
    pub fn lookup_table(&self) -> [[f32; 256]; 3] {
        let mut lut = [[0f32; 256]; 3];
        for (c, table) in lut.iter_mut().enumerate() {
            for (v, out) in table.iter_mut().enumerate() {
                let mut x = v as f32 * self.scale;
                if let Some(m) = self.mean {
                    x -= m[c];
                }
                if let Some(s) = self.std {
                    x /= s[c];
                }
                *out = x;
            }
        }
        lut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_gives_the_shared_models_defaults() {
        let cfg = ModelConfig::from_json(b"{}", Path::new("m.json")).unwrap();
        assert_eq!(cfg, ModelConfig::default());
        assert_eq!(cfg.lookup_table()[0][255], 1.0);
        assert_eq!(cfg.lookup_table()[2][0], 0.0);
    }

    #[test]
    fn mean_std_and_activation_parse() {
        let json = br#"{"layout":"NHWC","mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225],
                        "activation":"softmax","column":1,"output":"logits"}"#;
        let cfg = ModelConfig::from_json(json, Path::new("m.json")).unwrap();
        assert_eq!(cfg.layout, Some(Layout::Nhwc));
        assert_eq!(cfg.activation, Activation::Softmax);
        let lut = cfg.lookup_table();
        let expect = (0.0f32 - 0.485) / 0.229;
        assert_eq!(lut[0][0], expect);
    }

    /// Job scripts pass these back to the command line by name.
    #[test]
    fn option_names_round_trip() {
        for a in [Activation::None, Activation::Sigmoid, Activation::Softmax] {
            assert_eq!(a.to_string().parse::<Activation>(), Ok(a));
        }
        for l in [Layout::Nchw, Layout::Nhwc] {
            assert_eq!(l.to_string().parse::<Layout>(), Ok(l));
            assert_eq!(l.to_string().to_lowercase().parse::<Layout>(), Ok(l));
        }
        use crate::BackendChoice;
        for b in [
            BackendChoice::Auto,
            BackendChoice::Ort,
            BackendChoice::Tract,
        ] {
            assert_eq!(b.to_string().parse::<BackendChoice>(), Ok(b));
        }
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_with_the_file_name() {
        let e = ModelConfig::from_json(br#"{"scal": 1}"#, Path::new("x/m.json")).unwrap_err();
        assert!(e.to_string().contains("x/m.json"), "{e}");
        let e = ModelConfig::from_json(br#"{"std":[1,0,1]}"#, Path::new("m.json")).unwrap_err();
        assert!(e.to_string().contains("std"), "{e}");
    }
}
