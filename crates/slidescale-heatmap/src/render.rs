//! A heatmap a person can look at: scores colour-mapped (viridis) and blended
//! over the slide thumbnail, background cells left as the plain thumbnail.
//!
//! Rendering reads the heatmap `.npy` one row at a time and writes the PNG one
//! row at a time, so memory is the thumbnail plus one row of each.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use slidescale_core::partial::create_locked_partial;
use slidescale_core::workdir::{commit_partial, create_parent_dir, unique_partial_path};
use slidescale_core::RgbImage;
use thiserror::Error;

use crate::npy::{read_npy_header, NpyError};

#[derive(Debug, Error)]
pub enum RenderError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: PNG encoding failed: {source}")]
    Png {
        path: PathBuf,
        source: png::EncodingError,
    },
    #[error("heatmap {path} is not 2-D: shape {shape:?}")]
    Shape { path: PathBuf, shape: Vec<u64> },
}

/// Scores mapped to the ends of the colour map; values outside are clamped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColourRange {
    pub lo: f32,
    pub hi: f32,
}

impl ColourRange {
    /// Probabilities: 0 → dark blue, 1 → yellow.
    pub const PROBABILITY: ColourRange = ColourRange { lo: 0.0, hi: 1.0 };

    /// `v` on the colour scale, 0 at `lo` and 1 at `hi`, clamped.
    pub fn unit(&self, v: f32) -> f32 {
        let span = self.hi - self.lo;
        if span <= 0.0 {
            return 0.5;
        }
        ((v - self.lo) / span).clamp(0.0, 1.0)
    }
}

/// Viridis, sampled at nine evenly spaced points.
const VIRIDIS: [[f32; 3]; 9] = [
    [68.0, 1.0, 84.0],
    [71.0, 44.0, 122.0],
    [59.0, 81.0, 139.0],
    [44.0, 113.0, 142.0],
    [33.0, 144.0, 141.0],
    [39.0, 173.0, 129.0],
    [92.0, 200.0, 99.0],
    [170.0, 220.0, 50.0],
    [253.0, 231.0, 37.0],
];

/// Opacity of the colour over the thumbnail.
const ALPHA: f32 = 0.6;

/// The colour of `t` ∈ [0, 1] (every heatmap rendering's colour map).
pub(crate) fn viridis(t: f32) -> [f32; 3] {
    let x = t * (VIRIDIS.len() - 1) as f32;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    [
        a[0] + (b[0] - a[0]) * f,
        a[1] + (b[1] - a[1]) * f,
        a[2] + (b[2] - a[2]) * f,
    ]
}

/// One row of a 2-D float32 `.npy`, read on demand and cached.
struct RowReader {
    file: File,
    path: PathBuf,
    data_offset: u64,
    width: usize,
    cached: Option<u64>,
    row: Vec<f32>,
}

impl RowReader {
    fn row(&mut self, y: u64) -> Result<&[f32], RenderError> {
        if self.cached != Some(y) {
            let io = |source| RenderError::Io {
                path: self.path.clone(),
                source,
            };
            let mut bytes = vec![0u8; self.width * 4];
            self.file
                .seek(SeekFrom::Start(
                    self.data_offset + y * self.width as u64 * 4,
                ))
                .map_err(io)?;
            self.file.read_exact(&mut bytes).map_err(io)?;
            for (v, b) in self.row.iter_mut().zip(bytes.chunks_exact(4)) {
                *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            self.cached = Some(y);
        }
        Ok(&self.row)
    }
}

/// Render `heatmap` (a `[H, W]` float32 `.npy` whose pixels are
/// `level0_per_pixel` level-0 pixels wide, [`crate::HeatmapMeta::level0_per_pixel`])
/// over `thumbnail` (which covers the whole level-0 image of `level0`
/// pixels) into the PNG `out`, written atomically.
pub fn render_overlay(
    heatmap: &Path,
    (level0, level0_per_pixel): ((u64, u64), f64),
    thumbnail: &RgbImage,
    range: ColourRange,
    out: &Path,
) -> Result<(), RenderError> {
    let header = read_npy_header(heatmap)?;
    let [h, w] = header.shape[..] else {
        return Err(RenderError::Shape {
            path: heatmap.to_path_buf(),
            shape: header.shape.clone(),
        });
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RenderError::Io { path, source }
    };
    let mut rows = RowReader {
        file: File::open(heatmap).map_err(io(heatmap))?,
        path: heatmap.to_path_buf(),
        data_offset: header.data_offset,
        width: w as usize,
        cached: None,
        row: vec![0.0; w as usize],
    };
    // Level-0 pixels per thumbnail pixel and per heatmap pixel. The heatmap
    // covers the whole grid, which may extend past the slide's right and
    // bottom edges; the thumbnail covers the slide only.
    let (tw, th) = (thumbnail.width as u64, thumbnail.height as u64);
    let thumb_px = (level0.0 as f64 / tw as f64, level0.1 as f64 / th as f64);
    let grid_px = level0_per_pixel;

    let partial = unique_partial_path(out);
    create_parent_dir(out).map_err(io(out))?;
    let file = create_locked_partial(&partial).map_err(io(&partial))?;
    let png_err = |source| RenderError::Png {
        path: out.to_path_buf(),
        source,
    };
    let mut encoder = png::Encoder::new(BufWriter::new(file), tw as u32, th as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(png_err)?;
    let mut stream = writer.stream_writer().map_err(png_err)?;
    let mut line = vec![0u8; tw as usize * 3];
    for ty in 0..th {
        let hy = (((ty as f64 + 0.5) * thumb_px.1 / grid_px) as u64).min(h - 1);
        let scores = rows.row(hy)?;
        let base = thumbnail.row(ty as u32);
        for tx in 0..tw as usize {
            let hx = (((tx as f64 + 0.5) * thumb_px.0 / grid_px) as usize).min(w as usize - 1);
            let px = &mut line[tx * 3..tx * 3 + 3];
            px.copy_from_slice(&base[tx * 3..tx * 3 + 3]);
            let v = scores[hx];
            if !v.is_nan() {
                let c = viridis(range.unit(v));
                for k in 0..3 {
                    px[k] = (ALPHA * c[k] + (1.0 - ALPHA) * px[k] as f32).round() as u8;
                }
            }
        }
        std::io::Write::write_all(&mut stream, &line).map_err(io(&partial))?;
    }
    stream.finish().map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    commit_partial(&partial, out).map_err(io(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::write_npy_f32;

    #[test]
    fn scored_cells_are_coloured_and_background_is_the_thumbnail() {
        let dir = slidescale_testutil::temp_dir("render");
        let npy = dir.join("h.npy");
        // a 448×224 slide: 2×1 cells at stride 224; left cell scored 1.0
        write_npy_f32(&npy, &[1, 2], &[1.0, f32::NAN]).unwrap();
        let thumb = RgbImage::from_raw(14, 7, vec![200; 14 * 7 * 3]);
        let png_path = dir.join("h.png");
        render_overlay(
            &npy,
            ((448, 224), 224.0),
            &thumb,
            ColourRange::PROBABILITY,
            &png_path,
        )
        .unwrap();

        let decoder = png::Decoder::new(std::io::BufReader::new(File::open(&png_path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (14, 7));
        let left = &buf[0..3];
        let right = &buf[13 * 3..14 * 3];
        assert_eq!(right, &[200, 200, 200]);
        // yellow (253, 231, 37) blended over grey 200
        assert_eq!(left, &[232, 219, 102]);
    }
}
