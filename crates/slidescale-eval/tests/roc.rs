//! Issue 8, requirement 5: ROC AUC equal to `sklearn.metrics.roc_auc_score`
//! (and the curve to `roc_curve(drop_intermediate=False)`), the DeLong
//! variance and 95% CI equal to R's `pROC::var` / `pROC::ci.auc(method =
//! "delong")`, the paired DeLong variance of a difference equal to pROC's
//! `var` and `cov`, and the authors' Mann–Whitney variance equal to an
//! independent NumPy implementation of their formula (the full n × m kernel
//! matrix, where the library works from placements and pair counts).
//!
//! Every reference runs on the same seeded cases, written to one CSV.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use slidescale_eval::roc::{
    auc_with_ci, delong_difference, roc_auc, roc_curve, AucEstimate, CiMethod, RocError,
};

/// One labelled case list, with a second scoring of the same cases (for the
/// paired difference).
struct Case {
    name: String,
    labels: Vec<bool>,
    scores: Vec<f64>,
    other_scores: Vec<f64>,
}

use slidescale_testutil::SplitMix64 as Rng;

/// Scores for `n` cases of which the first `positives` are positive; the
/// positives are shifted up by `separation`, values on a grid of `levels`.
fn scored(rng: &mut Rng, n: usize, positives: usize, separation: f64, levels: u64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let shift = if i < positives { separation } else { 0.0 };
            ((rng.grid(levels) + shift) * 1024.0).round() / 1024.0
        })
        .collect()
}

fn case(seed: u64, n: usize, positives: usize, separation: f64, levels: u64) -> Case {
    let mut rng = Rng(seed);
    let labels = (0..n).map(|i| i < positives).collect();
    let scores = scored(&mut rng, n, positives, separation, levels);
    let other_scores = scored(&mut rng, n, positives, separation * 0.5, levels);
    Case {
        name: format!("s{seed}_n{n}_p{positives}_sep{separation}_lv{levels}"),
        labels,
        scores,
        other_scores,
    }
}

/// Seeded cases: ties (few levels), small n, perfect separation, near-perfect
/// (pROC caps the interval at 1), reversed (capped at 0), all tied, and
/// larger unbalanced ones like a 399-slide cohort.
fn cases() -> Vec<Case> {
    let mut all = vec![
        case(1, 4, 2, 0.3, 1 << 20),
        case(2, 5, 2, 0.0, 4),
        case(3, 20, 10, 2.0, 1 << 20),
        case(4, 20, 8, 0.9, 16),
        case(5, 30, 12, 0.6, 8),
        case(6, 40, 15, -0.7, 1 << 20),
        case(7, 12, 6, 0.0, 1),
        case(8, 129, 49, 0.5, 1 << 20),
        case(9, 129, 49, 0.5, 10),
        case(10, 270, 111, 0.3, 1 << 20),
        case(11, 60, 3, 0.4, 32),
        case(12, 60, 57, 0.4, 32),
    ];
    for seed in 100..108 {
        let n = 10 + (seed as usize * 7) % 90;
        all.push(case(
            seed,
            n,
            n / 3,
            0.1 * (seed - 100) as f64,
            2 + seed % 40,
        ));
    }
    all
}

fn write_cases(cases: &[Case], path: &Path) {
    let mut csv = String::from("case,label,score,other\n");
    for c in cases {
        for ((l, s), o) in c.labels.iter().zip(&c.scores).zip(&c.other_scores) {
            writeln!(csv, "{},{},{s:?},{o:?}", c.name, u8::from(*l)).unwrap();
        }
    }
    std::fs::write(path, csv).unwrap();
}

/// Reference output lines `case key value…`, keyed by (case, key).
fn parse_reference(out: &str) -> std::collections::HashMap<(String, String), Vec<f64>> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut words = line.split_whitespace();
            let case = words.next().unwrap().to_string();
            let key = words.next().unwrap().to_string();
            let values = words.map(|w| w.parse::<f64>().unwrap()).collect();
            ((case, key), values)
        })
        .collect()
}

