//! Corrupt compressed data is an error, never pixels: copies of the real CMU
//! slide damaged inside one level-0 tile (zeroed, flipped, cut short, moved
//! past the end of the file, a wrong frame size) fail every native read that
//! touches that tile with a one-line error naming the file, the level, the
//! tile and the cause, while the rest of the slide still reads as before; a
//! file cut inside its tile data does not open.

mod common;

use common::corrupt::{write_damaged, Damage, TileSpan};
use slidescale_slide::{NativeSlide, OpenSlide, Slide, SlideError};
use slidescale_testutil::{fixture, temp_dir};

fn cmu() -> std::path::PathBuf {
    fixture("slides/CMU-1-Small-Region.svs")
}

/// Reads that touch `tile`: the tile alone, a context window overlapping it
/// and its neighbours, and the whole level (decoded in parallel).
fn reads_touching(tile: &TileSpan, slide: &dyn Slide) -> Vec<(i64, i64, u32, u32)> {
    let (x, y) = (
        i64::from(tile.col * tile.width),
        i64::from(tile.row * tile.height),
    );
    let p = slide.properties();
    vec![
        (x, y, tile.width, tile.height),
        (x - 100, y + 17, 448, 448),
        (0, 0, p.width() as u32, p.height() as u32),
    ]
}

/// `damage` makes every read touching the tile fail with `cause`, and a tile
/// far from it still equals the clean slide's pixels.
fn assert_damage_is_an_error(name: &str, damage: Damage, causes: &[&str]) {
    let dir = temp_dir("corrupt-tiles");
    let path = dir.join(format!("{name}.svs"));
    let tile = write_damaged(&cmu(), &path, damage);
    let slide = NativeSlide::open(&path).unwrap();
    for (x, y, w, h) in reads_touching(&tile, &slide) {
        let err = slide.read_region(x, y, 0, w, h).unwrap_err();
        let msg = err.to_string();
        eprintln!("{name}: {msg}");
        assert!(matches!(err, SlideError::Read { .. }), "{msg}");
        assert!(msg.contains(&format!("{name}.svs")), "no file name: {msg}");
        assert!(msg.contains("level 0"), "no level: {msg}");
        let tile_name = format!("tile ({}, {})", tile.col, tile.row);
        assert!(msg.contains(&tile_name), "no {tile_name}: {msg}");
        assert!(
            causes.iter().any(|c| msg.contains(c)),
            "cause not {causes:?}: {msg}"
        );
        assert!(!msg.contains('\n'), "not one line: {msg}");
    }
    // The damage is that tile's alone.
    let far = (
        if tile.col > 2 {
            0
        } else {
            4 * i64::from(tile.width)
        },
        0,
    );
    let clean = NativeSlide::open(&cmu()).unwrap();
    let read = |s: &NativeSlide| s.read_region(far.0, far.1, 0, 224, 224).unwrap();
    assert_eq!(read(&slide).data, read(&clean).data);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn zeroed_4_kib_inside_a_tile_is_an_error() {
    assert_damage_is_an_error("zeroed", Damage::Zero4KiB, &["JPEG: Corrupt JPEG data"]);
}

#[test]
fn fifty_flipped_bytes_inside_a_tile_are_an_error() {
    for seed in [1, 7, 2026, 0x5eed, 99991] {
        assert_damage_is_an_error(
            &format!("flipped-{seed}"),
            Damage::Flip50 { seed },
            &["JPEG: Corrupt JPEG data"],
        );
    }
}

#[test]
fn tile_cut_short_is_an_error() {
    assert_damage_is_an_error(
        "cut-short",
        Damage::ByteCountHalved,
        &[
            "premature end of data segment",
            "Premature end of JPEG file",
        ],
    );
}

#[test]
fn tile_offset_past_the_end_of_the_file_is_an_error() {
    assert_damage_is_an_error(
        "past-eof",
        Damage::OffsetPastEof,
        &["lie past the end of the file"],
    );
}

#[test]
fn frame_size_other_than_the_tiffs_is_an_error() {
    assert_damage_is_an_error(
        "wrong-size",
        Damage::FrameHeightOneLess,
        &["JPEG tile is 240x239 with 3 components, the TIFF says 240x240 RGB"],
    );
}

/// A file cut inside its tile data loses the TIFF directories behind the
/// data (Aperio writes them last): the slide does not open, and says why.
#[test]
fn file_cut_inside_tile_data_does_not_open() {
    let dir = temp_dir("corrupt-cut");
    let path = dir.join("cut-file.svs");
    write_damaged(&cmu(), &path, Damage::FileCutInsideTile);
    let err = NativeSlide::open(&path).err().expect("a cut file opened");
    let msg = err.to_string();
    assert!(matches!(err, SlideError::Open { .. }), "{msg}");
    assert!(
        msg.contains("cut-file.svs") && msg.contains("the file is truncated"),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The reference: OpenSlide (libjpeg) also refuses the zeroed and the cut
/// tile, so the native reader is not stricter than it for these.
#[test]
fn openslide_refuses_the_same_tiles() {
    let dir = temp_dir("corrupt-openslide");
    for (name, damage) in [
        ("zeroed", Damage::Zero4KiB),
        ("cut-short", Damage::ByteCountHalved),
    ] {
        let path = dir.join(format!("{name}.svs"));
        let tile = write_damaged(&cmu(), &path, damage);
        let slide = OpenSlide::open(&path).unwrap();
        let (x, y, w, h) = reads_touching(&tile, &slide)[0];
        let err = slide.read_region(x, y, 0, w, h).unwrap_err();
        eprintln!("openslide {name}: {err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
