//! Vahadane et al. (2016), "Structure-preserving color normalization and
//! sparse stain separation for histological images": stains by sparse
//! non-negative matrix factorisation of tissue ODs,
//!
//! ```text
//!   min over C ≥ 0, D ≥ 0, ‖d_k‖ ≤ 1:   ½‖X − C·D‖²_F + λ‖C‖₁,   λ = 0.1
//! ```
//!
//! (X: tissue pixels × 3 OD, staintools' convention OD = −ln(v/255) ≥ 1e-6),
//! then concentrations of every pixel by non-negative lasso (λ = 0.01) on the
//! fixed stains, as staintools does.
//!
//! Algorithm (deterministic: same pixels, same result, no random start):
//! start from Ruifrok & Johnston's H and E vectors; alternate (a) the exact
//! non-negative lasso of each pixel on the two atoms (the KKT conditions of a
//! two-variable problem are checked case by case: both, one or no stain
//! active) and (b) one block-coordinate pass over the atoms with the
//! non-negativity and unit-ball projections (Mairal et al. 2010, the update
//! scikit-learn's `DictionaryLearning` uses), until the atoms move by less
//! than 1e-6 or 100 iterations. At most 8192 tissue pixels (an evenly spaced
//! subset) are used to learn the atoms.

use crate::linalg::{dot3, gram, normalise3};
use crate::stains::{enough_tissue, is_tissue, max_concentrations, recolour, OdModel, StainParams};

/// Sparsity of the dictionary-learning codes.
pub const LAMBDA_FIT: f64 = 0.1;
/// Sparsity of the concentrations used for normalisation.
pub const LAMBDA_CONC: f64 = 0.01;
const MAX_ITER: usize = 100;
const TOL: f64 = 1e-6;
const MAX_FIT_PIXELS: usize = 8192;

/// Ruifrok & Johnston (2001) hematoxylin and eosin OD vectors.
pub const RUIFROK_H: [f64; 3] = [0.650, 0.704, 0.286];
pub const RUIFROK_E: [f64; 3] = [0.072, 0.990, 0.105];

/// The stains of interleaved RGB pixels, or `None` without enough tissue.
pub fn estimate(rgb: &[u8]) -> Option<StainParams> {
    let od = OdModel::positive().od(rgb);
    let tissue: Vec<[f64; 3]> = od.iter().copied().filter(is_tissue).collect();
    if !enough_tissue(tissue.len(), od.len()) {
        return None;
    }
    let step = tissue.len().div_ceil(MAX_FIT_PIXELS);
    let sample: Vec<[f64; 3]> = tissue.iter().step_by(step).copied().collect();
    let stains = learn_dictionary(&sample)?;
    let solver = Lasso2::new(&stains, LAMBDA_CONC)?;
    let max_conc = max_concentrations(&od, |x| solver.solve(x));
    (max_conc[0] > 0.0 && max_conc[1] > 0.0).then_some(StainParams { stains, max_conc })
}

/// Normalise `rgb` in place to `target`; `false` (unchanged) without tissue.
pub fn apply(target: &StainParams, rgb: &mut [u8]) -> bool {
    let Some(src) = estimate(rgb) else {
        return false;
    };
    let Some(solver) = Lasso2::new(&src.stains, LAMBDA_CONC) else {
        return false;
    };
    recolour(rgb, &OdModel::positive(), src.max_conc, target, |x| {
        solver.solve(x)
    });
    true
}

/// Sparse NMF with two atoms; rows of the result are unit vectors,
/// hematoxylin (larger red OD) first.
fn learn_dictionary(x: &[[f64; 3]]) -> Option<[[f64; 3]; 2]> {
    let mut d = [normalise3(RUIFROK_H), normalise3(RUIFROK_E)];
    let mut codes = vec![[0.0; 2]; x.len()];
    for _ in 0..MAX_ITER {
        let solver = Lasso2::new(&d, LAMBDA_FIT)?;
        for (c, xi) in codes.iter_mut().zip(x) {
            *c = solver.solve(xi);
        }
        let before = d;
        update_dictionary(&mut d, x, &codes);
        let moved = (0..2)
            .flat_map(|k| (0..3).map(move |c| (k, c)))
            .map(|(k, c)| (d[k][c] - before[k][c]).abs())
            .fold(0.0, f64::max);
        if moved < TOL {
            break;
        }
    }
    let mut d = [normalise3(d[0]), normalise3(d[1])];
    if d[0][0] < d[1][0] {
        d.swap(0, 1);
    }
    d.iter().flatten().all(|v| v.is_finite()).then_some(d)
}

