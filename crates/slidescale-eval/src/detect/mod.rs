//! Lesion detections from a heatmap and their files.
//!
//! Two rules ([`DetectRule`]):
//! * [`RegionRule`], the authors' (DIDSR/DeepLearningCamelyon_II,
//!   `dldp/model_eva/froc/FROC_csv_0604.py`): heatmap `> 0.9`, OpenCV
//!   close then open with `getStructuringElement(MORPH_ELLIPSE, (20, 20))`,
//!   8-connected regions (`skimage.measure.label`'s default), one detection
//!   per region at its centroid with the region's mean heatmap value;
//! * [`NmsRule`], NCRF's local maxima with non-maximum suppression
//!   (baidu-research/NCRF, `wsi/bin/nms.py`).
//!
//! Heatmap NaN (background) counts as 0 in both. Coordinates are level-0
//! pixels whatever the stride ([`heatmap_to_level0`]).

pub mod csv;
pub mod files;
pub mod morphology;
mod nms;
mod outline;
mod regions;

use crate::raster::Raster;
use morphology::{BitImage, Element};

/// One detected lesion: a probability and a point in level-0 pixels
/// (integers, as the challenge's CSV stores them, so that what is evaluated
/// in memory is what a CSV round-trip gives).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub prob: f64,
    pub x: i64,
    pub y: i64,
}

/// A detection with the region it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesion {
    pub detection: Detection,
    /// The region's area in heatmap pixels ([`RegionRule`]); `None` for a
    /// local maximum ([`NmsRule`]), which has no region.
    pub area_px: Option<u64>,
    /// The region's outer boundary in level-0 pixels (the edges of its
    /// heatmap pixels, a closed ring: first point = last), when
    /// [`RegionRule::outlines`] asks for it.
    pub outline: Option<Vec<[f64; 2]>>,
}

/// The authors' rule. Defaults are theirs.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionRule {
    /// Heatmap values strictly above this are lesion (default 0.9).
    pub threshold: f64,
    /// Side of OpenCV's ellipse element, in heatmap pixels (default 20,
    /// the authors' `kernel_size` at stride 16; it is not rescaled with the
    /// stride, as the authors did not rescale it for their reduced maps).
    pub element_size: usize,
    /// Regions with fewer heatmap pixels are dropped (default 1: none, as
    /// the authors).
    pub min_area_px: u64,
    /// Whether to trace each region's outline (default false).
    pub outlines: bool,
}

impl Default for RegionRule {
    fn default() -> Self {
        RegionRule {
            threshold: 0.9,
            element_size: 20,
            min_area_px: 1,
            outlines: false,
        }
    }
}

/// NCRF's local-maximum rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NmsRule {
    /// Maxima strictly above this are reported (default 0.5, NCRF's).
    pub threshold: f64,
    /// Suppression half-width in level-0 pixels (default 768: NCRF's 12
    /// heatmap pixels at its stride 64). It becomes
    /// `max(1, round(radius / stride))` heatmap pixels, so the suppressed
    /// area is the same on the slide at every stride.
    pub radius_level0: f64,
}

impl Default for NmsRule {
    fn default() -> Self {
        NmsRule {
            threshold: 0.5,
            radius_level0: 768.0,
        }
    }
}

/// How detections are taken from a heatmap.
#[derive(Debug, Clone, PartialEq)]
pub enum DetectRule {
    /// The authors' regions (the default).
    Regions(RegionRule),
    /// NCRF's local maxima.
    LocalMaxima(NmsRule),
}

impl Default for DetectRule {
    /// The authors' rule with their parameters.
    fn default() -> Self {
        DetectRule::Regions(RegionRule::default())
    }
}

/// Parameters that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DetectError {
    #[error("stride must be at least 1 level-0 pixel")]
    ZeroStride,
    #[error("threshold {0} is not a number in [0, 1)")]
    Threshold(f64),
    #[error("structuring element size must be at least 1 pixel")]
    ZeroElement,
    #[error("suppression radius {0} is not a positive number of level-0 pixels")]
    Radius(f64),
}

/// The level-0 point of a position `(row, col)` in heatmap pixels: heatmap
/// pixel `(i, j)` covers level-0 `[j·s, j·s + s) × [i·s, i·s + s)`, so its
/// centre is `((j + 0.5)·s, (i + 0.5)·s)`; rounded half away from zero.
/// (The authors wrote `col·16` with no half pixel; the centre is what the
/// window scored was centred on.)
pub fn heatmap_to_level0(row: f64, col: f64, stride: u32) -> (i64, i64) {
    let s = f64::from(stride);
    (
        ((col + 0.5) * s).round() as i64,
        ((row + 0.5) * s).round() as i64,
    )
}

