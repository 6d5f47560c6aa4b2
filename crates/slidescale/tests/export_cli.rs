//! Issue 9, requirements 5 and 6 through the command line: `slidescale
//! export` writes a heatmap as a pyramidal TIFF probability map (f32 and
//! u8), an RGBA overlay and QuPath tile GeoJSON, and independent readers
//! (OpenSlide 3.4.1 and 4, tifffile, libvips, geojson, shapely; see
//! `export_support/check_export.py`) find the `.npy`'s values on the
//! slide's level-0 places. A slide that fails is named and the others go
//! on; a file slidescale did not write is never replaced.

mod heatmap_support;

use std::path::Path;

use heatmap_support::{cmu, run, run_ok, smallcnn, CMU};
use serde_json::Value;
use slidescale_heatmap::{read_npy_header, write_heatmap_meta, write_npy_f32, HeatmapMeta};
use slidescale_slide::{OpenSlide, Slide};
use slidescale_testutil::{run_python, temp_dir, SplitMix64};

const CHECK_PY: &str = include_str!("export_support/check_export.py");

/// Stride of the constructed heatmap: small, so that its TIFF has a
/// pyramid (555 × 742 at 1/4 of CMU's level 0: three 256-px levels).
const STRIDE: u32 = 4;

/// A heatmap of CMU at `STRIDE` as `stitch` lays it out (whole grid cells
/// of scores, NaN cells for background), with a sidecar that takes the
/// slide's size and MPP from OpenSlide.
fn constructed_heatmap(work: &Path) -> std::path::PathBuf {
    let props = OpenSlide::open(&cmu()).unwrap().properties().clone();
    let n = (224 / STRIDE) as usize;
    let (cols, rows) = (
        props.width().div_ceil(224) as usize,
        props.height().div_ceil(224) as usize,
    );
    let (w, h) = (cols * n, rows * n);
    let mut rng = SplitMix64(9);
    let mut values = vec![f32::NAN; w * h];
    for cr in 0..rows {
        for cc in 0..cols {
            if (cr * 7 + cc * 3) % 5 == 0 {
                continue; // background cell
            }
            for y in cr * n..(cr + 1) * n {
                for x in cc * n..(cc + 1) * n {
                    values[y * w + x] = rng.unit() as f32;
                }
            }
        }
    }
    let npy = work.join("heatmaps").join(format!("{CMU}.npy"));
    write_npy_f32(&npy, &[h as u64, w as u64], &values).unwrap();
    let mut meta = HeatmapMeta::assumed(&npy, &read_npy_header(&npy).unwrap(), STRIDE).unwrap();
    meta.slide = CMU.into();
    meta.level0_width = props.width();
    meta.level0_height = props.height();
    meta.mpp_x = props.mpp_x;
    meta.mpp_y = props.mpp_y;
    write_heatmap_meta(&npy, &meta).unwrap();
    npy
}

fn check(mode: &str, npy: &Path, out: &Path, d: u32) -> Value {
    let (stride, slide) = (d.to_string(), cmu());
    let args = [
        mode,
        slide.to_str().unwrap(),
        npy.to_str().unwrap(),
        out.to_str().unwrap(),
        CMU,
        &stride,
    ];
    let summary = run_python(CHECK_PY, &args);
    eprintln!("{mode}: {summary}");
    serde_json::from_str(&summary).unwrap()
}

