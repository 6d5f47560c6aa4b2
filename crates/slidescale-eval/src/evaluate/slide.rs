//! One slide of an evaluation: its evaluation mask, its heatmap read once,
//! and at each stride its detections, FROC outcome and features.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{CohortSlide, EvaluationSpec, LesionSource, Truth};
use crate::annotations::{annotations_for_slide, SlideAnnotations, ANNOTATION_EXTENSIONS};
use crate::detect::{clamp_to_slide, csv::read_csv, detect, Detection};
use crate::features::{slide_features, SlideFeatures};
use crate::froc::{slide_outcome, SlideInput, SlideOutcome};
use crate::heatmap::{level0_mpp, level0_stride, load_heatmap, HeatmapMeta};
use crate::mask::rasterise::{tumour_raster, tumour_raster_window};
use crate::mask::{
    evaluation_mask, level_dimensions, pyramid_levels, read_mask_tiff, write_mask_tiff,
    EvaluationMask, DEFAULT_LEVEL0_MPP,
};
use crate::raster::Raster;
use crate::strides::{downsample, factor};

/// What one slide gives.
pub(super) struct SlideResult {
    pub name: String,
    /// Its heatmap's stride (0 without a heatmap).
    pub source_stride: u32,
    pub at: Vec<SlideAtStride>,
}

/// What one slide gives at one stride.
pub(super) struct SlideAtStride {
    pub stride: u32,
    pub detections: Vec<Detection>,
    /// Taken when the cohort's FROC is made.
    pub outcome: Option<SlideOutcome>,
    /// `None` without a heatmap.
    pub features: Option<SlideFeatures>,
}

/// Evaluate one slide; the error is one line.
pub(super) fn evaluate_slide(
    spec: &EvaluationSpec,
    slide: &CohortSlide,
    heatmap_stride: Option<u32>,
) -> Result<SlideResult, String> {
    let loaded = match &slide.heatmap {
        Some(npy) => Some(load_heatmap(npy, heatmap_stride).map_err(|e| e.to_string())?),
        None => None,
    };
    let meta = loaded.as_ref().map(|(m, _)| m);
    let mpp = match meta {
        Some(m) => level0_mpp(m, spec.mpp, DEFAULT_LEVEL0_MPP),
        None => spec.mpp.unwrap_or(DEFAULT_LEVEL0_MPP),
    };
    let from_file = match &spec.lesions {
        LesionSource::Files(dir) => Some(detections_file(dir, &slide.name)?),
        LesionSource::Heatmaps => None,
    };
    let mask = match slide.tumour {
        true => Some(truth_mask(
            spec,
            &slide.name,
            meta,
            from_file.as_deref(),
            mpp,
        )?),
        false => None,
    };
    let at = match &loaded {
        Some((meta, heatmap)) => strides_of(spec, slide, meta, heatmap, &from_file, &mask)?,
        None => {
            let detections = from_file.unwrap_or_default();
            let outcome = outcome(&slide.name, &detections, &mask)?;
            vec![SlideAtStride {
                stride: 0,
                detections,
                outcome: Some(outcome),
                features: None,
            }]
        }
    };
    Ok(SlideResult {
        name: slide.name.clone(),
        source_stride: meta.and_then(|m| level0_stride(m).ok()).unwrap_or(0),
        at,
    })
}

/// The slide at each requested stride (all checked before any work).
fn strides_of(
    spec: &EvaluationSpec,
    slide: &CohortSlide,
    meta: &HeatmapMeta,
    heatmap: &Raster<f32>,
    from_file: &Option<Vec<Detection>>,
    mask: &Option<EvaluationMask>,
) -> Result<Vec<SlideAtStride>, String> {
    let source = level0_stride(meta)?;
    let strides = match spec.strides.is_empty() {
        true => vec![source],
        false => spec.strides.clone(),
    };
    for &s in &strides {
        factor(source, s).map_err(|e| e.to_string())?;
    }
    // The strides of one slide in parallel: memory stays one heatmap (and
    // its coarser copies), where slides in parallel would hold several.
    strides
        .par_iter()
        .map(|&stride| at_stride(spec, slide, meta, heatmap, from_file, mask, stride))
        .collect()
}

