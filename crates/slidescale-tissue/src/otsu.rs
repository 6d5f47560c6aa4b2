//! Otsu's threshold exactly as `skimage.filters.threshold_otsu(image)` (with
//! its default 256 bins) computes it for a float64 image: numpy's histogram
//! over [min, max] (bin edges from `linspace`, numpy's index correction at
//! the edges), counts cast to float32, float32 cumulative weights, float64
//! cumulative means, the float32 product of the two weights, and the first
//! maximum of the between-class variance. Every step keeps numpy's operation
//! order, so the result is bit-identical, not just close.

const NBINS: usize = 256;

/// Otsu threshold of `values`; pixels strictly above it are foreground.
/// Returns the common value when all values are equal (as scikit-image
/// does), and `None` for an empty slice.
pub fn threshold_otsu(values: &[f64]) -> Option<f64> {
    let first = *values.first()?;
    if values.iter().all(|&v| v == first) {
        return Some(first);
    }
    let (counts, centres) = histogram(values);
    Some(centres[best_split(&counts, &centres)])
}

/// `numpy.histogram(values, bins=256)` counts and their bin centres.
fn histogram(values: &[f64]) -> (Vec<f32>, Vec<f64>) {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let edges = linspace_edges(lo, hi);
    let denom = hi - lo;
    let mut counts = vec![0u64; NBINS];
    for &v in values {
        // numpy: truncate (v - lo) / (hi - lo) * n, then fix the off-by-one
        // that rounding can cause at bin edges.
        let mut i = (((v - lo) / denom) * NBINS as f64) as usize;
        if i == NBINS {
            i -= 1;
        }
        if v < edges[i] {
            i -= 1;
        }
        if v >= edges[i + 1] && i != NBINS - 1 {
            i += 1;
        }
        counts[i] += 1;
    }
    let centres = (0..NBINS)
        .map(|i| (edges[i] + edges[i + 1]) / 2.0)
        .collect();
    // scikit-image casts the counts to float32 before using them.
    (counts.iter().map(|&c| c as f32).collect(), centres)
}

/// `numpy.linspace(lo, hi, 257)`: `i * step + lo`, last edge exactly `hi`.
fn linspace_edges(lo: f64, hi: f64) -> Vec<f64> {
    let step = (hi - lo) / NBINS as f64;
    let mut edges: Vec<f64> = (0..=NBINS).map(|i| i as f64 * step + lo).collect();
    edges[NBINS] = hi;
    edges
}

/// Index of the first maximum of the between-class variance
/// `w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2`.
fn best_split(counts: &[f32], centres: &[f64]) -> usize {
    let n = counts.len();
    let w1 = cumsum_f32(counts.iter().copied());
    let w2_rev = cumsum_f32(counts.iter().rev().copied());
    let weighted: Vec<f64> = counts
        .iter()
        .zip(centres)
        .map(|(&c, &x)| c as f64 * x)
        .collect();
    let m1: Vec<f64> = cumsum_f64(weighted.iter().copied())
        .iter()
        .zip(&w1)
        .map(|(&s, &w)| s / w as f64)
        .collect();
    let mut m2: Vec<f64> = cumsum_f64(weighted.iter().rev().copied())
        .iter()
        .zip(&w2_rev)
        .map(|(&s, &w)| s / w as f64)
        .collect();
    m2.reverse();
    let mut w2 = w2_rev;
    w2.reverse();
    let mut best = 0;
    let mut best_var = f64::NEG_INFINITY;
    for i in 0..n - 1 {
        let w = (w1[i] * w2[i + 1]) as f64; // a float32 product, as in numpy
        let d = m1[i] - m2[i + 1];
        let var = w * (d * d);
        if var > best_var {
            best_var = var;
            best = i;
        }
    }
    best
}

/// numpy's `cumsum` on float32: a sequential float32 running sum.
fn cumsum_f32(it: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut acc = 0f32;
    it.map(|c| {
        acc += c;
        acc
    })
    .collect()
}

fn cumsum_f64(it: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0f64;
    it.map(|c| {
        acc += c;
        acc
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_and_empty_inputs() {
        assert_eq!(threshold_otsu(&[]), None);
        assert_eq!(threshold_otsu(&[0.25; 10]), Some(0.25));
    }

    #[test]
    fn two_clusters_split_between_them() {
        let mut v = vec![0.1; 50];
        v.extend(vec![0.9; 50]);
        let t = threshold_otsu(&v).unwrap();
        assert!(t > 0.1 && t < 0.9, "{t}");
        assert_eq!(v.iter().filter(|&&x| x > t).count(), 50);
    }
}
