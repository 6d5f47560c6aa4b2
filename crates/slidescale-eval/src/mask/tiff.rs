//! Evaluation masks as pyramidal tiled TIFF, the form the CAMELYON16
//! challenge distributes them in and OpenSlide reads as "generic-tiff".
//!
//! Written by the one pyramidal BigTIFF writer ([`slidescale_viewer::tiff`]):
//! 8-bit grey deflate tiles of [`TILE_SIZE`]², level `k` being
//! `ceil(width / 2^k) × ceil(height / 2^k)`, every all-zero tile stored once.
//!
//! The reader goes through OpenSlide, exactly as the reference script does.

use std::path::Path;

use slidescale_slide::{OpenSlide, Slide};
use slidescale_viewer::tiff::{write_pyramid, Pyramid, Samples};

use super::MaskError;
use crate::raster::Raster;

pub use slidescale_viewer::tiff::level_dimensions;

/// Width and height of every tile.
pub const TILE_SIZE: usize = 512;

/// How many levels a mask pyramid gets: down to the first level that fits
/// in one tile, and at least `at_least` (the evaluation level + 1, so that
/// the reference can read it).
pub fn pyramid_levels(width: usize, height: usize, at_least: u32) -> u32 {
    slidescale_viewer::tiff::pyramid_levels(width, height, TILE_SIZE, at_least)
}

/// Writes a `levels`-level pyramidal mask TIFF of a `width × height` level 0
/// to `path`, atomically. `window(level, x0, y0, w, h)` gives the `w × h`
/// pixels of `level` whose top-left is (`x0`, `y0`) in that level's pixels
/// (tumour = 255, else 0); it is only asked for windows inside the level.
/// Level `k` is written exactly as `window` gives it, so the evaluation
/// level equals the raster it was computed from.
pub fn write_mask_tiff<F>(
    path: &Path,
    width: usize,
    height: usize,
    levels: u32,
    window: F,
) -> Result<(), MaskError>
where
    F: Fn(u32, usize, usize, usize, usize) -> Raster<u8>,
{
    let pyramid = Pyramid {
        width,
        height,
        levels,
        tile: TILE_SIZE,
        samples: Samples::Gray8,
        // The CAMELYON16 masks carry no resolution; neither do ours.
        mpp: None,
    };
    write_pyramid(path, &pyramid, |level, x0, y0, w, h| {
        let pixels = window(level, x0, y0, w, h);
        assert!(
            pixels.width == w && pixels.height == h,
            "mask window of level {level} at ({x0}, {y0}) is {}x{}, expected {w}x{h}",
            pixels.width,
            pixels.height
        );
        pixels.data
    })
    .map_err(|source| MaskError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads `level` of the mask TIFF at `path` as OpenSlide gives it to the
/// reference script (`read_region((0, 0), level, dims)`, channel 0).
///
/// Errors when the file has no such level, and when it marks tumour with 1
/// instead of 255 (values include 1 but no 255): the reference would find no
/// lesions in it without a word.
pub fn read_mask_tiff(path: &Path, level: u32) -> Result<Raster<u8>, MaskError> {
    let read = |reason: String| MaskError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let slide = OpenSlide::open(path).map_err(|e| read(e.to_string()))?;
    let levels = &slide.properties().levels;
    let Some(dims) = levels.get(level as usize) else {
        return Err(MaskError::MissingLevel {
            path: path.to_path_buf(),
            level,
            levels: levels.len(),
        });
    };
    let (w, h) = (dims.width as u32, dims.height as u32);
    // One read of the whole level, as the reference does: OpenSlide's own
    // splitting of large reads then happens identically.
    let rgb = slide
        .read_region(0, 0, level as usize, w, h)
        .map_err(|e| read(e.to_string()))?;
    let channel0: Vec<u8> = rgb.data.chunks_exact(3).map(|p| p[0]).collect();
    drop(rgb);
    let mask = Raster::from_vec(w as usize, h as usize, channel0);
    refuse_tumour_as_one(path, &mask)?;
    Ok(mask)
}

/// The reference's trap: a mask stored with tumour = 1 yields no lesions.
fn refuse_tumour_as_one(path: &Path, mask: &Raster<u8>) -> Result<(), MaskError> {
    if !mask.data.contains(&255) && mask.data.contains(&1) {
        return Err(MaskError::TumourIsOne {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}
