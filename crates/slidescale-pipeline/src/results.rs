//! Per-group results, `WORK/results/NAME/000001.npy` (float32 `[N, n, n]`,
//! n = 224 / stride): where they are and whether one is complete and valid
//! for its group. "Valid" is what resume relies on: right header, right
//! shape for the group's tile count and the run's stride, right file length.

use std::path::Path;

use slidescale_core::{Stride, WorkDir};
use slidescale_heatmap::read_npy_header;
use slidescale_store::StoreInfo;

/// The state of one group's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultState {
    Done,
    Missing,
    /// Present but unusable (truncated, wrong shape); recomputed on resume.
    Invalid(String),
}

/// Check `path` as the result of a group of `tiles` tiles at `stride`.
pub fn check_result(path: &Path, tiles: u64, stride: Stride) -> ResultState {
    if !path.exists() {
        return ResultState::Missing;
    }
    let n = stride.windows_per_axis() as u64;
    match read_npy_header(path) {
        Ok(h) if h.shape == [tiles, n, n] => ResultState::Done,
        Ok(h) => ResultState::Invalid(format!("shape {:?}, expected [{tiles}, {n}, {n}]", h.shape)),
        Err(e) => ResultState::Invalid(e.to_string()),
    }
}

/// States of every group of one slide, index k−1 for group k.
pub fn slide_results(work: &WorkDir, info: &StoreInfo, stride: Stride) -> Vec<ResultState> {
    (1..=info.n_groups)
        .map(|k| check_result(&work.result_path(&info.name, k), info.group_len(k), stride))
        .collect()
}

/// The block side n of a result file, from its shape `[N, n, n]`.
pub fn result_block_side(path: &Path) -> Option<u32> {
    let h = read_npy_header(path).ok()?;
    match h.shape[..] {
        [_, a, b] if a == b && a > 0 => Some(a as u32),
        _ => None,
    }
}
