//! The evaluation stage as one function: every slide's truth (outline or
//! mask TIFF → evaluation mask), its heatmap read once and made coarser for
//! each stride, lesions detected and matched (FROC), slide features, a
//! random forest and the slide-level ROC AUC — per stride, the data of the
//! paper's Tables IV and V with their detail.
//!
//! Memory is bounded: large heatmaps are evaluated one slide at a time
//! ([`slides_at_once`]), and a slide's mask and heatmap are dropped
//! once its FROC outcome ([`crate::froc::SlideOutcome`]) and features are
//! known at every stride.

mod detection;
mod slide;
mod slide_level;

use std::path::PathBuf;

use crate::features::FeatureTable;
use crate::froc::Froc;
use crate::labels::SlideLabels;
use crate::report::{StrideResult, TradeOff};
use crate::roc::{AucEstimate, CiMethod, RocCurve};
use crate::strides::Downsample;

pub use detection::DetectionSpec;
pub use slide_level::{too_few, SlideLevelSpec, SlideScores};

/// Where the ground truth of tumour slides comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// `DIR/NAME.xml|json|geojson`: outlines, rasterised at the mask level.
    Annotations(PathBuf),
    /// `DIR/NAME.tif`: the challenge's evaluation masks (tumour = 255).
    Masks(PathBuf),
}

/// Where the lesions come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LesionSource {
    /// Detected in each slide's heatmap at each stride.
    Heatmaps,
    /// Another tool's detections, `DIR/NAME.csv` (`prob,X,Y`); a slide
    /// without a file has none.
    Files(PathBuf),
}

/// Everything an evaluation is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationSpec {
    pub truth: Truth,
    pub lesions: LesionSource,
    /// Strides to evaluate, ascending; empty: the heatmaps' own.
    pub strides: Vec<u32>,
    pub downsample: Downsample,
    pub detection: DetectionSpec,
    /// Pyramid level of the evaluation masks (CAMELYON16: 5).
    pub mask_level: u32,
    /// Level-0 µm per pixel for every slide; `None`: each slide's own (its
    /// heatmap's sidecar), else [`crate::mask::DEFAULT_LEVEL0_MPP`].
    pub mpp: Option<f64>,
    pub slide_level: SlideLevelSpec,
    /// Also write each tumour slide's mask as a pyramidal TIFF here
    /// (`DIR/NAME.tif`, tumour = 255), from its outlines.
    pub write_masks: Option<PathBuf>,
}

/// One slide of the cohort: its labels.csv row and where its heatmap is.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSlide {
    pub name: String,
    pub tumour: bool,
    /// From labels.csv's split column: `Some(true)` train, `Some(false)` test.
    pub train: Option<bool>,
    /// Its `.npy` (with sidecar), when heatmaps are evaluated.
    pub heatmap: Option<PathBuf>,
}

/// The cohort of `labels`, with the heatmap of each slide from `heatmap`.
pub fn cohort(labels: &SlideLabels, heatmap: impl Fn(&str) -> Option<PathBuf>) -> Vec<CohortSlide> {
    labels
        .slides
        .values()
        .map(|l| CohortSlide {
            name: l.slide.clone(),
            tumour: l.label == crate::labels::Label::Tumor,
            train: l.split.map(|s| s == crate::labels::Split::Train),
            heatmap: heatmap(&l.slide),
        })
        .collect()
}

/// What a cohort gives at one stride.
#[derive(Debug, Clone)]
pub struct StrideEvaluation {
    pub stride: u32,
    pub froc: Froc,
    /// One row per slide (empty without heatmaps).
    pub features: FeatureTable,
    /// The slide-level scores and how they were made.
    pub slide_scores: slide_level::SlideScores,
    /// `None` with fewer than two slides of a class (see [`too_few`]).
    pub roc: Option<RocCurve>,
    pub auc: Option<AucEstimate>,
}

