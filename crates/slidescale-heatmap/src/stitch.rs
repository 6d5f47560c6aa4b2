//! Stitching: per-tile score blocks laid out on the slide grid.
//!
//! Tiles arrive in row-major grid order (the order `split` stores them, group
//! after group), so the heatmap can be written one grid row at a time: memory
//! is one band of `n × cols·n` floats, whatever the slide size. For a
//! 100k×100k-pixel slide at stride 16 (447 columns, n = 14) that band is
//! 14 × 6258 × 4 B ≈ 350 KB; the whole heatmap (≈ 157 MB) never sits in memory.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::npy::{NpyError, NpyWriter};

#[derive(Debug, Error)]
pub enum HeatmapWriteError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("tile ({col}, {row}) is outside the {cols}×{rows} grid")]
    OutsideGrid {
        col: u32,
        row: u32,
        cols: u32,
        rows: u32,
    },
    #[error("tile ({col}, {row}) arrived after ({last_col}, {last_row}): tiles must come in row-major order, each once")]
    OutOfOrder {
        col: u32,
        row: u32,
        last_col: u32,
        last_row: u32,
    },
    #[error("tile ({col}, {row}) has {got} scores, expected {expected}")]
    BlockSize {
        col: u32,
        row: u32,
        got: usize,
        expected: usize,
    },
}

/// What a stitched heatmap holds.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapSummary {
    pub path: PathBuf,
    /// Heatmap size in pixels: rows·n × cols·n.
    pub height: u64,
    pub width: u64,
    pub tiles: u64,
    /// Over non-NaN scores; NaN when there are none.
    pub min: f32,
    pub max: f32,
    pub mean: f64,
    /// CRC-32 of the data, as its header records it.
    pub crc32: u32,
}

/// Writes a heatmap `.npy` of `[rows·n, cols·n]` float32, NaN where no tile
/// was pushed, streaming one grid row at a time.
pub struct HeatmapWriter {
    cols: u32,
    rows: u32,
    n: u32,
    band: Vec<f32>,
    band_row: u32,
    last: Option<(u32, u32)>,
    out: NpyWriter,
    tiles: u64,
    min: f32,
    max: f32,
    sum: f64,
    count: u64,
}

impl HeatmapWriter {
    /// `n` is the block side, 224 / stride.
    pub fn create(
        path: &Path,
        cols: u32,
        rows: u32,
        n: u32,
    ) -> Result<HeatmapWriter, HeatmapWriteError> {
        let shape = [rows as u64 * n as u64, cols as u64 * n as u64];
        Ok(HeatmapWriter {
            cols,
            rows,
            n,
            band: vec![f32::NAN; n as usize * cols as usize * n as usize],
            band_row: 0,
            last: None,
            out: NpyWriter::create(path, &shape)?,
            tiles: 0,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            sum: 0.0,
            count: 0,
        })
    }

    /// Place the `n×n` block (row-major) of cell (`col`, `row`).
    pub fn push_tile(
        &mut self,
        col: u32,
        row: u32,
        block: &[f32],
    ) -> Result<(), HeatmapWriteError> {
        if col >= self.cols || row >= self.rows {
            return Err(HeatmapWriteError::OutsideGrid {
                col,
                row,
                cols: self.cols,
                rows: self.rows,
            });
        }
        if let Some((last_row, last_col)) = self.last {
            if (row, col) <= (last_row, last_col) {
                return Err(HeatmapWriteError::OutOfOrder {
                    col,
                    row,
                    last_col,
                    last_row,
                });
            }
        }
        let n = self.n as usize;
        if block.len() != n * n {
            return Err(HeatmapWriteError::BlockSize {
                col,
                row,
                got: block.len(),
                expected: n * n,
            });
        }
        while self.band_row < row {
            self.flush_band()?;
        }
        let width = self.cols as usize * n;
        for (i, line) in block.chunks_exact(n).enumerate() {
            let start = i * width + col as usize * n;
            self.band[start..start + n].copy_from_slice(line);
        }
        self.note_scores(block);
        self.last = Some((row, col));
        self.tiles += 1;
        Ok(())
    }

    fn note_scores(&mut self, block: &[f32]) {
        for &v in block.iter().filter(|v| !v.is_nan()) {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.sum += v as f64;
            self.count += 1;
        }
    }

    fn flush_band(&mut self) -> Result<(), HeatmapWriteError> {
        self.out.write(&self.band)?;
        self.band.fill(f32::NAN);
        self.band_row += 1;
        Ok(())
    }

    /// Write the remaining rows and move the file into place.
    pub fn finish(mut self) -> Result<HeatmapSummary, HeatmapWriteError> {
        while self.band_row < self.rows {
            self.flush_band()?;
        }
        let n = self.n as u64;
        let (height, width) = (self.rows as u64 * n, self.cols as u64 * n);
        let empty = self.count == 0;
        let (path, crc32) = self.out.finish_with_crc()?;
        Ok(HeatmapSummary {
            path,
            height,
            width,
            tiles: self.tiles,
            min: if empty { f32::NAN } else { self.min },
            max: if empty { f32::NAN } else { self.max },
            mean: if empty {
                f64::NAN
            } else {
                self.sum / self.count as f64
            },
            crc32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::read_npy_f32;

    #[test]
    fn blocks_land_on_their_cells_and_the_rest_is_nan() {
        let dir = slidescale_testutil::temp_dir("stitch");
        let path = dir.join("h.npy");
        let mut w = HeatmapWriter::create(&path, 3, 3, 2).unwrap();
        w.push_tile(1, 0, &[1.0, 2.0, 3.0, 4.0]).unwrap();
        w.push_tile(2, 2, &[5.0, 6.0, 7.0, 8.0]).unwrap();
        let summary = w.finish().unwrap();
        assert_eq!((summary.height, summary.width, summary.tiles), (6, 6, 2));
        assert_eq!((summary.min, summary.max), (1.0, 8.0));
        let (shape, v) = read_npy_f32(&path).unwrap();
        assert_eq!(shape, vec![6, 6]);
        assert_eq!(&v[2..4], &[1.0, 2.0]);
        assert_eq!(&v[8..10], &[3.0, 4.0]);
        assert_eq!(&v[4 * 6 + 4..4 * 6 + 6], &[5.0, 6.0]);
        assert_eq!(&v[5 * 6 + 4..5 * 6 + 6], &[7.0, 8.0]);
        assert_eq!(v.iter().filter(|x| x.is_nan()).count(), 36 - 8);
    }

    #[test]
    fn out_of_order_or_misfit_tiles_are_refused_and_leave_no_file() {
        let dir = slidescale_testutil::temp_dir("stitch-bad");
        let path = dir.join("h.npy");
        let mut w = HeatmapWriter::create(&path, 2, 2, 1).unwrap();
        w.push_tile(1, 1, &[0.5]).unwrap();
        assert!(matches!(
            w.push_tile(0, 1, &[0.5]),
            Err(HeatmapWriteError::OutOfOrder { .. })
        ));
        assert!(matches!(
            w.push_tile(5, 1, &[0.5]),
            Err(HeatmapWriteError::OutsideGrid { .. })
        ));
        assert!(matches!(
            w.push_tile(1, 1, &[0.5, 0.5]),
            Err(HeatmapWriteError::OutOfOrder { .. } | HeatmapWriteError::BlockSize { .. })
        ));
        drop(w);
        assert!(!path.exists());
    }
}