/// Detections moved onto a `width × height` slide: the last grid cells of a
/// heatmap reach past the slide's right and bottom edges (their windows
/// are white there), so a centre can land outside the slide, where no
/// evaluation mask or viewer has a pixel. Each coordinate is clamped to
/// `[0, size − 1]`.
pub fn clamp_to_slide(lesions: &mut [Lesion], width: u64, height: u64) {
    let max = |size: u64| size.saturating_sub(1) as i64;
    for l in lesions {
        l.detection.x = l.detection.x.clamp(0, max(width));
        l.detection.y = l.detection.y.clamp(0, max(height));
    }
}

/// The detections of `heatmap` (its pixels `stride` level-0 pixels apart)
/// by `rule`: regions in skimage's label order, maxima in the order picked
/// (highest first).
pub fn detect(
    heatmap: &Raster<f32>,
    stride: u32,
    rule: &DetectRule,
) -> Result<Vec<Lesion>, DetectError> {
    if stride == 0 {
        return Err(DetectError::ZeroStride);
    }
    match rule {
        DetectRule::Regions(r) => detect_regions(heatmap, stride, r),
        DetectRule::LocalMaxima(r) => detect_maxima(heatmap, stride, r),
    }
}

fn check_threshold(t: f64) -> Result<(), DetectError> {
    if (0.0..1.0).contains(&t) {
        Ok(())
    } else {
        Err(DetectError::Threshold(t))
    }
}

/// The authors' binary mask: threshold, then OpenCV's close then open with
/// the ellipse element (1 = lesion). The regions of [`RegionRule`] are the
/// 8-connected components of this mask.
pub fn region_mask(heatmap: &Raster<f32>, rule: &RegionRule) -> Result<Raster<u8>, DetectError> {
    let mask = morphed_mask(heatmap, rule)?;
    let mut out = Raster::filled(heatmap.width, heatmap.height, 0u8);
    for y in 0..mask.height {
        for (x0, x1) in mask.row_runs(y) {
            out.data[y * out.width + x0..y * out.width + x1].fill(1);
        }
    }
    Ok(out)
}

fn morphed_mask(heatmap: &Raster<f32>, rule: &RegionRule) -> Result<BitImage, DetectError> {
    check_threshold(rule.threshold)?;
    if rule.element_size == 0 {
        return Err(DetectError::ZeroElement);
    }
    let mut mask = BitImage::new(heatmap.width, heatmap.height);
    for y in 0..heatmap.height {
        for (x, &v) in heatmap.row(y).iter().enumerate() {
            // NaN > t is false: background is never lesion.
            if f64::from(v) > rule.threshold {
                mask.set(x, y);
            }
        }
    }
    if heatmap.width == 0 || heatmap.height == 0 {
        return Ok(mask);
    }
    Ok(morphology::close_then_open(
        mask,
        &Element::ellipse(rule.element_size),
    ))
}

fn detect_regions(
    heatmap: &Raster<f32>,
    stride: u32,
    rule: &RegionRule,
) -> Result<Vec<Lesion>, DetectError> {
    let mask = morphed_mask(heatmap, rule)?;
    Ok(regions::regions(&mask, heatmap)
        .into_iter()
        .filter(|r| r.area >= rule.min_area_px)
        .map(|r| {
            let (x, y) = heatmap_to_level0(r.centroid.0, r.centroid.1, stride);
            Lesion {
                detection: Detection { prob: r.mean, x, y },
                area_px: Some(r.area),
                outline: rule.outlines.then(|| outline::outer_ring(&r.runs, stride)),
            }
        })
        .collect())
}

fn detect_maxima(
    heatmap: &Raster<f32>,
    stride: u32,
    rule: &NmsRule,
) -> Result<Vec<Lesion>, DetectError> {
    check_threshold(rule.threshold)?;
    if !(rule.radius_level0.is_finite() && rule.radius_level0 > 0.0) {
        return Err(DetectError::Radius(rule.radius_level0));
    }
    let radius = ((rule.radius_level0 / f64::from(stride)).round() as usize).max(1);
    Ok(nms::peaks(heatmap, rule.threshold, radius)
        .into_iter()
        .map(|p| {
            let (x, y) = heatmap_to_level0(p.row as f64, p.col as f64, stride);
            Lesion {
                detection: Detection {
                    prob: f64::from(p.value),
                    x,
                    y,
                },
                area_px: None,
                outline: None,
            }
        })
        .collect())
}
