//! Slide-level features of a heatmap, as the authors' companion code
//! (DIDSR/DeepLearningCamelyon_II,
//! `dldp/model_eva/roc/Parameter_Extraction_For_Random_Forest_Batch.py`)
//! extracts them for the slide classifier: 30 numbers per slide, named as
//! the authors name their CSV columns.
//!
//! **Tissue** is the heatmap's non-NaN pixels (slidescale writes NaN on
//! background). Thresholds compare in `f32`, as NumPy compares a float32
//! heatmap with a Python float (`heatmap > 0.6` is `p > 0.6f32`).
//!
//! **Global features** (10), at every t in [`GLOBAL_THRESHOLDS`]
//! (0.5, 0.6, 0.7, 0.8, 0.9; the suffix is 100·t):
//! * `ratio_cancer_tissueT`: the number of tissue pixels with p > t over the
//!   number of tissue pixels;
//! * `ratio_sum_tissueT`: Σ max(p − t, 0) over tissue, over the number of
//!   tissue pixels.
//!
//! **Local features** (10 for the largest region, then the same 10 for the
//! second largest), at one local threshold t (the authors write one table
//! per t ∈ {0.5, …, 0.9} and train one forest per table; their docstring
//! names 0.5, which is [`DEFAULT_LOCAL_THRESHOLD`]). The regions are the
//! 8-connected regions of `heatmap > t` (skimage `label`'s default full
//! connectivity) after those touching the heatmap's outer rows or columns
//! are removed (skimage `clear_border`). For each region, with skimage
//! `regionprops` definitions:
//! * `largest_area`: pixel count;
//! * `eccentricity_largest`: of the ellipse with the same second moments;
//! * `extend_largest` (the authors' spelling): area over bounding-box area;
//! * `area_bbox_largest`: bounding-box area;
//! * `major_axis_length_largest`: 4·√(largest inertia eigenvalue);
//! * `maxprob_largest`, `minprob_largest`, `aveprob_largest`: max, min and
//!   mean probability over the region;
//! * `aspect_ratio_bbox_largest`: bounding-box height over width;
//! * `solidity_largest`: area over convex area (skimage `convex_hull_image`);
//!
//! and `second_largest_area`, `eccentricity_second_largest`, … likewise.
//!
//! Where this departs from the authors' code, and why:
//! * the largest region is the first (in skimage's label order) of maximal
//!   area, as theirs; the second largest is the largest of the *other*
//!   regions (first in label order on ties), where theirs takes the largest
//!   of strictly smaller area and, when there is none, silently reuses the
//!   last region: with fewer than two regions, its 10 features are 0 here;
//! * with no region at all, the local features are 0 and the global ones
//!   are still computed (theirs zeroes all 30);
//! * the tissue area is the heatmap's non-NaN pixel count (theirs: an Otsu
//!   HSV mask of a thumbnail, at a different scale from their decimated
//!   heatmaps); a heatmap without tissue has global features 0;
//! * sums and means accumulate in `f64` (NumPy's in `float32`).

use crate::raster::{Labels, Raster};
use crate::regionprops::intensity::region_props_in_box;
use crate::regionprops::label::label_8_connected_where;
use crate::regionprops::RegionProps;

mod table;

pub use table::{FeatureTable, FeatureTableError};

/// The thresholds of the global features.
pub const GLOBAL_THRESHOLDS: [f64; 5] = [0.5, 0.6, 0.7, 0.8, 0.9];

/// The local features' threshold unless one is chosen (the authors'
/// docstring: "select them based on a threshold of 0.5").
pub const DEFAULT_LOCAL_THRESHOLD: f64 = 0.5;

/// The ten per-region feature names, without the region's suffix.
const REGION_FEATURES: [&str; 10] = [
    "area",
    "eccentricity",
    "extend",
    "area_bbox",
    "major_axis_length",
    "maxprob",
    "minprob",
    "aveprob",
    "aspect_ratio_bbox",
    "solidity",
];

/// One slide's features: `names[i]` is the name of `values[i]`; the order
/// is [`feature_names`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideFeatures {
    pub names: Vec<String>,
    pub values: Vec<f64>,
}

