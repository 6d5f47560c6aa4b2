//! Evaluation masks against the CAMELYON16 reference script, run on the same
//! mask TIFFs: this crate writes each TIFF, reads its level 5 back, and
//! computes labels and the ITC list; the reference's `computeEvaluationMask`
//! and `computeITCList` (../shared/reference/camelyon16) read the same file
//! with OpenSlide. Labels must agree on every pixel, ITC lists exactly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use slidescale_eval::annotations::read_annotations;
use slidescale_eval::mask::rasterise::tumour_raster;
use slidescale_eval::mask::{
    evaluation_mask, level_dimensions, pyramid_levels, read_mask_tiff, write_mask_tiff, MaskError,
    DEFAULT_LEVEL0_MPP, DEFAULT_MASK_LEVEL,
};
use slidescale_eval::raster::Raster;
use slidescale_testutil::{run_python, shared, temp_dir};

const HARNESS: &str = include_str!("masks_reference.py");
const LEVEL: u32 = DEFAULT_MASK_LEVEL;

/// A mask case: a tumour raster at level 5 and how much level 0 is cut short
/// of `2^5 ×` its size (to exercise levels that round up).
struct Case {
    name: String,
    level5: Raster<u8>,
    level0_shortfall: usize,
}

impl Case {
    fn level0_dimensions(&self) -> (usize, usize) {
        let d = 1 << LEVEL;
        (
            self.level5.width * d - self.level0_shortfall,
            self.level5.height * d - self.level0_shortfall,
        )
    }
}

/// Every level of the pyramid from the level-5 raster: finer levels repeat
/// its pixels, coarser ones sample them. Level 5 is the raster itself.
fn window(level5: &Raster<u8>) -> impl Fn(u32, usize, usize, usize, usize) -> Raster<u8> + '_ {
    move |level, x0, y0, w, h| {
        let source = |c: usize| -> usize {
            if level <= LEVEL {
                c >> (LEVEL - level)
            } else {
                c << (level - LEVEL)
            }
        };
        let mut out = Raster::filled(w, h, 0u8);
        for y in 0..h {
            let sy = source(y0 + y).min(level5.height - 1);
            for x in 0..w {
                let sx = source(x0 + x).min(level5.width - 1);
                out.set(x, y, level5.get(sx, sy));
            }
        }
        out
    }
}

fn write_case(dir: &Path, case: &Case) -> PathBuf {
    let path = dir.join(format!("{}.tif", case.name));
    let (w, h) = case.level0_dimensions();
    write_mask_tiff(
        &path,
        w,
        h,
        pyramid_levels(w, h, LEVEL + 1),
        window(&case.level5),
    )
    .unwrap();
    path
}

fn disc(r: &mut Raster<u8>, cx: f64, cy: f64, radius: f64, value: u8) {
    for y in 0..r.height {
        for x in 0..r.width {
            if (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2) <= radius * radius {
                r.set(x, y, value);
            }
        }
    }
}

fn rect(r: &mut Raster<u8>, x0: usize, y0: usize, x1: usize, y1: usize, value: u8) {
    for y in y0..y1 {
        for x in x0..x1 {
            r.set(x, y, value);
        }
    }
}

fn case(name: &str, level5: Raster<u8>, level0_shortfall: usize) -> Case {
    Case {
        name: name.into(),
        level5,
        level0_shortfall,
    }
}

/// The constructed cases the issue asks for.
fn constructed_cases() -> Vec<Case> {
    let blank = || Raster::filled(160, 120, 0u8);
    // Two pairs of discs: 8 px apart (the 4.8 px growths meet) and 11 px
    // apart (they do not).
    let mut touching = blank();
    disc(&mut touching, 25.0, 25.0, 14.0, 255);
    disc(&mut touching, 61.0, 25.0, 14.0, 255);
    disc(&mut touching, 25.0, 80.0, 14.0, 255);
    disc(&mut touching, 64.0, 80.0, 14.0, 255);
    // Bars of growing length across the 35.36 px ITC major axis.
    let mut itc = Raster::filled(200, 120, 0u8);
    for (i, length) in (14..30).enumerate() {
        let (x, y) = (10 + (i % 4) * 48, 10 + (i / 4) * 27);
        rect(&mut itc, x, y, x + length, y + 2, 255);
    }
    // A ring whose hole survives the growth and is filled.
    let mut hole = blank();
    disc(&mut hole, 60.0, 60.0, 30.0, 255);
    disc(&mut hole, 60.0, 60.0, 18.0, 0);
    // A lesion cut by exclusions: a 12 px band (stays two lesions) and a
    // 6 px band (grown back together).
    let mut cut = blank();
    rect(&mut cut, 10, 10, 150, 50, 255);
    rect(&mut cut, 50, 10, 62, 50, 0);
    rect(&mut cut, 100, 10, 106, 50, 0);
    rect(&mut cut, 10, 70, 150, 110, 255);
    rect(&mut cut, 60, 70, 72, 90, 0);
    // Lesions on every border and in a corner, on a level 0 that is not a
    // multiple of 32 (levels round up).
    let mut border = blank();
    disc(&mut border, 0.0, 0.0, 12.0, 255);
    disc(&mut border, 80.0, 0.0, 6.0, 255);
    disc(&mut border, 159.0, 60.0, 20.0, 255);
    rect(&mut border, 20, 110, 140, 120, 255);
    // Grey (not 255) is not tumour, as `255 - channel0` makes it.
    let mut grey = blank();
    disc(&mut grey, 40.0, 60.0, 20.0, 128);
    disc(&mut grey, 110.0, 60.0, 20.0, 255);
    vec![
        case("touching", touching, 0),
        case("itc_sizes", itc, 0),
        case("hole", hole, 0),
        case("exclusion_cut", cut, 0),
        case("border", border, 17),
        case("grey_not_tumour", grey, 0),
        case("empty", blank(), 0),
    ]
}

