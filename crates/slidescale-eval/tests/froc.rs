//! The FROC equals the CAMELYON16 reference script's (`compute_FP_TP_Probs`,
//! `computeFROC`, the interpolation and mean of its `__main__`) on seeded
//! cases built from the real outlines: `froc_reference.py` rasterises them,
//! makes the evaluation masks with the script's own `computeEvaluationMask`
//! and `computeITCList`, draws detections (inside, outside and on the edge
//! of lesions, in ITCs, on normal slides, tied and sub-float32-close
//! probabilities, slides without detections) and runs the script on them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use slidescale_eval::detect::Detection;
use slidescale_eval::froc::{froc, DetectionRole, Froc, FrocError, SlideInput};
use slidescale_eval::mask::EvaluationMask;
use slidescale_eval::raster::Raster;
use slidescale_testutil::{python, shared, temp_dir};

const TOLERANCE: f64 = 1e-9;

struct Fixture {
    doc: Value,
    masks: HashMap<String, EvaluationMask>,
}

/// The script's answers on the seeded cases, computed once per test run.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let out = temp_dir("froc-reference");
        run_reference(&out);
        let doc: Value =
            serde_json::from_slice(&std::fs::read(out.join("cases.json")).unwrap()).unwrap();
        let level = doc["level"].as_u64().unwrap() as u32;
        let masks = doc["masks"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, m)| (name.clone(), read_mask(&out, name, m, level)))
            .collect();
        Fixture { doc, masks }
    })
}

fn run_reference(out: &Path) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/froc_reference.py");
    let status = Command::new(python())
        .arg(script)
        .arg(shared("reference/camelyon16"))
        .arg(shared("data/annotations/camelyon16"))
        .arg(out)
        .status()
        .expect("start python");
    assert!(status.success(), "froc_reference.py failed: {status}");
}

fn read_mask(dir: &Path, name: &str, m: &Value, level: u32) -> EvaluationMask {
    let bytes = std::fs::read(dir.join(format!("masks/{name}.u32"))).unwrap();
    let data = bytes
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let (w, h) = (uint(&m["width"]) as usize, uint(&m["height"]) as usize);
    EvaluationMask {
        labels: Raster::from_vec(w, h, data),
        level,
        level0_mpp: 0.243,
        itc: m["itc"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| uint(v) as u32)
            .collect(),
    }
}

fn uint(v: &Value) -> u64 {
    v.as_u64().expect("unsigned integer")
}

fn int(v: &Value) -> i64 {
    v.as_i64().expect("integer")
}

/// A float64 written as its bit pattern.
fn f64_of(v: &Value) -> f64 {
    f64::from_bits(uint(v))
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f64_of).collect()
}

/// One case's slides: names, detections and masks, as given to the script.
struct CaseSlides {
    names: Vec<String>,
    detections: Vec<Vec<Detection>>,
    masks: Vec<Option<String>>,
}

fn case_slides(case: &Value) -> CaseSlides {
    let slides = case["slides"].as_array().unwrap();
    CaseSlides {
        names: slides
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect(),
        detections: slides
            .iter()
            .map(|s| {
                let rows = s["detections"].as_array().unwrap();
                rows.iter()
                    .map(|d| Detection {
                        prob: f64_of(&d[0]),
                        x: int(&d[1]),
                        y: int(&d[2]),
                    })
                    .collect()
            })
            .collect(),
        masks: slides
            .iter()
            .map(|s| s["mask"].as_str().map(str::to_string))
            .collect(),
    }
}

fn evaluate(fx: &Fixture, slides: &CaseSlides) -> Result<Froc, FrocError> {
    let inputs: Vec<SlideInput> = (0..slides.names.len())
        .map(|i| SlideInput {
            name: &slides.names[i],
            detections: &slides.detections[i],
            mask: slides.masks[i].as_ref().map(|m| &fx.masks[m]),
        })
        .collect();
    froc(&inputs)
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "curve lengths");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// The curve's points sorted, for comparing curves up to their order.
fn sorted_points(fps: &[f64], sens: &[f64]) -> Vec<(f64, f64)> {
    let mut p: Vec<(f64, f64)> = fps.iter().copied().zip(sens.iter().copied()).collect();
    p.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    p
}

/// How a case compared: exactly, or (where the script's threshold order
/// follows CPython's set layout) only up to the order of the curve points.
#[derive(PartialEq, Debug)]
enum Agreement {
    Exact(f64),
    UpToOrder,
}

