//! How lesions are detected at a stride: one setting for every stride, the
//! rule's parameters at each.

use crate::detect::{DetectRule, NmsRule, RegionRule};

/// The detection rule, with sizes on the slide (level-0 pixels) so that a
/// coarser stride looks for the same lesions.
#[derive(Debug, Clone, PartialEq)]
pub enum DetectionSpec {
    /// The authors' rule: `heatmap > threshold`, close then open with an
    /// OpenCV ellipse of `element_level0` level-0 pixels (default 320: the
    /// authors' 20 px at their stride 16), regions, centroid, mean.
    Regions { threshold: f64, element_level0: f64 },
    /// NCRF's local maxima above `threshold`, suppressing `radius_level0`.
    LocalMaxima { threshold: f64, radius_level0: f64 },
}

impl Default for DetectionSpec {
    fn default() -> Self {
        let authors = RegionRule::default();
        DetectionSpec::Regions {
            threshold: authors.threshold,
            element_level0: authors.element_size as f64 * AUTHORS_STRIDE,
        }
    }
}

/// The stride the authors' element size was chosen at.
const AUTHORS_STRIDE: f64 = 16.0;

impl DetectionSpec {
    /// The rule on a heatmap of `stride`: the element is
    /// `max(1, round(element_level0 / stride))` heatmap pixels. (The
    /// authors kept 20 px at every stride; at stride 224 that opens away
    /// every lesion under 4.5 mm, which would measure the element rather
    /// than the stride.)
    pub fn rule_at(&self, stride: u32) -> DetectRule {
        match *self {
            DetectionSpec::Regions {
                threshold,
                element_level0,
            } => DetectRule::Regions(RegionRule {
                threshold,
                element_size: ((element_level0 / stride as f64).round() as usize).max(1),
                ..RegionRule::default()
            }),
            DetectionSpec::LocalMaxima {
                threshold,
                radius_level0,
            } => DetectRule::LocalMaxima(NmsRule {
                threshold,
                radius_level0,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_element_is_the_authors_at_stride_16_and_scales_with_the_stride() {
        let spec = DetectionSpec::default();
        let size = |s| match spec.rule_at(s) {
            DetectRule::Regions(r) => r.element_size,
            _ => unreachable!(),
        };
        assert_eq!(
            (size(16), size(64), size(128), size(224), size(1024)),
            (20, 5, 3, 1, 1)
        );
    }
}
