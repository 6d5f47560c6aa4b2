//! How far a fast scoring mode is from exact sliding-window fp32, measured
//! on the user's own tiles: the same sampled context tiles scored both ways,
//! compared window by window (max and mean absolute difference, Pearson
//! correlation, agreement at the 0.5 threshold), with each way's measured
//! rate. `slidescale check-fast` and `run --mode dense` render it.
//!
//! The fast side is any model plus scorer options (dense mode, an int8
//! model from `slidescale quantize`, or both), the exact side the original
//! model in sliding mode. Each side's precision is read from its graph
//! ([`Precision`]), so a line never calls an int8 reference "fp32". Tiles are scored as stored (no stain
//! normalisation): the comparison is of the scorer, not of the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_core::{Stride, TileGeometry, WorkDir};
use slidescale_infer::{InferError, ScoreMode, Scorer, ScorerOptions};
use slidescale_store::{Store, StoreError};
use thiserror::Error;

/// Which tiles to compare on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// `tiles` drawn without replacement over every store, by `seed`.
    Seeded { tiles: usize, seed: u64 },
    /// The first `tiles` tiles of the first store's first group.
    FirstGroup { tiles: usize },
}

/// One sampled tile: which store, group (1-based) and tile in the group
/// (0-based) it was read from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SampledTile {
    pub store: String,
    pub group: u32,
    pub index: usize,
}

/// The tiles of a sample (C×C×3 each, concatenated, in `origin` order).
#[derive(Debug, Clone)]
pub struct Sampled {
    pub bytes: Vec<u8>,
    pub geometry: TileGeometry,
    pub origin: Vec<SampledTile>,
}

/// What a model computes in, read from its graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Int8,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
        })
    }
}

/// The precision of the model at `path` (int8 when its graph has
/// quantization ops).
pub fn precision(path: &Path) -> Result<Precision, CheckError> {
    let model = slidescale_onnx::read(path).map_err(|e| CheckError::Model {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(if slidescale_onnx::quant::is_int8(&model) {
        Precision::Int8
    } else {
        Precision::Fp32
    })
}

/// The two scorers to compare.
#[derive(Debug, Clone)]
pub struct CheckSetup {
    pub exact_model: PathBuf,
    /// Its mode is forced to sliding.
    pub exact: ScorerOptions,
    pub fast_model: PathBuf,
    pub fast: ScorerOptions,
    pub stride: Stride,
}

/// Window-by-window agreement of two score lists.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    pub windows: u64,
    pub max_abs: f64,
    pub mean_abs: f64,
    /// Pearson's r; NaN when either side is constant.
    pub correlation: f64,
    /// Fraction of windows on the same side of 0.5.
    pub agree_05: f64,
}

/// What [`check_fast`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub fast_mode: ScoreMode,
    pub fast_precision: Precision,
    /// The exact side is always sliding; its precision is its model's.
    pub exact_precision: Precision,
    pub stride: Stride,
    pub tiles: usize,
    pub agreement: Agreement,
    /// Scoring time of the same windows (after a warm-up tile each).
    pub exact_s: f64,
    pub fast_s: f64,
}

impl CheckReport {
    pub fn exact_rate(&self) -> f64 {
        self.agreement.windows as f64 / self.exact_s
    }
    pub fn fast_rate(&self) -> f64 {
        self.agreement.windows as f64 / self.fast_s
    }
    /// Exact time over fast time.
    pub fn speedup(&self) -> f64 {
        self.exact_s / self.fast_s
    }
}

