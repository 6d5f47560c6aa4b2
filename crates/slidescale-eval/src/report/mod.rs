//! The stride trade-off report: data in, files out.
//!
//! Two tables in the shape of the paper's (Li, Mikailov & Chen 2023):
//! Table IV, slide-level AUC with its 95% CI per stride
//! (`auc_by_stride.{md,csv,json}`), and Table V, lesion-level sensitivity
//! at 1/4 … 8 average false positives per slide and the FROC score per
//! stride (`froc_by_stride.{md,csv,json}`); and two PNGs with every
//! stride's curve on the same axes (`froc_curves.png`, `roc_curves.png`).
//! Each file says how the coarser strides were made (the downsampling
//! method) and, for AUC, how the CI was computed.

mod plot;
mod tables;

use std::path::{Path, PathBuf};

use serde::Serialize;
use slidescale_core::workdir::write_atomic;
use thiserror::Error;

use crate::strides::Downsample;

pub use plot::{froc_png, roc_png, PlotSize, STRIDE_COLOURS};
pub use tables::{auc_csv, auc_json, auc_markdown, froc_csv, froc_json, froc_markdown};

/// Average false positives per slide at which Table V gives sensitivities.
pub const FROC_FPS: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// What the evaluation found at one stride.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrideResult {
    pub stride: u32,
    /// (average FPs per slide, sensitivity), in increasing FPs.
    pub froc_curve: Vec<(f64, f64)>,
    /// Sensitivity at each of [`FROC_FPS`].
    pub froc_at: [f64; 6],
    /// Mean of `froc_at`.
    pub froc_score: f64,
    /// (false-positive rate, true-positive rate), in increasing FPR.
    pub roc_curve: Vec<(f64, f64)>,
    pub auc: f64,
    /// 95% confidence interval of the AUC.
    pub ci: (f64, f64),
}

/// The whole trade-off: the results at each stride and how they were made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeOff {
    /// Stride of the heatmaps as scored; coarser strides are downsampled.
    pub source_stride: u32,
    pub downsample: Downsample,
    /// How the AUC's CI was computed, e.g. "DeLong".
    pub ci_method: String,
    /// In increasing stride.
    pub results: Vec<StrideResult>,
    /// Slides of the cohort that failed and are not in the tables.
    pub excluded: Vec<String>,
}

impl TradeOff {
    /// How the heatmaps at `stride` were made, as the tables say it.
    pub fn made_by(&self, stride: u32) -> &'static str {
        if stride == self.source_stride {
            "none"
        } else {
            self.downsample.name()
        }
    }

    /// The sentence every table carries about the coarser strides.
    pub fn downsample_note(&self) -> String {
        let mut note = format!(
            "Strides other than {} made from the stride-{} heatmaps by {} (k = stride / {}).",
            self.source_stride,
            self.source_stride,
            self.downsample.description(),
            self.source_stride
        );
        if !self.excluded.is_empty() {
            note.push_str(&format!(
                " Not in these tables ({} slides failed): {}.",
                self.excluded.len(),
                self.excluded.join(", ")
            ));
        }
        note
    }
}

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot encode the PNG: {reason}")]
    Png { path: PathBuf, reason: String },
}

/// File names of the report in its directory.
pub const AUC_TABLE: &str = "auc_by_stride";
pub const FROC_TABLE: &str = "froc_by_stride";
pub const FROC_PNG: &str = "froc_curves.png";
pub const ROC_PNG: &str = "roc_curves.png";

/// Write the tables and plots of `trade_off` into `dir` (atomically, each
/// file); the paths written.
pub fn write_report(dir: &Path, trade_off: &TradeOff) -> Result<Vec<PathBuf>, ReportError> {
    let texts = [
        (format!("{AUC_TABLE}.md"), auc_markdown(trade_off)),
        (format!("{AUC_TABLE}.csv"), auc_csv(trade_off)),
        (format!("{AUC_TABLE}.json"), auc_json(trade_off)),
        (format!("{FROC_TABLE}.md"), froc_markdown(trade_off)),
        (format!("{FROC_TABLE}.csv"), froc_csv(trade_off)),
        (format!("{FROC_TABLE}.json"), froc_json(trade_off)),
    ];
    let mut written = Vec::new();
    for (name, text) in texts {
        written.push(write_file(&dir.join(name), text.as_bytes())?);
    }
    let size = PlotSize::default();
    for (name, png) in [
        (FROC_PNG, froc_png(trade_off, size)),
        (ROC_PNG, roc_png(trade_off, size)),
    ] {
        let path = dir.join(name);
        let bytes = png.map_err(|reason| ReportError::Png {
            path: path.clone(),
            reason,
        })?;
        written.push(write_file(&path, &bytes)?);
    }
    Ok(written)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    write_atomic(path, bytes).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests;
