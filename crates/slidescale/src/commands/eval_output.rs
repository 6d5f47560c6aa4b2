//! What `evaluate` writes beside the trade-off tables, and what it prints:
//! per stride, the per-lesion and per-detection detail of the FROC, the
//! feature table and the slide scores; a progress bar over slides.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use slidescale_core::workdir::write_atomic;
use slidescale_eval::evaluate::{Evaluation, StrideEvaluation};
use slidescale_eval::froc::DetectionRole;
use slidescale_eval::report::TradeOff;

/// A bar over the cohort's slides (hidden when stderr is not a terminal).
pub fn slide_bar(slides: usize) -> ProgressBar {
    slide_bar_doing("evaluating", slides)
}

/// A bar over `slides` slides, labelled with what is being done to them
/// (hidden when stderr is not a terminal).
pub fn slide_bar_doing(doing: &str, slides: usize) -> ProgressBar {
    let target = match std::io::stderr().is_terminal() {
        true => ProgressDrawTarget::stderr(),
        false => ProgressDrawTarget::hidden(),
    };
    let bar = ProgressBar::with_draw_target(Some(slides as u64), target);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{doing} [{{bar:30}}] {{pos}}/{{len}} slides, {{eta}} left: {{msg}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

/// The directory of one stride's detail files.
pub fn stride_dir(out: &Path, stride: u32) -> PathBuf {
    match stride {
        0 => out.join("detections"),
        s => out.join(format!("stride-{s}")),
    }
}

/// Per stride: lesions.csv, detections.csv, features.csv, slide_scores.csv,
/// froc.json.
pub fn write_details(out: &Path, evaluation: &Evaluation) -> anyhow::Result<()> {
    for s in &evaluation.strides {
        let dir = stride_dir(out, s.stride);
        let write = |name: &str, text: String| -> anyhow::Result<()> {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes())
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        };
        write("lesions.csv", lesions_csv(s))?;
        write("detections.csv", detections_csv(s))?;
        write("slide_scores.csv", scores_csv(s))?;
        write("froc.json", serde_json::to_string_pretty(&s.froc)? + "\n")?;
        if !s.features.rows.is_empty() {
            write("features.csv", s.features.to_csv())?;
        }
    }
    Ok(())
}

/// One row per lesion of every tumour slide: which detection hit it.
fn lesions_csv(s: &StrideEvaluation) -> String {
    let mut t = String::from(
        "slide,label,itc,area_px,centroid_x,centroid_y,hits,hit_index,hit_prob,hit_x,hit_y,score\n",
    );
    for l in &s.froc.lesions {
        let (cx, cy) = l.centroid.map_or((String::new(), String::new()), |(x, y)| {
            (format!("{x:.1}"), format!("{y:.1}"))
        });
        let hit = l.hit.map_or(",,,".to_string(), |h| {
            format!("{},{},{},{}", h.index, h.prob, h.x, h.y)
        });
        let _ = writeln!(
            t,
            "{},{},{},{},{cx},{cy},{},{hit},{}",
            l.slide, l.label, l.itc, l.area_px, l.hits, l.score
        );
    }
    t
}

/// One row per detection: its role (true positive, false positive, extra
/// hit on a lesion already hit, on an isolated tumour cell).
fn detections_csv(s: &StrideEvaluation) -> String {
    let mut t = String::from("slide,index,prob,x,y,label,role\n");
    for d in &s.froc.detections {
        let role = match d.role {
            DetectionRole::TruePositive => "true_positive",
            DetectionRole::FalsePositive => "false_positive",
            DetectionRole::ExtraHit => "extra_hit",
            DetectionRole::IsolatedTumourCell => "isolated_tumour_cell",
        };
        let label = d.label.map_or(String::new(), |l| l.to_string());
        let _ = writeln!(
            t,
            "{},{},{},{},{},{label},{role}",
            d.slide, d.index, d.prob, d.x, d.y
        );
    }
    t
}

/// The slides the AUC is over, with their label and score.
fn scores_csv(s: &StrideEvaluation) -> String {
    let sc = &s.slide_scores;
    let mut t = format!("# {}\nslide,label,score\n", sc.method);
    for ((slide, tumour), score) in sc.slides.iter().zip(&sc.tumour).zip(&sc.scores) {
        let label = if *tumour { "tumor" } else { "normal" };
        let _ = writeln!(t, "{slide},{label},{score}");
    }
    t
}

/// The trade-off in a few lines, and where the files are.
pub fn print_summary(out: &Path, evaluation: &Evaluation, t: &TradeOff) {
    println!(
        "{:>6}  {:>10}  {:>22}  lesions  slides",
        "stride",
        "FROC score",
        format!("AUC (95% CI, {})", t.ci_method)
    );
    for (s, r) in evaluation.strides.iter().zip(&t.results) {
        println!(
            "{:>6}  {:>10.3}  {:>22}  {:>7}  {:>6}",
            s.stride,
            r.froc_score,
            match r.auc.is_nan() {
                true => "n/a".to_string(),
                false => format!("{:.3} ({:.3}, {:.3})", r.auc, r.ci.0, r.ci.1),
            },
            s.froc.lesions_counted,
            s.froc.slides
        );
    }
    println!("{}", t.downsample_note());
    println!("tables, curves and per-lesion detail in {}", out.display());
}
