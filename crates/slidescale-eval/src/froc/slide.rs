//! One slide's detections against its evaluation mask: the script's
//! `compute_FP_TP_Probs`, with every detection's and lesion's outcome kept.

use super::{
    DetectionOutcome, DetectionRef, DetectionRole, FalsePositive, FrocError, LesionOutcome,
    SlideInput,
};
use crate::detect::Detection;
use crate::mask::EvaluationMask;
use crate::regionprops::regionprops;

/// What one slide contributes to the FROC ([`super::slide_outcome`]); a
/// cohort's outcomes make its FROC ([`super::combine`]), so a caller can drop
/// each slide's mask once its outcome is known.
#[derive(Debug, Clone)]
pub struct SlideOutcome {
    /// Probabilities of its false positives, in detection order.
    pub fp_probs: Vec<f64>,
    /// One score per mask label `1..=max` (0 for missed lesions and ITCs).
    pub lesion_scores: Vec<f32>,
    /// Labels that are not ITCs.
    pub lesions_counted: usize,
    pub lesions: Vec<LesionOutcome>,
    pub false_positives: Vec<FalsePositive>,
    pub detections: Vec<DetectionOutcome>,
}

/// Matches a slide's detections with its mask (see the module rules).
pub(super) fn evaluate_slide(input: &SlideInput) -> Result<SlideOutcome, FrocError> {
    check_probabilities(input)?;
    let labels_hit = match input.mask {
        None => vec![None; input.detections.len()],
        Some(mask) => {
            check_itc(input.name, mask)?;
            (0..input.detections.len())
                .map(|i| label_at(input, mask, i))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    let max_label = input.mask.map_or(0, max_label);
    let is_itc = itc_flags(input.mask, max_label);
    let (scores, kept) = keep_hits(input.detections, &labels_hit, &is_itc, max_label);
    let detections = detection_outcomes(input, &labels_hit, &is_itc, &kept);
    let false_positives: Vec<FalsePositive> = detections
        .iter()
        .filter(|d| d.role == DetectionRole::FalsePositive)
        .map(|d| FalsePositive {
            slide: d.slide.clone(),
            index: d.index,
            prob: d.prob,
            x: d.x,
            y: d.y,
        })
        .collect();
    let lesions = match input.mask {
        None => Vec::new(),
        Some(mask) => lesion_outcomes(input, mask, &labels_hit, &is_itc, &scores, &kept),
    };
    Ok(SlideOutcome {
        fp_probs: false_positives.iter().map(|f| f.prob).collect(),
        lesion_scores: scores,
        lesions_counted: is_itc.iter().skip(1).filter(|&&itc| !itc).count(),
        lesions,
        false_positives,
        detections,
    })
}

/// The mask pixel `(column, row)` a level-0 point falls in, as the script's
/// `int(X / 2^level)` for non-negative coordinates; `None` for a negative
/// coordinate (the script would truncate toward zero or wrap around).
fn mask_pixel(level: u32, x: i64, y: i64) -> Option<(usize, usize)> {
    if x < 0 || y < 0 {
        return None;
    }
    let shift = |v: i64| (v as u64).checked_shr(level).unwrap_or(0) as usize;
    Some((shift(x), shift(y)))
}

/// Whether a hit with probability `prob` replaces a lesion's `score`: the
/// script's `Probs[i] > TP_probs[label - 1]`, a Python float against a
/// float32 element, which NumPy ≥ 2 (NEP 50) compares at float32.
fn raises_score(prob: f64, score: f32) -> bool {
    (prob as f32) > score
}

/// The mask label detection `i` lands on (`None` for label 0).
fn label_at(input: &SlideInput, mask: &EvaluationMask, i: usize) -> Result<Option<u32>, FrocError> {
    let d = input.detections[i];
    let labels = &mask.labels;
    match mask_pixel(mask.level, d.x, d.y) {
        Some((c, r)) if c < labels.width && r < labels.height => {
            Ok(Some(labels.get(c, r)).filter(|&l| l != 0))
        }
        _ => Err(FrocError::OutsideMask {
            slide: input.name.to_string(),
            number: i + 1,
            count: input.detections.len(),
            x: d.x,
            y: d.y,
            width: labels.width,
            height: labels.height,
            level: mask.level,
        }),
    }
}

fn check_probabilities(input: &SlideInput) -> Result<(), FrocError> {
    match input.detections.iter().position(|d| d.prob.is_nan()) {
        None => Ok(()),
        Some(i) => Err(FrocError::NotANumber {
            slide: input.name.to_string(),
            number: i + 1,
            count: input.detections.len(),
        }),
    }
}

/// ITC labels must be distinct labels of the mask (the script subtracts
/// their count from the number of lesions).
fn check_itc(slide: &str, mask: &EvaluationMask) -> Result<(), FrocError> {
    let max = max_label(mask);
    let mut seen = vec![false; max as usize + 1];
    for &label in &mask.itc {
        let ok = (1..=max).contains(&label) && !std::mem::replace(&mut seen[label as usize], true);
        if !ok {
            return Err(FrocError::BadItcLabel {
                slide: slide.to_string(),
                label,
                max_label: max,
            });
        }
    }
    Ok(())
}

/// The number of lesions, as the script's `np.amax(evaluation_mask)`.
fn max_label(mask: &EvaluationMask) -> u32 {
    mask.labels.data.iter().copied().max().unwrap_or(0)
}

/// `is_itc[label]` for labels `0..=max_label` (index 0 unused).
fn itc_flags(mask: Option<&EvaluationMask>, max_label: u32) -> Vec<bool> {
    let mut flags = vec![false; max_label as usize + 1];
    for &label in mask.map_or(&[][..], |m| &m.itc) {
        flags[label as usize] = true;
    }
    flags
}

/// Each lesion's score and kept hit (index into the detections), labels
/// `1..=max_label` at positions `0..max_label`.
fn keep_hits(
    detections: &[Detection],
    labels_hit: &[Option<u32>],
    is_itc: &[bool],
    max_label: u32,
) -> (Vec<f32>, Vec<Option<usize>>) {
    let mut scores = vec![0f32; max_label as usize];
    let mut kept = vec![None; max_label as usize];
    for (i, (d, label)) in detections.iter().zip(labels_hit).enumerate() {
        let Some(label) = *label else { continue };
        let l = label as usize;
        if !is_itc[l] && raises_score(d.prob, scores[l - 1]) {
            scores[l - 1] = d.prob as f32;
            kept[l - 1] = Some(i);
        }
    }
    (scores, kept)
}

fn detection_outcomes(
    input: &SlideInput,
    labels_hit: &[Option<u32>],
    is_itc: &[bool],
    kept: &[Option<usize>],
) -> Vec<DetectionOutcome> {
    let role = |i: usize, label: Option<u32>| match label {
        None => DetectionRole::FalsePositive,
        Some(l) if is_itc[l as usize] => DetectionRole::IsolatedTumourCell,
        Some(l) if kept[l as usize - 1] == Some(i) => DetectionRole::TruePositive,
        Some(_) => DetectionRole::ExtraHit,
    };
    input
        .detections
        .iter()
        .zip(labels_hit)
        .enumerate()
        .map(|(i, (d, &label))| DetectionOutcome {
            slide: input.name.to_string(),
            index: i,
            prob: d.prob,
            x: d.x,
            y: d.y,
            label,
            role: role(i, label),
        })
        .collect()
}

fn lesion_outcomes(
    input: &SlideInput,
    mask: &EvaluationMask,
    labels_hit: &[Option<u32>],
    is_itc: &[bool],
    scores: &[f32],
    kept: &[Option<usize>],
) -> Vec<LesionOutcome> {
    let mut hits = vec![0usize; scores.len()];
    for label in labels_hit.iter().flatten() {
        hits[*label as usize - 1] += 1;
    }
    let mut shape = vec![(0u64, None); scores.len()];
    let block = 2f64.powi(mask.level as i32);
    for p in regionprops(&mask.labels) {
        let (r, c) = p.centroid;
        shape[p.label as usize - 1] = (p.area, Some(((c + 0.5) * block, (r + 0.5) * block)));
    }
    (0..scores.len())
        .map(|l| LesionOutcome {
            slide: input.name.to_string(),
            label: l as u32 + 1,
            itc: is_itc[l + 1],
            area_px: shape[l].0,
            centroid: shape[l].1,
            hits: hits[l],
            hit: kept[l].map(|i| detection_ref(input.detections, i)),
            score: f64::from(scores[l]),
        })
        .collect()
}

fn detection_ref(detections: &[Detection], index: usize) -> DetectionRef {
    let d = detections[index];
    DetectionRef {
        index,
        prob: d.prob,
        x: d.x,
        y: d.y,
    }
}
