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
            read_block(slide, (level, downsample), factor, (x, y), (w, h)).map(|img| (x, y, img))
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

/// Output pixels [x, x+w)×[y, y+h) of the image reduced by `factor`, read
/// from `level` (whose downsample is the second field).
fn read_block(
    slide: &dyn Slide,
    (level, downsample): (usize, f64),
    factor: f64,
    (x, y): (u32, u32),
    (w, h): (u32, u32),
) -> Result<RgbImage, SlideError> {
    // Output pixel i covers level pixels [i·f, (i+1)·f).
    let f = factor / downsample;
    let sx0 = (x as f64 * f).floor() as i64;
    let sx1 = ((x + w) as f64 * f).ceil() as i64;
    let sy0 = (y as f64 * f).floor() as i64;
    let sy1 = ((y + h) as f64 * f).ceil() as i64;
    let src = slide.read_region(
        (sx0 as f64 * downsample).round() as i64,
        (sy0 as f64 * downsample).round() as i64,
        level,
        (sx1 - sx0) as u32,
        (sy1 - sy0) as u32,
    )?;
    let wx = area_weights(x, w, f, sx0);
    let wy = area_weights(y, h, f, sy0);
    Ok(area_reduce(&src, &wx, &wy))
}

/// For each output pixel, the source pixels it overlaps (relative to
/// `origin`) with their weights, which sum to 1.
fn area_weights(start: u32, n: u32, f: f64, origin: i64) -> Vec<Vec<(usize, f64)>> {
    (start..start + n)
        .map(|i| {
            let a = i as f64 * f;
            let b = (i + 1) as f64 * f;
            (a.floor() as i64..b.ceil() as i64)
                .map(|j| {
                    let overlap = (b.min((j + 1) as f64) - a.max(j as f64)).max(0.0);
                    ((j - origin) as usize, overlap / f)
                })
                .filter(|&(_, wgt)| wgt > 0.0)
                .collect()
        })
        .collect()
}

/// Separable weighted average: rows first (into f64), then columns.
fn area_reduce(src: &RgbImage, wx: &[Vec<(usize, f64)>], wy: &[Vec<(usize, f64)>]) -> RgbImage {
    let sw = src.width as usize;
    let ow = wx.len();
    let horizontal: Vec<f64> = (0..src.height as usize)
        .flat_map(|sy| {
            let row = &src.data[sy * sw * 3..(sy + 1) * sw * 3];
            wx.iter().flat_map(move |taps| {
                let mut acc = [0f64; 3];
                for &(sx, wgt) in taps {
                    for (ch, a) in acc.iter_mut().enumerate() {
                        *a += row[sx * 3 + ch] as f64 * wgt;
                    }
                }
                acc
            })
        })
        .collect();
    let mut out = RgbImage::white(ow as u32, wy.len() as u32);
    for (oy, taps) in wy.iter().enumerate() {
        for ox in 0..ow {
            for ch in 0..3 {
                let v: f64 = taps
                    .iter()
                    .map(|&(sy, wgt)| horizontal[(sy * ow + ox) * 3 + ch] * wgt)
                    .sum();
                out.data[(oy * ow + ox) * 3 + ch] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up() {
        assert_eq!(thumbnail_size(2220, 2967), (70, 93));
        assert_eq!(thumbnail_size(32, 33), (1, 2));
    }

    #[test]
    fn integer_factor_is_a_plain_block_mean() {
        // 4×2 source, factor 2 → 2×1; block means (0+2+4+6)/4 = 3, etc.
        let data: Vec<u8> = (0..8u8).flat_map(|v| [v, v, v]).collect();
        let src = RgbImage::from_raw(4, 2, data);
        let wx = area_weights(0, 2, 2.0, 0);
        let wy = area_weights(0, 1, 2.0, 0);
        let out = area_reduce(&src, &wx, &wy);
        assert_eq!(out.pixel(0, 0), [3, 3, 3]); // (0+1+4+5)/4 = 2.5 → 3
        assert_eq!(out.pixel(1, 0), [5, 5, 5]); // (2+3+6+7)/4 = 4.5 → 5
    }

    #[test]
    fn fractional_factor_weights_partial_pixels() {
        let w = area_weights(0, 2, 1.5, 0);
        assert_eq!(w[0], vec![(0, 1.0 / 1.5), (1, 0.5 / 1.5)]);
        assert_eq!(w[1], vec![(1, 0.5 / 1.5), (2, 1.0 / 1.5)]);
    }
}
