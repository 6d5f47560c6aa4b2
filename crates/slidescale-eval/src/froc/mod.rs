//! Lesion-level FROC, as the CAMELYON16 evaluation script computes it
//! (`Evaluation_FROC.py`: `compute_FP_TP_Probs`, `computeFROC` and the
//! interpolation its `__main__` does), with the per-lesion and per-detection
//! detail the script only prints.
//!
//! The rules, each in one function:
//! * a detection's mask pixel is `(floor(x / 2^level), floor(y / 2^level))`
//!   ([`slide`]'s `mask_pixel`);
//! * on a tumour slide, a detection on label 0 is a false positive; on a
//!   lesion it is a hit, and the lesion keeps the first hit whose probability,
//!   rounded to float32, is above what the lesion holds (the script stores
//!   lesion scores in a float32 array, and NumPy ≥ 2 compares a Python float
//!   with a float32 at float32; under NumPy 1 it compared at float64, which
//!   can keep a later hit whose probability is higher only below float32
//!   precision, with the same score); a hit on an isolated tumour cell (ITC)
//!   counts for nothing; on a normal slide every detection is a false
//!   positive;
//! * every label `1..=max` of a mask is a lesion (an empty label too, as
//!   `np.amax` makes it); a lesion without a hit scores 0; ITC labels score 0
//!   and are not counted in the sensitivity's denominator;
//! * the thresholds are the distinct values of all false-positive
//!   probabilities and all lesion scores (zeros of missed lesions and ITCs
//!   included), ascending, without the lowest; at each, false positives with
//!   probability ≥ threshold (float64) and lesion scores ≥ threshold (compared
//!   at float32, as NumPy compares a float32 array with a Python float) are
//!   counted; the point (0, 0) is appended; false positives per slide divide
//!   by the number of slides, sensitivity by the number of non-ITC lesions;
//! * the sensitivities at 1/4, 1/2, 1, 2, 4 and 8 false positives per slide
//!   are `np.interp` on the reversed curve, and the FROC score is their mean.
//!
//! Where it departs from the script, and why:
//! * a detection outside its slide's mask (or at a negative coordinate) is an
//!   error naming the slide and the detection; the script raises IndexError
//!   beyond the mask and silently wraps negative indices to the far side;
//! * no non-ITC lesion in any slide is an error: the script divides by zero
//!   and reports NaN sensitivities and a NaN score;
//! * a NaN probability is an error (the script's sort and counts are then
//!   meaningless), as is a slide name given twice;
//! * thresholds are ordered by value. The script sorts a Python set mixing
//!   float64 false-positive probabilities with float32 lesion scores, and
//!   under NumPy ≥ 2 a float64 and a float32 that round to the same float32
//!   compare equal, so when a false positive and a lesion score differ only
//!   below float32 precision their order (and so the order of their curve
//!   points) follows CPython's set layout. Ordering by value is what the
//!   script did under NumPy 1, and gives a monotone curve.

mod curve;
mod slide;

pub use slide::SlideOutcome;

use std::collections::HashSet;

use serde::Serialize;

use crate::detect::Detection;
use crate::mask::EvaluationMask;

/// The average numbers of false positives per slide the FROC's
/// sensitivities are read at (CAMELYON16's).
pub const FP_RATES: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// One slide to evaluate: its name, its detections (level-0 pixels) and,
/// for a tumour slide, its evaluation mask.
#[derive(Debug, Clone, Copy)]
pub struct SlideInput<'a> {
    pub name: &'a str,
    pub detections: &'a [Detection],
    /// `None` for a normal slide (every detection is a false positive).
    pub mask: Option<&'a EvaluationMask>,
}

/// A detection of a slide with its position in that slide's list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DetectionRef {
    /// 0-based position in the slide's detections (a CSV's line − 1).
    pub index: usize,
    pub prob: f64,
    pub x: i64,
    pub y: i64,
}

/// What one lesion of a tumour slide's mask came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionOutcome {
    pub slide: String,
    /// The lesion's label in the evaluation mask.
    pub label: u32,
    /// An isolated tumour cell: never a hit, not counted.
    pub itc: bool,
    /// Pixels at the mask's level (0 for a label without pixels).
    pub area_px: u64,
    /// Centre of mass in level-0 pixels `(x, y)` (a mask pixel `c` covers
    /// level-0 `[c·2^level, (c+1)·2^level)`); `None` without pixels.
    pub centroid: Option<(f64, f64)>,
    /// Detections that landed on the lesion, the kept one included.
    pub hits: usize,
    /// The hit the lesion's score comes from; `None` when missed and always
    /// for an ITC.
    pub hit: Option<DetectionRef>,
    /// The score the FROC counts: the kept hit's probability rounded to
    /// float32 (as the script stores it), 0 when missed or an ITC.
    pub score: f64,
}

/// A false positive, in the order of the slide's detections.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FalsePositive {
    pub slide: String,
    pub index: usize,
    pub prob: f64,
    pub x: i64,
    pub y: i64,
}

/// What a detection counted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionRole {
    /// On label 0 of a tumour slide, or anywhere on a normal slide.
    FalsePositive,
    /// The hit its lesion keeps.
    TruePositive,
    /// A hit on a lesion that counts for nothing: another hit is kept, or
    /// its probability is not above 0 (the lesion stays missed).
    ExtraHit,
    /// On an isolated tumour cell: neither hit nor false positive.
    IsolatedTumourCell,
}

