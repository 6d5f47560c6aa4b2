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

/// The heatmap's pixel side in level-0 pixels, the "stride" every
/// evaluation rule works in ([`HeatmapMeta::level0_per_pixel`]: the window
/// stride itself at level 0). Evaluation coarsens heatmaps by whole factors,
/// so a pixel that is not a whole number of level-0 pixels (an analysis
/// resolution that is no integer downsample of level 0) is refused.
pub fn level0_stride(meta: &HeatmapMeta) -> Result<u32, String> {
    let px = meta.level0_per_pixel();
    let whole = px.round();
    if whole >= 1.0 && (px - whole).abs() <= 1e-6 * whole {
        return Ok(whole as u32);
    }
    Err(format!(
        "{}: a heatmap pixel is {px} level-0 pixels, not a whole number; evaluation needs \
         heatmaps at level 0, a pyramid level or an MPP that is an integer downsample of it",
        meta.slide
    ))
}

/// The level-0 µm per pixel evaluation uses for a slide: `forced` when the
/// user gave one (`--mpp`), else the slide's own (the mean of x and y when
/// both are known), else `default` (CAMELYON16's 0.243).
pub fn level0_mpp(meta: &HeatmapMeta, forced: Option<f64>, default: f64) -> f64 {
    if let Some(mpp) = forced {
        return mpp;
    }
    match (meta.mpp_x, meta.mpp_y) {
        (Some(x), Some(y)) => (x + y) / 2.0,
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slidescale_heatmap::NpyHeader;

    #[test]
    fn the_slide_mpp_is_used_unless_the_user_gives_one() {
        let header = NpyHeader {
            shape: vec![14, 28],
            data_offset: 128,
            crc32: Some(1),
            tiles_digest: None,
        };
        let mut meta = HeatmapMeta::assumed(Path::new("s.npy"), &header, 16).unwrap();
        assert_eq!(level0_mpp(&meta, None, 0.243), 0.243);
        meta.mpp_x = Some(0.25);
        assert_eq!(level0_mpp(&meta, None, 0.243), 0.25);
        meta.mpp_y = Some(0.26);
        assert!((level0_mpp(&meta, None, 0.243) - 0.255).abs() < 1e-12);
        assert_eq!(level0_mpp(&meta, Some(0.5), 0.243), 0.5);
    }

    #[test]
    fn a_heatmap_loads_as_a_raster_of_its_shape() {
        let dir = slidescale_testutil::temp_dir("eval-heatmap");
        let npy = dir.join("s.npy");
        let values: Vec<f32> = (0..6).map(|v| v as f32).collect();
        slidescale_heatmap::write_npy_f32(&npy, &[2, 3], &values).unwrap();
        let (meta, raster) = load_heatmap(&npy, Some(32)).unwrap();
        assert_eq!((raster.width, raster.height, raster.get(2, 1)), (3, 2, 5.0));
        assert_eq!((meta.stride, meta.level0_width), (32, 96));
        assert!(load_heatmap(&npy, None).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