fn compare_curve(k: usize, ours: &Froc, reference: &Value) -> Agreement {
    let (fps, sens) = (f64s(&reference["fps"]), f64s(&reference["sensitivity"]));
    let same_length = fps.len() == ours.fps_per_slide.len();
    let curve_diff = if same_length {
        max_diff(&ours.fps_per_slide, &fps).max(max_diff(&ours.sensitivity, &sens))
    } else {
        f64::INFINITY
    };
    if curve_diff <= TOLERANCE {
        let at: Vec<f64> = ours.at.iter().map(|&(_, s)| s).collect();
        let rates: Vec<f64> = ours.at.iter().map(|&(r, _)| r).collect();
        assert_eq!(rates, [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]);
        let at_diff = max_diff(&at, &f64s(&reference["at"]));
        let score_diff = (ours.score - f64_of(&reference["score"])).abs();
        assert!(
            at_diff <= TOLERANCE,
            "case {k}: interpolated sensitivities differ by {at_diff}"
        );
        assert!(
            score_diff <= TOLERANCE,
            "case {k}: FROC score differs by {score_diff}"
        );
        return Agreement::Exact(curve_diff.max(at_diff).max(score_diff));
    }
    assert!(
        reference["order_dependent"].as_bool().unwrap(),
        "case {k}: the curve differs (by {curve_diff}) where the script's order is its value order"
    );
    assert_eq!(
        sorted_points(&ours.fps_per_slide, &ours.sensitivity),
        sorted_points(&fps, &sens),
        "case {k}: the curve differs beyond the order of its points"
    );
    Agreement::UpToOrder
}