/// An evaluation: per stride, and the trade-off tables' data.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Stride of the heatmaps as scored (0 for another tool's detections).
    pub source_stride: u32,
    pub strides: Vec<StrideEvaluation>,
    /// Slides that failed (slide, one-line cause), left out of the rest.
    pub failed: Vec<(String, String)>,
}

impl Evaluation {
    /// The data of the trade-off tables and plots.
    pub fn trade_off(&self, spec: &EvaluationSpec) -> TradeOff {
        TradeOff {
            source_stride: self.source_stride,
            downsample: spec.downsample,
            ci_method: match spec.slide_level.ci {
                CiMethod::DeLong => "DeLong".into(),
                CiMethod::MannWhitney => "Mann-Whitney".into(),
            },
            results: self.strides.iter().map(stride_result).collect(),
            excluded: self.failed.iter().map(|(s, _)| s.clone()).collect(),
        }
    }
}

fn stride_result(s: &StrideEvaluation) -> StrideResult {
    let mut froc_curve: Vec<(f64, f64)> = s
        .froc
        .fps_per_slide
        .iter()
        .copied()
        .zip(s.froc.sensitivity.iter().copied())
        .collect();
    froc_curve.reverse(); // increasing FPs
    StrideResult {
        stride: s.stride,
        froc_curve,
        froc_at: s.froc.at.map(|(_, sens)| sens),
        froc_score: s.froc.score,
        roc_curve: s.roc.as_ref().map_or(Vec::new(), |r| {
            r.fpr.iter().copied().zip(r.tpr.iter().copied()).collect()
        }),
        // NaN: undefined (the tables say "n/a").
        auc: s.auc.as_ref().map_or(f64::NAN, |a| a.auc),
        ci: s
            .auc
            .as_ref()
            .map_or((f64::NAN, f64::NAN), |a| (a.ci_low, a.ci_high)),
    }
}

/// Why an evaluation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// Every slide was tried; these failed (slide, one-line cause).
    #[error("{} of {total} slides failed: {}", failed.len(), list(failed))]
    Slides {
        total: usize,
        failed: Vec<(String, String)>,
    },
    #[error("no slides to evaluate")]
    Empty,
    #[error("stride {stride}: {message}")]
    Stride { stride: u32, message: String },
}

/// `eval(i, slide)` for every slide, `workers` at a time, results in cohort
/// order. Plain threads take the slides (a rayon worker that waited for a
/// memory slot could hold up the strides of another slide); each slide's
/// strides still run on rayon's pool.
fn each_slide<T: Send>(
    cohort: &[CohortSlide],
    workers: usize,
    eval: impl Fn(usize, &CohortSlide) -> T + Sync,
) -> Vec<T> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<T>>> =
        cohort.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers.min(cohort.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(slide) = cohort.get(i) else { break };
                let r = eval(i, slide);
                *slots[i].lock().expect("slot") = Some(r);
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("slot")
                .expect("every slide evaluated")
        })
        .collect()
}

