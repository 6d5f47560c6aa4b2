//! Issue 9, requirement 1: any square window from 32 to 1024 px, NCHW or
//! NHWC, on tiles of T = W or a T of the user's, gives the heatmap of the
//! independent Python reference (openslide-python pixels at level 0, context
//! origin (Tc − ⌊W/2⌋, Tr − ⌊W/2⌋), onnxruntime scores) within 1e-4 — edge
//! cells included, as CMU-1-Small-Region (2220×2967) is a multiple of none
//! of the tile sizes — and describes itself (sidecar: window, tile,
//! level-0 pixels per heatmap pixel).

mod heatmap_support;

use std::path::Path;

use heatmap_support::*;

fn run_and_compare(model: &Path, window: u32, stride: u32, tile: Option<u32>, tag: &str) {
    let work = slidescale_testutil::temp_dir(tag);
    let tile_arg = tile.map(|t| t.to_string());
    let mut extra = vec!["--reader", "openslide"];
    if let Some(t) = &tile_arg {
        extra.extend(["--tile", t]);
    }
    run_ok(&[&cmu()], model, stride, &work, &extra);
    let what = format!("W {window}, tile {tile:?}, stride {stride}");
    compare_tile(Source::OpenSlide(&cmu()), &work, CMU, model, stride, tile).assert_matches(&what);

    let store = slidescale_store::Store::open(&work.join(format!("{CMU}.h5"))).unwrap();
    let t = tile.unwrap_or(window);
    let g = store.info().geometry;
    assert_eq!(
        (g.window, g.tile, g.context()),
        (window, t, t + 2 * (window / 2)),
        "{what}"
    );
    // the store names the OpenSlide library that read it ("4.0.1 (…)")
    let lib = slidescale_slide::openslide::library().unwrap();
    let named = &store.info().openslide;
    assert!(named.starts_with(lib.version()), "{named}");
    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(work.join("heatmaps").join(format!("{CMU}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["window"], window, "{what}");
    assert_eq!(sidecar["tile"], t, "{what}");
    assert_eq!(sidecar["pixel_size"], stride as f64, "{what}");
    std::fs::remove_dir_all(&work).ok();
}

#[test]
fn a_96_px_model_at_two_strides() {
    let dir = slidescale_testutil::temp_dir("win96-model");
    let model = window_model(&dir, 96, "NCHW");
    run_and_compare(&model, 96, 96, None, "win96-s96");
    run_and_compare(&model, 96, 32, None, "win96-s32");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_96_px_nhwc_model_on_192_px_tiles() {
    let dir = slidescale_testutil::temp_dir("win96-nhwc-model");
    let model = window_model(&dir, 96, "NHWC");
    run_and_compare(&model, 96, 64, Some(192), "win96-nhwc-t192");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_299_px_model_at_two_strides() {
    let dir = slidescale_testutil::temp_dir("win299-model");
    let model = window_model(&dir, 299, "NCHW");
    run_and_compare(&model, 299, 299, None, "win299-s299");
    run_and_compare(&model, 299, 23, None, "win299-s23");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_stride_that_does_not_divide_the_tile_is_refused_naming_the_divisors() {
    let dir = slidescale_testutil::temp_dir("win96-bad-stride");
    let model = window_model(&dir, 96, "NCHW");
    let r = run_with(&[&cmu()], &model, 64, &dir.join("work"), &[]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("stride 64 does not divide the tile size 96")
            && r.stderr
                .contains("1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 96"),
        "{}",
        r.stderr
    );
    assert!(!dir.join("work").join(format!("{CMU}.h5")).exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 9, requirement 3: a WSInfer `config.json` beside an ONNX export
/// sets the window, the resolution (patch at spacing_um_px), the scaling
/// and a softmax; `--class` picks the column by name; what slidescale
/// cannot do is refused naming the field.
#[test]
fn a_wsinfer_config_sets_window_resolution_and_class() {
    let dir = slidescale_testutil::temp_dir("wsinfer");
    let model_dir = dir.join("model");
    std::fs::create_dir_all(&model_dir).unwrap();
    let model = classes_model(&model_dir, 96, "NCHW", 2);
    let config = serde_json::json!({
        "spec_version": "1.0",
        "architecture": "cnn",
        "num_classes": 2,
        "class_names": ["other", "tumor"],
        "patch_size_pixels": 96,
        "spacing_um_px": 0.998,
        "transform": [
            {"name": "ToTensor"},
            {"name": "Normalize", "arguments": {"mean": [0.7, 0.6, 0.7], "std": [0.1, 0.15, 0.1]}}
        ]
    });
    let write = |v: &serde_json::Value| {
        std::fs::write(model_dir.join("config.json"), v.to_string()).unwrap()
    };
    write(&config);
    let work = dir.join("work");
    run_ok(&[&cmu()], &model, 48, &work, &["--class", "tumor"]);
    let info = slidescale_store::Store::open(&work.join(format!("{CMU}.h5")))
        .unwrap()
        .info()
        .clone();
    // 0.998 µm/px of a 0.499 µm/px slide: level 0 reduced by 2
    assert_eq!((info.geometry.window, info.analysis.resample), (96, 2.0));
    let sidecar: serde_json::Value = serde_json::from_slice(
        &std::fs::read(work.join("heatmaps").join(format!("{CMU}.json"))).unwrap(),
    )
    .unwrap();
    let cfg = &sidecar["model"]["config"];
    assert_eq!(
        (cfg["column"].as_u64(), cfg["activation"].as_str()),
        (Some(1), Some("softmax"))
    );
    assert_eq!(sidecar["pixel_size"].as_f64(), Some(96.0));
    let (_, scores) =
        slidescale_heatmap::read_heatmap(&work.join("heatmaps").join(format!("{CMU}.npy")), None)
            .unwrap();
    assert!(scores
        .iter()
        .filter(|v| !v.is_nan())
        .all(|v| (0.0..=1.0).contains(v)));

    let r = run_with(
        &[&cmu()],
        &model,
        48,
        &dir.join("w2"),
        &["--class", "lymph"],
    );
    assert!(
        r.code == 65 && r.stderr.contains("other, tumor"),
        "{}",
        r.stderr
    );
    let mut crop = config.clone();
    crop["transform"][0] = serde_json::json!({"name": "CenterCrop", "arguments": {"size": 80}});
    write(&crop);
    let r = run_with(&[&cmu()], &model, 48, &dir.join("w3"), &[]);
    assert!(
        r.code == 65 && r.stderr.contains("transform[0].name"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}
