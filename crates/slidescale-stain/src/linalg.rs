//! The little linear algebra and statistics stain separation needs: 3×3
//! symmetric eigen-decomposition, 2-stain least squares, percentiles.

#[allow(clippy::needless_range_loop)] // index maths mirrors the textbook rotation
/// Eigenvalues (ascending) and unit eigenvectors (`vecs[k]` belongs to
/// `vals[k]`) of a symmetric 3×3 matrix, by cyclic Jacobi rotations: exact to
/// rounding for 3×3, no iteration-count surprises.
pub fn eigh3(m: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut a = m;
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _sweep in 0..64 {
        let off = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
        if off < 1e-30 {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // A ← Jᵀ A J with the rotation in the (p, q) plane
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| a[i][i].total_cmp(&a[j][j]));
    let vals = order.map(|i| a[i][i]);
    let vecs = order.map(|i| [v[0][i], v[1][i], v[2][i]]);
    (vals, vecs)
}

/// Sample covariance (divisor n − 1, as `np.cov`) of 3-vectors.
pub fn cov3(xs: &[[f64; 3]]) -> [[f64; 3]; 3] {
    let n = xs.len() as f64;
    let mut mean = [0.0; 3];
    for x in xs {
        for c in 0..3 {
            mean[c] += x[c];
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut cov = [[0.0; 3]; 3];
    for x in xs {
        let d = [x[0] - mean[0], x[1] - mean[1], x[2] - mean[2]];
        for i in 0..3 {
            for j in 0..3 {
                cov[i][j] += d[i] * d[j];
            }
        }
    }
    cov.iter_mut()
        .flatten()
        .for_each(|c| *c /= (n - 1.0).max(1.0));
    cov
}

pub fn dot3(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn normalise3(v: [f64; 3]) -> [f64; 3] {
    let n = dot3(&v, &v).sqrt();
    if n > 0.0 {
        v.map(|x| x / n)
    } else {
        v
    }
}

/// The 2×3 matrix P with P·od = least-squares concentrations of the two
/// stain vectors (rows of `s`): P = (S Sᵀ)⁻¹ S. `None` if they are parallel.
pub fn pseudo_inverse(s: &[[f64; 3]; 2]) -> Option<[[f64; 3]; 2]> {
    let g = gram(s);
    let det = g[0][0] * g[1][1] - g[0][1] * g[1][0];
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = [
        [g[1][1] / det, -g[0][1] / det],
        [-g[1][0] / det, g[0][0] / det],
    ];
    let mut p = [[0.0; 3]; 2];
    for (i, row) in p.iter_mut().enumerate() {
        for (c, x) in row.iter_mut().enumerate() {
            *x = inv[i][0] * s[0][c] + inv[i][1] * s[1][c];
        }
    }
    Some(p)
}

/// G = S Sᵀ for two stain vectors.
pub fn gram(s: &[[f64; 3]; 2]) -> [[f64; 2]; 2] {
    [
        [dot3(&s[0], &s[0]), dot3(&s[0], &s[1])],
        [dot3(&s[1], &s[0]), dot3(&s[1], &s[1])],
    ]
}

/// The q-th percentile (0–100) with numpy's default linear interpolation.
/// Reorders `xs`.
pub fn percentile(xs: &mut [f64], q: f64) -> f64 {
    assert!(!xs.is_empty());
    let pos = q / 100.0 * (xs.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, &mut a, rest) = xs.select_nth_unstable_by(lo, f64::total_cmp);
    if frac == 0.0 || rest.is_empty() {
        return a;
    }
    let b = rest.iter().copied().fold(f64::INFINITY, f64::min);
    a + (b - a) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigh3_diagonalises() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 1.0]];
        let (vals, vecs) = eigh3(m);
        assert!(vals[0] <= vals[1] && vals[1] <= vals[2]);
        for k in 0..3 {
            for i in 0..3 {
                let mv: f64 = (0..3).map(|j| m[i][j] * vecs[k][j]).sum();
                assert!((mv - vals[k] * vecs[k][i]).abs() < 1e-12);
            }
            assert!((dot3(&vecs[k], &vecs[k]) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        // np.percentile([1, 2, 3, 4], 99) == 3.97
        assert!((percentile(&mut [4.0, 1.0, 3.0, 2.0], 99.0) - 3.97).abs() < 1e-12);
        assert_eq!(percentile(&mut [5.0], 1.0), 5.0);
        assert_eq!(percentile(&mut [3.0, 1.0, 2.0], 50.0), 2.0);
    }

    #[test]
    fn pseudo_inverse_recovers_concentrations() {
        let s = [
            normalise3([0.65, 0.70, 0.29]),
            normalise3([0.07, 0.99, 0.11]),
        ];
        let p = pseudo_inverse(&s).unwrap();
        let od: Vec<f64> = (0..3).map(|c| 0.7 * s[0][c] + 0.2 * s[1][c]).collect();
        let c0: f64 = (0..3).map(|c| p[0][c] * od[c]).sum();
        let c1: f64 = (0..3).map(|c| p[1][c] * od[c]).sum();
        assert!((c0 - 0.7).abs() < 1e-12 && (c1 - 0.2).abs() < 1e-12);
    }
}