fn list(failed: &[(String, String)]) -> String {
    failed
        .iter()
        .map(|(s, e)| format!("{s}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Heatmap bytes that may be in memory at once when slides are evaluated in
/// parallel: cohort-sized heatmaps (a few MiB) go several at a time, while
/// a CAMELYON-sized one (323 MiB at stride 16) is evaluated alone, so the
/// peak stays a few times one heatmap.
pub const PARALLEL_HEATMAP_BYTES: u64 = 512 << 20;

/// How many slides of `cohort` to evaluate at once: as many as there are
/// threads, but never more than [`PARALLEL_HEATMAP_BYTES`] of the largest
/// heatmap's file (a slide's working memory is a small multiple of it).
pub fn slides_at_once(cohort: &[CohortSlide], threads: usize) -> usize {
    let largest = cohort
        .iter()
        .filter_map(|s| s.heatmap.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let by_memory = (PARALLEL_HEATMAP_BYTES / largest).max(1);
    threads.clamp(1, by_memory.min(usize::MAX as u64) as usize)
}

/// Evaluate `cohort` as `spec` says; `progress(i, n, name)` is called as
/// each slide starts. Every slide is tried; a slide that fails (a malformed
/// outline, a missing mask, a damaged heatmap) is listed in
/// [`Evaluation::failed`] and the others go on; the tables say which were
/// left out. Only when every slide fails is it an error. Slides run
/// [`slides_at_once`] at a time; the result does not depend on how many.
pub fn evaluate(
    spec: &EvaluationSpec,
    cohort: &[CohortSlide],
    heatmap_stride: Option<u32>,
    progress: impl Fn(usize, usize, &str) + Sync,
) -> Result<Evaluation, EvaluateError> {
    if cohort.is_empty() {
        return Err(EvaluateError::Empty);
    }
    let workers = slides_at_once(cohort, rayon::current_num_threads());
    let results = each_slide(cohort, workers, |i, s| {
        progress(i, cohort.len(), &s.name);
        slide::evaluate_slide(spec, s, heatmap_stride)
    });
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for (s, r) in cohort.iter().zip(results) {
        match r {
            Ok(r) => done.push(r),
            Err(e) => failed.push((s.name.clone(), e)),
        }
    }
    if done.is_empty() {
        return Err(EvaluateError::Slides {
            total: cohort.len(),
            failed,
        });
    }
    // The others go on: the cohort without the failed slides.
    let kept: Vec<CohortSlide> = cohort
        .iter()
        .filter(|s| !failed.iter().any(|(n, _)| n == &s.name))
        .cloned()
        .collect();
    let cohort = &kept[..];
    let source_stride = done[0].source_stride;
    let strides: Vec<u32> = done[0].at.iter().map(|a| a.stride).collect();
    if let Some(odd) = done.iter().find(|d| d.source_stride != source_stride) {
        return Err(EvaluateError::Stride {
            stride: odd.source_stride,
            message: format!(
                "slide {}'s heatmap has stride {} where {}'s has {source_stride}: evaluate one stride at a time",
                odd.name, odd.source_stride, done[0].name
            ),
        });
    }
    let mut out = Vec::new();
    for (k, &stride) in strides.iter().enumerate() {
        out.push(slide_level::at_stride(spec, cohort, &mut done, k, stride)?);
    }
    Ok(Evaluation {
        source_stride,
        strides: out,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slide(name: &str, heatmap: Option<PathBuf>) -> CohortSlide {
        CohortSlide {
            name: name.into(),
            tumour: false,
            train: None,
            heatmap,
        }
    }

    #[test]
    fn large_heatmaps_are_evaluated_one_at_a_time() {
        let dir = slidescale_testutil::temp_dir("slides-at-once");
        let small = dir.join("small.npy");
        std::fs::write(&small, vec![0u8; 4096]).unwrap();
        let cohort = vec![slide("a", Some(small.clone())), slide("b", None)];
        assert_eq!(slides_at_once(&cohort, 2), 2);
        assert_eq!(slides_at_once(&cohort, 0), 1);
        // A sparse file of CAMELYON size: its length is what counts.
        let large = dir.join("large.npy");
        let f = std::fs::File::create(&large).unwrap();
        f.set_len(PARALLEL_HEATMAP_BYTES / 2 + 1).unwrap();
        let cohort = vec![slide("a", Some(small)), slide("c", Some(large))];
        assert_eq!(slides_at_once(&cohort, 8), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn results_keep_cohort_order_whatever_the_workers() {
        let cohort: Vec<CohortSlide> = (0..23).map(|i| slide(&format!("s{i}"), None)).collect();
        let one = each_slide(&cohort, 1, |i, s| (i, s.name.clone()));
        for workers in [2, 3, 64] {
            let many = each_slide(&cohort, workers, |i, s| {
                // Uneven work so that workers finish out of order.
                std::thread::sleep(std::time::Duration::from_micros((23 - i as u64) * 50));
                (i, s.name.clone())
            });
            assert_eq!(many, one, "{workers} workers");
        }
    }
}
