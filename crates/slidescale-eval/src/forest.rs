//! A seeded random forest that gives class probabilities.
//!
//! Breiman's forest as scikit-learn's `RandomForestClassifier` builds it:
//! each tree is grown on a bootstrap sample (drawn counts are sample
//! weights) with Gini impurity, trying `max_features` random features at each
//! node; the probability of the positive class is the mean over trees of the
//! positive fraction of the leaf a row falls in (`predict_proba`). Trees are
//! not bit-equal to scikit-learn's (another random generator); the forest's
//! AUC is compared with scikit-learn's in `tests/forest.rs`.
//!
//! Written here rather than taken from a crate: smartcore's
//! `RandomForestClassifier` (the source read, commit 53351b2 of
//! smartcorelib/smartcore) predicts by majority vote of hard classes, with
//! no leaf-fraction probabilities, and draws its bootstrap from
//! `thread_rng`; linfa-ensemble 0.8's `RandomForest` also predicts by
//! majority vote and draws one feature subset per tree, not per node.
//! Reproducible: one seed gives the same probabilities on every machine and
//! thread count, because every tree has its own xoshiro256** stream derived
//! from the seed and the tree's index, and the trees' fractions are summed
//! in tree order.
//!
//! Where it departs from scikit-learn: another random generator (so other
//! trees from the same seed); Gini only (no entropy); values are "equal" only
//! when equal (scikit-learn treats values within 1e-7 as one); the folds of
//! [`stratified_folds`] are shuffled by the seed, where `GridSearchCV(cv=5)`
//! (the authors' call) uses unshuffled `StratifiedKFold`, whose folds depend
//! on the order of the slides in the table.
//!
//! Defaults are scikit-learn's (100 trees, √p features, unlimited depth,
//! leaves of 1, splits of 2, bootstrap) with the authors' seed 42
//! (`RF_training_batch.py` of DIDSR/DeepLearningCamelyon_II, which then tunes
//! by [`cross_validated_grid`]; [`ForestGrid::authors`] is their grid).

mod cv;
mod rng;
mod tree;

use rayon::prelude::*;
use serde::Serialize;

pub use cv::{
    cross_validated_grid, cross_validated_probabilities, stratified_folds, ForestGrid,
    GridCandidate, GridResult,
};
use rng::Rng;
use tree::{Columns, Limits, Tree};

/// How many features each node tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MaxFeatures {
    /// ⌊√p⌋ (at least 1), scikit-learn's default for classifiers.
    Sqrt,
    /// ⌊log₂ p⌋ (at least 1).
    Log2,
    /// All p features (bagged trees).
    All,
    /// This many, at most p (the authors' grid has 10…30 whatever p is).
    Count(usize),
}

impl MaxFeatures {
    /// The number of features tried at a node of a table with `features`
    /// columns: at least 1, at most `features`.
    pub fn resolve(self, features: usize) -> usize {
        let k = match self {
            MaxFeatures::Sqrt => (features as f64).sqrt().floor() as usize,
            MaxFeatures::Log2 => (features as f64).log2().floor() as usize,
            MaxFeatures::All => features,
            MaxFeatures::Count(k) => k,
        };
        k.clamp(1, features.max(1))
    }
}

/// The forest's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForestParams {
    /// Number of trees (default 100).
    pub n_trees: usize,
    /// Features tried at each node (default √p).
    pub max_features: MaxFeatures,
    /// Deepest a tree may grow (default unlimited).
    pub max_depth: Option<usize>,
    /// Fewest training samples in a leaf (default 1).
    pub min_samples_leaf: usize,
    /// Fewest samples a node needs to be split (default 2).
    pub min_samples_split: usize,
    /// Grow each tree on a bootstrap sample (default true).
    pub bootstrap: bool,
    /// The seed every random draw derives from (default 42).
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams {
            n_trees: 100,
            max_features: MaxFeatures::Sqrt,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            bootstrap: true,
            seed: 42,
        }
    }
}

/// Why a forest could not be trained or used. Rows and columns count from 0
/// in the order given; the caller names the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForestError {
    /// No rows, or rows without features.
    #[error("the feature table is empty ({rows} rows, {features} features)")]
    Empty { rows: usize, features: usize },
    /// Labels and rows differ in number.
    #[error("{rows} feature rows but {labels} labels")]
    LengthMismatch { rows: usize, labels: usize },
    /// A row has another number of features than the first.
    #[error("row {row} has {found} features, expected {expected}")]
    RaggedRow {
        row: usize,
        found: usize,
        expected: usize,
    },
    /// Rows to predict have another number of features than the forest
    /// was trained on.
    #[error("rows have {found} features but the forest was trained on {trained}")]
    WrongWidth { found: usize, trained: usize },
    /// A feature is NaN or infinite.
    #[error("row {row}, feature {feature} is not a finite number: {value}")]
    NotFinite {
        row: usize,
        feature: usize,
        value: f64,
    },
    /// Training needs both classes, cross-validation `folds` of each.
    #[error(
        "{what} needs at least {needed} positive and {needed} negative rows; \
         got {positives} positive and {negatives} negative"
    )]
    TooFewOfAClass {
        what: &'static str,
        needed: usize,
        positives: usize,
        negatives: usize,
    },
    /// A setting out of range.
    #[error("invalid forest setting: {0}")]
    BadSetting(String),
}

