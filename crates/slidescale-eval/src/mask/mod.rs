//! CAMELYON16 evaluation masks and their pyramidal TIFF files.

pub mod rasterise;

use crate::raster::Labels;

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
