//! Intensity statistics, the bounding box's aspect ratio, and the moment
//! properties of one chosen region (without measuring every region).

use crate::raster::{Labels, Raster};
use crate::regionprops::{regionprops, RegionProps};

/// skimage `intensity_min`, `intensity_max`, `intensity_mean` of a region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntensityStats {
    pub min: f64,
    pub max: f64,
    /// Sum in `f64` over the region's pixels divided by its area (skimage
    /// averages in the intensity image's precision: pass it float64 to
    /// compare).
    pub mean: f64,
}

impl RegionProps {
    /// Min, max and mean of `intensity` over the region's pixels in
    /// `labels` (same size as `intensity`).
    pub fn intensity_stats(&self, labels: &Labels, intensity: &Raster<f32>) -> IntensityStats {
        let (r0, c0, r1, c1) = self.bbox;
        let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
        for r in r0..r1 {
            let values = &intensity.row(r)[c0..c1];
            for (&l, &v) in labels.row(r)[c0..c1].iter().zip(values) {
                if l == self.label {
                    let v = f64::from(v);
                    min = min.min(v);
                    max = max.max(v);
                    sum += v;
                }
            }
        }
        IntensityStats {
            min,
            max,
            mean: sum / self.area as f64,
        }
    }

    /// The bounding box's height over its width, `(max_row − min_row) /
    /// (max_col − min_col)`, as the authors' feature extraction
    /// (DIDSR/DeepLearningCamelyon_II) computes its "aspect ratio" from
    /// skimage's `bbox`.
    pub fn bbox_aspect_ratio(&self) -> f64 {
        let (r0, c0, r1, c1) = self.bbox;
        (r1 - r0) as f64 / (c1 - c0) as f64
    }
}

/// The moment properties of region `label` of `labels`, whose bounding box
/// `bbox` (`(min_row, min_col, max_row, max_col)`, max exclusive) is known:
/// what [`regionprops`] gives for it, computed on the box's crop only, so
/// that two regions of a slide can be measured without accumulating moments
/// for every region.
pub fn region_props_in_box(
    labels: &Labels,
    label: u32,
    bbox: (usize, usize, usize, usize),
) -> RegionProps {
    let (r0, c0, r1, c1) = bbox;
    let mut crop = Raster::filled(c1 - c0, r1 - r0, 0u32);
    for r in r0..r1 {
        for (c, &l) in labels.row(r)[c0..c1].iter().enumerate() {
            if l == label {
                crop.set(c, r - r0, 1);
            }
        }
    }
    let mut props = regionprops(&crop)
        .pop()
        .expect("the bounding box holds the region");
    let (a, b, c, d) = props.bbox;
    props.label = label;
    props.bbox = (a + r0, b + c0, c + r0, d + c0);
    props.centroid = (props.centroid.0 + r0 as f64, props.centroid.1 + c0 as f64);
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_measured_in_its_box_equals_the_whole_image_measure() {
        let mut labels = Raster::filled(6, 5, 0u32);
        for (x, y) in [(1, 1), (2, 1), (2, 2), (3, 3), (4, 3)] {
            labels.set(x, y, 2);
        }
        labels.set(0, 0, 1);
        let all = regionprops(&labels);
        let one = region_props_in_box(&labels, 2, all[1].bbox);
        assert_eq!(one.bbox, all[1].bbox);
        assert!((one.centroid.0 - all[1].centroid.0).abs() < 1e-12);
        assert!((one.mu_rc - all[1].mu_rc).abs() < 1e-12);
        assert_eq!(one.bbox_aspect_ratio(), 3.0 / 4.0);
        let heat = Raster::from_vec(6, 5, (0..30).map(|v| v as f32).collect());
        let s = one.intensity_stats(&labels, &heat);
        assert_eq!(
            (s.min, s.max, s.mean),
            (7.0, 22.0, (7 + 8 + 14 + 21 + 22) as f64 / 5.0)
        );
    }
}
