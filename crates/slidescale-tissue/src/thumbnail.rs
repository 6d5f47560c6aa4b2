//! The ≈1/32 thumbnail that tissue is segmented on.
//!
//! Size ⌈W/32⌉×⌈H/32⌉, pixel (i, j) is the average of level-0 pixels
//! [32i, 32i+32)×[32j, 32j+32) — exactly 32× with no stretching, so 7
//! thumbnail pixels make one 224-pixel grid cell everywhere on the slide.
//! Pixels past the slide's edge are white. It is read from the most
//! downsampled level whose downsample is ≤ 32
//! (`best_level_for_downsample(32)`), then reduced by an area (box) average
//! with fractional weights at block borders, in blocks of 64×64 output pixels
//! read in parallel so a slide without a pyramid never needs its whole level 0
//! in memory.

use rayon::prelude::*;
use slidescale_core::{RgbImage, THUMB_DOWNSAMPLE};
use slidescale_slide::reduce::read_reduced_region;
use slidescale_slide::{Slide, SlideError};

/// Output pixels per block side (block reads are ≤ 64·32 level pixels wide).
const BLOCK: u32 = 64;

/// A thumbnail and where it came from.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub image: RgbImage,
    /// Pyramid level it was reduced from.
    pub level: usize,
    /// That level's downsample.
    pub level_downsample: f64,
    /// Pixels x < `inside.0`, y < `inside.1` lie wholly on the slide; the
    /// last column and row may be partly white padding.
    pub inside: (u32, u32),
}

/// ⌈W/32⌉×⌈H/32⌉.
pub fn thumbnail_size(width: u64, height: u64) -> (u32, u32) {
    let d = THUMB_DOWNSAMPLE as u64;
    (width.div_ceil(d) as u32, height.div_ceil(d) as u32)
}

/// Read the slide's thumbnail (see the module documentation).
pub fn read_thumbnail(slide: &dyn Slide) -> Result<Thumbnail, SlideError> {
    read_reduced(slide, THUMB_DOWNSAMPLE as f64)
}

/// The whole slide reduced by `factor` (≥ 1) the same way as the thumbnail:
/// ⌈W/factor⌉×⌈H/factor⌉ pixels, each the area average of the level-0 pixels
/// it covers, read from the best level for `factor`. Used for the background
/// of heatmap images.
pub fn read_reduced(slide: &dyn Slide, factor: f64) -> Result<Thumbnail, SlideError> {
    let props = slide.properties();
    let level = props.best_level_for_downsample(factor);
    let downsample = props.levels[level].downsample;
    let tw = (props.width() as f64 / factor).ceil() as u32;
    let th = (props.height() as f64 / factor).ceil() as u32;
    let blocks: Vec<(u32, u32)> = (0..th.div_ceil(BLOCK))
        .flat_map(|by| (0..tw.div_ceil(BLOCK)).map(move |bx| (bx * BLOCK, by * BLOCK)))
        .collect();
    let parts = blocks
        .par_iter()
        .map(|&(x, y)| {
            let w = BLOCK.min(tw - x);
            let h = BLOCK.min(th - y);
            let origin = (x as i64, y as i64);
            read_reduced_region(slide, (level, downsample), factor, origin, (w, h))
                .map(|img| (x, y, img))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut image = RgbImage::white(tw, th);
    for (x, y, part) in parts {
        image.blit(&part, x as i64, y as i64);
    }
    let inside = (
        (props.width() as f64 / factor).floor() as u32,
        (props.height() as f64 / factor).floor() as u32,
    );
    Ok(Thumbnail {
        image,
        level,
        level_downsample: downsample,
        inside,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up() {
        assert_eq!(thumbnail_size(2220, 2967), (70, 93));
        assert_eq!(thumbnail_size(32, 33), (1, 2));
    }
}
