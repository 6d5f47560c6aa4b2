//! The stride trade-off: a stride-`s` heatmap made coarser, to stride `k·s`,
//! as the paper did (stride 16 → 64, 128, 224) instead of scoring again.
//!
//! Each output pixel summarises a `k × k` block of input pixels:
//! [`Downsample::Mean`] (the default) the mean of its non-NaN values,
//! [`Downsample::Max`] their maximum (NaN when the whole block is NaN,
//! i.e. background), [`Downsample::Decimate`] its top-left value
//! (`heatmap[::k, ::k]`, what the authors' companion code does).
//!
//! **Partial blocks.** A heatmap is `224/s` pixels per grid cell, so when
//! `k` does not divide its size (16 → 64 on a 224-px grid: 14 pixels per
//! cell, not a multiple of 4) the last block of a row or column is cut by
//! the heatmap's edge. Such a block is kept, summarised from the pixels it
//! has, so the output is `ceil(rows/k) × ceil(cols/k)` for every method —
//! the size `heatmap[::k, ::k]` has, and what `skimage.measure.block_reduce`
//! gives with NaN padding and `numpy.nanmean` / `numpy.nanmax`. Output pixel
//! (i, j) is then the level-0 block `[j·k·s, j·k·s + k·s) × [i·k·s, …)`, as
//! at a native stride; the last ones reach past the heatmap's edge, where
//! the slide has no cells (background).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::raster::Raster;

/// How a `k × k` block of a finer heatmap becomes one pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Downsample {
    /// Mean of the block's non-NaN values; NaN when all are NaN.
    #[default]
    Mean,
    /// Maximum of the block's non-NaN values; NaN when all are NaN.
    Max,
    /// The block's top-left value (`heatmap[::k, ::k]`).
    Decimate,
}

impl Downsample {
    /// The method's name, as `--downsample` takes it and reports say it.
    pub fn name(self) -> &'static str {
        match self {
            Downsample::Mean => "mean",
            Downsample::Max => "max",
            Downsample::Decimate => "decimate",
        }
    }

    /// A sentence for reports: how the coarser strides were made.
    pub fn description(self) -> &'static str {
        match self {
            Downsample::Mean => "block mean of the non-NaN values of each k×k block",
            Downsample::Max => "block max of the non-NaN values of each k×k block",
            Downsample::Decimate => "decimation, heatmap[::k, ::k]",
        }
    }
}

impl fmt::Display for Downsample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Downsample {
    type Err = String;

    fn from_str(s: &str) -> Result<Downsample, String> {
        match s.to_ascii_lowercase().as_str() {
            "mean" => Ok(Downsample::Mean),
            "max" => Ok(Downsample::Max),
            "decimate" => Ok(Downsample::Decimate),
            _ => Err(format!("{s:?}: expected mean, max or decimate")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StrideError {
    #[error("stride {to} is not a multiple of the heatmap's stride {from}")]
    NotAMultiple { from: u32, to: u32 },
    #[error("stride must be positive")]
    Zero,
}

/// The factor `k` from stride `from` to stride `to`: an integer ≥ 1.
pub fn factor(from: u32, to: u32) -> Result<usize, StrideError> {
    if from == 0 || to == 0 {
        return Err(StrideError::Zero);
    }
    if !to.is_multiple_of(from) {
        return Err(StrideError::NotAMultiple { from, to });
    }
    Ok((to / from) as usize)
}

/// The stride-`from` `heatmap` at stride `to` (a multiple of `from`),
/// `ceil(height/k) × ceil(width/k)` (see the module's note on partial blocks).
pub fn downsample(
    heatmap: &Raster<f32>,
    from: u32,
    to: u32,
    how: Downsample,
) -> Result<Raster<f32>, StrideError> {
    let k = factor(from, to)?;
    if k == 1 {
        return Ok(heatmap.clone());
    }
    let width = heatmap.width.div_ceil(k);
    let height = heatmap.height.div_ceil(k);
    let mut out = Vec::with_capacity(width * height);
    for block_row in 0..height {
        let rows = block_row * k..((block_row + 1) * k).min(heatmap.height);
        match how {
            Downsample::Decimate => out.extend(heatmap.row(rows.start).iter().step_by(k).copied()),
            Downsample::Mean => out.extend(block_means(heatmap, rows, k, width)),
            Downsample::Max => out.extend(block_maxima(heatmap, rows, k, width)),
        }
    }
    Ok(Raster::from_vec(width, height, out))
}

/// Mean of the non-NaN values of each block of one band of rows (sums in
/// f64, so the mean is the exact one rounded to f32).
fn block_means(
    heatmap: &Raster<f32>,
    rows: std::ops::Range<usize>,
    k: usize,
    width: usize,
) -> Vec<f32> {
    let mut sums = vec![0.0f64; width];
    let mut counts = vec![0u32; width];
    for y in rows {
        for (x, &v) in heatmap.row(y).iter().enumerate() {
            if !v.is_nan() {
                sums[x / k] += v as f64;
                counts[x / k] += 1;
            }
        }
    }
    sums.iter()
        .zip(&counts)
        .map(|(&s, &n)| {
            if n == 0 {
                f32::NAN
            } else {
                (s / n as f64) as f32
            }
        })
        .collect()
}

/// Maximum of the non-NaN values of each block of one band of rows.
fn block_maxima(
    heatmap: &Raster<f32>,
    rows: std::ops::Range<usize>,
    k: usize,
    width: usize,
) -> Vec<f32> {
    let mut maxima = vec![f32::NAN; width];
    for y in rows {
        for (x, &v) in heatmap.row(y).iter().enumerate() {
            let m = &mut maxima[x / k];
            // f32::max ignores a NaN operand: NaN stays only for all-NaN blocks
            *m = m.max(v);
        }
    }
    maxima
}

#[cfg(test)]
mod tests;
