//! ROC curves, AUC and its confidence interval (DeLong; Mann–Whitney).
//!
//! Labels are `true` for the positive class (tumour) and scores are "higher
//! means more likely positive". Definitions, and the references they equal
//! (tested in `tests/roc.rs` against the references actually run):
//!
//! * [`roc_curve`]: scikit-learn's `roc_curve(labels, scores,
//!   drop_intermediate=False)`: one point per distinct score, thresholds
//!   descending, the first threshold `+inf` (scikit-learn ≥ 1.3).
//! * [`roc_auc`]: `sklearn.metrics.roc_auc_score`, the area under that
//!   curve, which is the Mann–Whitney statistic P(score⁺ > score⁻) with ties
//!   counting ½. Computed from counts, so exact up to one division.
//! * [`auc_with_ci`] with [`CiMethod::DeLong`]: R's `pROC::var(roc)` and
//!   `pROC::ci.auc(roc, method = "delong")` for `roc(labels, scores,
//!   levels = c(0, 1), direction = "<")` (controls are the negatives, and
//!   higher scores mean positive — what pROC's `direction = "auto"` would
//!   only guess from the medians). The interval is AUC ± z₀.₉₇₅·SD with
//!   z₀.₉₇₅ = `qnorm(0.975)`, capped to [0, 1] as pROC caps it.
//! * [`auc_with_ci`] with [`CiMethod::MannWhitney`]: the Mann–Whitney
//!   statistic with the unbiased variance estimate the paper's authors used
//!   (`MWWStatVar` in DIDSR/DeepLearningCamelyon_II, `tools/script_auc.R`),
//!   the interval AUC ± 1.96·SD (their `CI_cal`) capped to [0, 1].
//! * [`delong_difference`]: DeLong's variance of the difference of two
//!   correlated AUCs (two scores of the same cases), as `pROC::roc.test(…,
//!   paired = TRUE, method = "delong")` uses it.

use serde::Serialize;

/// The 0.975 quantile of the standard normal, R's `qnorm(0.975)` to the last
/// digit of an f64 (pROC's DeLong interval uses it, not 1.96).
const Z_975: f64 = 1.959_963_984_540_054;

/// The multiplier of the authors' `CI_cal` (`tools/script_auc.R`).
const AUTHORS_Z: f64 = 1.96;

/// Why an ROC could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RocError {
    /// Labels and scores have different lengths.
    #[error("{labels} labels but {scores} scores")]
    LengthMismatch { labels: usize, scores: usize },
    /// A score is NaN or infinite.
    #[error("score {index} (case {index} of the list) is not a finite number: {value}")]
    NotFinite { index: usize, value: f64 },
    /// Too few cases of one class for the quantity asked for.
    #[error(
        "{what} needs at least {needed} positive and {needed} negative cases; \
         got {positives} positive and {negatives} negative"
    )]
    TooFewCases {
        what: &'static str,
        needed: usize,
        positives: usize,
        negatives: usize,
    },
}

/// The points of an ROC curve: `fpr[k]`, `tpr[k]` are the rates of calling
/// positive every case with score ≥ `thresholds[k]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RocCurve {
    /// False-positive rates, non-decreasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True-positive rates, non-decreasing from 0 to 1.
    pub tpr: Vec<f64>,
    /// Thresholds, decreasing; the first is `+inf` (nothing called positive).
    pub thresholds: Vec<f64>,
}

/// How the confidence interval of an AUC is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CiMethod {
    /// DeLong, DeLong & Clarke-Pearson (1988), as R's pROC computes it.
    DeLong,
    /// The Mann–Whitney statistic's unbiased variance, as the authors did.
    MannWhitney,
}

/// An AUC with its variance and 95% confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AucEstimate {
    /// The area under the ROC curve (ties count ½).
    pub auc: f64,
    /// Lower end of the 95% interval, at least 0.
    pub ci_low: f64,
    /// Upper end of the 95% interval, at most 1.
    pub ci_high: f64,
    /// The estimated variance of `auc`.
    pub variance: f64,
    /// How `variance` and the interval were computed.
    pub method: CiMethod,
}

