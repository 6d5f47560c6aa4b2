//! `slidescale evaluate`: lesion FROC and slide-level AUC of a run's
//! heatmaps (or of another tool's detections), per stride, as the paper's
//! Tables IV and V with their curves.
//!
//! The flags become [`EvaluateOptions`] in [`Args::options`]; the driver
//! reads each slide's heatmap once, makes every requested stride from it,
//! and keeps per slide and stride only its detections and features, so
//! memory is one heatmap at a time.

use std::path::{Path, PathBuf};

use clap::ArgGroup;
use slidescale_core::{exit, WorkDir};
use slidescale_eval::detect::Detection;
use slidescale_eval::heatmap::{level0_mpp, HeatmapMeta};
use slidescale_eval::labels::{read_labels, Label, SlideLabels};
use slidescale_eval::mask::EvaluationMask;
use slidescale_eval::raster::Raster;
use slidescale_eval::report::{write_report, StrideResult, TradeOff};
use slidescale_eval::strides::{downsample, factor, Downsample};

use super::bad_input;
use super::detect::{detect_lesions, not_wired};
use super::eval_args::{DetectArgs, DetectSettings, HeatmapArgs, HeatmapSet};

/// CAMELYON16's level-0 resolution, for slides whose MPP is unknown.
// TODO(lead): use slidescale_eval::mask::DEFAULT_LEVEL0_MPP / DEFAULT_MASK_LEVEL (i8-masks).
const DEFAULT_MPP: f64 = 0.243;
const DEFAULT_MASK_LEVEL: u32 = 5;

/// Evaluate heatmaps as the paper and CAMELYON16 do: lesion-level FROC and
/// slide-level ROC AUC, per stride (what it reads and writes: `DESCRIPTION`).
#[derive(clap::Args, Debug)]
#[command(
    group(ArgGroup::new("truth").required(true).args(["annotations", "masks"])),
    after_help = "Ground truth is pathologists' outlines (--annotations: NAME.xml (ASAP), \
NAME.json (NCRF) or NAME.geojson (QuPath) per tumour slide) or the challenge's evaluation \
mask TIFFs (--masks: NAME.tif per tumour slide). labels.csv says which slides are evaluated \
and which are tumour slides: header `slide,label[,split]`, label tumor|tumour|1 or \
normal|0, split train|test (without it the slide classifier is cross-validated, --folds). \
A tumour slide without an outline or mask is an error, not a normal slide.\n\n\
With WORK, lesions are detected in each heatmap (--detect) at each of --strides, coarser \
strides made by downsampling the heatmaps (--downsample), and a random forest on heatmap \
features gives the slide-level scores. With --detections DIR (NAME.csv per slide, \
prob,X,Y in level-0 pixels), another tool's detections are evaluated, at one resolution.\n\n\
Writes into --out: auc_by_stride.md|csv|json (the paper's Table IV: stride, AUC, 95% CI), \
froc_by_stride.md|csv|json (Table V: stride, sensitivity at 1/4, 1/2, 1, 2, 4, 8 average \
false positives per slide, FROC score), froc_curves.png and roc_curves.png (every stride \
on the same axes); each says how the coarser strides were made.\n\n\
Examples:\n  \
slidescale evaluate work/ --annotations outlines/ --labels labels.csv \
--strides 16,64,128,224 --out work/eval/\n  \
slidescale evaluate --masks masks/ --detections other_tool_csvs/ --labels labels.csv --out eval/\n\n\
Exit status: 0 done, 65 bad input (the message names the file, and the line of a parse error)."
)]
pub struct Args {
    /// Work directory whose heatmaps (WORK/heatmaps/NAME.npy with NAME.json)
    /// are evaluated.
    pub work: Option<PathBuf>,
    /// Directory of outlines, one per tumour slide: NAME.xml (ASAP),
    /// NAME.json (NCRF) or NAME.geojson (QuPath).
    #[arg(long, value_name = "DIR")]
    pub annotations: Option<PathBuf>,
    /// Directory of CAMELYON16 evaluation masks, NAME.tif per tumour slide
    /// (pyramidal TIFF, tumour = 255).
    #[arg(long, value_name = "DIR")]
    pub masks: Option<PathBuf>,
    /// Directory of detections to evaluate instead of detecting them in
    /// heatmaps: NAME.csv per slide, `prob,X,Y` (level-0 pixels).
    #[arg(long, value_name = "DIR")]
    pub detections: Option<PathBuf>,
    /// The slides to evaluate and their truth: `slide,label[,split]`.
    #[arg(long, value_name = "CSV")]
    pub labels: PathBuf,
    /// Strides to evaluate, comma-separated, each a multiple of the
    /// heatmaps' stride (e.g. 16,64,128,224 from stride-16 heatmaps)
    /// [default: the heatmaps' own stride].
    #[arg(long, value_delimiter = ',', value_name = "S,...")]
    pub strides: Vec<u32>,
    /// How a coarser stride is made from the heatmaps: mean (of each k×k
    /// block's non-NaN values), max, or decimate (heatmap[::k, ::k], as the
    /// authors' code).
    #[arg(long, default_value = "mean", value_name = "HOW")]
    pub downsample: Downsample,
    /// Where the tables and curves go (created; must be new, empty or slidescale's).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Pyramid level of the evaluation masks (CAMELYON16: 5).
    #[arg(long, default_value_t = DEFAULT_MASK_LEVEL, value_name = "L")]
    pub mask_level: u32,
    /// Level-0 µm per pixel for every slide [default: each slide's own from
    /// its heatmap's sidecar, else 0.243 as CAMELYON16].
    #[arg(long, value_name = "UM")]
    pub mpp: Option<f64>,
    /// Confidence interval of the AUC.
    #[arg(long, value_enum, default_value = "delong")]
    pub ci: CiChoice,
    /// Seed of the random forest and of the cross-validation folds.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Cross-validation folds when labels.csv has no split.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub folds: u32,
    /// Tune the forest by a cross-validated grid search on ROC AUC (slower).
    #[arg(long)]
    pub grid: bool,
    /// Use an --out that is not empty and not slidescale's.
    #[arg(long)]
    pub allow_nonempty_out: bool,
    #[command(flatten)]
    pub heatmaps: HeatmapArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// How the AUC's 95% CI is computed.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiChoice {
    /// DeLong's variance (R's pROC::ci.auc).
    Delong,
    /// The Mann–Whitney statistic's unbiased variance, AUC ± 1.96·SD (the
    /// authors' script_auc.R).
    MannWhitney,
}

