//! A heatmap as pyramidal TIFF aligned to its slide: the probability map
//! (ASAP's `<slide>_likelihood_map.tif`) and a colour overlay.
//!
//! Level 0 of the TIFF is the slide's level 0 downsampled by an integer `d`
//! and cropped to the slide's extent: `ceil(W / d) × ceil(H / d)` pixels,
//! each `d` level-0 pixels wide, `d × MPP` µm. When a heatmap pixel is a
//! whole number of level-0 pixels, `d` is that number and TIFF pixel
//! (x, y) is heatmap pixel (x, y) exactly. When it is not (a model run at
//! another resolution), `d` is the nearest integer (at least 1) and each
//! TIFF pixel takes the value of the heatmap pixel under its centre
//! (nearest neighbour: every value is still one the `.npy` holds).
//! Levels above 0 halve the previous one; each of their pixels is the mean
//! of the scored pixels below it, no tissue only where none is scored.

use std::path::Path;

use slidescale_viewer::tiff::{level_dimensions, pyramid_levels, write_pyramid, Pyramid, Samples};

use crate::meta::HeatmapMeta;
use crate::render::{viridis, ColourRange};

/// Tile side of the heatmap TIFFs: heatmaps are small next to slides, and a
/// CMU-sized one at stride 16 (139 × 186) is then one tile.
const TILE: usize = 256;

/// How the probability map's samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// The scores as they are; NaN where there is no tissue.
    F32,
    /// `round(255 · t)` of the score's place `t` on the colour range
    /// (0 → 0, 1 → 255 for probabilities); 0 also where there is no tissue,
    /// as ASAP's uint8 likelihood maps have it.
    U8,
}

/// The heatmap laid out on the slide's grid of `d`-pixel squares, every
/// level in memory (a third more than level 0).
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapPyramid {
    /// Level-0 pixels per TIFF level-0 pixel.
    pub downsample: u32,
    /// Level-0 µm per TIFF level-0 pixel, when the slide's MPP is known.
    pub mpp: Option<(f64, f64)>,
    /// Each level's `(width, height, scores)`, level 0 first.
    pub levels: Vec<(usize, usize, Vec<f32>)>,
}

/// The integer downsample of the TIFF's level 0: the level-0 pixels per
/// heatmap pixel, rounded to the nearest integer, at least 1.
pub fn tiff_downsample(meta: &HeatmapMeta) -> u32 {
    integer_downsample(meta.level0_per_pixel())
}

fn integer_downsample(level0_per_pixel: f64) -> u32 {
    level0_per_pixel.round().max(1.0) as u32
}

impl HeatmapPyramid {
    /// The pyramid of the heatmap `values` (row-major, `meta.shape`).
    pub fn new(meta: &HeatmapMeta, values: &[f32]) -> HeatmapPyramid {
        let mpp = match (meta.mpp_x, meta.mpp_y) {
            (Some(x), Some(y)) => Some((x, y)),
            (Some(x), None) => Some((x, x)),
            _ => None,
        };
        Self::build(
            values,
            [meta.shape[0] as usize, meta.shape[1] as usize],
            meta.level0_per_pixel(),
            (meta.level0_width, meta.level0_height),
            mpp,
        )
    }

    /// The pyramid of `values` (`[rows, cols]`, each pixel `p` level-0
    /// pixels a side) over a level 0 of `level0` pixels at `level0_mpp`.
    fn build(
        values: &[f32],
        [rows, cols]: [usize; 2],
        p: f64,
        level0: (u64, u64),
        level0_mpp: Option<(f64, f64)>,
    ) -> HeatmapPyramid {
        let d = integer_downsample(p);
        let w = level0.0.div_ceil(d as u64).max(1) as usize;
        let h = level0.1.div_ceil(d as u64).max(1) as usize;
        // The heatmap pixel under the centre of TIFF pixel i; exactly i when
        // d = p. None past the heatmap (a sidecar whose slide is larger).
        let source = |i: usize, n: usize| {
            let j = ((i as f64 + 0.5) * d as f64 / p).floor() as usize;
            (j < n).then_some(j)
        };
        let xs: Vec<Option<usize>> = (0..w).map(|x| source(x, cols)).collect();
        let mut level0 = Vec::with_capacity(w * h);
        for y in 0..h {
            match source(y, rows) {
                Some(r) => level0.extend(xs.iter().map(|c| match c {
                    Some(c) => values[r * cols + c],
                    None => f32::NAN,
                })),
                None => level0.extend(std::iter::repeat_n(f32::NAN, w)),
            }
        }
        let n_levels = pyramid_levels(w, h, TILE, 1);
        let mut levels = vec![(w, h, level0)];
        for level in 1..n_levels {
            let (pw, ph, prev) = levels.last().expect("level 0 is there");
            let (lw, lh) = level_dimensions(w, h, level);
            levels.push((lw, lh, halve(prev, *pw, *ph, lw, lh)));
        }
        HeatmapPyramid {
            downsample: d,
            mpp: level0_mpp.map(|(x, y)| (x * d as f64, y * d as f64)),
            levels,
        }
    }

