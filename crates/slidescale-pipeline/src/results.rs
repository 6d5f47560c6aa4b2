//! Per-group results, `WORK/results/NAME/000001.npy` (float32 `[N, n, n]`,
//! n = 224 / stride): where they are and whether one is complete and valid
//! for its group. "Valid" is what resume relies on: right header, right
//! shape for the group's tile count and the run's stride, right file length,
//! and written after the store it was computed from (a slide that changed is
//! split again into a new store; results of the old one must not be reused,
//! even when their shapes still fit).

use std::path::Path;
use std::time::SystemTime;

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

/// Check `path` as the result of a group of `tiles` tiles of `store` at `stride`.
pub fn check_result(path: &Path, store: &Path, tiles: u64, stride: Stride) -> ResultState {
    if !path.exists() {
        return ResultState::Missing;
    }
    let n = stride.windows_per_axis() as u64;
    match read_npy_header(path) {
        Ok(h) if h.shape != [tiles, n, n] => {
            ResultState::Invalid(format!("shape {:?}, expected [{tiles}, {n}, {n}]", h.shape))
        }
        Ok(_) if older_than(path, store) => {
            ResultState::Invalid("older than its store (the slide was split again)".into())
        }
        Ok(_) => ResultState::Done,
        Err(e) => ResultState::Invalid(e.to_string()),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `a` was last modified before `b` (unknown times count as not older).
fn older_than(a: &Path, b: &Path) -> bool {
    matches!((modified(a), modified(b)), (Some(a), Some(b)) if a < b)
}

/// States of every group of one slide, index k−1 for group k.
pub fn slide_results(work: &WorkDir, info: &StoreInfo, stride: Stride) -> Vec<ResultState> {
    let store = work.store_path(&info.name);
    (1..=info.n_groups)
        .map(|k| {
            let path = work.result_path(&info.name, k);
            check_result(&path, &store, info.group_len(k), stride)
        })
        .collect()
}