/// The 30 feature names in their stable order: the 10 global ones, then the
/// largest region's 10, then the second largest's 10 (the authors' column
/// names and order).
pub fn feature_names() -> Vec<String> {
    let percent = |t: f64| (t * 100.0).round() as u32;
    let mut names: Vec<String> = GLOBAL_THRESHOLDS
        .iter()
        .map(|&t| format!("ratio_cancer_tissue{}", percent(t)))
        .chain(
            GLOBAL_THRESHOLDS
                .iter()
                .map(|&t| format!("ratio_sum_tissue{}", percent(t))),
        )
        .collect();
    for which in ["largest", "second_largest"] {
        names.extend(
            REGION_FEATURES
                .iter()
                .map(|f| region_feature_name(f, which)),
        );
    }
    names
}

/// The authors put the region first for the area (`largest_area`) and last
/// for every other feature (`eccentricity_largest`).
fn region_feature_name(feature: &str, which: &str) -> String {
    if feature == "area" {
        format!("{which}_area")
    } else {
        format!("{feature}_{which}")
    }
}

/// The 30 features of `heatmap` (NaN = background) with local features at
/// `local_threshold`. Memory beyond the heatmap: one `u32` label image of
/// its size plus one `u32` per provisional region label.
pub fn slide_features(heatmap: &Raster<f32>, local_threshold: f64) -> SlideFeatures {
    let mut labels = Raster::filled(0, 0, 0u32);
    slide_features_reusing(heatmap, local_threshold, &mut labels)
}

/// [`slide_features`] with the caller's label image buffer, so that many
/// slides or thresholds reuse one allocation.
pub fn slide_features_reusing(
    heatmap: &Raster<f32>,
    local_threshold: f64,
    labels: &mut Labels,
) -> SlideFeatures {
    let mut values = global_features(heatmap);
    values.extend(local_features(heatmap, local_threshold, labels));
    SlideFeatures {
        names: feature_names(),
        values,
    }
}

/// The 10 global features (see the module documentation), in one pass.
pub fn global_features(heatmap: &Raster<f32>) -> Vec<f64> {
    let t32 = GLOBAL_THRESHOLDS.map(|t| t as f32);
    let mut tissue = 0u64;
    let mut above = [0u64; 5];
    let mut excess = [0f64; 5];
    for &p in heatmap.data.iter().filter(|p| !p.is_nan()) {
        tissue += 1;
        for k in 0..5 {
            if p > t32[k] {
                above[k] += 1;
                // Exact: p and t are f32 with t ≤ p ≤ 2t (Sterbenz), as
                // NumPy's float32 `heatmap - t` is.
                excess[k] += f64::from(p) - f64::from(t32[k]);
            }
        }
    }
    let per_tissue = |x: f64| if tissue == 0 { 0.0 } else { x / tissue as f64 };
    let mut out: Vec<f64> = above.iter().map(|&n| per_tissue(n as f64)).collect();
    out.extend(excess.iter().map(|&s| per_tissue(s)));
    out
}

/// The 20 local features at `threshold` (see the module documentation):
/// the largest region's 10, then the second largest's (0 where a region is
/// missing). `labels` is the working label image.
pub fn local_features(heatmap: &Raster<f32>, threshold: f64, labels: &mut Labels) -> Vec<f64> {
    let regions = two_largest_inner_regions(heatmap, threshold, labels);
    regions
        .iter()
        .flat_map(|region| match region {
            Some(props) => region_features(props, labels, heatmap).to_vec(),
            None => vec![0.0; REGION_FEATURES.len()],
        })
        .collect()
}

/// The ten per-region features, in [`REGION_FEATURES`] order.
fn region_features(props: &RegionProps, labels: &Labels, heatmap: &Raster<f32>) -> [f64; 10] {
    let stats = props.intensity_stats(labels, heatmap);
    [
        props.area as f64,
        props.eccentricity(),
        props.extent(),
        props.bbox_area() as f64,
        props.major_axis_length(),
        stats.max,
        stats.min,
        stats.mean,
        props.bbox_aspect_ratio(),
        props.solidity(labels),
    ]
}

