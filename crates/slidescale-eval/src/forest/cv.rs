//! Cross-validation of the forest: stratified k-fold, a grid search scored by
//! ROC AUC (scikit-learn's `GridSearchCV(scoring="roc_auc", cv=k)`: the
//! mean of the folds' AUCs, first best in grid order wins), and out-of-fold
//! probabilities for a cohort without a train/test split.

use serde::Serialize;

use super::rng::Rng;
use super::{check_labels, check_table, ForestError, ForestParams, MaxFeatures, RandomForest};
use crate::roc::roc_auc;

/// The values a grid search tries; every combination is one candidate.
/// Every list must be non-empty. Candidates are enumerated in scikit-learn's
/// `ParameterGrid` order (keys alphabetical, the last varying fastest:
/// bootstrap, max_depth, max_features, min_samples_leaf, min_samples_split,
/// n_trees), so that ties resolve to the same candidate as `GridSearchCV`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForestGrid {
    /// Values of [`ForestParams::bootstrap`].
    pub bootstrap: Vec<bool>,
    /// Values of [`ForestParams::max_depth`].
    pub max_depth: Vec<Option<usize>>,
    /// Values of [`ForestParams::max_features`].
    pub max_features: Vec<MaxFeatures>,
    /// Values of [`ForestParams::min_samples_leaf`].
    pub min_samples_leaf: Vec<usize>,
    /// Values of [`ForestParams::min_samples_split`].
    pub min_samples_split: Vec<usize>,
    /// Values of [`ForestParams::n_trees`].
    pub n_trees: Vec<usize>,
}

impl Default for ForestGrid {
    /// A small grid (36 candidates) from the authors' values: depth
    /// {5, 10, 20, unlimited} × features {√p, 10, 20} × leaf {1, 2, 4}, with
    /// 100 bootstrapped trees and splits of 2.
    fn default() -> Self {
        ForestGrid {
            bootstrap: vec![true],
            max_depth: vec![Some(5), Some(10), Some(20), None],
            max_features: vec![
                MaxFeatures::Sqrt,
                MaxFeatures::Count(10),
                MaxFeatures::Count(20),
            ],
            min_samples_leaf: vec![1, 2, 4],
            min_samples_split: vec![2],
            n_trees: vec![100],
        }
    }
}

impl ForestGrid {
    /// The authors' grid (`RF_training_batch.py`, 1,800 candidates) less its
    /// `criterion = entropy` half: only Gini is implemented.
    pub fn authors() -> Self {
        ForestGrid {
            bootstrap: vec![true, false],
            max_depth: vec![Some(5), Some(10), Some(20), Some(30)],
            max_features: [10, 15, 20, 25, 30].map(MaxFeatures::Count).to_vec(),
            min_samples_leaf: vec![1, 2, 4],
            min_samples_split: vec![2, 5, 10],
            n_trees: vec![100, 300, 500, 800, 1000],
        }
    }

    /// Every combination, in `ParameterGrid` order, each with `seed`.
    pub fn candidates(&self, seed: u64) -> Vec<ForestParams> {
        let mut all = Vec::new();
        for &bootstrap in &self.bootstrap {
            for &max_depth in &self.max_depth {
                for &max_features in &self.max_features {
                    for &min_samples_leaf in &self.min_samples_leaf {
                        for &min_samples_split in &self.min_samples_split {
                            for &n_trees in &self.n_trees {
                                all.push(ForestParams {
                                    n_trees,
                                    max_features,
                                    max_depth,
                                    min_samples_leaf,
                                    min_samples_split,
                                    bootstrap,
                                    seed,
                                });
                            }
                        }
                    }
                }
            }
        }
        all
    }
}

/// One candidate of a grid search and how it scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridCandidate {
    /// The candidate's settings.
    pub params: ForestParams,
    /// The mean of `fold_aucs`.
    pub mean_auc: f64,
    /// The AUC on each held-out fold.
    pub fold_aucs: Vec<f64>,
}

/// The outcome of [`cross_validated_grid`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridResult {
    /// The first candidate with the highest mean AUC.
    pub best: ForestParams,
    /// Its mean AUC over the folds.
    pub best_score: f64,
    /// Every candidate, in grid order.
    pub candidates: Vec<GridCandidate>,
}

