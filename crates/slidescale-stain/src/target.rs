//! The stain target image: the bundled default or a PNG given by the user.

use std::path::Path;

use slidescale_core::RgbImage;

use crate::StainError;

/// Name of the bundled target (in the repository's `models/`).
pub const DEFAULT_TARGET_NAME: &str = "stain_target_he.png";

/// The bundled H&E target: a 512×512 centre crop of TIAToolbox's
/// `stain_norm_target.png` (BSD-3-Clause), see `models/README.md`.
static DEFAULT_PNG: &[u8] = include_bytes!("../../../models/stain_target_he.png");

/// The bundled H&E target image.
pub fn default_target() -> RgbImage {
    decode_png(DEFAULT_PNG, DEFAULT_TARGET_NAME).expect("bundled target decodes")
}

/// Read a target image from a PNG file (8-bit RGB or RGBA; alpha is
/// composited on white, grey is expanded).
pub fn load_target(path: &Path) -> Result<RgbImage, StainError> {
    let bytes = std::fs::read(path).map_err(|e| StainError::Image {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    decode_png(&bytes, &path.display().to_string())
}

fn decode_png(bytes: &[u8], what: &str) -> Result<RgbImage, StainError> {
    let err = |reason: String| StainError::Image {
        path: what.to_string(),
        reason,
    };
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| err(format!("not a readable PNG ({e}); give the target as PNG")))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| err("image too large".into()))?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| err(e.to_string()))?;
    let px = &buf[..info.buffer_size()];
    let data: Vec<u8> = match info.color_type {
        png::ColorType::Rgb => px.to_vec(),
        png::ColorType::Rgba => px
            .chunks_exact(4)
            .flat_map(|p| over_white(p[..3].try_into().unwrap(), p[3]))
            .collect(),
        png::ColorType::Grayscale => px.iter().flat_map(|&g| [g; 3]).collect(),
        png::ColorType::GrayscaleAlpha => px
            .chunks_exact(2)
            .flat_map(|p| over_white([p[0]; 3], p[1]))
            .collect(),
        other => return Err(err(format!("unsupported PNG colour type {other:?}"))),
    };
    Ok(RgbImage::from_raw(info.width, info.height, data))
}

fn over_white(rgb: [u8; 3], a: u8) -> [u8; 3] {
    let a = a as u32;
    rgb.map(|c| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8)
}
