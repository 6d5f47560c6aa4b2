//! Reinhard et al. (2001), "Color transfer between images": per channel of
//! CIE L*a*b*, shift and scale the tile's mean and standard deviation to the
//! target's. The colour space is the standard CIE 1976 L*a*b* of sRGB (D65
//! white, 2° observer), exactly as `skimage.color.rgb2lab` / `lab2rgb`
//! compute it (not OpenCV's 8-bit LAB, which staintools uses). Statistics are
//! over all pixels (population standard deviation), as in the original.

use serde::{Deserialize, Serialize};

use crate::stains::{enough_tissue, is_tissue, OdModel};

/// Mean and standard deviation of L*, a*, b*.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabStats {
    pub mean: [f64; 3],
    pub std: [f64; 3],
}

/// skimage's `xyz_from_rgb` (sRGB primaries, D65).
const XYZ_FROM_RGB: [[f64; 3]; 3] = [
    [0.412453, 0.357580, 0.180423],
    [0.212671, 0.715160, 0.072169],
    [0.019334, 0.119193, 0.950227],
];
/// D65 reference white, 2° observer.
const WHITE: [f64; 3] = [0.95047, 1.0, 1.08883];

/// The statistics of interleaved RGB pixels, or `None` without tissue.
pub fn estimate(rgb: &[u8]) -> Option<LabStats> {
    tile_lab(rgb).map(|(stats, _)| stats)
}

/// The tile's L*a*b* pixels and their statistics, or `None` without tissue.
fn tile_lab(rgb: &[u8]) -> Option<(LabStats, Vec<[f64; 3]>)> {
    let od = OdModel::macenko();
    let n_tissue = rgb
        .chunks_exact(3)
        .filter(|p| {
            is_tissue(&[
                od.lut[p[0] as usize],
                od.lut[p[1] as usize],
                od.lut[p[2] as usize],
            ])
        })
        .count();
    if !enough_tissue(n_tissue, rgb.len() / 3) {
        return None;
    }
    let lin = srgb_to_linear_lut();
    let lab: Vec<[f64; 3]> = rgb.chunks_exact(3).map(|p| rgb_to_lab(&lin, p)).collect();
    let n = lab.len() as f64;
    let mut mean = [0.0; 3];
    let mut std = [0.0; 3];
    for c in 0..3 {
        mean[c] = lab.iter().map(|p| p[c]).sum::<f64>() / n;
        std[c] = (lab.iter().map(|p| (p[c] - mean[c]).powi(2)).sum::<f64>() / n).sqrt();
    }
    std.iter()
        .all(|s| *s > 0.0)
        .then_some((LabStats { mean, std }, lab))
}

/// Normalise `rgb` in place to `target`; `false` (unchanged) without tissue.
pub fn apply(target: &LabStats, rgb: &mut [u8]) -> bool {
    let Some((src, lab)) = tile_lab(rgb) else {
        return false;
    };
    let rgb_from_xyz = invert3(XYZ_FROM_RGB);
    let encode = GammaEncoder::new();
    for (px, lab) in rgb.chunks_exact_mut(3).zip(lab) {
        let mut out = [0.0; 3];
        for c in 0..3 {
            out[c] = (lab[c] - src.mean[c]) / src.std[c] * target.std[c] + target.mean[c];
        }
        let linear = lab_to_linear_rgb(&rgb_from_xyz, out);
        for c in 0..3 {
            px[c] = encode.to_u8(linear[c]);
        }
    }
    true
}

/// sRGB gamma encoding of a linear value straight to the nearest 8-bit
/// level, by binary search over the 255 linear values where the rounded
/// level changes: the same level as `round(255 · encode(c))` (up to ties at
/// exactly .5), without a `powf` per channel.
struct GammaEncoder {
    /// `edges[k]`: smallest linear value whose level is ≥ k + 1.
    edges: [f64; 255],
}

impl GammaEncoder {
    fn new() -> GammaEncoder {
        let mut edges = [0.0; 255];
        for (k, e) in edges.iter_mut().enumerate() {
            *e = srgb_decode((k as f64 + 0.5) / 255.0);
        }
        GammaEncoder { edges }
    }

