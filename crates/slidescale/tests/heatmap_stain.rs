//! Issue 3, requirement 3 through the command line: `run --stain METHOD`
//! fits the target once, caches it in `WORK/stain/METHOD.json`, normalises
//! every tile with it before scoring, and leaves a tile without tissue as it
//! is.
//!
//! The methods themselves are tested against Python implementations in
//! `slidescale-stain`; here the question is whether the command uses them
//! right: the heatmap must equal onnxruntime's scores (Python) of the stored
//! tiles normalised with the cached fit, and differ from the unnormalised
//! scores.

mod heatmap_support;

use std::ffi::OsStr;
use std::path::Path;

use heatmap_support::*;
use slidescale_stain::{FittedTarget, Method};
use slidescale_store::Store;

const METHODS: [&str; 3] = ["macenko", "reinhard", "vahadane"];

/// The cached fit of `method` in `work`, checked.
fn cached_fit(work: &Path, method: &str) -> FittedTarget {
    let path = work.join("stain").join(format!("{method}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: no cached fit: {e}", path.display()));
    let fit = FittedTarget::from_json(&text).unwrap();
    assert_eq!(fit.method, method.parse::<Method>().unwrap());
    fit
}

/// Every stored tile of the slide, normalised with `fit`, in store order,
/// as one raw u8 file for the reference.
fn normalised_tiles(store: &Path, fit: &FittedTarget, out: &Path) {
    let store = Store::open(store).unwrap();
    let mut all = Vec::new();
    for k in 1..=store.info().n_groups {
        let mut tiles = store.read_group(k).unwrap().tiles;
        for tile in tiles.chunks_mut(448 * 448 * 3) {
            fit.apply(tile);
        }
        all.extend_from_slice(&tiles);
    }
    std::fs::write(out, all).unwrap();
}

#[test]
fn run_with_each_method_scores_the_normalised_tiles() {
    let model = smallcnn();
    for method in METHODS {
        let work = slidescale_testutil::temp_dir(&format!("stain-{method}"));
        run_ok(&[&cmu()], &model, 224, &work, &["--stain", method]);
        let fit = cached_fit(&work, method);
        let settings = std::fs::read_to_string(work.join("run.json")).unwrap();
        assert!(settings.contains(&format!("\"method\": \"{method}\"")));

        let raw = work.join("normalised.u8");
        normalised_tiles(&work.join(format!("{CMU}.h5")), &fit, &raw);
        compare(Source::Raw(&raw), &work, CMU, &model, 224)
            .assert_matches(&format!("--stain {method}"));
        // The normalisation changed the scores: the unnormalised tiles'
        // scores are not the heatmap.
        let plain = compare(Source::Store, &work, CMU, &model, 224);
        assert!(
            plain.get_f64("max_abs_diff") > 1e-3,
            "{method} changed nothing: {:?}",
            plain.json
        );

        // A second run in the same work directory reuses the cache.
        let before = std::fs::metadata(work.join("stain").join(format!("{method}.json")))
            .unwrap()
            .modified()
            .unwrap();
        run_ok(
            &[&cmu()],
            &model,
            224,
            &work,
            &["--stain", method, "--resume"],
        );
        let after = std::fs::metadata(work.join("stain").join(format!("{method}.json")))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after, "{method}: the cached fit was rewritten");
        std::fs::remove_dir_all(&work).ok();
    }
}

/// Scores of group 1 in `work` with `--stain method`.
fn group_scores(store: &Path, method: &str) -> Vec<f32> {
    let model = smallcnn();
    let r = run(&[
        "process".as_ref(),
        store.as_os_str(),
        "--group".as_ref(),
        "1".as_ref(),
        "--model".as_ref(),
        model.as_os_str(),
        "--stain".as_ref(),
        OsStr::new(method),
    ])
    .ok();
    assert!(r.stdout.contains("\"status\":\"ok\""), "{}", r.stdout);
    let work = store.parent().unwrap();
    let (shape, scores) = slidescale_heatmap::read_npy_f32(&result_path(work, CMU, 1)).unwrap();
    assert_eq!(shape[1..], [1, 1]);
    scores
}

#[test]
fn a_white_tile_passes_through_every_method() {
    let base = slidescale_testutil::temp_dir("stain-white");
    let first = base.join("none");
    run(&[
        "split".as_ref(),
        cmu().as_os_str(),
        "--out".as_ref(),
        first.as_os_str(),
        "--group-size".as_ref(),
        "8".as_ref(),
        "--compression".as_ref(),
        "none".as_ref(),
    ])
    .ok();
    let store_name = format!("{CMU}.h5");
    // Tile 0 of group 1 becomes pure white (no tissue to estimate stains
    // from), with its CRC-32 updated (docs/store.md) so it is not damage.
    slidescale_testutil::run_python(
        "import sys, zlib, h5py\n\
         with h5py.File(sys.argv[1], 'r+') as f:\n\
         \x20   f['groups/000001/tiles'][0] = 255\n\
         \x20   f['groups/000001/tile_crc32'][0] = zlib.crc32(f['groups/000001/tiles'][0].tobytes())\n",
        &[first.join(&store_name).to_str().unwrap()],
    );
    let plain = group_scores(&first.join(&store_name), "none");
    for method in METHODS {
        let work = base.join(method);
        std::fs::create_dir_all(&work).unwrap();
        std::fs::copy(first.join(&store_name), work.join(&store_name)).unwrap();
        let scores = group_scores(&work.join(&store_name), method);
        assert_eq!(
            scores[0].to_bits(),
            plain[0].to_bits(),
            "{method}: the white tile's score changed"
        );
        assert!(
            scores[1..]
                .iter()
                .zip(&plain[1..])
                .any(|(a, b)| (a - b).abs() > 1e-4),
            "{method}: tissue tiles were not normalised"
        );
    }
    std::fs::remove_dir_all(&base).ok();
}