impl CiChoice {
    /// As the report names it.
    pub fn name(self) -> &'static str {
        match self {
            CiChoice::Delong => "DeLong",
            CiChoice::MannWhitney => "Mann-Whitney",
        }
    }
}

/// Where the ground truth comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    Annotations(PathBuf),
    Masks(PathBuf),
}

/// Where the lesions come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LesionSource {
    /// Detected in the heatmaps, at each stride.
    Heatmaps,
    /// Another tool's CSVs.
    Files(PathBuf),
}

/// The slide-level classifier's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlideLevelSettings {
    pub ci: CiChoice,
    pub seed: u64,
    pub folds: u32,
    pub grid: bool,
}

/// Everything `evaluate` was asked to do, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateOptions {
    pub work: Option<PathBuf>,
    pub truth: Truth,
    pub lesions: LesionSource,
    pub labels: PathBuf,
    /// Ascending, no repeats; empty: the heatmaps' own stride.
    pub strides: Vec<u32>,
    pub downsample: Downsample,
    pub out: PathBuf,
    pub allow_nonempty_out: bool,
    pub mask_level: u32,
    pub mpp: Option<f64>,
    pub slide_level: SlideLevelSettings,
    pub detect: DetectSettings,
}

impl Args {
    /// The one place `evaluate`'s flags become typed options.
    pub fn options(&self) -> anyhow::Result<EvaluateOptions> {
        let truth = match (&self.annotations, &self.masks) {
            (Some(dir), None) => Truth::Annotations(dir.clone()),
            (None, Some(dir)) => Truth::Masks(dir.clone()),
            _ => return Err(bad_input("give one of --annotations DIR and --masks DIR")),
        };
        let lesions = match (&self.work, &self.detections) {
            (None, None) => {
                return Err(bad_input(
                    "nothing to evaluate: give WORK (its heatmaps) or --detections DIR",
                ))
            }
            (_, Some(dir)) => LesionSource::Files(dir.clone()),
            (Some(_), None) => LesionSource::Heatmaps,
        };
        let strides = checked_strides(&self.strides)?;
        if self.work.is_none() && !strides.is_empty() {
            return Err(bad_input("--strides needs heatmaps: give WORK"));
        }
        if matches!(lesions, LesionSource::Files(_)) && strides.len() > 1 {
            return Err(bad_input(
                "--detections are at one resolution: leave them out to detect lesions at each of --strides",
            ));
        }
        if self.mpp.is_some_and(|m| !(m > 0.0 && m.is_finite())) {
            return Err(bad_input("--mpp: a positive number of µm per pixel"));
        }
        if self.mask_level > 15 {
            return Err(bad_input(format!(
                "--mask-level {}: at most 15",
                self.mask_level
            )));
        }
        if self.folds < 2 {
            return Err(bad_input("--folds: at least 2"));
        }
        Ok(EvaluateOptions {
            work: self.work.clone(),
            truth,
            lesions,
            labels: self.labels.clone(),
            strides,
            downsample: self.downsample,
            out: self.out.clone(),
            allow_nonempty_out: self.allow_nonempty_out,
            mask_level: self.mask_level,
            mpp: self.mpp,
            slide_level: SlideLevelSettings {
                ci: self.ci,
                seed: self.seed,
                folds: self.folds,
                grid: self.grid,
            },
            detect: self.detect.settings()?,
        })
    }
}

