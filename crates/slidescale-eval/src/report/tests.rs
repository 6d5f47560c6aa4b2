use super::*;

/// Four strides with FROC and ROC curves that fall with stride.
fn trade_off() -> TradeOff {
    let results = [16u32, 64, 128, 224]
        .iter()
        .enumerate()
        .map(|(i, &stride)| {
            let drop = 0.07 * i as f64;
            let froc_curve: Vec<(f64, f64)> = (0..40)
                .map(|j| {
                    let fps = j as f64 * 0.25;
                    (fps, (0.9 - drop) * (1.0 - (-fps / 1.5).exp()) + 0.3 / 7.0)
                })
                .collect();
            let froc_at = [
                0.45 - drop,
                0.541 - drop,
                0.712 - drop,
                0.8,
                0.821,
                0.838 - drop / 3.0,
            ];
            let roc_curve: Vec<(f64, f64)> = (0..=20)
                .map(|j| {
                    let fpr = j as f64 / 20.0;
                    (fpr, fpr.powf(0.15 + 0.1 * i as f64))
                })
                .collect();
            StrideResult {
                stride,
                froc_curve,
                froc_at,
                froc_score: froc_at.iter().sum::<f64>() / 6.0,
                roc_curve,
                auc: 0.902 - 0.01 * i as f64,
                ci: (0.844 - 0.01 * i as f64, 1.0),
            }
        })
        .collect();
    TradeOff {
        source_stride: 16,
        downsample: Downsample::Mean,
        ci_method: "DeLong".into(),
        results,
        excluded: Vec::new(),
    }
}

/// The tables as Python's csv and json modules read them, printed back as
/// JSON: the AUC CSV's rows, the FROC CSV's rows, both JSON files.
const PARSE_TABLES: &str = r#"
import csv, json, sys
d = sys.argv[1]
rows = lambda f: list(csv.DictReader(open(f'{d}/{f}', newline='')))
print(json.dumps({
    'auc_csv': [{k: (v if k in ('ci_method', 'downsample') else float(v)) for k, v in r.items()}
                for r in rows('auc_by_stride.csv')],
    'froc_csv': [{k: (v if k == 'downsample' else float(v)) for k, v in r.items()}
                 for r in rows('froc_by_stride.csv')],
    'auc_json': json.load(open(f'{d}/auc_by_stride.json')),
    'froc_json': json.load(open(f'{d}/froc_by_stride.json')),
}))
"#;

/// Equal but for the last bit: serde_json's default float parsing (reading
/// Python's output back) may be one ULP off; the files hold every digit.
fn close(parsed: &serde_json::Value, expected: f64) -> bool {
    parsed
        .as_f64()
        .is_some_and(|v| (v - expected).abs() <= 4.0 * f64::EPSILON * expected.abs())
}

#[test]
fn tables_parse_back_with_every_value_and_the_method() {
    let dir = slidescale_testutil::temp_dir("report-tables");
    let t = trade_off();
    write_report(&dir, &t).unwrap();
    let out = slidescale_testutil::run_python(PARSE_TABLES, &[dir.to_str().unwrap()]);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    for (i, r) in t.results.iter().enumerate() {
        let auc = &parsed["auc_csv"][i];
        assert_eq!(auc["stride"], r.stride as f64);
        assert!(close(&auc["auc"], r.auc) && close(&auc["ci_low"], r.ci.0));
        assert!(close(&auc["ci_high"], r.ci.1));
        assert_eq!(auc["ci_method"], "DeLong");
        assert_eq!(auc["downsample"], if i == 0 { "none" } else { "mean" });
        let froc = &parsed["froc_csv"][i];
        for (fps, s) in FROC_FPS.iter().zip(r.froc_at) {
            assert!(close(&froc[format!("fp_{fps}")], s), "stride {}", r.stride);
        }
        assert!(close(&froc["froc_score"], r.froc_score));
        let row = &parsed["froc_json"]["rows"][i];
        assert_eq!(row["curve"].as_array().unwrap().len(), r.froc_curve.len());
        assert!(close(&row["sensitivity_at_fps"][2], r.froc_at[2]));
        assert!(close(&parsed["auc_json"]["rows"][i]["auc"], r.auc));
    }
    assert_eq!(parsed["auc_json"]["downsample"], "mean");
    assert_eq!(parsed["froc_json"]["source_stride"], 16);
    let md = std::fs::read_to_string(dir.join("froc_by_stride.md")).unwrap();
    assert!(md.starts_with("| stride | 1/4 | 1/2 | 1 | 2 | 4 | 8 | FROC score |\n|---|"));
    assert!(
        md.contains("| 16 | 0.450 | 0.541 | 0.712 | 0.800 | 0.821 | 0.838 | 0.694 |"),
        "{md}"
    );
    assert!(md.contains("by block mean"), "{md}");
    let md = std::fs::read_to_string(dir.join("auc_by_stride.md")).unwrap();
    assert!(
        md.contains("| 64 | 0.892 (0.834, 1.000) |") && md.contains("CI by DeLong"),
        "{md}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// For each PNG: its size, then how many pixels have each stride's colour,
/// and how many are black (text, frame).
const COUNT_COLOURS: &str = r#"
import sys, json
from PIL import Image
colours = [tuple(c) for c in json.loads(sys.argv[1])]
for path in sys.argv[2:]:
    im = Image.open(path)
    counts = dict((c, n) for n, c in im.convert('RGB').getcolors(1 << 20))
    print(im.size[0], im.size[1], im.mode, *[counts.get(c, 0) for c in colours], counts.get((0, 0, 0), 0))
"#;

#[test]
fn each_plot_decodes_with_every_stride_in_its_colour() {
    let dir = slidescale_testutil::temp_dir("report-plots");
    write_report(&dir, &trade_off()).unwrap();
    let colours = serde_json::to_string(&STRIDE_COLOURS[..4]).unwrap();
    let froc = dir.join(FROC_PNG);
    let roc = dir.join(ROC_PNG);
    let out = slidescale_testutil::run_python(
        COUNT_COLOURS,
        &[&colours, froc.to_str().unwrap(), roc.to_str().unwrap()],
    );
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in lines {
        assert_eq!(&line[..3], ["800", "600", "RGB"], "{out}");
        for count in &line[3..] {
            // a curve across the plot and its legend line: hundreds of pixels
            assert!(count.parse::<u32>().unwrap() > 300, "{out}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