const SKLEARN: &str = r#"
import sys, csv
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve
rows = list(csv.DictReader(open(sys.argv[1])))
names = list(dict.fromkeys(r["case"] for r in rows))
for name in names:
    y = np.array([int(r["label"]) for r in rows if r["case"] == name])
    s = np.array([float(r["score"]) for r in rows if r["case"] == name])
    print(name, "auc", repr(float(roc_auc_score(y, s))))
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    for key, v in (("fpr", fpr), ("tpr", tpr), ("thr", thr)):
        print(name, key, " ".join(repr(float(x)) for x in v))
"#;

/// The authors' unbiased Mann–Whitney variance written out from its
/// definition with the whole kernel matrix, independently of the library's
/// placement form: rows are negatives, columns positives.
const MANN_WHITNEY: &str = r#"
import sys, csv
import numpy as np
rows = list(csv.DictReader(open(sys.argv[1])))
names = list(dict.fromkeys(r["case"] for r in rows))
for name in names:
    y = np.array([int(r["label"]) for r in rows if r["case"] == name])
    s = np.array([float(r["score"]) for r in rows if r["case"] == name])
    pos, neg = s[y == 1], s[y == 0]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        continue
    psi = (np.sign(pos[None, :] - neg[:, None]) + 1) / 2
    msa = m * np.var(psi.mean(axis=1), ddof=1)
    msb = n * np.var(psi.mean(axis=0), ddof=1)
    mst = np.var(psi.ravel(), ddof=1)
    ev = ((n * m - 1) * mst - (n - 1) * msa - (m - 1) * msb) / ((n - 1) * (m - 1))
    var = (msa + msb - ev) / (m * n)
    print(name, "mw", repr(float(psi.mean())), repr(float(var)))
"#;

