//! Heatmaps in, as evaluation takes them: the `.npy` and its sidecar
//! (`slidescale_heatmap::meta`), checked to belong together, as a
//! [`Raster`].

use std::path::Path;

pub use slidescale_heatmap::{HeatmapMeta, HeatmapReadError};

use crate::raster::Raster;

/// The heatmap `npy` with its description. `stride` stands in for a missing
/// sidecar (see `slidescale_heatmap::read_heatmap`).
pub fn load_heatmap(
    npy: &Path,
    stride: Option<u32>,
) -> Result<(HeatmapMeta, Raster<f32>), HeatmapReadError> {
    let (meta, values) = slidescale_heatmap::read_heatmap(npy, stride)?;
    let [rows, cols] = meta.shape;
    Ok((meta, Raster::from_vec(cols as usize, rows as usize, values)))
}
