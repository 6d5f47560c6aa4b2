//! One classification tree of the forest: CART with Gini impurity on
//! weighted samples (the bootstrap's counts are the weights, as in
//! scikit-learn), a random subset of features tried at each node.

use super::rng::Rng;

/// Features by column: `columns[f][sample]`.
pub(crate) struct Columns<'a> {
    pub(crate) columns: &'a [Vec<f64>],
    pub(crate) labels: &'a [bool],
}

/// What limits a tree's growth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_features: usize,
    pub(crate) max_depth: Option<usize>,
    pub(crate) min_samples_leaf: usize,
    pub(crate) min_samples_split: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Samples with `value <= threshold` go to `left`, the others `right`.
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    /// The weighted fraction of positive training samples that ended here.
    Leaf { positive_fraction: f64 },
}

/// A fitted tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

/// The best split found at a node.
struct Split {
    feature: usize,
    threshold: f64,
    /// Σ weight·Gini over the two children (lower is better).
    weighted_impurity: f64,
}

/// A node still to be grown: its samples, its depth, and where its parent
/// points to it.
struct Pending {
    samples: Vec<usize>,
    depth: usize,
    slot: usize,
}

impl Tree {
    /// Grows a tree on the samples with non-zero `weights`.
    pub(crate) fn fit(data: &Columns, weights: &[f64], limits: Limits, rng: &mut Rng) -> Tree {
        let samples: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
        let mut tree = Tree {
            nodes: vec![Node::Leaf {
                positive_fraction: 0.0,
            }],
        };
        let mut stack = vec![Pending {
            samples,
            depth: 0,
            slot: 0,
        }];
        // Depth first, left child before right: the order the draws happen
        // in is fixed, so the seed fixes the tree.
        while let Some(node) = stack.pop() {
            let (positive, total) = weighted_counts(data.labels, weights, &node.samples);
            let split = if may_split(&node, limits, positive, total) {
                best_split(data, weights, &node.samples, limits, rng)
            } else {
                None
            };
            let Some(split) = split else {
                tree.nodes[node.slot] = Node::Leaf {
                    positive_fraction: positive / total,
                };
                continue;
            };
            let column = &data.columns[split.feature];
            let (left, right): (Vec<usize>, Vec<usize>) = node
                .samples
                .iter()
                .partition(|&&i| column[i] <= split.threshold);
            let (left_slot, right_slot) = (tree.nodes.len(), tree.nodes.len() + 1);
            for _ in 0..2 {
                tree.nodes.push(Node::Leaf {
                    positive_fraction: 0.0,
                });
            }
            tree.nodes[node.slot] = Node::Split {
                feature: split.feature,
                threshold: split.threshold,
                left: left_slot,
                right: right_slot,
            };
            let depth = node.depth + 1;
            stack.push(Pending {
                samples: right,
                depth,
                slot: right_slot,
            });
            stack.push(Pending {
                samples: left,
                depth,
                slot: left_slot,
            });
        }
        tree
    }

    /// The positive fraction of the leaf `row` falls in.
    pub(crate) fn positive_fraction(&self, row: &[f64]) -> f64 {
        let mut at = 0;
        loop {
            match self.nodes[at] {
                Node::Leaf { positive_fraction } => return positive_fraction,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    at = if row[feature] <= threshold {
                        left
                    } else {
                        right
                    }
                }
            }
        }
    }
}

/// scikit-learn's stopping rules: depth reached, fewer samples than
/// `min_samples_split` or than two minimal leaves, or a pure node.
fn may_split(node: &Pending, limits: Limits, positive: f64, total: f64) -> bool {
    let n = node.samples.len();
    let depth_left = limits.max_depth.is_none_or(|d| node.depth < d);
    let pure = positive == 0.0 || positive == total;
    depth_left && n >= limits.min_samples_split && n >= 2 * limits.min_samples_leaf && !pure
}

fn weighted_counts(labels: &[bool], weights: &[f64], samples: &[usize]) -> (f64, f64) {
    samples.iter().fold((0.0, 0.0), |(p, t), &i| {
        let w = weights[i];
        (p + if labels[i] { w } else { 0.0 }, t + w)
    })
}

/// Gini impurity of two classes, times the node's weight: w·2p(1 − p).
fn weighted_gini(positive: f64, total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    2.0 * positive * (total - positive) / total
}

/// Tries features in a random order, `max_features` of them, going on past
/// that only while every feature tried was constant on the node (as
/// scikit-learn's best splitter does), and returns the split of least
/// weighted Gini; the first found wins ties.
fn best_split(
    data: &Columns,
    weights: &[f64],
    samples: &[usize],
    limits: Limits,
    rng: &mut Rng,
) -> Option<Split> {
    let mut features: Vec<usize> = (0..data.columns.len()).collect();
    rng.shuffle(&mut features);
    let mut best: Option<Split> = None;
    let (mut tried, mut constant) = (0, 0);
    let mut sorted = samples.to_vec();
    for &feature in &features {
        if tried >= limits.max_features && tried > constant {
            break;
        }
        tried += 1;
        let column = &data.columns[feature];
        sorted.sort_by(|&a, &b| column[a].total_cmp(&column[b]));
        if column[sorted[0]] == column[sorted[sorted.len() - 1]] {
            constant += 1;
            continue;
        }
        let candidate = best_threshold(data.labels, weights, column, &sorted, limits);
        if let Some((threshold, weighted_impurity)) = candidate {
            if best
                .as_ref()
                .is_none_or(|b| weighted_impurity < b.weighted_impurity)
            {
                best = Some(Split {
                    feature,
                    threshold,
                    weighted_impurity,
                });
            }
        }
    }
    best
}

/// The threshold on one feature (samples sorted by it) of least weighted
/// Gini with at least `min_samples_leaf` samples on each side: the midpoint
/// between two consecutive distinct values (the lower value where the
/// midpoint rounds up to the higher, as scikit-learn does).
fn best_threshold(
    labels: &[bool],
    weights: &[f64],
    column: &[f64],
    sorted: &[usize],
    limits: Limits,
) -> Option<(f64, f64)> {
    let (positive, total) = weighted_counts(labels, weights, sorted);
    let (mut left_positive, mut left_total) = (0.0, 0.0);
    let mut best: Option<(f64, f64)> = None;
    let n = sorted.len();
    for k in 0..n - 1 {
        let i = sorted[k];
        left_total += weights[i];
        if labels[i] {
            left_positive += weights[i];
        }
        let (here, next) = (column[i], column[sorted[k + 1]]);
        let (left_count, right_count) = (k + 1, n - k - 1);
        let enough_each_side =
            left_count >= limits.min_samples_leaf && right_count >= limits.min_samples_leaf;
        if here == next || !enough_each_side {
            continue;
        }
        let impurity = weighted_gini(left_positive, left_total)
            + weighted_gini(positive - left_positive, total - left_total);
        if best.is_none_or(|(_, b)| impurity < b) {
            let mid = here / 2.0 + next / 2.0;
            let threshold = if mid >= next { here } else { mid };
            best = Some((threshold, impurity));
        }
    }
    best
}