/// Labels `heatmap > threshold` (f32 comparison) into `labels` and measures
/// the largest and second largest regions that do not touch the border.
fn two_largest_inner_regions(
    heatmap: &Raster<f32>,
    threshold: f64,
    labels: &mut Labels,
) -> [Option<RegionProps>; 2] {
    let t = threshold as f32;
    let (w, h) = (heatmap.width, heatmap.height);
    let n = label_8_connected_where(w, h, |i| heatmap.data[i] > t, labels);
    let mut area = vec![0u64; n as usize + 1];
    for &l in &labels.data {
        area[l as usize] += 1;
    }
    for l in border_labels(labels) {
        area[l as usize] = 0;
    }
    let (first, second) = two_largest(&area);
    let boxes = bounding_boxes(labels, [first, second]);
    [first, second].map(|l| l.map(|l| region_props_in_box(labels, l, boxes[&l])))
}

/// The labels on the outermost rows and columns (skimage `clear_border`
/// with `buffer_size=0` removes their regions).
fn border_labels(labels: &Labels) -> impl Iterator<Item = u32> + '_ {
    let (w, h) = (labels.width, labels.height);
    let rows = [0, h.saturating_sub(1)].into_iter().filter(move |_| h > 0);
    let cols = [0, w.saturating_sub(1)].into_iter().filter(move |_| w > 0);
    let across = rows.flat_map(move |r| labels.row(r).iter().copied());
    let down = cols.flat_map(move |c| (0..h).map(move |r| labels.get(c, r)));
    across.chain(down).filter(|&l| l != 0)
}

/// The labels of the largest and second largest non-zero `area` (label 0
/// excluded), the lower label first on ties.
fn two_largest(area: &[u64]) -> (Option<u32>, Option<u32>) {
    let mut best: [Option<(u64, u32)>; 2] = [None, None];
    for (l, &a) in area.iter().enumerate().skip(1).filter(|(_, &a)| a > 0) {
        let cand = (a, l as u32);
        if best[0].is_none_or(|(b, _)| a > b) {
            best = [Some(cand), best[0]];
        } else if best[1].is_none_or(|(b, _)| a > b) {
            best[1] = Some(cand);
        }
    }
    (best[0].map(|b| b.1), best[1].map(|b| b.1))
}

/// The bounding boxes (skimage order) of the given labels, in one pass.
fn bounding_boxes(
    labels: &Labels,
    wanted: [Option<u32>; 2],
) -> std::collections::HashMap<u32, (usize, usize, usize, usize)> {
    let mut boxes = std::collections::HashMap::new();
    let wanted: Vec<u32> = wanted.into_iter().flatten().collect();
    if wanted.is_empty() {
        return boxes;
    }
    for r in 0..labels.height {
        for (c, &l) in labels.row(r).iter().enumerate() {
            if l != 0 && wanted.contains(&l) {
                let b = boxes.entry(l).or_insert((r, c, r + 1, c + 1));
                *b = (b.0.min(r), b.1.min(c), b.2.max(r + 1), b.3.max(c + 1));
            }
        }
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_authors_columns() {
        let names = feature_names();
        assert_eq!(names.len(), 30);
        assert_eq!(names[0], "ratio_cancer_tissue50");
        assert_eq!(names[9], "ratio_sum_tissue90");
        assert_eq!(names[10], "largest_area");
        assert_eq!(names[12], "extend_largest");
        assert_eq!(names[20], "second_largest_area");
        assert_eq!(names[29], "solidity_second_largest");
    }

    #[test]
    fn ties_keep_both_equal_regions_and_one_region_leaves_zeros() {
        assert_eq!(two_largest(&[9, 5, 3, 5]), (Some(1), Some(3)));
        assert_eq!(two_largest(&[9, 0, 4, 0]), (Some(2), None));
        assert_eq!(two_largest(&[9, 0]), (None, None));
        // One inner region; the border region is cleared.
        let mut heat = Raster::filled(5, 4, 0.2f32);
        heat.set(2, 1, 0.7);
        heat.set(0, 3, 0.9);
        heat.set(4, 0, f32::NAN);
        let f = slide_features(&heat, 0.5);
        assert_eq!(
            f.values[10..20],
            [
                1.0,
                0.0,
                1.0,
                1.0,
                0.0,
                0.7f32 as f64,
                0.7f32 as f64,
                0.7f32 as f64,
                1.0,
                1.0
            ]
        );
        assert_eq!(f.values[20..30], [0.0; 10]);
        assert_eq!(f.values[0], 2.0 / 19.0);
    }
}