/// The real CAMELYON16 outlines, read and rasterised at level 5 by the
/// crate (`annotations::read_annotations`, `mask::rasterise`), moved by a
/// multiple of 2^5 so that the mask is cropped to the outlines plus a
/// 40-pixel margin (the rasterised pixels are those of the whole slide).
fn outline_cases(_dir: &Path) -> Vec<Case> {
    let outlines = shared("data/annotations/camelyon16");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&outlines)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no outlines in {}", outlines.display());
    files
        .iter()
        .map(|path| {
            let mut ann = read_annotations(path).unwrap();
            let d = f64::from(1u32 << LEVEL);
            let points = || ann.outlines.iter().flat_map(|o| o.polygon.exterior.iter());
            let lo = points().fold([f64::MAX; 2], |m, p| [m[0].min(p[0]), m[1].min(p[1])]);
            let hi = points().fold([f64::MIN; 2], |m, p| [m[0].max(p[0]), m[1].max(p[1])]);
            let origin = lo.map(|v| ((v / d).floor() - 40.0).max(0.0) * d);
            for o in &mut ann.outlines {
                for p in o
                    .polygon
                    .exterior
                    .iter_mut()
                    .chain(o.polygon.holes.iter_mut().flatten())
                {
                    *p = [p[0] - origin[0], p[1] - origin[1]];
                }
            }
            let size = |i: usize| ((hi[i] - origin[i]) / d).ceil() as usize + 40;
            let raster = tumour_raster(&ann, size(0), size(1), d);
            assert!(raster.data.contains(&255), "{}: empty", path.display());
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            case(&name, raster, 0)
        })
        .collect()
}