/// A trained forest.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomForest {
    trees: Vec<Tree>,
    features: usize,
}

impl RandomForest {
    /// Trains a forest on `rows` (one row of features per slide) and
    /// `labels` (`true` = positive).
    pub fn fit(
        rows: &[Vec<f64>],
        labels: &[bool],
        params: &ForestParams,
    ) -> Result<RandomForest, ForestError> {
        let features = check_table(rows)?;
        check_labels(rows, labels, "training a forest", 1)?;
        check_params(params)?;
        let columns: Vec<Vec<f64>> = (0..features)
            .map(|f| rows.iter().map(|r| r[f]).collect())
            .collect();
        let data = Columns {
            columns: &columns,
            labels,
        };
        let limits = Limits {
            max_features: params.max_features.resolve(features),
            max_depth: params.max_depth,
            min_samples_leaf: params.min_samples_leaf,
            min_samples_split: params.min_samples_split,
        };
        let trees = (0..params.n_trees)
            .into_par_iter()
            .map(|t| {
                let mut rng = Rng::new(params.seed, t as u64);
                let weights = sample_weights(rows.len(), params.bootstrap, &mut rng);
                Tree::fit(&data, &weights, limits, &mut rng)
            })
            .collect();
        Ok(RandomForest { trees, features })
    }

    /// P(positive) for each row: the mean over trees of the positive
    /// fraction of the row's leaf (scikit-learn's `predict_proba[:, 1]`).
    pub fn predict_proba(&self, rows: &[Vec<f64>]) -> Result<Vec<f64>, ForestError> {
        let features = check_table(rows)?;
        if features != self.features {
            return Err(ForestError::WrongWidth {
                found: features,
                trained: self.features,
            });
        }
        Ok(rows
            .iter()
            .map(|row| {
                let sum: f64 = self.trees.iter().map(|t| t.positive_fraction(row)).sum();
                sum / self.trees.len() as f64
            })
            .collect())
    }

    /// The number of features a row must have.
    pub fn n_features(&self) -> usize {
        self.features
    }
}

/// Bootstrap counts (n draws with replacement) or all ones.
fn sample_weights(n: usize, bootstrap: bool, rng: &mut Rng) -> Vec<f64> {
    if !bootstrap {
        return vec![1.0; n];
    }
    let mut counts = vec![0.0; n];
    for _ in 0..n {
        counts[rng.below(n)] += 1.0;
    }
    counts
}

/// Checks the table is non-empty, rectangular and finite; returns its width.
fn check_table(rows: &[Vec<f64>]) -> Result<usize, ForestError> {
    let features = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || features == 0 {
        return Err(ForestError::Empty {
            rows: rows.len(),
            features,
        });
    }
    for (row, values) in rows.iter().enumerate() {
        if values.len() != features {
            return Err(ForestError::RaggedRow {
                row,
                found: values.len(),
                expected: features,
            });
        }
        if let Some((feature, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ForestError::NotFinite {
                row,
                feature,
                value,
            });
        }
    }
    Ok(features)
}

/// Checks there is one label per row and `needed` of each class.
fn check_labels(
    rows: &[Vec<f64>],
    labels: &[bool],
    what: &'static str,
    needed: usize,
) -> Result<(), ForestError> {
    if rows.len() != labels.len() {
        return Err(ForestError::LengthMismatch {
            rows: rows.len(),
            labels: labels.len(),
        });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives < needed || negatives < needed {
        return Err(ForestError::TooFewOfAClass {
            what,
            needed,
            positives,
            negatives,
        });
    }
    Ok(())
}

fn check_params(params: &ForestParams) -> Result<(), ForestError> {
    let bad = |what: &str| Err(ForestError::BadSetting(what.to_string()));
    if params.n_trees == 0 {
        return bad("n_trees must be at least 1");
    }
    if params.min_samples_leaf == 0 {
        return bad("min_samples_leaf must be at least 1");
    }
    if params.min_samples_split < 2 {
        return bad("min_samples_split must be at least 2");
    }
    if params.max_depth == Some(0) || params.max_features == MaxFeatures::Count(0) {
        return bad("max_depth and max_features must be at least 1");
    }
    Ok(())
}