#[derive(Debug, Error)]
pub enum CheckError {
    #[error("{0}")]
    Infer(#[from] InferError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot list the stores of {path}: {source}")]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Nothing(String),
    #[error("cannot read the model {path}: {reason}")]
    Model { path: PathBuf, reason: String },
}

/// Compare `fast` with `exact` (same length).
pub fn agreement(exact: &[f32], fast: &[f32]) -> Agreement {
    assert_eq!(exact.len(), fast.len(), "score lists of different lengths");
    let n = exact.len() as f64;
    let (mut max_abs, mut sum_abs) = (0f64, 0f64);
    let (mut sx, mut sy, mut agree) = (0f64, 0f64, 0u64);
    for (&a, &b) in exact.iter().zip(fast) {
        let d = (a as f64 - b as f64).abs();
        max_abs = max_abs.max(d);
        sum_abs += d;
        sx += a as f64;
        sy += b as f64;
        agree += u64::from((a >= 0.5) == (b >= 0.5));
    }
    let (mx, my) = (sx / n, sy / n);
    let (mut cxy, mut cxx, mut cyy) = (0f64, 0f64, 0f64);
    for (&a, &b) in exact.iter().zip(fast) {
        let (dx, dy) = (a as f64 - mx, b as f64 - my);
        cxy += dx * dy;
        cxx += dx * dx;
        cyy += dy * dy;
    }
    Agreement {
        windows: exact.len() as u64,
        max_abs,
        mean_abs: sum_abs / n,
        correlation: cxy / (cxx * cyy).sqrt(),
        agree_05: agree as f64 / n,
    }
}

/// splitmix64: a seeded, portable draw (the same sample on every machine).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The sampled tiles (C×C×3 each, concatenated) and their geometry.
pub fn sample_tiles(work: &WorkDir, sample: Sample) -> Result<(Vec<u8>, TileGeometry), CheckError> {
    sample_with_origin(work, sample).map(|s| (s.bytes, s.geometry))
}

/// The sampled tiles with where each came from: stores of another
/// geometry than the first one's are left out.
pub fn sample_with_origin(work: &WorkDir, sample: Sample) -> Result<Sampled, CheckError> {
    let names = work.store_names().map_err(|source| CheckError::List {
        path: work.root().to_path_buf(),
        source,
    })?;
    let mut stores = Vec::new();
    for name in &names {
        let store = Store::open(&work.store_path(name))?;
        if store.info().n_patches > 0 {
            stores.push((name, store));
        }
    }
    let Some(geometry) = stores.first().map(|s| s.1.info().geometry) else {
        return Err(CheckError::Nothing(format!(
            "{} has no store with tiles; split slides first",
            work.root().display()
        )));
    };
    stores.retain(|s| s.1.info().geometry == geometry);
    // (store, group, index in group) of every tile, in store order
    let all: Vec<(usize, u32, usize)> = stores
        .iter()
        .enumerate()
        .flat_map(|(i, (_, s))| {
            let info = s.info();
            (1..=info.n_groups)
                .flat_map(move |k| (0..info.group_len(k) as usize).map(move |t| (i, k, t)))
        })
        .collect();
    let picked: Vec<(usize, u32, usize)> = match sample {
        Sample::FirstGroup { tiles } => all
            .iter()
            .copied()
            .take_while(|t| t.0 == 0 && t.1 == 1)
            .take(tiles)
            .collect(),
        Sample::Seeded { tiles, seed } => {
            // partial Fisher–Yates
            let mut idx: Vec<usize> = (0..all.len()).collect();
            let mut state = seed;
            let n = tiles.min(idx.len());
            for i in 0..n {
                let j = i + (splitmix64(&mut state) % (idx.len() - i) as u64) as usize;
                idx.swap(i, j);
            }
            idx[..n].iter().map(|&i| all[i]).collect()
        }
    };
    let mut bytes = Vec::with_capacity(picked.len() * geometry.context_bytes() as usize);
    let mut origin = Vec::with_capacity(picked.len());
    for (s, k, t) in picked {
        let (name, store) = &stores[s];
        bytes.extend(store.read_tiles(k, t..t + 1)?);
        origin.push(SampledTile {
            store: name.to_string(),
            group: k,
            index: t,
        });
    }
    Ok(Sampled {
        bytes,
        geometry,
        origin,
    })
}

/// Score `tiles` exactly and fast; compare and time both.
pub fn check_fast(
    setup: &CheckSetup,
    tiles: &[u8],
    geometry: TileGeometry,
) -> Result<CheckReport, CheckError> {
    let exact_opts = ScorerOptions {
        mode: ScoreMode::Sliding,
        ..setup.exact.clone()
    };
    let n_tiles = tiles.len() / geometry.context_bytes() as usize;
    if n_tiles == 0 {
        return Err(CheckError::Nothing("no tiles to compare on".into()));
    }
    let (exact, exact_s) = timed(
        &setup.exact_model,
        &exact_opts,
        tiles,
        geometry,
        setup.stride,
    )?;
    let (fast, fast_s) = timed(
        &setup.fast_model,
        &setup.fast,
        tiles,
        geometry,
        setup.stride,
    )?;
    Ok(CheckReport {
        fast_mode: setup.fast.mode,
        fast_precision: precision(&setup.fast_model)?,
        exact_precision: precision(&setup.exact_model)?,
        stride: setup.stride,
        tiles: n_tiles,
        agreement: agreement(&exact, &fast),
        exact_s,
        fast_s,
    })
}

/// Scores of `tiles` and the seconds they took, after one warm-up tile
/// (first runs pay for allocation and kernel selection).
fn timed(
    model: &Path,
    opts: &ScorerOptions,
    tiles: &[u8],
    geometry: TileGeometry,
    stride: Stride,
) -> Result<(Vec<f32>, f64), CheckError> {
    let mut scorer = Scorer::load(model, opts)?;
    scorer.use_geometry(geometry)?;
    scorer.score_tiles(&tiles[..geometry.context_bytes() as usize], stride)?;
    let t0 = Instant::now();
    let scored = scorer.score_tiles(tiles, stride)?;
    Ok((scored.scores, t0.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_of_identical_and_shifted_scores() {
        let a = [0.1f32, 0.4, 0.6, 0.9];
        let same = agreement(&a, &a);
        assert_eq!(
            (same.max_abs, same.mean_abs, same.agree_05),
            (0.0, 0.0, 1.0)
        );
        assert!((same.correlation - 1.0).abs() < 1e-12);
        let b = [0.2f32, 0.5, 0.6, 0.9];
        let d = agreement(&a, &b);
        assert!((d.max_abs - 0.1).abs() < 1e-6 && (d.mean_abs - 0.05).abs() < 1e-6);
        // 0.4 → 0.5 crosses the threshold
        assert_eq!(d.agree_05, 0.75);
        assert!(d.correlation > 0.9 && d.correlation < 1.0);
    }

    #[test]
    fn the_seeded_draw_is_fixed() {
        let mut s = 7;
        let a: Vec<u64> = (0..3).map(|_| splitmix64(&mut s) % 100).collect();
        let mut t = 7;
        let b: Vec<u64> = (0..3).map(|_| splitmix64(&mut t) % 100).collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
    }
}
