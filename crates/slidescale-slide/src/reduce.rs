//! Area reduction of a slide region: each output pixel is the average of the
//! level pixels it covers, with fractional weights at its borders (what
//! Pillow's BOX filter and OpenCV's INTER_AREA compute). One implementation
//! for the tissue thumbnail (≈32×) and for analysis pixels read at a
//! resolution no pyramid level has.

use slidescale_core::RgbImage;

use crate::{Slide, SlideError};

/// Output pixels [x, x+w)×[y, y+h) of `slide` reduced by `factor` (level-0
/// pixels per output pixel, ≥ the level's downsample), read from `level`
/// whose downsample is `downsample`. Output pixel i covers level pixels
/// [i·f, (i+1)·f) with f = factor / downsample; `x`, `y` may be negative
/// (outside the slide reads white).
pub fn read_reduced_region(
    slide: &dyn Slide,
    (level, downsample): (usize, f64),
    factor: f64,
    (x, y): (i64, i64),
    (w, h): (u32, u32),
) -> Result<RgbImage, SlideError> {
    let f = factor / downsample;
    let sx0 = (x as f64 * f).floor() as i64;
    let sx1 = ((x + w as i64) as f64 * f).ceil() as i64;
    let sy0 = (y as f64 * f).floor() as i64;
    let sy1 = ((y + h as i64) as f64 * f).ceil() as i64;
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
fn area_weights(start: i64, n: u32, f: f64, origin: i64) -> Vec<Vec<(usize, f64)>> {
    (start..start + n as i64)
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

    #[test]
    fn negative_origins_index_from_the_read_origin() {
        // output pixel -1 at factor 2 covers source pixels -2, -1
        let w = area_weights(-1, 1, 2.0, -2);
        assert_eq!(w[0], vec![(0, 0.5), (1, 0.5)]);
    }
}