const PROC: &str = r#"
suppressMessages(library(pROC))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c("character", "integer", "numeric", "numeric"))
f <- function(x) sprintf("%.17g", x)
for (name in unique(d$case)) {
  e <- d[d$case == name, ]
  if (sum(e$label == 1) < 2 || sum(e$label == 0) < 2) next
  r <- roc(e$label, e$score, levels = c(0, 1), direction = "<", quiet = TRUE)
  r2 <- roc(e$label, e$other, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- suppressWarnings(ci.auc(r, method = "delong"))
  v <- suppressWarnings(var(r, method = "delong"))
  v2 <- suppressWarnings(var(r2, method = "delong"))
  cv <- suppressWarnings(cov(r, r2, method = "delong"))
  cat(name, "delong", f(as.numeric(auc(r))), f(v), f(ci[1]), f(ci[3]), "\n")
  cat(name, "pair", f(as.numeric(auc(r)) - as.numeric(auc(r2))), f(v + v2 - 2 * cv), "\n")
}
"#;

fn rscript(script: &str, args: &[&str]) -> String {
    let out = Command::new("Rscript")
        .arg("-e")
        .arg(script)
        .args(args)
        .output()
        .expect("start Rscript (R with pROC: run scripts/setup.sh)");
    assert!(
        out.status.success(),
        "Rscript failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn assert_close(what: &str, ours: f64, reference: f64, tolerance: f64) {
    assert!(
        (ours - reference).abs() <= tolerance,
        "{what}: ours {ours:.17} reference {reference:.17} (|Δ| {:.3e} > {tolerance:e})",
        (ours - reference).abs()
    );
}

fn cases_csv(tag: &str) -> (Vec<Case>, std::path::PathBuf, std::path::PathBuf) {
    let dir = slidescale_testutil::temp_dir(tag);
    let csv = dir.join("cases.csv");
    let cases = cases();
    write_cases(&cases, &csv);
    (cases, dir, csv)
}

#[test]
fn auc_and_curve_equal_scikit_learn() {
    let (cases, dir, csv) = cases_csv("roc-sklearn");
    let reference = parse_reference(&slidescale_testutil::run_python(
        SKLEARN,
        &[csv.to_str().unwrap()],
    ));
    for c in &cases {
        let get = |key: &str| &reference[&(c.name.clone(), key.to_string())];
        let auc = roc_auc(&c.labels, &c.scores).unwrap();
        assert_close(&format!("{} AUC", c.name), auc, get("auc")[0], 1e-12);
        let curve = roc_curve(&c.labels, &c.scores).unwrap();
        assert_eq!(&curve.fpr, get("fpr"), "{} fpr", c.name);
        assert_eq!(&curve.tpr, get("tpr"), "{} tpr", c.name);
        assert_eq!(&curve.thresholds, get("thr"), "{} thresholds", c.name);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn delong_variance_and_interval_equal_proc() {
    let (cases, dir, csv) = cases_csv("roc-proc");
    let reference = parse_reference(&rscript(PROC, &[csv.to_str().unwrap()]));
    let mut capped_high = 0;
    for c in &cases {
        let r = &reference[&(c.name.clone(), "delong".to_string())];
        let ours = auc_with_ci(&c.labels, &c.scores, CiMethod::DeLong).unwrap();
        let name = &c.name;
        assert_close(&format!("{name} AUC"), ours.auc, r[0], 1e-12);
        assert_close(
            &format!("{name} DeLong variance"),
            ours.variance,
            r[1],
            1e-12,
        );
        assert_close(&format!("{name} CI low"), ours.ci_low, r[2], 1e-6);
        assert_close(&format!("{name} CI high"), ours.ci_high, r[3], 1e-6);
        capped_high += usize::from(ours.ci_high == 1.0 && ours.auc < 1.0);

        let p = &reference[&(c.name.clone(), "pair".to_string())];
        let diff = delong_difference(&c.labels, &c.scores, &c.other_scores).unwrap();
        assert_close(&format!("{name} ΔAUC"), diff.difference, p[0], 1e-12);
        assert_close(&format!("{name} var ΔAUC"), diff.variance, p[1], 1e-12);
    }
    assert!(
        capped_high >= 1,
        "no case where pROC caps the interval at 1 below AUC 1"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn mann_whitney_variance_equals_the_authors_formula() {
    let (cases, dir, csv) = cases_csv("roc-mw");
    let reference = parse_reference(&slidescale_testutil::run_python(
        MANN_WHITNEY,
        &[csv.to_str().unwrap()],
    ));
    for c in &cases {
        let r = &reference[&(c.name.clone(), "mw".to_string())];
        let ours = auc_with_ci(&c.labels, &c.scores, CiMethod::MannWhitney).unwrap();
        assert_close(&format!("{} AUC", c.name), ours.auc, r[0], 1e-12);
        assert_close(
            &format!("{} MW variance", c.name),
            ours.variance,
            r[1],
            1e-12,
        );
        let sd = r[1].max(0.0).sqrt();
        let low = (r[0] - 1.96 * sd).clamp(0.0, 1.0);
        let high = (r[0] + 1.96 * sd).clamp(0.0, 1.0);
        assert_close(&format!("{} MW CI low", c.name), ours.ci_low, low, 1e-12);
        assert_close(&format!("{} MW CI high", c.name), ours.ci_high, high, 1e-12);
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn perfect_separation_gives_auc_one_and_a_zero_width_interval() {
    let labels = [false, false, true, true];
    let scores = [0.1, 0.2, 0.3, 0.4];
    for method in [CiMethod::DeLong, CiMethod::MannWhitney] {
        let e = auc_with_ci(&labels, &scores, method).unwrap();
        let expected = AucEstimate {
            auc: 1.0,
            ci_low: 1.0,
            ci_high: 1.0,
            variance: 0.0,
            method,
        };
        assert_eq!(e, expected);
    }
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let err = roc_auc(&[true, false], &[0.5]).unwrap_err();
    assert_eq!(
        err,
        RocError::LengthMismatch {
            labels: 2,
            scores: 1
        }
    );
    let err = roc_auc(&[true, false], &[0.5, f64::NAN]).unwrap_err();
    assert!(matches!(err, RocError::NotFinite { index: 1, .. }), "{err}");
    let err = roc_auc(&[true, true], &[0.5, 0.6]).unwrap_err();
    assert!(
        err.to_string().contains("got 2 positive and 0 negative"),
        "{err}"
    );
    let err = auc_with_ci(&[true, false, false], &[0.5, 0.6, 0.7], CiMethod::DeLong).unwrap_err();
    assert!(err.to_string().contains("at least 2 positive"), "{err}");
}