/// `--strides` ascending without repeats; 0 is refused.
fn checked_strides(strides: &[u32]) -> anyhow::Result<Vec<u32>> {
    if strides.contains(&0) {
        return Err(bad_input("--strides: strides are positive"));
    }
    let mut sorted = strides.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    Ok(sorted)
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let options = args.options()?;
    let labels = read_labels(&options.labels).map_err(bad_input)?;
    let slides: Vec<String> = labels.slides.keys().cloned().collect();
    let heatmaps = match &options.work {
        Some(work) => Some(args.heatmaps.select(work, &slides)?),
        None => None,
    };
    WorkDir::new(&options.out)
        .adopt(options.allow_nonempty_out)
        .map_err(bad_input)?;
    let trade_off = evaluate(&options, &labels, heatmaps.as_ref())?;
    let written = write_report(&options.out, &trade_off)?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(exit::OK)
}

/// What one slide gives at one stride.
// TODO(lead): read by lesion_froc and slide_roc once they are wired.
#[allow(dead_code)]
struct SlideAtStride {
    detections: Vec<Detection>,
    features: Vec<f64>,
}

/// A slide's evaluation mask (`None` for a normal slide) and what it gives
/// at each stride.
type SlideData = (String, Option<EvaluationMask>, Vec<(u32, SlideAtStride)>);

/// Every slide, then every stride: the trade-off report's data. Every slide
/// is tried; when any fails, all failures are listed and nothing is
/// reported (a table over part of the cohort would mislead).
fn evaluate(
    options: &EvaluateOptions,
    labels: &SlideLabels,
    heatmaps: Option<&HeatmapSet>,
) -> anyhow::Result<TradeOff> {
    let mut per_slide = Vec::new();
    let mut failures = Vec::new();
    let mut source_stride = None;
    for (name, truth) in labels.slides.iter() {
        match evaluate_slide(options, name, truth.label, heatmaps) {
            Ok((stride, data)) => {
                source_stride = source_stride.or(stride);
                per_slide.push(data);
            }
            Err(e) => failures.push(format!("{name}: {}", super::one_line(&e))),
        }
    }
    if !failures.is_empty() {
        return Err(bad_input(format!(
            "{} of {} slides failed: {}",
            failures.len(),
            labels.slides.len(),
            failures.join("; ")
        )));
    }
    let strides: Vec<u32> = per_slide
        .first()
        .map(|(_, _, s)| s.iter().map(|(stride, _)| *stride).collect())
        .unwrap_or_default();
    let mut results = Vec::new();
    for (i, &stride) in strides.iter().enumerate() {
        let (froc_curve, froc_at, froc_score) = lesion_froc(&per_slide, i)?;
        let (roc_curve, auc, ci) = slide_roc(options, labels, &per_slide, i)?;
        results.push(StrideResult {
            stride,
            froc_curve,
            froc_at,
            froc_score,
            roc_curve,
            auc,
            ci,
        });
    }
    Ok(TradeOff {
        // TODO(lead): without heatmaps (--detections only) there is no stride; the row says 0
        source_stride: source_stride.unwrap_or(0),
        downsample: options.downsample,
        ci_method: options.slide_level.ci.name().to_string(),
        results,
    })
}

/// One slide: its heatmap read once (when there are heatmaps), its mask at
/// the slide's level-0 MPP, and what it gives at every stride; with the
/// heatmap's own stride.
fn evaluate_slide(
    options: &EvaluateOptions,
    name: &str,
    label: Label,
    heatmaps: Option<&HeatmapSet>,
) -> anyhow::Result<(Option<u32>, SlideData)> {
    let loaded = match heatmaps {
        Some(set) => Some(set.load(&set.path(name))?),
        None => None,
    };
    let mpp = match &loaded {
        Some((meta, _)) => level0_mpp(meta, options.mpp, DEFAULT_MPP),
        None => options.mpp.unwrap_or(DEFAULT_MPP),
    };
    let mask = evaluation_mask(options, name, label, mpp)?;
    let (stride, strides) = match &loaded {
        Some((meta, heatmap)) => (Some(meta.stride), slide_at_strides(options, meta, heatmap)?),
        None => (None, vec![(0, lesions_from_file(options, name)?)]),
    };
    Ok((stride, (name.to_string(), mask, strides)))
}

