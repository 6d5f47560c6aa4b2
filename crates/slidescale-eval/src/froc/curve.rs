//! The FROC curve from all slides' false positives and lesion scores (the
//! script's `computeFROC`) and its reading at fixed false-positive rates (its
//! `__main__`'s `np.interp` and `np.mean`).

use super::FP_RATES;

/// The curve, by ascending threshold, ending with the appended (0, 0).
pub(super) struct Curve {
    /// One per point but the last.
    pub thresholds: Vec<f64>,
    pub fps_per_slide: Vec<f64>,
    pub sensitivity: Vec<f64>,
}

/// The FROC curve of `fp_probs` (all slides' false positives) and
/// `lesion_scores` (all slides' per-label scores, zeros included).
pub(super) fn froc_curve(
    fp_probs: &[f64],
    lesion_scores: &[f32],
    slides: usize,
    lesions: usize,
) -> Curve {
    let mut fps = fp_probs.to_vec();
    fps.sort_by(f64::total_cmp);
    let mut scores = lesion_scores.to_vec();
    scores.sort_by(f32::total_cmp);
    let thresholds = thresholds(&fps, &scores);
    let mut fp_counts: Vec<usize> = thresholds.iter().map(|&t| fps_at(&fps, t)).collect();
    let mut tp_counts: Vec<usize> = thresholds.iter().map(|&t| hits_at(&scores, t)).collect();
    fp_counts.push(0);
    tp_counts.push(0);
    Curve {
        thresholds,
        fps_per_slide: fp_counts.iter().map(|&n| ratio(n, slides)).collect(),
        sensitivity: tp_counts.iter().map(|&n| ratio(n, lesions)).collect(),
    }
}

/// The distinct values of the false-positive probabilities and the lesion
/// scores (as float64), ascending, without the lowest: the script's
/// `sorted(set(FPs + TPs))[1:]`, ordered by value (see the module notes).
fn thresholds(sorted_fps: &[f64], sorted_scores: &[f32]) -> Vec<f64> {
    let mut all: Vec<f64> = sorted_fps
        .iter()
        .copied()
        .chain(sorted_scores.iter().map(|&s| f64::from(s)))
        .collect();
    all.sort_by(f64::total_cmp);
    all.dedup_by(|a, b| a == b);
    all.into_iter().skip(1).collect()
}

/// False positives with probability ≥ `threshold`, compared at float64 (the
/// script's float64 array against a Python float or a float32 scalar).
fn fps_at(sorted_fps: &[f64], threshold: f64) -> usize {
    sorted_fps.len() - sorted_fps.partition_point(|&p| p < threshold)
}

/// Lesion scores ≥ `threshold`, compared at float32: the script compares its
/// float32 array with the threshold, which NumPy casts to float32.
fn hits_at(sorted_scores: &[f32], threshold: f64) -> usize {
    let t = threshold as f32;
    sorted_scores.len() - sorted_scores.partition_point(|&s| s < t)
}

/// `count / of` as the script's `np.asarray(counts) / float(of)`.
fn ratio(count: usize, of: usize) -> f64 {
    count as f64 / of as f64
}

/// `(rate, sensitivity)` at each of [`FP_RATES`]: the script's
/// `np.interp(rates, total_FPs[::-1], total_sensitivity[::-1])`.
pub(super) fn operating_points(fps_per_slide: &[f64], sensitivity: &[f64]) -> [(f64, f64); 6] {
    let xp: Vec<f64> = fps_per_slide.iter().rev().copied().collect();
    let fp: Vec<f64> = sensitivity.iter().rev().copied().collect();
    FP_RATES.map(|rate| (rate, interp(rate, &xp, &fp)))
}

/// The mean of the six sensitivities, summed left to right as `np.mean`
/// does for six values.
pub(super) fn froc_score(at: &[(f64, f64); 6]) -> f64 {
    at.iter().map(|&(_, s)| s).fold(0.0, |sum, s| sum + s) / at.len() as f64
}

/// `np.interp(x, xp, fp)` for a non-decreasing `xp` with ties (numpy's
/// `arr_interp`): below `xp[0]` gives `fp[0]`, above the last gives the
/// last; otherwise `j` is the last index with `xp[j] <= x` (numpy's
/// `binary_search_with_guess` on a sorted array), and the result is `fp[j]`
/// when `j` is the last index or `xp[j] == x`, else the interpolation
/// between `j` and `j + 1` written as numpy writes it.
pub(super) fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    debug_assert!(!xp.is_empty() && xp.len() == fp.len());
    debug_assert!(xp.windows(2).all(|w| w[0] <= w[1]), "xp must not decrease");
    let last = xp.len() - 1;
    if x.is_nan() {
        return x;
    }
    if x < xp[0] {
        return fp[0];
    }
    if x > xp[last] {
        return fp[last];
    }
    let j = xp.partition_point(|&v| v <= x) - 1;
    if j == last || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let y = slope * (x - xp[j]) + fp[j];
    if !y.is_nan() {
        return y;
    }
    // numpy: "if we get nan in one direction, try the other".
    let y = slope * (x - xp[j + 1]) + fp[j + 1];
    if y.is_nan() && fp[j] == fp[j + 1] {
        fp[j]
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_reads_the_last_of_tied_points() {
        // Reversed FROC curves climb through ties: at a tie numpy returns
        // the value of the last point with that abscissa.
        let xp = [0.0, 0.5, 0.5, 0.5, 1.0];
        let fp = [0.0, 0.2, 0.4, 0.6, 0.8];
        assert_eq!(interp(0.5, &xp, &fp), 0.6);
        assert_eq!(interp(0.75, &xp, &fp), 0.6 + (0.8 - 0.6) / 0.5 * 0.25);
        assert_eq!(interp(-1.0, &xp, &fp), 0.0);
        assert_eq!(interp(8.0, &xp, &fp), 0.8);
        assert_eq!(interp(1.0, &[1.0], &[0.3]), 0.3);
    }

    #[test]
    fn thresholds_drop_the_lowest_and_merge_equal_values() {
        let t = thresholds(&[0.25, 0.5, 0.5], &[0.0, 0.5, 0.7]);
        assert_eq!(t, vec![0.25, 0.5, f64::from(0.7f32)]);
    }
}
