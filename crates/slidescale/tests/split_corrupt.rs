//! Corrupt compressed data is an error, never pixels: `split --reader native`
//! on copies of the real CMU slide damaged inside one level-0 tile (4 KiB
//! zeroed, 50 bytes flipped, the tile cut short, its offset past the end of
//! the file, the file cut inside the tile) fails each damaged slide by name
//! with a one-line cause and writes no store for it, while the clean slide
//! in the same run is written.

#[path = "../../slidescale-slide/tests/common/corrupt.rs"]
mod corrupt;
mod split_support;

use std::ffi::OsStr;
use std::path::Path;

use corrupt::{write_damaged, Damage};
use slidescale_store::is_complete;
use split_support::{big_slide, cmu, run, status_of};

/// Each damaged copy and what its error line must say.
const DAMAGED: [(&str, Damage, &str); 5] = [
    ("zeroed", Damage::Zero4KiB, "Corrupt JPEG data"),
    (
        "flipped",
        Damage::Flip50 { seed: 0x5eed },
        "Corrupt JPEG data",
    ),
    (
        "cut-short",
        Damage::ByteCountHalved,
        "premature end of data segment",
    ),
    (
        "past-eof",
        Damage::OffsetPastEof,
        "lie past the end of the file",
    ),
    (
        "cut-file",
        Damage::FileCutInsideTile,
        "the file is truncated",
    ),
];

#[test]
fn damaged_slides_fail_by_name_with_their_cause_and_leave_no_store() {
    let dir = slidescale_testutil::temp_dir("split-corrupt");
    let out = dir.join("work");
    let mut slides = vec![cmu()];
    for (name, damage, _) in DAMAGED {
        let path = dir.join(format!("{name}.svs"));
        let tile = write_damaged(&cmu(), &path, damage);
        eprintln!("{name}: level-0 tile ({}, {}) damaged", tile.col, tile.row);
        slides.push(path);
    }
    let mut args: Vec<&OsStr> = vec!["split".as_ref(), "--out".as_ref(), out.as_os_str()];
    args.extend(["--reader", "native"].map(OsStr::new));
    args.extend(slides.iter().map(|p| p.as_os_str()));
    let (code, stdout, stderr) = run(&args);
    eprintln!("{stderr}");
    assert_eq!(code, 65, "{stdout}\n{stderr}");

    // the clean slide, read by the same reader in the same run, is written
    assert!(is_complete(&out.join("CMU-1-Small-Region.h5")), "{stdout}");
    for (name, _, cause) in DAMAGED {
        assert_eq!(
            status_of(&stdout, name).as_deref(),
            Some("FAILED"),
            "{stdout}"
        );
        let file = format!("{name}.svs");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error:") && l.contains(&file))
            .unwrap_or_else(|| panic!("{file} not named on stderr: {stderr}"));
        assert!(line.contains(cause), "{name}: cause not {cause:?}: {line}");
        if name != "cut-file" {
            assert!(
                line.contains("level 0: tile ("),
                "{name}: tile not named: {line}"
            );
        }
        assert!(
            !out.join(format!("{name}.h5")).exists(),
            "{name}.h5 written"
        );
    }
    assert_no_partial_files(&out);
    std::fs::remove_dir_all(dir).unwrap();
}

/// On a pyramid the tissue thumbnail comes from a low level, so the damaged
/// level-0 tile is met while tiles are being written to `NAME.h5.partial`:
/// the slide fails there and the partial file goes too.
#[test]
fn damage_met_while_writing_tiles_leaves_no_partial_store() {
    let dir = slidescale_testutil::temp_dir("split-corrupt-pyramid");
    let clean = big_slide(&dir, 4000, 3000);
    let out = dir.join("work");
    for (name, damage) in [
        ("zeroed", Damage::Zero4KiB),
        ("flipped", Damage::Flip50 { seed: 7 }),
    ] {
        let path = dir.join(format!("pyramid-{name}.tif"));
        write_damaged(&clean, &path, damage);
        let args = [
            "split".as_ref(),
            path.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--reader".as_ref(),
            "native".as_ref(),
        ];
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 65, "{stdout}\n{stderr}");
        let stem = format!("pyramid-{name}");
        assert_eq!(
            status_of(&stdout, &stem).as_deref(),
            Some("FAILED"),
            "{stdout}"
        );
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error:") && l.contains(&format!("{stem}.tif")))
            .unwrap_or_else(|| panic!("{stem} not named: {stderr}"));
        eprintln!("{line}");
        // level 0: a context-window read, after the thumbnail and the store's creation
        assert!(line.contains("level 0: tile ("), "{line}");
        assert!(line.contains("Corrupt JPEG data"), "{line}");
        assert!(!out.join(format!("{stem}.h5")).exists());
        assert_no_partial_files(&out);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn assert_no_partial_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_partial_files(&path);
        } else {
            let name = path.file_name().unwrap().to_string_lossy();
            assert!(
                !name.ends_with(".partial"),
                "left behind: {}",
                path.display()
            );
        }
    }
}
