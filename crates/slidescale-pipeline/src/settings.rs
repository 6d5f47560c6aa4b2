//! `WORK/run.json`: what the results in a work directory were computed with
//! (model, stride, stain normalisation). Every `process` task checks it, so a
//! resumed or re-submitted run can never mix results of two settings in one
//! heatmap.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slidescale_core::workdir::write_atomic;
use slidescale_core::{Stride, WorkDir};
use thiserror::Error;

/// The settings that change scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// The model file as given (for people; identity is `model_id`).
    pub model: String,
    /// Size and FNV-1a hash of the model's bytes.
    pub model_id: String,
    pub stride: u32,
    /// "none", "macenko", "reinhard" or "vahadane".
    pub stain: String,
    /// The stain target's pixel identity, empty for "none".
    #[serde(default)]
    pub stain_target: String,
}

#[derive(Debug, Error)]
pub enum SettingsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unreadable run settings: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path} holds results computed with {existing}; this asks for {requested}. Use another --out, or --force to discard them")]
    Mismatch {
        path: PathBuf,
        existing: String,
        requested: String,
    },
}

impl RunSettings {
    pub fn new(
        model: &Path,
        stride: Stride,
        stain: &str,
        stain_target: &str,
    ) -> Result<Self, SettingsError> {
        Ok(RunSettings {
            model: model.display().to_string(),
            model_id: file_id(model)?,
            stride: stride.get(),
            stain: stain.to_string(),
            stain_target: stain_target.to_string(),
        })
    }

    pub fn path(work: &WorkDir) -> PathBuf {
        work.settings_path()
    }

    pub fn load(work: &WorkDir) -> Result<Option<RunSettings>, SettingsError> {
        let path = Self::path(work);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| SettingsError::Corrupt {
                    path,
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SettingsError::Io { path, source }),
        }
    }

    /// Record these settings, or check they equal the recorded ones.
    /// `replace` overwrites whatever is recorded (the caller discards old results).
    pub fn ensure(&self, work: &WorkDir, replace: bool) -> Result<(), SettingsError> {
        if !replace {
            if let Some(existing) = Self::load(work)? {
                if existing.same_scores(self) {
                    return Ok(());
                }
                return Err(SettingsError::Mismatch {
                    path: Self::path(work),
                    existing: existing.describe(),
                    requested: self.describe(),
                });
            }
        }
        let path = Self::path(work);
        let text = serde_json::to_string_pretty(self).expect("settings serialise");
        write_atomic(&path, text.as_bytes()).map_err(|source| SettingsError::Io { path, source })
    }

    /// Equal in everything that changes a score (the model's path may differ
    /// between a laptop and a cluster node; its bytes may not).
    fn same_scores(&self, other: &RunSettings) -> bool {
        self.model_id == other.model_id
            && self.stride == other.stride
            && self.stain == other.stain
            && self.stain_target == other.stain_target
    }

    fn describe(&self) -> String {
        format!(
            "model {} ({}), stride {}, stain {}",
            self.model, self.model_id, self.stride, self.stain
        )
    }
}

/// Size and 64-bit FNV-1a hash of a file's bytes.
pub fn file_id(path: &Path) -> Result<String, SettingsError> {
    let bytes = std::fs::read(path).map_err(|source| SettingsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let h = slidescale_core::fnv1a64(&bytes);
    Ok(format!("{} bytes fnv1a64:{h:016x}", bytes.len()))
}