/// One slide's heatmap at each requested stride: its detections and
/// features, the heatmap itself dropped after each.
fn slide_at_strides(
    options: &EvaluateOptions,
    meta: &HeatmapMeta,
    heatmap: &Raster<f32>,
) -> anyhow::Result<Vec<(u32, SlideAtStride)>> {
    let strides = if options.strides.is_empty() {
        vec![meta.stride]
    } else {
        options.strides.clone()
    };
    for &stride in &strides {
        factor(meta.stride, stride).map_err(bad_input)?; // all before any work
    }
    let mut out = Vec::new();
    for stride in strides {
        let coarse = downsample(heatmap, meta.stride, stride, options.downsample)?;
        let mut at = meta.clone();
        at.stride = stride;
        at.pixel_size = stride;
        at.shape = [coarse.height as u64, coarse.width as u64];
        let detections = match &options.lesions {
            LesionSource::Heatmaps => detect_lesions(&at, &coarse, &options.detect)?,
            LesionSource::Files(_) => Vec::new(), // read once, below
        };
        out.push((
            stride,
            SlideAtStride {
                detections,
                features: slide_features(&at, &coarse)?,
            },
        ));
    }
    if let LesionSource::Files(_) = &options.lesions {
        let from_file = lesions_from_file(options, &meta.slide)?;
        out[0].1.detections = from_file.detections;
    }
    Ok(out)
}

/// The evaluation mask of a tumour slide (`None` for a normal slide), from
/// its outline or its mask TIFF; a tumour slide without either is an error.
fn evaluation_mask(
    options: &EvaluateOptions,
    name: &str,
    label: Label,
    _level0_mpp: f64,
) -> anyhow::Result<Option<EvaluationMask>> {
    if label == Label::Normal {
        return Ok(None);
    }
    match &options.truth {
        // TODO(lead): i8-ann's readers (NAME.xml|json|geojson) + rasteriser at
        // options.mask_level, then i8-masks' evaluation_mask(.., level0_mpp).
        Truth::Annotations(dir) => Err(not_wired(&format!(
            "outlines in {} for {name} (i8-ann, i8-masks)",
            dir.display()
        ))),
        // TODO(lead): i8-masks' read_mask_tiff(dir/NAME.tif), error when missing.
        Truth::Masks(dir) => Err(not_wired(&format!(
            "mask TIFF {} (i8-masks)",
            mask_path(dir, name).display()
        ))),
    }
}

fn mask_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.tif"))
}

/// Another tool's detections of one slide (`DIR/NAME.csv`).
fn lesions_from_file(options: &EvaluateOptions, name: &str) -> anyhow::Result<SlideAtStride> {
    let LesionSource::Files(dir) = &options.lesions else {
        unreachable!("only called with --detections");
    };
    // TODO(lead): i8-det's CSV reader; a slide without a file has no detections.
    Err(not_wired(&format!(
        "detections {} (i8-det)",
        dir.join(format!("{name}.csv")).display()
    )))
}

/// The slide-level features of one heatmap at one stride.
fn slide_features(_meta: &HeatmapMeta, _heatmap: &Raster<f32>) -> anyhow::Result<Vec<f64>> {
    // TODO(lead): i8-feat's global + local features.
    Err(not_wired("slide features (i8-feat)"))
}

/// The FROC at stride number `i`: curve, sensitivities at 1/4 … 8 FPs per
/// slide, score.
type FrocSummary = (Vec<(f64, f64)>, [f64; 6], f64);

fn lesion_froc(_per_slide: &[SlideData], _i: usize) -> anyhow::Result<FrocSummary> {
    // TODO(lead): i8-froc's compute over every slide's mask and detections.
    Err(not_wired("FROC (i8-froc)"))
}

/// The slide-level ROC at stride number `i`: curve, AUC, 95% CI.
type RocSummary = (Vec<(f64, f64)>, f64, (f64, f64));

fn slide_roc(
    options: &EvaluateOptions,
    _labels: &SlideLabels,
    _per_slide: &[SlideData],
    _i: usize,
) -> anyhow::Result<RocSummary> {
    // TODO(lead): i8-forest: train/test by labels.has_split or options.folds-fold
    // CV (seeded options.slide_level.seed, --grid), then roc::roc_curve and
    // roc::auc_with_ci with options.slide_level.ci (CiChoice → roc::CiMethod).
    // Without heatmaps (--detections only), the slide score is to be decided
    // (e.g. the highest detection probability).
    Err(not_wired(&format!(
        "slide-level AUC with {} CI (i8-forest)",
        options.slide_level.ci.name()
    )))
}