/// One block-coordinate pass: each atom moves to its least-squares optimum
/// given the others, then is projected onto d ≥ 0, ‖d‖ ≤ 1.
fn update_dictionary(d: &mut [[f64; 3]; 2], x: &[[f64; 3]], codes: &[[f64; 2]]) {
    // A = CᵀC (2×2), B = XᵀC (3×2)
    let mut a = [[0.0; 2]; 2];
    let mut b = [[0.0; 2]; 3];
    for (xi, ci) in x.iter().zip(codes) {
        for k in 0..2 {
            for l in 0..2 {
                a[k][l] += ci[k] * ci[l];
            }
            for c in 0..3 {
                b[c][k] += xi[c] * ci[k];
            }
        }
    }
    for k in 0..2 {
        if a[k][k] <= 1e-6 {
            continue; // atom unused: leave it where it is
        }
        for c in 0..3 {
            let ad: f64 = (0..2).map(|l| a[k][l] * d[l][c]).sum();
            d[k][c] += (b[c][k] - ad) / a[k][k];
        }
        d[k] = d[k].map(|v| v.max(0.0));
        let norm = dot3(&d[k], &d[k]).sqrt();
        if norm > 1.0 {
            d[k] = d[k].map(|v| v / norm);
        }
    }
}

/// Exact solver of min_{c ≥ 0} ½‖x − c₀d₀ − c₁d₁‖² + λ(c₀ + c₁).
struct Lasso2 {
    d: [[f64; 3]; 2],
    g: [[f64; 2]; 2],
    det: f64,
    lambda: f64,
}

impl Lasso2 {
    fn new(d: &[[f64; 3]; 2], lambda: f64) -> Option<Lasso2> {
        let g = gram(d);
        let det = g[0][0] * g[1][1] - g[0][1] * g[1][0];
        (det > 1e-12 && g[0][0] > 0.0 && g[1][1] > 0.0).then_some(Lasso2 {
            d: *d,
            g,
            det,
            lambda,
        })
    }

    /// The unique minimiser (strictly convex: the atoms are not parallel),
    /// found as the one active set whose KKT conditions hold.
    fn solve(&self, x: &[f64; 3]) -> [f64; 2] {
        let (g, l) = (&self.g, self.lambda);
        // r = Dx − λ: the gradient at c = 0 is −r
        let r = [dot3(&self.d[0], x) - l, dot3(&self.d[1], x) - l];
        // both stains active
        let c0 = (g[1][1] * r[0] - g[0][1] * r[1]) / self.det;
        let c1 = (g[0][0] * r[1] - g[1][0] * r[0]) / self.det;
        if c0 >= 0.0 && c1 >= 0.0 {
            return [c0, c1];
        }
        // one stain active: optimal alone, and the other's gradient ≥ 0
        let only0 = r[0] / g[0][0];
        if only0 > 0.0 && g[1][0] * only0 - r[1] >= 0.0 {
            return [only0, 0.0];
        }
        let only1 = r[1] / g[1][1];
        if only1 > 0.0 && g[0][1] * only1 - r[0] >= 0.0 {
            return [0.0, only1];
        }
        [0.0, 0.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(s: &Lasso2, x: &[f64; 3], c: [f64; 2]) -> f64 {
        let r: f64 = (0..3)
            .map(|k| (x[k] - c[0] * s.d[0][k] - c[1] * s.d[1][k]).powi(2))
            .sum();
        0.5 * r + s.lambda * (c[0] + c[1])
    }

    #[test]
    fn lasso2_is_the_minimum_over_a_grid() {
        let d = [normalise3(RUIFROK_H), normalise3(RUIFROK_E)];
        let s = Lasso2::new(&d, 0.1).unwrap();
        for x in [
            [0.9, 1.0, 0.4],
            [0.1, 0.9, 0.1],
            [0.05, 0.05, 0.05],
            [1.2, 0.3, 0.2],
        ] {
            let c = s.solve(&x);
            assert!(c[0] >= 0.0 && c[1] >= 0.0);
            let best = objective(&s, &x, c);
            for i in 0..200 {
                for j in 0..200 {
                    let trial = [i as f64 * 0.01, j as f64 * 0.01];
                    assert!(
                        objective(&s, &x, trial) >= best - 1e-12,
                        "{x:?}: {c:?} vs {trial:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn recovers_synthetic_stains_from_mostly_pure_pixels() {
        // sparse data (most pixels one stain only), as the model assumes
        let h = normalise3([0.6, 0.75, 0.3]);
        let e = normalise3([0.1, 0.95, 0.3]);
        let x: Vec<[f64; 3]> = (0..3000)
            .map(|i| {
                let amount = 0.2 + (i % 50) as f64 * 0.03;
                let (a, b) = match i % 3 {
                    0 => (amount, 0.0),
                    1 => (0.0, amount),
                    _ => (amount * 0.5, amount * 0.3),
                };
                [0, 1, 2].map(|k| a * h[k] + b * e[k])
            })
            .collect();
        let d = learn_dictionary(&x).unwrap();
        assert!(dot3(&d[0], &h) > 0.999, "{d:?}");
        assert!(dot3(&d[1], &e) > 0.999, "{d:?}");
    }
}
