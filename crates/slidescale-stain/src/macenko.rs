//! Macenko et al. (2009), "A method for normalizing histology slides for
//! quantitative analysis", following the widely used reference
//! implementation (M. Veta's `normalizeStaining.m`): OD = −ln((v+1)/240),
//! pixels with OD < β = 0.15 in any channel dropped, the plane of the two
//! largest eigenvectors of the OD covariance, angular percentiles α = 1 and
//! 99 as the two stain directions (hematoxylin: the one with the larger red
//! OD), least-squares concentrations.
//!
//! Two details are fixed here that the reference leaves to chance or to the
//! image: each eigenvector's sign is chosen so its red component is ≥ 0 (as
//! staintools does), and the 99th-percentile concentration is taken over
//! tissue pixels only, so white padding in edge tiles does not shrink it.

use crate::linalg::{cov3, eigh3, normalise3, percentile, pseudo_inverse};
use crate::stains::{enough_tissue, is_tissue, max_concentrations, recolour, OdModel, StainParams};

/// Angular percentile α (and 100 − α).
pub const ALPHA: f64 = 1.0;

/// The stains of interleaved RGB pixels, or `None` without enough tissue.
pub fn estimate(rgb: &[u8]) -> Option<StainParams> {
    let od = OdModel::macenko().od(rgb);
    let tissue: Vec<[f64; 3]> = od.iter().copied().filter(is_tissue).collect();
    if !enough_tissue(tissue.len(), od.len()) {
        return None;
    }
    let stains = stain_vectors(&tissue)?;
    let p = pseudo_inverse(&stains)?;
    let max_conc = max_concentrations(&od, |x| conc(&p, x));
    (max_conc[0] > 0.0 && max_conc[1] > 0.0).then_some(StainParams { stains, max_conc })
}

/// Normalise `rgb` in place to `target`; `false` (unchanged) without tissue.
pub fn apply(target: &StainParams, rgb: &mut [u8]) -> bool {
    let Some(src) = estimate(rgb) else {
        return false;
    };
    let Some(p) = pseudo_inverse(&src.stains) else {
        return false;
    };
    recolour(rgb, &OdModel::macenko(), src.max_conc, target, |x| {
        conc(&p, x)
    });
    true
}

fn conc(p: &[[f64; 3]; 2], od: &[f64; 3]) -> [f64; 2] {
    [
        p[0][0] * od[0] + p[0][1] * od[1] + p[0][2] * od[2],
        p[1][0] * od[0] + p[1][1] * od[1] + p[1][2] * od[2],
    ]
}

/// The two stain directions (unit rows, hematoxylin first) of tissue ODs.
fn stain_vectors(tissue: &[[f64; 3]]) -> Option<[[f64; 3]; 2]> {
    let (_, vecs) = eigh3(cov3(tissue));
    // plane of the two largest eigenvectors, columns [second, largest] as in
    // the reference implementation; signs fixed (red component ≥ 0)
    let fix = |v: [f64; 3]| if v[0] < 0.0 { v.map(|x| -x) } else { v };
    let (e1, e2) = (fix(vecs[1]), fix(vecs[2]));
    let mut phi: Vec<f64> = tissue
        .iter()
        .map(|x| {
            let t1 = x[0] * e1[0] + x[1] * e1[1] + x[2] * e1[2];
            let t2 = x[0] * e2[0] + x[1] * e2[1] + x[2] * e2[2];
            t2.atan2(t1)
        })
        .collect();
    let min_phi = percentile(&mut phi, ALPHA);
    let max_phi = percentile(&mut phi, 100.0 - ALPHA);
    let dir = |a: f64| normalise3([0, 1, 2].map(|k| e1[k] * a.cos() + e2[k] * a.sin()));
    let (v_min, v_max) = (dir(min_phi), dir(max_phi));
    let stains = if v_min[0] > v_max[0] {
        [v_min, v_max]
    } else {
        [v_max, v_min]
    };
    (stains.iter().flatten().all(|x| x.is_finite())).then_some(stains)
}
