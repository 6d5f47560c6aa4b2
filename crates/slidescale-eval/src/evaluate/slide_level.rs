//! The cohort at one stride: its FROC from the slides' outcomes, its
//! feature table, slide-level scores (a random forest on the features) and
//! the ROC AUC with its confidence interval.

use serde::Serialize;

use super::slide::SlideResult;
use super::{CohortSlide, EvaluateError, EvaluationSpec, StrideEvaluation};
use crate::features::{feature_names, FeatureTable, DEFAULT_LOCAL_THRESHOLD};
use crate::forest::{
    cross_validated_grid, cross_validated_probabilities, ForestGrid, ForestParams, RandomForest,
};
use crate::froc::combine;
use crate::roc::{auc_with_ci, roc_curve, CiMethod};

/// How slide-level scores are made and judged.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideLevelSpec {
    /// Threshold of the local (region) features (the authors' 0.5).
    pub local_threshold: f64,
    /// The forest (its seed included).
    pub forest: ForestParams,
    /// Tune the forest by cross-validated grid search on ROC AUC first.
    pub grid: Option<ForestGrid>,
    /// Folds of the cross-validation (no split in labels.csv, and the grid).
    pub folds: usize,
    /// Seed of the folds.
    pub seed: u64,
    pub ci: CiMethod,
}

impl Default for SlideLevelSpec {
    fn default() -> Self {
        SlideLevelSpec {
            local_threshold: DEFAULT_LOCAL_THRESHOLD,
            forest: ForestParams::default(),
            grid: None,
            folds: 5,
            seed: 42,
            ci: CiMethod::DeLong,
        }
    }
}

/// The slides the AUC is computed over, with their scores.
#[derive(Debug, Clone, Serialize)]
pub struct SlideScores {
    /// How the scores were made, in words.
    pub method: String,
    /// The forest used (after the grid search, when one was asked for).
    pub forest: Option<ForestParams>,
    pub slides: Vec<String>,
    pub tumour: Vec<bool>,
    pub scores: Vec<f64>,
}

/// The cohort's results at stride number `k` (`stride`); takes the slides'
/// FROC outcomes of that stride.
pub(super) fn at_stride(
    spec: &EvaluationSpec,
    cohort: &[CohortSlide],
    done: &mut [SlideResult],
    k: usize,
    stride: u32,
) -> Result<StrideEvaluation, EvaluateError> {
    let fail = |message: String| EvaluateError::Stride { stride, message };
    let outcomes = done
        .iter_mut()
        .map(|d| d.at[k].outcome.take().expect("taken once"))
        .collect();
    let froc = combine(outcomes).map_err(|e| fail(e.to_string()))?;
    let mut features = FeatureTable::new(feature_names());
    for d in done.iter() {
        if let Some(f) = &d.at[k].features {
            features
                .push(&d.name, f.clone())
                .map_err(|e| fail(e.to_string()))?;
        }
    }
    let tumour: Vec<bool> = cohort.iter().map(|s| s.tumour).collect();
    let slide_scores = match features.rows.is_empty() || too_few(&tumour) {
        true => highest_detection(cohort, done, k),
        false => forest_scores(&spec.slide_level, cohort, &features).map_err(fail)?,
    };
    let (roc, auc) = match too_few(&slide_scores.tumour) {
        true => (None, None),
        false => {
            let (t, scores) = (&slide_scores.tumour, &slide_scores.scores);
            let roc = roc_curve(t, scores).map_err(|e| fail(e.to_string()))?;
            let auc = auc_with_ci(t, scores, spec.slide_level.ci)
                .map_err(|e| fail(format!("slide-level AUC: {e}")))?;
            (Some(roc), Some(auc))
        }
    };
    Ok(StrideEvaluation {
        stride,
        froc,
        features,
        slide_scores,
        roc,
        auc,
    })
}

/// Whether a slide-level ROC is undefined: fewer than two slides of a
/// class (the AUC's variance needs two of each). The FROC is still made.
pub fn too_few(tumour: &[bool]) -> bool {
    smaller_class(tumour) < 2
}