/// Per slide: lesion scores (the script's float32 TP_probs), lesion counts,
/// the kept hit of every non-ITC lesion (detection_summary) and the false
/// positives in order (FP_summary).
fn compare_detail(k: usize, ours: &Froc, slides: &CaseSlides, reference: &Value) {
    for (i, (name, r)) in slides
        .names
        .iter()
        .zip(reference["slides"].as_array().unwrap())
        .enumerate()
    {
        let lesions: Vec<_> = ours.lesions.iter().filter(|l| &l.slide == name).collect();
        let tp: Vec<f64> = r["tp_probs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| f64::from(f32::from_bits(uint(b) as u32)))
            .collect();
        let scores: Vec<f64> = lesions.iter().map(|l| l.score).collect();
        assert_eq!(scores, tp, "case {k} slide {i}: lesion scores");
        let counted = lesions.iter().filter(|l| !l.itc).count() as u64;
        assert_eq!(
            counted,
            uint(&r["num_of_tumors"]),
            "case {k} slide {i}: lesions"
        );
        let summary = r["detection_summary"].as_object().unwrap();
        assert_eq!(
            summary.len() as u64,
            counted,
            "case {k} slide {i}: summary keys"
        );
        for l in lesions.iter().filter(|l| !l.itc) {
            let expected = &summary[&l.label.to_string()];
            let got = l.hit.map(|h| (h.prob, h.x, h.y));
            let want = expected
                .as_array()
                .map(|v| (f64_of(&v[0]), int(&v[1]), int(&v[2])));
            assert_eq!(got, want, "case {k} slide {i} lesion {}: kept hit", l.label);
            if let Some(h) = l.hit {
                let d = slides.detections[i][h.index];
                assert_eq!((d.prob, d.x, d.y), (h.prob, h.x, h.y));
            }
        }
        let fps: Vec<(f64, i64, i64)> = ours
            .false_positives
            .iter()
            .filter(|f| &f.slide == name)
            .map(|f| (f.prob, f.x, f.y))
            .collect();
        let want: Vec<(f64, i64, i64)> = r["fp_summary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (f64_of(&v[0]), int(&v[1]), int(&v[2])))
            .collect();
        assert_eq!(fps, want, "case {k} slide {i}: false positives");
    }
}

/// Every detection has one role, and the roles agree with the lesions.
fn check_roles(k: usize, ours: &Froc, slides: &CaseSlides) {
    let total: usize = slides.detections.iter().map(Vec::len).sum();
    assert_eq!(
        ours.detections.len(),
        total,
        "case {k}: one outcome per detection"
    );
    let count = |role| ours.detections.iter().filter(|d| d.role == role).count();
    assert_eq!(
        count(DetectionRole::FalsePositive),
        ours.false_positives.len()
    );
    let kept = ours.lesions.iter().filter(|l| l.hit.is_some()).count();
    assert_eq!(
        count(DetectionRole::TruePositive),
        kept,
        "case {k}: kept hits"
    );
    let on_lesions: usize = ours.lesions.iter().map(|l| l.hits).sum();
    assert_eq!(total - count(DetectionRole::FalsePositive), on_lesions);
    let json = serde_json::to_value(ours).unwrap();
    let roles = json["detections"].as_array().unwrap().iter();
    let kept_in_json = roles.filter(|d| d["role"] == "true_positive").count();
    assert_eq!(kept_in_json, kept, "case {k}: serialised roles");
}

#[test]
fn froc_equals_the_reference_script_on_seeded_cases() {
    let fx = fixture();
    let cases = fx.doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut exact = 0;
    let mut worst = 0f64;
    for (k, case) in cases.iter().enumerate() {
        let slides = case_slides(case);
        let ours = evaluate(fx, &slides).unwrap_or_else(|e| panic!("case {k}: {e}"));
        match compare_curve(k, &ours, &case["reference"]) {
            Agreement::Exact(diff) => {
                exact += 1;
                worst = worst.max(diff);
            }
            Agreement::UpToOrder => eprintln!("case {k}: equal up to the order of tied points"),
        }
        compare_detail(k, &ours, &slides, &case["reference"]);
        check_roles(k, &ours, &slides);
    }
    eprintln!(
        "{exact} of {} cases equal the script, largest difference {worst:e}",
        cases.len()
    );
    assert!(exact >= 20, "only {exact} cases compared exactly");
}

fn t002_slide(detections: &[Detection]) -> (String, Vec<Detection>) {
    ("T2".to_string(), detections.to_vec())
}

fn evaluate_one(
    name: &str,
    detections: &[Detection],
    mask: &EvaluationMask,
) -> Result<Froc, FrocError> {
    froc(&[SlideInput {
        name,
        detections,
        mask: Some(mask),
    }])
}

#[test]
fn a_detection_outside_the_mask_is_an_error_naming_slide_and_detection() {
    let fx = fixture();
    let errors = &fx.doc["errors"];
    // The script raises IndexError below the mask and wraps negative ones.
    assert!(errors["outside"]
        .as_str()
        .unwrap()
        .starts_with("IndexError"));
    assert!(errors["negative_wraps"].as_bool().unwrap());
    let mask = &fx.masks["t002"];
    let below = (mask.labels.height as i64) << mask.level;
    let inside = Detection {
        prob: 0.5,
        x: 10,
        y: 10,
    };
    for (x, y) in [(10, below), (-32, -32), (-1, 10)] {
        let (name, dets) = t002_slide(&[inside, Detection { prob: 0.5, x, y }]);
        let err = evaluate_one(&name, &dets, mask).unwrap_err();
        assert!(
            matches!(
                err,
                FrocError::OutsideMask {
                    number: 2,
                    count: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("T2") && message.contains("detection 2 of 2"),
            "{message}"
        );
    }
    // The last level-0 pixel of the mask is still inside.
    let last = Detection {
        prob: 0.5,
        x: ((mask.labels.width as i64) << mask.level) - 1,
        y: below - 1,
    };
    assert!(evaluate_one("T2", &[last], mask).is_ok());
}

#[test]
fn no_lesion_to_detect_is_an_error_where_the_script_gives_nan() {
    let fx = fixture();
    assert!(fx.doc["errors"]["no_lesions_sensitivity_nan"]
        .as_bool()
        .unwrap());
    let dets = [Detection {
        prob: 0.3,
        x: 10,
        y: 10,
    }];
    let inputs = [
        SlideInput {
            name: "n",
            detections: &dets,
            mask: None,
        },
        SlideInput {
            name: "itc",
            detections: &dets,
            mask: Some(&fx.masks["itc_only"]),
        },
    ];
    assert_eq!(
        froc(&inputs).unwrap_err(),
        FrocError::NoLesions { slides: 2 }
    );
    assert_eq!(froc(&[]).unwrap_err(), FrocError::NoSlides);
}

#[test]
fn bad_inputs_are_errors() {
    let fx = fixture();
    let mask = &fx.masks["t002"];
    let nan = [
        Detection {
            prob: 0.2,
            x: 1,
            y: 1,
        },
        Detection {
            prob: f64::NAN,
            x: 1,
            y: 1,
        },
    ];
    let err = evaluate_one("T2", &nan, mask).unwrap_err();
    assert_eq!(
        err.to_string(),
        "slide T2: detection 2 of 2 has a NaN probability"
    );
    let twice = [
        SlideInput {
            name: "a",
            detections: &[],
            mask: Some(mask),
        },
        SlideInput {
            name: "a",
            detections: &[],
            mask: None,
        },
    ];
    assert_eq!(
        froc(&twice).unwrap_err(),
        FrocError::DuplicateSlide("a".into())
    );
    let mut bad_itc = mask.clone();
    bad_itc.itc = vec![7];
    let err = evaluate_one("T2", &[], &bad_itc).unwrap_err();
    assert!(
        matches!(
            err,
            FrocError::BadItcLabel {
                label: 7,
                max_label: 1,
                ..
            }
        ),
        "{err:?}"
    );
}
