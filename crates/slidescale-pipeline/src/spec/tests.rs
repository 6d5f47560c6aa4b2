//! Unit tests of the run spec: the identity diff and the admission rule.

use super::*;
use slidescale_infer::Activation;

fn spec(dir: &Path) -> RunSpec {
    let model = dir.join("m.onnx");
    std::fs::write(&model, b"not really a model").unwrap();
    let split = SplitOptions::new(dir);
    let scorer = ScorerOptions {
        config: Some(ModelConfig::default()),
        ..ScorerOptions::default()
    };
    RunSpec::new(&SpecInputs {
        work: dir,
        model: &model,
        scorer: &scorer,
        stride: Stride::new(32).unwrap(),
        stain: Method::None,
        stain_target: String::new(),
        stain_target_image: None,
        split: Some(&split),
    })
    .unwrap()
}

#[test]
fn every_changed_field_is_named_with_both_values() {
    let dir = slidescale_testutil::temp_dir("spec-diff");
    let work = WorkDir::new(&dir);
    let a = spec(&dir);
    a.admit(&work, Admission::Fresh, true).unwrap();
    assert!(matches!(
        a.admit(&work, Admission::Fresh, true),
        Err(SpecError::AlreadyStarted(_))
    ));
    a.admit(&work, Admission::Resume, true).unwrap();
    let mut b = a.clone();
    b.identity.model.config.activation = Activation::Sigmoid;
    b.identity.model.config.mean = Some([0.5, 0.5, 0.5]);
    b.identity.split.as_mut().unwrap().group_size = 7;
    b.execution.threads = 99; // not part of the identity
    let err = b.admit(&work, Admission::Resume, true).unwrap_err();
    let SpecError::Mismatch { differences, .. } = &err else {
        panic!("{err}")
    };
    let fields: Vec<&str> = differences.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "model.config.activation",
            "model.config.mean",
            "split.group_size"
        ]
    );
    let text = err.to_string();
    assert!(
        text.contains("recorded \"none\", now \"sigmoid\""),
        "{text}"
    );
    assert!(text.contains("split.group_size (recorded "), "{text}");
    b.admit(&work, Admission::Replace, true).unwrap();
    assert_eq!(RunSpec::load(&work).unwrap().unwrap(), b);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_process_only_spec_learns_its_split_and_old_files_are_refused() {
    let dir = slidescale_testutil::temp_dir("spec-split");
    let work = WorkDir::new(&dir);
    let full = spec(&dir);
    let mut lone = full.clone();
    lone.identity.split = None;
    lone.admit(&work, Admission::Resume, true).unwrap();
    full.admit(&work, Admission::Resume, true).unwrap();
    assert_eq!(RunSpec::load(&work).unwrap().unwrap(), full);
    // and a later process task, which does not know it, is admitted
    lone.admit(&work, Admission::Resume, true).unwrap();
    assert_eq!(RunSpec::load(&work).unwrap().unwrap(), full);
    std::fs::write(
        RunSpec::path(&work),
        r#"{"model":"m","model_id":"x","stride":32,"stain":"none"}"#,
    )
    .unwrap();
    assert!(matches!(
        RunSpec::load(&work),
        Err(SpecError::OldFormat { .. })
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_scoring_mode_is_part_of_the_identity_and_old_specs_are_sliding() {
    let dir = slidescale_testutil::temp_dir("spec-mode");
    let work = WorkDir::new(&dir);
    let a = spec(&dir);
    assert_eq!(a.identity.mode, ScoreMode::Sliding);
    a.admit(&work, Admission::Fresh, true).unwrap();
    let mut b = a.clone();
    b.identity.mode = ScoreMode::Dense;
    assert_eq!(b.scorer_options().mode, ScoreMode::Dense);
    let err = b.admit(&work, Admission::Resume, true).unwrap_err();
    assert!(
        err.to_string()
            .contains("recorded \"sliding\", now \"dense\""),
        "{err}"
    );
    // a spec written before the field existed reads as sliding
    let mut value = serde_json::to_value(&a).unwrap();
    value["identity"].as_object_mut().unwrap().remove("mode");
    let old: RunSpec = serde_json::from_value(value).unwrap();
    assert_eq!(old.identity, a.identity);
}