/// Every detection's outcome, slide by slide in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectionOutcome {
    pub slide: String,
    pub index: usize,
    pub prob: f64,
    pub x: i64,
    pub y: i64,
    /// The mask label it landed on; `None` on label 0 or a normal slide.
    pub label: Option<u32>,
    pub role: DetectionRole,
}

/// The FROC of a set of slides, with its detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Froc {
    /// Number of slides (the false-positive rate's denominator).
    pub slides: usize,
    /// Number of non-ITC lesions (the sensitivity's denominator).
    pub lesions_counted: usize,
    /// The threshold of each curve point but the last, the appended (0, 0):
    /// `thresholds.len() == fps_per_slide.len() - 1`.
    pub thresholds: Vec<f64>,
    /// Average false positives per slide, by ascending threshold.
    pub fps_per_slide: Vec<f64>,
    /// Sensitivity, by ascending threshold.
    pub sensitivity: Vec<f64>,
    /// `(rate, sensitivity)` at each of [`FP_RATES`].
    pub at: [(f64, f64); 6],
    /// The mean of the six sensitivities.
    pub score: f64,
    /// Every label of every tumour slide's mask, slide by slide.
    pub lesions: Vec<LesionOutcome>,
    pub false_positives: Vec<FalsePositive>,
    pub detections: Vec<DetectionOutcome>,
}

/// Why a FROC could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrocError {
    #[error("no slides to evaluate")]
    NoSlides,
    #[error(
        "no lesion to detect in the {slides} slides (all normal, or only isolated \
         tumour cells): the FROC's sensitivity is undefined"
    )]
    NoLesions { slides: usize },
    #[error("slide {0} is given twice")]
    DuplicateSlide(String),
    #[error("slide {slide}: detection {number} of {count} has a NaN probability")]
    NotANumber {
        slide: String,
        number: usize,
        count: usize,
    },
    #[error(
        "slide {slide}: detection {number} of {count} at level-0 ({x}, {y}) is outside \
         its evaluation mask ({width} × {height} pixels at level {level})"
    )]
    OutsideMask {
        slide: String,
        number: usize,
        count: usize,
        x: i64,
        y: i64,
        width: usize,
        height: usize,
        level: u32,
    },
    #[error(
        "slide {slide}: isolated-tumour-cell label {label} is not one of its mask's \
         labels 1..={max_label}, or is listed twice"
    )]
    BadItcLabel {
        slide: String,
        label: u32,
        max_label: u32,
    },
}

/// The FROC of `slides`, as the CAMELYON16 script computes it (see the
/// module documentation for the rules and where they depart from it).
pub fn froc(slides: &[SlideInput]) -> Result<Froc, FrocError> {
    check_names(slides)?;
    let outcomes = slides
        .iter()
        .map(slide_outcome)
        .collect::<Result<Vec<_>, _>>()?;
    combine(outcomes)
}

/// What one slide contributes to a FROC: its detections matched with its
/// mask (the script's `compute_FP_TP_Probs`).
pub fn slide_outcome(input: &SlideInput) -> Result<SlideOutcome, FrocError> {
    slide::evaluate_slide(input)
}

/// The FROC of a cohort from its slides' outcomes (the script's
/// `computeFROC` and interpolation), in the order given. The caller gives
/// each slide once ([`froc`] checks names).
pub fn combine(outcomes: Vec<SlideOutcome>) -> Result<Froc, FrocError> {
    if outcomes.is_empty() {
        return Err(FrocError::NoSlides);
    }
    let slides = outcomes.len();
    let mut fp_probs = Vec::new();
    let mut lesion_scores = Vec::new();
    let (mut lesions, mut false_positives, mut detections) = (Vec::new(), Vec::new(), Vec::new());
    let mut lesions_counted = 0;
    for outcome in outcomes {
        fp_probs.extend(outcome.fp_probs);
        lesion_scores.extend(outcome.lesion_scores);
        lesions_counted += outcome.lesions_counted;
        lesions.extend(outcome.lesions);
        false_positives.extend(outcome.false_positives);
        detections.extend(outcome.detections);
    }
    if lesions_counted == 0 {
        return Err(FrocError::NoLesions { slides });
    }
    let curve = curve::froc_curve(&fp_probs, &lesion_scores, slides, lesions_counted);
    let at = curve::operating_points(&curve.fps_per_slide, &curve.sensitivity);
    Ok(Froc {
        slides,
        lesions_counted,
        score: curve::froc_score(&at),
        at,
        thresholds: curve.thresholds,
        fps_per_slide: curve.fps_per_slide,
        sensitivity: curve.sensitivity,
        lesions,
        false_positives,
        detections,
    })
}

/// At least one slide, each named once.
fn check_names(slides: &[SlideInput]) -> Result<(), FrocError> {
    if slides.is_empty() {
        return Err(FrocError::NoSlides);
    }
    let mut seen = HashSet::new();
    for s in slides {
        if !seen.insert(s.name) {
            return Err(FrocError::DuplicateSlide(s.name.to_string()));
        }
    }
    Ok(())
}