fn read_u32s(path: &Path) -> Vec<u32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Writes every case, runs the reference on all of them in one Python call
/// and compares.
fn compare_with_reference(cases: &[Case], dir: &Path) {
    let tiffs: Vec<PathBuf> = cases.iter().map(|c| write_case(dir, c)).collect();
    let reference_dir = shared("reference/camelyon16");
    let mut args = vec![
        "reference",
        reference_dir.to_str().unwrap(),
        dir.to_str().unwrap(),
    ];
    args.extend(tiffs.iter().map(|p| p.to_str().unwrap()));
    let reference: BTreeMap<String, Value> =
        serde_json::from_str(&run_python(HARNESS, &args)).unwrap();
    for (case, tiff) in cases.iter().zip(&tiffs) {
        let name = &case.name;
        let r = &reference[name];
        check_pyramid(case, r);
        let level5 = read_mask_tiff(tiff, LEVEL).unwrap();
        assert_eq!(
            level5, case.level5,
            "{name}: level 5 is not the raster written"
        );
        let openslide_ch0 = std::fs::read(dir.join(format!("{name}.ch0"))).unwrap();
        assert!(
            level5.data == openslide_ch0,
            "{name}: reader differs from openslide-python"
        );
        let mask = evaluation_mask(&level5, LEVEL, DEFAULT_LEVEL0_MPP);
        let shape = r["shape"].as_array().unwrap();
        assert_eq!(
            (mask.labels.height as u64, mask.labels.width as u64),
            (shape[0].as_u64().unwrap(), shape[1].as_u64().unwrap()),
            "{name}: shape"
        );
        let labels = read_u32s(&dir.join(format!("{name}.labels")));
        if let Some(i) = (0..labels.len()).find(|&i| labels[i] != mask.labels.data[i]) {
            panic!(
                "{name}: label at row {} col {} is {}, the reference's {}",
                i / mask.labels.width,
                i % mask.labels.width,
                mask.labels.data[i],
                labels[i]
            );
        }
        let itc: Vec<u32> = r["itc"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(mask.itc, itc, "{name}: ITC labels");
    }
}

/// OpenSlide reads the file as a generic tiled TIFF with every level, and
/// tifffile sees one tiled deflate page per level.
fn check_pyramid(case: &Case, r: &Value) {
    let (w, h) = case.level0_dimensions();
    let levels = pyramid_levels(w, h, LEVEL + 1);
    let expected: Vec<Value> = (0..levels)
        .map(|l| {
            let (lw, lh) = level_dimensions(w, h, l);
            serde_json::json!([lw, lh])
        })
        .collect();
    assert_eq!(r["openslide_vendor"], "generic-tiff", "{}", case.name);
    assert_eq!(
        r["openslide_levels"].as_array().unwrap(),
        &expected,
        "{}",
        case.name
    );
    let pages = r["tifffile_pages"].as_array().unwrap();
    assert_eq!(pages.len(), levels as usize, "{}", case.name);
    for (page, dims) in pages.iter().zip(&expected) {
        assert_eq!(
            page["shape"],
            serde_json::json!([dims[1], dims[0]]),
            "{}",
            case.name
        );
        assert_eq!(page["tiled"], true);
        assert_eq!(page["compression"], 8, "deflate");
    }
}

#[test]
fn constructed_masks_equal_the_reference() {
    let dir = temp_dir("masks-constructed");
    let cases = constructed_cases();
    compare_with_reference(&cases, &dir);
    // The cases must exercise what they are named for (checked on our
    // result, which now equals the reference's).
    let lesions = |name: &str| {
        let c = cases.iter().find(|c| c.name == name).unwrap();
        evaluation_mask(&c.level5, LEVEL, DEFAULT_LEVEL0_MPP)
    };
    assert_eq!(lesions("touching").itc.len(), 0);
    assert_eq!(lesions("touching").labels.data.iter().max(), Some(&3));
    let itc = lesions("itc_sizes");
    assert!(
        !itc.itc.is_empty() && itc.itc.len() < 16,
        "bars on both sides: {:?}",
        itc.itc
    );
    assert_eq!(lesions("exclusion_cut").labels.data.iter().max(), Some(&3));
    let hole = lesions("hole");
    assert_ne!(hole.labels.get(60, 60), 0, "the ring's hole is filled");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn real_outline_masks_equal_the_reference() {
    let dir = temp_dir("masks-outlines");
    let cases = outline_cases(&dir);
    compare_with_reference(&cases, &dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_mask_with_tumour_as_1_is_refused_naming_the_file() {
    let dir = temp_dir("masks-one");
    let path = dir.join("Tumor_one.tif");
    let mut r = Raster::filled(40, 30, 0u8);
    rect(&mut r, 5, 5, 20, 20, 1);
    let c = case("Tumor_one", r, 0);
    let (w, h) = c.level0_dimensions();
    write_mask_tiff(&path, w, h, LEVEL + 1, window(&c.level5)).unwrap();
    let err = read_mask_tiff(&path, LEVEL).unwrap_err();
    assert!(matches!(err, MaskError::TumourIsOne { .. }), "{err}");
    assert!(err.to_string().contains("Tumor_one.tif"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_mask_without_the_level_is_refused() {
    let dir = temp_dir("masks-shallow");
    let path = dir.join("shallow.tif");
    write_mask_tiff(&path, 600, 400, 3, |_, _, _, w, h| {
        Raster::filled(w, h, 255)
    })
    .unwrap();
    let err = read_mask_tiff(&path, LEVEL).unwrap_err();
    assert!(
        matches!(err, MaskError::MissingLevel { levels: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("shallow.tif"), "{err}");
    let not_tiff = dir.join("not.tif");
    std::fs::write(&not_tiff, b"not a tiff").unwrap();
    let err = read_mask_tiff(&not_tiff, LEVEL).unwrap_err();
    assert!(err.to_string().contains("not.tif"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_tiles_are_stored_once() {
    // A 40k × 30k level 0 with one small lesion stays small on disk: its
    // 6,270 tiles over 8 levels store two distinct ones.
    let dir = temp_dir("masks-sparse");
    let path = dir.join("sparse.tif");
    let (w, h) = (40_000, 30_000);
    write_mask_tiff(
        &path,
        w,
        h,
        pyramid_levels(w, h, LEVEL + 1),
        |level, x0, y0, tw, th| {
            let mut r = Raster::filled(tw, th, 0u8);
            if level == 0 && x0 == 0 && y0 == 0 {
                rect(&mut r, 10, 10, 100, 100, 255);
            }
            r
        },
    )
    .unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    // Offsets and byte counts are 16 bytes a tile; the pixels are a few
    // compressed tiles of ~1 KB.
    assert!(size < 120_000, "{size} bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}
