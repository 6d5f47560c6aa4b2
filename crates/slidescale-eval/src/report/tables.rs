//! Tables IV (AUC per stride) and V (FROC per stride) as Markdown, CSV and
//! JSON. Markdown rounds to 3 decimals as the paper does; CSV and JSON keep
//! every digit (Rust's shortest round-trip form).

use serde_json::json;

use super::{TradeOff, FROC_FPS};

/// Column titles of Table V's sensitivities, as the paper writes them.
const FP_TITLES: [&str; 6] = ["1/4", "1/2", "1", "2", "4", "8"];

/// Table IV: `stride | AUC (95% CI)`.
pub fn auc_markdown(t: &TradeOff) -> String {
    let mut out = String::from("| stride | AUC (95% CI) |\n|---|---|\n");
    for r in &t.results {
        let auc = match r.auc.is_nan() {
            true => "n/a (fewer than two slides of a class)".to_string(),
            false => format!("{:.3} ({:.3}, {:.3})", r.auc, r.ci.0, r.ci.1),
        };
        out.push_str(&format!("| {} | {auc} |\n", r.stride));
    }
    out.push_str(&format!(
        "\nSlide-level AUC of the random forest on heatmap features, one forest per stride; \
         95% CI by {}. {}\n",
        t.ci_method,
        t.downsample_note()
    ));
    out
}

/// Table IV as CSV: `stride,auc,ci_low,ci_high,ci_method,downsample`.
pub fn auc_csv(t: &TradeOff) -> String {
    let mut out = String::from("stride,auc,ci_low,ci_high,ci_method,downsample\n");
    for r in &t.results {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.stride,
            r.auc,
            r.ci.0,
            r.ci.1,
            t.ci_method,
            t.made_by(r.stride)
        ));
    }
    out
}

/// Table IV as JSON.
pub fn auc_json(t: &TradeOff) -> String {
    let rows: Vec<_> = t
        .results
        .iter()
        .map(|r| {
            json!({"stride": r.stride, "auc": r.auc, "ci_low": r.ci.0, "ci_high": r.ci.1,
                   "downsample": t.made_by(r.stride)})
        })
        .collect();
    pretty(json!({
        "table": "slide-level AUC (95% CI) by stride",
        "ci_method": t.ci_method,
        "source_stride": t.source_stride,
        "downsample": t.downsample.name(),
        "downsample_note": t.downsample_note(),
        "rows": rows,
    }))
}

/// Table V: `stride | 1/4 | 1/2 | 1 | 2 | 4 | 8 | FROC score`.
pub fn froc_markdown(t: &TradeOff) -> String {
    let mut out = format!(
        "| stride | {} | FROC score |\n|---|{}---|\n",
        FP_TITLES.join(" | "),
        "---|".repeat(FP_TITLES.len())
    );
    for r in &t.results {
        let cells: Vec<String> = r.froc_at.iter().map(|s| format!("{s:.3}")).collect();
        out.push_str(&format!(
            "| {} | {} | {:.3} |\n",
            r.stride,
            cells.join(" | "),
            r.froc_score
        ));
    }
    out.push_str(&format!(
        "\nLesion-level sensitivity at 1/4, 1/2, 1, 2, 4 and 8 average false positives per \
         slide; the FROC score is their mean. {}\n",
        t.downsample_note()
    ));
    out
}

/// Table V as CSV: `stride,fp_0.25,…,fp_8,froc_score,downsample`.
pub fn froc_csv(t: &TradeOff) -> String {
    let fps: Vec<String> = FROC_FPS.iter().map(|f| format!("fp_{f}")).collect();
    let mut out = format!("stride,{},froc_score,downsample\n", fps.join(","));
    for r in &t.results {
        let cells: Vec<String> = r.froc_at.iter().map(f64::to_string).collect();
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.stride,
            cells.join(","),
            r.froc_score,
            t.made_by(r.stride)
        ));
    }
    out
}

/// Table V as JSON, with each stride's whole FROC curve.
pub fn froc_json(t: &TradeOff) -> String {
    let rows: Vec<_> = t
        .results
        .iter()
        .map(|r| {
            json!({"stride": r.stride, "sensitivity_at_fps": r.froc_at,
                   "froc_score": r.froc_score, "curve": r.froc_curve,
                   "downsample": t.made_by(r.stride)})
        })
        .collect();
    pretty(json!({
        "table": "lesion-level FROC by stride",
        "average_fps_per_slide": FROC_FPS,
        "source_stride": t.source_stride,
        "downsample": t.downsample.name(),
        "downsample_note": t.downsample_note(),
        "rows": rows,
    }))
}

fn pretty(value: serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
    text.push('\n');
    text
}
