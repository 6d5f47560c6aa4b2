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