/// The difference of two correlated AUCs (the same cases scored twice).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AucDifference {
    /// AUC of the first scores minus AUC of the second.
    pub difference: f64,
    /// DeLong's variance of that difference.
    pub variance: f64,
}

/// The ROC curve of `scores` against `labels` (scikit-learn's `roc_curve`
/// with `drop_intermediate=False`).
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<RocCurve, RocError> {
    let (positives, negatives) = check_cases(labels, scores, "an ROC curve", 1)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    let (mut true_pos, mut false_pos) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            true_pos += 1;
        } else {
            false_pos += 1;
        }
        let last_of_its_score = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_its_score {
            curve.fpr.push(false_pos as f64 / negatives as f64);
            curve.tpr.push(true_pos as f64 / positives as f64);
            curve.thresholds.push(scores[i]);
        }
    }
    Ok(curve)
}

/// The area under the ROC curve, equal to `sklearn.metrics.roc_auc_score`.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64, RocError> {
    Ok(Placements::new(labels, scores, "an AUC", 1)?.auc)
}

/// The AUC of `scores` with its variance and 95% interval by `method`
/// (both need at least two positive and two negative cases).
pub fn auc_with_ci(
    labels: &[bool],
    scores: &[f64],
    method: CiMethod,
) -> Result<AucEstimate, RocError> {
    let placements = Placements::new(labels, scores, "an AUC's variance", 2)?;
    let (variance, z) = match method {
        CiMethod::DeLong => (placements.delong_variance(), Z_975),
        CiMethod::MannWhitney => (placements.mann_whitney_variance(), AUTHORS_Z),
    };
    let (ci_low, ci_high) = capped_interval(placements.auc, variance, z);
    Ok(AucEstimate {
        auc: placements.auc,
        ci_low,
        ci_high,
        variance,
        method,
    })
}

/// AUC(`scores_a`) − AUC(`scores_b`) on the same cases, with DeLong's
/// variance of the difference (the paired test of `pROC::roc.test`).
pub fn delong_difference(
    labels: &[bool],
    scores_a: &[f64],
    scores_b: &[f64],
) -> Result<AucDifference, RocError> {
    let what = "a difference of AUCs";
    let a = Placements::new(labels, scores_a, what, 2)?;
    let b = Placements::new(labels, scores_b, what, 2)?;
    let m = a.of_positives.len() as f64;
    let n = a.of_negatives.len() as f64;
    let positives_part = sample_variance_of_difference(&a.of_positives, &b.of_positives);
    let negatives_part = sample_variance_of_difference(&a.of_negatives, &b.of_negatives);
    Ok(AucDifference {
        difference: a.auc - b.auc,
        variance: positives_part / m + negatives_part / n,
    })
}

/// `estimate ± z·√variance`, capped to [0, 1]. A negative variance (the
/// unbiased Mann–Whitney estimate can dip below 0 on degenerate data) gives a
/// zero-width interval rather than NaN.
fn capped_interval(estimate: f64, variance: f64, z: f64) -> (f64, f64) {
    let half_width = z * variance.max(0.0).sqrt();
    (
        (estimate - half_width).clamp(0.0, 1.0),
        (estimate + half_width).clamp(0.0, 1.0),
    )
}