/// The number of slides of the rarer class.
fn smaller_class(tumour: &[bool]) -> usize {
    let positives = tumour.iter().filter(|&&t| t).count();
    positives.min(tumour.len() - positives)
}

/// Cross-validation folds for `labels`: `asked`, or fewer when a class has
/// fewer slides than that (each fold must hold both classes), at least 2.
fn folds_for(asked: usize, labels: &[bool]) -> usize {
    asked.min(smaller_class(labels)).max(2)
}

/// Without heatmaps: a slide's score is its highest detection probability
/// (0 without detections), the usual CAMELYON16 slide score.
fn highest_detection(cohort: &[CohortSlide], done: &[SlideResult], k: usize) -> SlideScores {
    SlideScores {
        method: "highest detection probability per slide".into(),
        forest: None,
        slides: cohort.iter().map(|s| s.name.clone()).collect(),
        tumour: cohort.iter().map(|s| s.tumour).collect(),
        scores: done
            .iter()
            .map(|d| {
                d.at[k]
                    .detections
                    .iter()
                    .map(|x| x.prob)
                    .fold(0.0, f64::max)
            })
            .collect(),
    }
}

/// The forest's P(tumour) per slide: trained on the train split and
/// scored on the test split when labels.csv has one; otherwise out-of-fold
/// over the whole cohort.
fn forest_scores(
    spec: &SlideLevelSpec,
    cohort: &[CohortSlide],
    table: &FeatureTable,
) -> Result<SlideScores, String> {
    let rows: Vec<Vec<f64>> = table.rows.iter().map(|(_, r)| r.clone()).collect();
    let tumour: Vec<bool> = cohort.iter().map(|s| s.tumour).collect();
    let has_split = cohort.iter().any(|s| s.train.is_some());
    let (train, test): (Vec<usize>, Vec<usize>) = match has_split {
        true => (0..cohort.len()).partition(|&i| cohort[i].train == Some(true)),
        false => ((0..cohort.len()).collect(), Vec::new()),
    };
    let pick = |idx: &[usize]| -> (Vec<Vec<f64>>, Vec<bool>) {
        (
            idx.iter().map(|&i| rows[i].clone()).collect(),
            idx.iter().map(|&i| tumour[i]).collect(),
        )
    };
    let (train_rows, train_labels) = pick(&train);
    let params = match &spec.grid {
        Some(grid) => {
            cross_validated_grid(
                &train_rows,
                &train_labels,
                grid,
                folds_for(spec.folds, &train_labels),
                spec.seed,
            )
            .map_err(|e| format!("forest grid search: {e}"))?
            .best
        }
        None => spec.forest,
    };
    let tuned = if spec.grid.is_some() {
        ", tuned by cross-validated grid search"
    } else {
        ""
    };
    if !has_split {
        let scores = cross_validated_probabilities(
            &rows,
            &tumour,
            &params,
            folds_for(spec.folds, &tumour),
            spec.seed,
        )
        .map_err(|e| format!("forest: {e}"))?;
        return Ok(SlideScores {
            method: format!(
                "random forest, {}-fold cross-validated (out-of-fold){tuned}",
                folds_for(spec.folds, &tumour)
            ),
            forest: Some(params),
            slides: cohort.iter().map(|s| s.name.clone()).collect(),
            tumour,
            scores,
        });
    }
    if test.is_empty() {
        return Err("labels.csv has a split but no test slides".into());
    }
    let forest = RandomForest::fit(&train_rows, &train_labels, &params)
        .map_err(|e| format!("forest on the train slides: {e}"))?;
    let (test_rows, test_labels) = pick(&test);
    let scores = forest
        .predict_proba(&test_rows)
        .map_err(|e| format!("forest: {e}"))?;
    Ok(SlideScores {
        method: format!(
            "random forest trained on the {} train slides{tuned}",
            train.len()
        ),
        forest: Some(params),
        slides: test.iter().map(|&i| cohort[i].name.clone()).collect(),
        tumour: test_labels,
        scores,
    })
}
