//! CAMELYON16 evaluation masks and their pyramidal TIFF files.

mod edt;
mod evaluation;
mod fill;
pub mod tiff;

use std::path::PathBuf;
use thiserror::Error;
pub mod rasterise;

use crate::raster::Labels;

pub use evaluation::{
    evaluation_mask, growth_threshold_px, itc_labels, itc_threshold_px, DEFAULT_LEVEL0_MPP,
    DEFAULT_MASK_LEVEL,
};
pub use tiff::{level_dimensions, pyramid_levels, read_mask_tiff, write_mask_tiff, TILE_SIZE};

/// A slide's evaluation mask: lesions labelled 1..=n (8-connected, after
/// growth and hole filling) at a pyramid level, and which labels are
/// isolated tumour cells (neither hit nor false positive).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationMask {
    /// Lesion labels at the mask's level; 0 is not tumour.
    pub labels: Labels,
    /// The pyramid level the mask is at: level-0 coordinates map to mask
    /// pixels by `floor(coordinate / 2^level)`, as the reference script does.
    pub level: u32,
    /// The level-0 resolution the growth and ITC sizes were computed with.
    pub level0_mpp: f64,
    /// Labels of isolated tumour cells, ascending.
    pub itc: Vec<u32>,
}

/// Why a mask TIFF could not be written or read. Every message names the file.
#[derive(Debug, Error)]
pub enum MaskError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot read the mask: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: the mask has no level {level} (it has {levels})")]
    MissingLevel {
        path: PathBuf,
        level: u32,
        levels: usize,
    },
    #[error(
        "{path}: the mask marks tumour with 1, not 255 (the CAMELYON16 convention); \
         the reference would find no lesions in it: rewrite it with tumour = 255"
    )]
    TumourIsOne { path: PathBuf },
}