/// Checks lengths and finiteness; returns (positives, negatives) if each is
/// at least `needed`.
fn check_cases(
    labels: &[bool],
    scores: &[f64],
    what: &'static str,
    needed: usize,
) -> Result<(usize, usize), RocError> {
    if labels.len() != scores.len() {
        return Err(RocError::LengthMismatch {
            labels: labels.len(),
            scores: scores.len(),
        });
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(RocError::NotFinite { index, value });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives < needed || negatives < needed {
        return Err(RocError::TooFewCases {
            what,
            needed,
            positives,
            negatives,
        });
    }
    Ok((positives, negatives))
}

/// DeLong's placement values: for each positive, the fraction of negatives
/// it outscores; for each negative, the fraction of positives that outscore
/// it (ties count ½ in both), plus what the Mann–Whitney variance needs.
struct Placements {
    auc: f64,
    of_positives: Vec<f64>,
    of_negatives: Vec<f64>,
    /// Pairs (positive, negative) with the positive strictly higher.
    strict_pairs: u64,
    /// Pairs (positive, negative) with equal scores.
    tied_pairs: u64,
}

impl Placements {
    fn new(
        labels: &[bool],
        scores: &[f64],
        what: &'static str,
        needed: usize,
    ) -> Result<Self, RocError> {
        let (positives, negatives) = check_cases(labels, scores, what, needed)?;
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let mut p = Placements {
            auc: 0.0,
            of_positives: Vec::new(),
            of_negatives: Vec::new(),
            strict_pairs: 0,
            tied_pairs: 0,
        };
        let mut place_of_case = vec![0.0; scores.len()];
        let (m, n) = (positives as f64, negatives as f64);
        let (mut negatives_below, mut positives_below) = (0u64, 0u64);
        for group in order.chunk_by(|&a, &b| scores[a] == scores[b]) {
            let pos_here = group.iter().filter(|&&i| labels[i]).count() as u64;
            let neg_here = group.len() as u64 - pos_here;
            let positive_place = (negatives_below as f64 + 0.5 * neg_here as f64) / n;
            let positives_above = positives as u64 - positives_below - pos_here;
            let negative_place = (positives_above as f64 + 0.5 * pos_here as f64) / m;
            for &i in group {
                place_of_case[i] = if labels[i] {
                    positive_place
                } else {
                    negative_place
                };
            }
            p.strict_pairs += pos_here * negatives_below;
            p.tied_pairs += pos_here * neg_here;
            negatives_below += neg_here;
            positives_below += pos_here;
        }
        // In case order, so that two scorings of the same cases pair up.
        let (of_positives, of_negatives): (Vec<usize>, Vec<usize>) =
            (0..scores.len()).partition(|&i| labels[i]);
        p.of_positives = cases_values(&place_of_case, of_positives);
        p.of_negatives = cases_values(&place_of_case, of_negatives);
        // Twice the Mann–Whitney count is an integer: one rounding only.
        let twice_count = 2 * p.strict_pairs + p.tied_pairs;
        p.auc = twice_count as f64 / (2.0 * m * n);
        Ok(p)
    }

    /// pROC's `var(V$X)/m + var(V$Y)/n` (sample variances, n − 1).
    fn delong_variance(&self) -> f64 {
        sample_variance(&self.of_positives) / self.of_positives.len() as f64
            + sample_variance(&self.of_negatives) / self.of_negatives.len() as f64
    }

    /// The authors' `MWWStatVar`: a two-way layout of the kernel values
    /// ψ(negative i, positive j) ∈ {0, ½, 1}, with MSA = m·var(row means),
    /// MSB = n·var(column means), MST = var(all ψ), the residual
    /// ev = ((nm − 1)·MST − (n − 1)·MSA − (m − 1)·MSB) / ((n − 1)(m − 1)),
    /// and variance (MSA + MSB − ev) / (mn): DeLong's estimate less the
    /// residual's bias. Row and column means are the placements, and Σψ²
    /// comes from the pair counts, so no n × m matrix is built.
    fn mann_whitney_variance(&self) -> f64 {
        let m = self.of_positives.len() as f64;
        let n = self.of_negatives.len() as f64;
        let msa = m * sample_variance(&self.of_negatives);
        let msb = n * sample_variance(&self.of_positives);
        let sum_of_squares = self.strict_pairs as f64 + 0.25 * self.tied_pairs as f64;
        let cells = n * m;
        let mst = (sum_of_squares - cells * self.auc * self.auc) / (cells - 1.0);
        let residual =
            ((cells - 1.0) * mst - (n - 1.0) * msa - (m - 1.0) * msb) / ((n - 1.0) * (m - 1.0));
        (msa + msb - residual) / cells
    }
}

fn cases_values(values: &[f64], cases: Vec<usize>) -> Vec<f64> {
    cases.into_iter().map(|i| values[i]).collect()
}

/// Sample variance (denominator len − 1), R's `var`.
fn sample_variance(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    squares / (values.len() as f64 - 1.0)
}

/// Sample variance of `a[k] − b[k]`: var(a) + var(b) − 2·cov(a, b).
fn sample_variance_of_difference(a: &[f64], b: &[f64]) -> f64 {
    let difference: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    sample_variance(&difference)
}
