//! `slidescale evaluate`: lesion FROC and slide-level AUC of a run's
//! heatmaps (or of another tool's detections), per stride, as the paper's
//! Tables IV and V with their curves.
//!
//! The flags become [`EvaluateOptions`] in [`Args::options`]; the driver
//! reads each slide's heatmap once, makes every requested stride from it,
//! and keeps per slide and stride only its detections and features, so
//! memory is one heatmap at a time.

use std::path::PathBuf;

use clap::ArgGroup;
use slidescale_core::{exit, WorkDir};
use slidescale_eval::evaluate::{
    cohort, evaluate, EvaluationSpec, LesionSource, SlideLevelSpec, Truth,
};
use slidescale_eval::forest::{ForestGrid, ForestParams};
use slidescale_eval::labels::read_labels;
use slidescale_eval::mask::DEFAULT_MASK_LEVEL;
use slidescale_eval::report::write_report;
use slidescale_eval::roc::CiMethod;
use slidescale_eval::strides::Downsample;

use super::bad_input;
use super::eval_args::{DetectArgs, HeatmapArgs};
use super::eval_output::write_details;

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
prob,X,Y in level-0 pixels), another tool's detections are evaluated, at one resolution, and a slide's score is its highest detection probability.\n\n\
Writes into --out: auc_by_stride.md|csv|json (the paper's Table IV: stride, AUC, 95% CI), \
froc_by_stride.md|csv|json (Table V: stride, sensitivity at 1/4, 1/2, 1, 2, 4, 8 average \
false positives per slide, FROC score), froc_curves.png and roc_curves.png (every stride \
on the same axes); each says how the coarser strides were made. Per stride, OUT/stride-S/: \
lesions.csv (every lesion: ITC or not, which detection hit it), detections.csv (every \
detection's role: true or false positive, extra hit, on an ITC), features.csv (the slide \
features, one row per slide), slide_scores.csv (the scores the AUC is over) and froc.json \
(the curve and the detail). With --write-masks, OUT/masks/NAME.tif. A slide that fails \
(e.g. a malformed outline) is named with its cause and left out; the others go on and the \
exit status is 65.\n\n\
Examples:\n  \
slidescale evaluate work/ --annotations outlines/ --labels labels.csv \
--strides 16,64,128,224 --out work/eval/\n  \
slidescale evaluate --masks masks/ --detections other_tool_csvs/ --labels labels.csv --out eval/\n\n\
Exit status: 0 done, 65 bad input or a slide failed (the message names the file, and the position of a parse error)."
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
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Trees in the random forest.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub trees: usize,
    /// Threshold of the local (largest-region) features.
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub local_threshold: f64,
    /// Also write each tumour slide's evaluation mask, from its outlines, as
    /// a pyramidal tiled TIFF (tumour = 255, as the challenge's) in OUT/masks/.
    #[arg(long)]
    pub write_masks: bool,
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

impl From<CiChoice> for CiMethod {
    fn from(c: CiChoice) -> CiMethod {
        match c {
            CiChoice::Delong => CiMethod::DeLong,
            CiChoice::MannWhitney => CiMethod::MannWhitney,
        }
    }
}

/// Everything `evaluate` was asked to do, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateOptions {
    pub work: Option<PathBuf>,
    pub labels: PathBuf,
    pub out: PathBuf,
    pub allow_nonempty_out: bool,
    pub spec: EvaluationSpec,
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
        if self.trees == 0 {
            return Err(bad_input("--trees: at least 1"));
        }
        if !(0.0..1.0).contains(&self.local_threshold) {
            return Err(bad_input("--local-threshold: a probability in [0, 1)"));
        }
        let slide_level = SlideLevelSpec {
            local_threshold: self.local_threshold,
            forest: ForestParams {
                n_trees: self.trees,
                seed: self.seed,
                ..ForestParams::default()
            },
            grid: self.grid.then(ForestGrid::default),
            folds: self.folds as usize,
            seed: self.seed,
            ci: self.ci.into(),
        };
        let write_masks = match (&truth, self.write_masks) {
            (Truth::Annotations(_), true) => Some(self.out.join("masks")),
            (Truth::Masks(_), true) => {
                return Err(bad_input("--write-masks makes masks from --annotations"))
            }
            (_, false) => None,
        };
        Ok(EvaluateOptions {
            work: self.work.clone(),
            labels: self.labels.clone(),
            out: self.out.clone(),
            allow_nonempty_out: self.allow_nonempty_out,
            spec: EvaluationSpec {
                truth,
                lesions,
                strides,
                downsample: self.downsample,
                detection: self.detect.spec()?,
                mask_level: self.mask_level,
                mpp: self.mpp,
                slide_level,
                write_masks,
            },
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
    let cohort = cohort(&labels, |name| heatmaps.as_ref().map(|set| set.path(name)));
    let bar = super::eval_output::slide_bar(cohort.len());
    let evaluation = evaluate(
        &options.spec,
        &cohort,
        args.heatmaps.heatmap_stride,
        |i, _, name| {
            bar.set_position(i as u64);
            bar.set_message(name.to_string());
        },
    );
    bar.finish_and_clear();
    let evaluation = evaluation.map_err(bad_input)?;
    let trade_off = evaluation.trade_off(&options.spec);
    write_report(&options.out, &trade_off)?;
    write_details(&options.out, &evaluation)?;
    super::eval_output::print_summary(&options.out, &evaluation, &trade_off);
    for (slide, why) in &evaluation.failed {
        eprintln!("{slide}: {why}");
    }
    Ok(match evaluation.failed.is_empty() {
        true => exit::OK,
        false => exit::BAD_INPUT,
    })
}
