//! Shared by the tissue tests: PNG loading and the reference Python.
#![allow(dead_code)] // each test file uses part of it

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use slidescale_core::RgbImage;

/// Decode an 8-bit RGB or RGBA PNG, compositing alpha onto white.
pub fn load_png(path: &Path) -> RgbImage {
    let file = BufReader::new(File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let data: Vec<u8> = match info.color_type {
        png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
        png::ColorType::Rgba => buf[..info.buffer_size()]
            .chunks_exact(4)
            .flat_map(|p| {
                let a = p[3] as f64 / 255.0;
                let over = |c: u8| (c as f64 * a + 255.0 * (1.0 - a)).round() as u8;
                [over(p[0]), over(p[1]), over(p[2])]
            })
            .collect(),
        other => panic!("{}: unexpected colour type {other:?}", path.display()),
    };
    RgbImage::from_raw(info.width, info.height, data)
}

/// The tissue tiles, sorted by name.
pub fn tissue_tiles() -> Vec<PathBuf> {
    let dir = slidescale_testutil::shared("data/patches/tissue_tiles");
    let mut tiles: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    tiles.sort();
    assert!(tiles.len() >= 30, "expected the 34 tissue tiles");
    tiles
}

pub fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}
