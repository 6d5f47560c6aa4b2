//! What Macenko and Vahadane share: optical density, the tissue mask, and
//! turning a two-stain model of a tile into the target's colours.
//!
//! A tile is modelled per pixel as OD = c_H·h + c_E·e with unit stain
//! vectors h, e (rows of [`StainParams::stains`]). Normalising keeps the
//! tile's concentrations, rescaled so that their 99th percentile over tissue
//! pixels matches the target's, and re-colours them with the target's stain
//! vectors.

use serde::{Deserialize, Serialize};

use crate::linalg::percentile;

/// Pixels whose optical density is below this in any channel are background
/// (Macenko et al. 2009, β = 0.15).
pub const OD_THRESHOLD: f64 = 0.15;

/// A tile with fewer tissue pixels than this fraction (or than
/// [`MIN_TISSUE_PIXELS`]) is left unchanged: its stains cannot be estimated.
pub const MIN_TISSUE_FRACTION: f64 = 0.01;
pub const MIN_TISSUE_PIXELS: usize = 64;

/// Percentile of concentrations taken as the stain's maximum (robust max).
pub const MAX_CONC_PERCENTILE: f64 = 99.0;

/// Two unit stain vectors in OD space (row 0 hematoxylin, row 1 eosin) and
/// the robust maximum concentration of each.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StainParams {
    pub stains: [[f64; 3]; 2],
    pub max_conc: [f64; 2],
}

/// How pixel values map to optical density and back.
#[derive(Debug, Clone, Copy)]
pub struct OdModel {
    /// Per pixel value, its optical density.
    pub lut: [f64; 256],
    /// Background intensity I₀ used to go back: v = I₀·exp(−OD).
    pub i0: f64,
}

impl OdModel {
    /// Macenko's reference implementation: OD = −ln((v + 1) / 240).
    pub fn macenko() -> OdModel {
        let mut lut = [0.0; 256];
        for (v, od) in lut.iter_mut().enumerate() {
            *od = -((v as f64 + 1.0) / 240.0).ln();
        }
        OdModel { lut, i0: 240.0 }
    }

    /// staintools' convention (Vahadane): OD = max(−ln(max(v, 1) / 255), 1e-6),
    /// never negative, as non-negative factorisation needs.
    pub fn positive() -> OdModel {
        let mut lut = [0.0; 256];
        for (v, od) in lut.iter_mut().enumerate() {
            *od = (-((v.max(1) as f64) / 255.0).ln()).max(1e-6);
        }
        OdModel { lut, i0: 255.0 }
    }

    /// OD of every pixel of interleaved RGB bytes.
    pub fn od(&self, rgb: &[u8]) -> Vec<[f64; 3]> {
        rgb.chunks_exact(3)
            .map(|p| {
                [
                    self.lut[p[0] as usize],
                    self.lut[p[1] as usize],
                    self.lut[p[2] as usize],
                ]
            })
            .collect()
    }
}

/// Whether a pixel's OD marks it as tissue: every channel ≥ β.
pub fn is_tissue(od: &[f64; 3]) -> bool {
    od.iter().all(|&d| d >= OD_THRESHOLD)
}

/// Enough tissue to estimate stains from `n_tissue` of `n_pixels`?
pub fn enough_tissue(n_tissue: usize, n_pixels: usize) -> bool {
    n_tissue >= MIN_TISSUE_PIXELS && n_tissue as f64 >= MIN_TISSUE_FRACTION * n_pixels as f64
}

/// Robust maximum of each stain's concentration over the tissue pixels,
/// `conc` giving a pixel's two concentrations.
pub fn max_concentrations(od: &[[f64; 3]], conc: impl Fn(&[f64; 3]) -> [f64; 2]) -> [f64; 2] {
    let (mut h, mut e): (Vec<f64>, Vec<f64>) = od
        .iter()
        .filter(|p| is_tissue(p))
        .map(|p| conc(p).into())
        .unzip();
    [
        percentile(&mut h, MAX_CONC_PERCENTILE),
        percentile(&mut e, MAX_CONC_PERCENTILE),
    ]
}

/// Re-colour `rgb` in place: each pixel's concentrations (from `conc`),
/// scaled by target max / source max, rendered with the target's stains.
pub fn recolour(
    rgb: &mut [u8],
    od_model: &OdModel,
    source_max: [f64; 2],
    target: &StainParams,
    conc: impl Fn(&[f64; 3]) -> [f64; 2],
) {
    let scale = [
        target.max_conc[0] / source_max[0],
        target.max_conc[1] / source_max[1],
    ];
    let t = &target.stains;
    for px in rgb.chunks_exact_mut(3) {
        let od = [
            od_model.lut[px[0] as usize],
            od_model.lut[px[1] as usize],
            od_model.lut[px[2] as usize],
        ];
        let c = conc(&od);
        let (ch, ce) = (c[0] * scale[0], c[1] * scale[1]);
        for k in 0..3 {
            let v = od_model.i0 * (-(ch * t[0][k] + ce * t[1][k])).exp();
            px[k] = to_u8(v);
        }
    }
}

/// Nearest 8-bit value (ties to even, as `np.rint`), clipped to 0–255.
pub fn to_u8(v: f64) -> u8 {
    v.round_ties_even().clamp(0.0, 255.0) as u8
}