/// The fold (0..`folds`) of each row: within each class the rows are
/// shuffled by `seed` and dealt round-robin, so every fold gets ⌊n/k⌋ or
/// ⌈n/k⌉ of each class (scikit-learn's `StratifiedKFold(shuffle=True)` in
/// spirit; its folds are not reproduced draw for draw).
pub fn stratified_folds(
    labels: &[bool],
    folds: usize,
    seed: u64,
) -> Result<Vec<usize>, ForestError> {
    if folds < 2 {
        return Err(ForestError::BadSetting(format!(
            "cross-validation needs at least 2 folds, not {folds}"
        )));
    }
    let mut fold_of = vec![0; labels.len()];
    let mut rng = Rng::new(seed, u64::MAX);
    let mut next_fold = 0;
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rng.shuffle(&mut rows);
        for row in rows {
            fold_of[row] = next_fold;
            next_fold = (next_fold + 1) % folds;
        }
    }
    Ok(fold_of)
}

/// Tries every candidate of `grid` by `folds`-fold stratified
/// cross-validation and returns the best by mean held-out AUC. `seed` draws
/// the folds (the same for every candidate) and seeds every forest, as
/// `GridSearchCV` with a `random_state` on the estimator does.
pub fn cross_validated_grid(
    rows: &[Vec<f64>],
    labels: &[bool],
    grid: &ForestGrid,
    folds: usize,
    seed: u64,
) -> Result<GridResult, ForestError> {
    let fold_of = checked_folds(rows, labels, folds, seed)?;
    let params = grid.candidates(seed);
    if params.is_empty() {
        return Err(ForestError::BadSetting("the grid has an empty list".into()));
    }
    let mut candidates = Vec::with_capacity(params.len());
    for p in params {
        let fold_aucs = (0..folds)
            .map(|k| held_out_auc(rows, labels, &fold_of, k, &p))
            .collect::<Result<Vec<f64>, ForestError>>()?;
        let mean_auc = fold_aucs.iter().sum::<f64>() / folds as f64;
        candidates.push(GridCandidate {
            params: p,
            mean_auc,
            fold_aucs,
        });
    }
    // Strictly greater: the first of equal scores stays best.
    let best = (1..candidates.len()).fold(0, |best, i| {
        if candidates[i].mean_auc > candidates[best].mean_auc {
            i
        } else {
            best
        }
    });
    Ok(GridResult {
        best: candidates[best].params,
        best_score: candidates[best].mean_auc,
        candidates,
    })
}

/// Out-of-fold P(positive) for every row, for a cohort without a
/// train/test split: each of `folds` stratified folds (drawn by `seed`) is
/// predicted by a forest of `params` (seeded by `params.seed`) trained on
/// the other folds.
pub fn cross_validated_probabilities(
    rows: &[Vec<f64>],
    labels: &[bool],
    params: &ForestParams,
    folds: usize,
    seed: u64,
) -> Result<Vec<f64>, ForestError> {
    let fold_of = checked_folds(rows, labels, folds, seed)?;
    let mut probabilities = vec![0.0; rows.len()];
    for k in 0..folds {
        let (train, test) = split_rows(&fold_of, k);
        let forest = fit_on(rows, labels, &train, params)?;
        let predicted = forest.predict_proba(&pick(rows, &test))?;
        for (row, p) in test.into_iter().zip(predicted) {
            probabilities[row] = p;
        }
    }
    Ok(probabilities)
}

/// Checks the table and that every fold can hold both classes; draws folds.
fn checked_folds(
    rows: &[Vec<f64>],
    labels: &[bool],
    folds: usize,
    fold_seed: u64,
) -> Result<Vec<usize>, ForestError> {
    check_table(rows)?;
    check_labels(rows, labels, "cross-validation", folds.max(2))?;
    stratified_folds(labels, folds, fold_seed)
}

fn held_out_auc(
    rows: &[Vec<f64>],
    labels: &[bool],
    fold_of: &[usize],
    fold: usize,
    params: &ForestParams,
) -> Result<f64, ForestError> {
    let (train, test) = split_rows(fold_of, fold);
    let forest = fit_on(rows, labels, &train, params)?;
    let scores = forest.predict_proba(&pick(rows, &test))?;
    let test_labels: Vec<bool> = test.iter().map(|&i| labels[i]).collect();
    // Stratification puts both classes in every fold.
    Ok(roc_auc(&test_labels, &scores).expect("both classes in a stratified fold"))
}

fn fit_on(
    rows: &[Vec<f64>],
    labels: &[bool],
    train: &[usize],
    params: &ForestParams,
) -> Result<RandomForest, ForestError> {
    let train_labels: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
    RandomForest::fit(&pick(rows, train), &train_labels, params)
}

/// (rows outside `fold`, rows in it), each ascending.
fn split_rows(fold_of: &[usize], fold: usize) -> (Vec<usize>, Vec<usize>) {
    (0..fold_of.len()).partition(|&i| fold_of[i] != fold)
}

fn pick(rows: &[Vec<f64>], which: &[usize]) -> Vec<Vec<f64>> {
    which.iter().map(|&i| rows[i].clone()).collect()
}