    fn to_u8(&self, c: f64) -> u8 {
        self.edges.partition_point(|&e| e <= c) as u8
    }
}

/// sRGB value (0–1) to linear light, skimage's formula.
fn srgb_decode(c: f64) -> f64 {
    if c > 0.04045 {
        ((c + 0.055) / 1.055).powf(2.4)
    } else {
        c / 12.92
    }
}

fn srgb_to_linear_lut() -> [f64; 256] {
    let mut lut = [0.0; 256];
    for (v, out) in lut.iter_mut().enumerate() {
        *out = srgb_decode(v as f64 / 255.0);
    }
    lut
}

fn rgb_to_lab(lin: &[f64; 256], px: &[u8]) -> [f64; 3] {
    let rgb = [
        lin[px[0] as usize],
        lin[px[1] as usize],
        lin[px[2] as usize],
    ];
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let xyz: [f64; 3] =
        [0, 1, 2].map(|i| (0..3).map(|j| XYZ_FROM_RGB[i][j] * rgb[j]).sum::<f64>() / WHITE[i]);
    let (fx, fy, fz) = (f(xyz[0]), f(xyz[1]), f(xyz[2]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// L*a*b* to linear sRGB (before gamma encoding; not clipped).
fn lab_to_linear_rgb(rgb_from_xyz: &[[f64; 3]; 3], lab: [f64; 3]) -> [f64; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = lab[1] / 500.0 + fy;
    // skimage clips negative z to 0 (with a warning)
    let fz = (fy - lab[2] / 200.0).max(0.0);
    let inv = |t: f64| {
        if t > 0.2068966 {
            t * t * t
        } else {
            (t - 16.0 / 116.0) / 7.787
        }
    };
    let xyz = [inv(fx) * WHITE[0], inv(fy) * WHITE[1], inv(fz) * WHITE[2]];
    [0, 1, 2].map(|i| (0..3).map(|j| rgb_from_xyz[i][j] * xyz[j]).sum())
}

/// Inverse of `rgb_to_lab`, gamma-encoded and clipped to [0, 1] like
/// skimage's `lab2rgb`.
#[cfg(test)]
fn lab_to_rgb(rgb_from_xyz: &[[f64; 3]; 3], lab: [f64; 3]) -> [f64; 3] {
    lab_to_linear_rgb(rgb_from_xyz, lab).map(|c| {
        let g = if c > 0.0031308 {
            1.055 * c.powf(1.0 / 2.4) - 0.055
        } else {
            12.92 * c
        };
        g.clamp(0.0, 1.0)
    })
}

fn invert3(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            // cofactor of m[j][i] (transpose for the adjugate)
            let (r0, r1) = ((j + 1) % 3, (j + 2) % 3);
            let (c0, c1) = ((i + 1) % 3, (i + 2) % 3);
            *x = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stains::to_u8;

    #[test]
    fn gamma_encoder_matches_rounding_the_formula() {
        let enc = GammaEncoder::new();
        for i in 0..=20000 {
            let c = i as f64 / 19000.0 - 0.02; // includes < 0 and > 1
            let g = if c > 0.0031308 {
                1.055 * c.powf(1.0 / 2.4) - 0.055
            } else {
                12.92 * c
            };
            let want = to_u8(g.clamp(0.0, 1.0) * 255.0);
            assert_eq!(enc.to_u8(c), want, "linear {c}");
        }
    }

    #[test]
    fn lab_round_trip_and_white() {
        let lin = srgb_to_linear_lut();
        let white = rgb_to_lab(&lin, &[255, 255, 255]);
        assert!(
            (white[0] - 100.0).abs() < 1e-3 && white[1].abs() < 1e-2,
            "{white:?}"
        );
        let inv = invert3(XYZ_FROM_RGB);
        for px in [[12u8, 200, 90], [255, 0, 128], [3, 3, 3], [180, 120, 200]] {
            let back = lab_to_rgb(&inv, rgb_to_lab(&lin, &px));
            for c in 0..3 {
                assert_eq!(to_u8(back[c] * 255.0), px[c], "{px:?} -> {back:?}");
            }
        }
    }
}