#[test]
fn exported_heatmaps_open_in_openslide_tifffile_vips_and_as_qupath_tiles() {
    let work = temp_dir("export");
    let npy = constructed_heatmap(&work);
    // a second heatmap that cannot be exported (no sidecar): named, and
    // the first is exported all the same
    write_npy_f32(&work.join("heatmaps/broken.npy"), &[2, 2], &[0.5; 4]).unwrap();

    let ran = run(&["export".as_ref(), work.as_os_str()]);
    assert_eq!(ran.code, 65, "{}\n{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("broken: ") && ran.stderr.contains("no sidecar"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.contains("1 of 2 slides"), "{}", ran.stdout);
    let out = work.join("heatmaps");
    let u8_out = out.join("u8");
    let ran = run(&[
        "export".as_ref(),
        work.as_os_str(),
        "--slide".as_ref(),
        CMU.as_ref(),
        "--format".as_ref(),
        "tiff".as_ref(),
        "--dtype".as_ref(),
        "u8".as_ref(),
        "--out".as_ref(),
        u8_out.as_os_str(),
    ]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    assert!(!u8_out.join(format!("{CMU}_overlay.tif")).exists());

    let system = check("openslide-system", &npy, &out, STRIDE);
    assert_eq!(system["library"], "3.4.1", "{system}");
    let four = check("openslide-bin", &npy, &out, STRIDE);
    assert!(
        four["library"].as_str().unwrap().starts_with("4."),
        "{four}"
    );
    for os in [&system, &four] {
        assert_eq!(os["overlay"]["levels"], 3, "{os}");
        assert_eq!(os["u8"]["levels"], 3, "{os}");
        // libtiff's RGBA interface, OpenSlide's generic-tiff path, has no
        // float samples: the f32 map is for tifffile, libvips, QuPath's
        // Bio-Formats and ASAP; the u8 map is OpenSlide's (docs/viewers.md)
        let f32 = os["f32"].as_str().unwrap();
        assert!(f32.starts_with("refused") && f32.contains("32-bit"), "{os}");
    }
    let rest = check("tifffile-vips-geojson", &npy, &out, STRIDE);
    assert_eq!(rest["tifffile"]["levels"], 3, "{rest}");
    assert_eq!(rest["tifffile"]["series_levels"], 3, "{rest}");
    assert_eq!(
        rest["vips_pages"]["u8/CMU-1-Small-Region_likelihood_map.tif"], 3,
        "{rest}"
    );
    assert!(rest["tiles"].as_u64().unwrap() > 100, "{rest}");
    std::fs::remove_dir_all(work).unwrap();
}

#[test]
fn a_file_slidescale_did_not_write_is_never_replaced() {
    let work = temp_dir("export-foreign");
    constructed_heatmap(&work);
    let foreign = work.join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    let theirs = foreign.join(format!("{CMU}_tiles.geojson"));
    std::fs::write(&theirs, "not ours").unwrap();

    let args = |extra: &[&str]| {
        let mut a = vec![
            "export".to_string(),
            work.display().to_string(),
            "--out".to_string(),
            foreign.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let ran = run(&args(&[]));
    assert_eq!(ran.code, 65, "{}", ran.stderr);
    assert!(ran.stderr.contains("is not empty"), "{}", ran.stderr);
    // taken with --allow-nonempty-out, and again once it is marked: the
    // file is refused by name, and nothing is written beside it
    for _ in 0..2 {
        let ran = run(&args(&["--allow-nonempty-out"]));
        assert_eq!(ran.code, 65, "{}", ran.stderr);
        let named = format!("{}: {} exists", CMU, theirs.display());
        assert!(ran.stderr.contains(&named), "{}", ran.stderr);
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "not ours");
        assert!(!foreign.join(format!("{CMU}_overlay.tif")).exists());
    }
    // asked to, it goes
    let ran = run(&args(&["--replace"]));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(std::fs::read_to_string(&theirs)
        .unwrap()
        .starts_with("{\"type\":\"FeatureCollection\""));
    std::fs::remove_dir_all(work).unwrap();
}

#[test]
fn a_real_run_exports_one_tile_per_scored_cell() {
    let work = temp_dir("export-run");
    let ran = run_ok(&[&cmu()], &smallcnn(), 56, &work, &[]);
    // "N windows" scored, 16 per tissue cell at stride 56
    let windows: u64 = ran
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1] == "windows")
        .and_then(|w| w[0].parse().ok())
        .unwrap_or_else(|| panic!("no window count in {}", ran.stdout));
    let ran = run(&["export".as_ref(), work.as_os_str()]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.stdout, ran.stderr);
    let u8_out = work.join("heatmaps/u8");
    let ran = run(&[
        "export".as_ref(),
        work.as_os_str(),
        "--format".as_ref(),
        "tiff".as_ref(),
        "--dtype".as_ref(),
        "u8".as_ref(),
        "--out".as_ref(),
        u8_out.as_os_str(),
    ]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let npy = work.join(format!("heatmaps/{CMU}.npy"));
    let out = work.join("heatmaps");
    let system = check("openslide-system", &npy, &out, 56);
    assert_eq!(system["overlay"]["levels"], 1, "{system}");
    let rest = check("tifffile-vips-geojson", &npy, &out, 56);
    assert_eq!(rest["tiles"].as_u64().unwrap(), windows / 16, "{rest}");
    std::fs::remove_dir_all(work).unwrap();
}