    /// Writes the probability map, atomically.
    pub fn write_likelihood(
        &self,
        path: &Path,
        dtype: Dtype,
        range: ColourRange,
    ) -> std::io::Result<()> {
        let samples = match dtype {
            Dtype::F32 => Samples::GrayF32,
            Dtype::U8 => Samples::Gray8,
        };
        self.write(path, samples, |v, out| match dtype {
            Dtype::F32 => out.extend_from_slice(&v.to_le_bytes()),
            Dtype::U8 => out.push(if v.is_nan() {
                0
            } else {
                (range.unit(v) * 255.0).round() as u8
            }),
        })
    }

    /// Writes the colour overlay (RGBA), atomically: the PNG rendering's
    /// colour map, opaque where scored, transparent where there is no
    /// tissue (the viewer sets the overlay's opacity).
    pub fn write_overlay(&self, path: &Path, range: ColourRange) -> std::io::Result<()> {
        self.write(path, Samples::Rgba8, |v, out| {
            if v.is_nan() {
                out.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                let c = viridis(range.unit(v));
                out.extend(c.iter().map(|&k| k.round() as u8));
                out.push(255);
            }
        })
    }

    fn write(
        &self,
        path: &Path,
        samples: Samples,
        pixel: impl Fn(f32, &mut Vec<u8>),
    ) -> std::io::Result<()> {
        let (w, h, _) = &self.levels[0];
        let pyramid = Pyramid {
            width: *w,
            height: *h,
            levels: self.levels.len() as u32,
            tile: TILE,
            samples,
            mpp: self.mpp,
        };
        write_pyramid(path, &pyramid, |level, x0, y0, tw, th| {
            let (lw, _, scores) = &self.levels[level as usize];
            let mut out = Vec::with_capacity(tw * th * samples.bytes_per_pixel());
            for y in y0..y0 + th {
                for &v in &scores[y * lw + x0..y * lw + x0 + tw] {
                    pixel(v, &mut out);
                }
            }
            out
        })
    }
}

/// Level `k + 1` of `prev` (`pw × ph`): each pixel the mean of the scored
/// pixels of its 2×2 block (clipped at the edges), NaN when none is.
fn halve(prev: &[f32], pw: usize, ph: usize, w: usize, h: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (mut sum, mut n) = (0.0f64, 0u32);
            for yy in 2 * y..(2 * y + 2).min(ph) {
                for xx in 2 * x..(2 * x + 2).min(pw) {
                    let v = prev[yy * pw + xx];
                    if !v.is_nan() {
                        sum += v as f64;
                        n += 1;
                    }
                }
            }
            out.push(if n == 0 {
                f32::NAN
            } else {
                (sum / n as f64) as f32
            });
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::meta::HEATMAP_META_VERSION;

    pub(crate) fn meta(shape: [u64; 2], stride: u32, level0: (u64, u64)) -> HeatmapMeta {
        HeatmapMeta {
            format_version: HEATMAP_META_VERSION,
            slidescale_version: String::new(),
            slide: "s".into(),
            source_path: None,
            stride,
            pixel_size: stride as f64,
            shape,
            tile: 224,
            window: 224,
            analysis_downsample: 1.0,
            analysis_level: 0,
            analysis_mpp: None,
            level0_width: level0.0,
            level0_height: level0.1,
            mpp_x: Some(0.25),
            mpp_y: Some(0.5),
            model: None,
            scoring: None,
            npy_crc32: 0,
        }
    }

    #[test]
    fn level_0_is_the_heatmap_cropped_to_the_slide() {
        // a 4×6 heatmap at stride 112 covers 672×448 level-0 pixels; of a
        // 300×200 slide the TIFF is ceil(300/112) × ceil(200/112) = 3×2.
        let values: Vec<f32> = (0..4 * 6).map(|i| i as f32).collect();
        let m = meta([4, 6], 112, (300, 200));
        let p = HeatmapPyramid::new(&m, &values);
        assert_eq!(p.downsample, 112);
        assert_eq!(p.mpp, Some((28.0, 56.0)));
        let (w, h, l0) = &p.levels[0];
        assert_eq!((*w, *h), (3, 2));
        assert_eq!(l0, &vec![0.0, 1.0, 2.0, 6.0, 7.0, 8.0]);
        assert_eq!(p.levels.len(), 1);
    }

    #[test]
    fn a_non_integer_pixel_size_is_sampled_at_the_nearest_integer_downsample() {
        // heatmap pixels of 2.5 level-0 pixels: d = 3, and TIFF pixel x
        // (centre 3x + 1.5) takes heatmap pixel floor((3x + 1.5) / 2.5)
        let values: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let p = HeatmapPyramid::build(&values, [1, 8], 2.5, (20, 2), Some((0.25, 0.5)));
        assert_eq!(p.downsample, 3);
        assert_eq!(p.mpp, Some((0.75, 1.5)));
        let (w, h, l0) = &p.levels[0];
        assert_eq!((*w, *h), (7, 1));
        assert_eq!(l0, &vec![0.0, 1.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    }

    #[test]
    fn reduced_levels_average_scored_pixels_only() {
        let nan = f32::NAN;
        let prev = [0.2, nan, 0.4, nan, nan, nan];
        let out = halve(&prev, 3, 2, 2, 1);
        assert!((out[0] - 0.2).abs() < 1e-7);
        assert!((out[1] - 0.4).abs() < 1e-7);
        assert!(halve(&[nan; 4], 2, 2, 1, 1)[0].is_nan());
    }
}