/// The slide at one stride: its coarser heatmap, detections, FROC outcome
/// and features.
fn at_stride(
    spec: &EvaluationSpec,
    slide: &CohortSlide,
    meta: &HeatmapMeta,
    heatmap: &Raster<f32>,
    from_file: &Option<Vec<Detection>>,
    mask: &Option<EvaluationMask>,
    stride: u32,
) -> Result<SlideAtStride, String> {
    let source = level0_stride(meta)?;
    let coarse = downsample(heatmap, source, stride, spec.downsample).map_err(|e| e.to_string())?;
    let detections = match from_file {
        Some(d) => d.clone(),
        None => {
            let mut lesions = detect(&coarse, stride, &spec.detection.rule_at(stride))
                .map_err(|e| e.to_string())?;
            clamp_to_slide(&mut lesions, meta.level0_width, meta.level0_height);
            lesions.into_iter().map(|l| l.detection).collect()
        }
    };
    let features = slide_features(&coarse, spec.slide_level.local_threshold);
    Ok(SlideAtStride {
        stride,
        outcome: Some(outcome(&slide.name, &detections, mask)?),
        detections,
        features: Some(features),
    })
}

fn outcome(
    name: &str,
    detections: &[Detection],
    mask: &Option<EvaluationMask>,
) -> Result<SlideOutcome, String> {
    slide_outcome(&SlideInput {
        name,
        detections,
        mask: mask.as_ref(),
    })
    .map_err(|e| e.to_string())
}

/// Another tool's detections of a slide; none when it has no file.
fn detections_file(dir: &Path, name: &str) -> Result<Vec<Detection>, String> {
    let path = dir.join(format!("{name}.csv"));
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_csv(&path).map_err(|e| e.to_string())
}

/// The evaluation mask of a tumour slide from its outline or mask TIFF; a
/// tumour slide without either is an error, never a normal slide.
fn truth_mask(
    spec: &EvaluationSpec,
    name: &str,
    meta: Option<&HeatmapMeta>,
    detections: Option<&[Detection]>,
    mpp: f64,
) -> Result<EvaluationMask, String> {
    let level = spec.mask_level;
    let tumour = match &spec.truth {
        Truth::Masks(dir) => {
            let path = dir.join(format!("{name}.tif"));
            if !path.exists() {
                return Err(format!(
                    "a tumour slide without a mask: {} does not exist",
                    path.display()
                ));
            }
            read_mask_tiff(&path, level).map_err(|e| e.to_string())?
        }
        Truth::Annotations(dir) => {
            let ann = annotations_for_slide(dir, name)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!(
                        "a tumour slide without an outline: no {} in {}",
                        ANNOTATION_EXTENSIONS
                            .map(|e| format!("{name}.{e}"))
                            .join(", "),
                        dir.display()
                    )
                })?;
            let (width, height) = level0_size(meta, &ann, detections.unwrap_or(&[]));
            if let Some(out) = &spec.write_masks {
                write_outline_mask(out, name, &ann, width, height, level)?;
            }
            let (w, h) = level_dimensions(width, height, level);
            tumour_raster(&ann, w, h, f64::from(1u32 << level))
        }
    };
    Ok(evaluation_mask(&tumour, level, mpp))
}

/// The slide's level-0 size: its heatmap's sidecar's; without a heatmap,
/// the extent of its outlines and detections (everything a mask must hold).
fn level0_size(
    meta: Option<&HeatmapMeta>,
    ann: &SlideAnnotations,
    detections: &[Detection],
) -> (usize, usize) {
    if let Some(m) = meta {
        return (m.level0_width as usize, m.level0_height as usize);
    }
    let mut extent = (1f64, 1f64);
    let rings = ann
        .outlines
        .iter()
        .flat_map(|o| std::iter::once(&o.polygon.exterior).chain(&o.polygon.holes));
    for p in rings.flatten() {
        extent = (
            extent.0.max(p[0].ceil() + 1.0),
            extent.1.max(p[1].ceil() + 1.0),
        );
    }
    for d in detections {
        extent = (
            extent.0.max(d.x as f64 + 1.0),
            extent.1.max(d.y as f64 + 1.0),
        );
    }
    (extent.0 as usize, extent.1 as usize)
}

/// `dir/NAME.tif`: the outline's mask as a pyramidal TIFF down to the mask
/// level at least (tumour = 255), each level rasterised at its own scale.
fn write_outline_mask(
    dir: &Path,
    name: &str,
    ann: &SlideAnnotations,
    width: usize,
    height: usize,
    level: u32,
) -> Result<PathBuf, String> {
    let path = dir.join(format!("{name}.tif"));
    let levels = pyramid_levels(width, height, level + 1);
    write_mask_tiff(&path, width, height, levels, |l, x0, y0, w, h| {
        tumour_raster_window(ann, x0, y0, w, h, f64::from(1u32 << l))
    })
    .map_err(|e| e.to_string())?;
    Ok(path)
}
