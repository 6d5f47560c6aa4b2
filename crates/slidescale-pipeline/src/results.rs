//! Per-group results, `WORK/results/NAME/000001.npy` (float32 `[N, n, n]`,
//! n = 224 / stride): where they are and whether one is complete and valid
//! for its group. "Valid" is what resume, `stitch` and `status` rely on:
//! right header, right shape for the group's tile count and the run's
//! stride, right file length, data matching the CRC-32 in its header (a
//! flipped bit is invalid; a file without one predates checksums and is
//! recomputed), every score finite, and written after the store it was
//! computed from (a slide that changed is split again into a new store;
//! results of the old one must not be reused, even when their shapes still
//! fit). [`check_result`] is the one place this is decided.

use std::path::Path;
use std::time::SystemTime;

use slidescale_core::{Stride, WorkDir};
use slidescale_heatmap::read_npy;
use slidescale_store::StoreInfo;

/// The state of one group's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultState {
    Done,
    Missing,
    /// Present but unusable (truncated, wrong shape, damaged, not finite);
    /// recomputed on resume.
    Invalid(String),
}

/// Check `path` as the result of a group of `tiles` tiles of `store` at `stride`.
pub fn check_result(path: &Path, store: &Path, tiles: u64, stride: Stride) -> ResultState {
    if !path.exists() {
        return ResultState::Missing;
    }
    let n = stride.windows_per_axis() as u64;
    // Reads (and checks) all of it: a result is small next to the work of
    // recomputing it, and a damaged one must never be stitched.
    let (header, scores) = match read_npy(path) {
        Ok(read) => read,
        Err(e) => return ResultState::Invalid(e.to_string()),
    };
    if header.shape != [tiles, n, n] {
        return ResultState::Invalid(format!(
            "shape {:?}, expected [{tiles}, {n}, {n}]",
            header.shape
        ));
    }
    if header.crc32.is_none() {
        return ResultState::Invalid("no checksum (written by an older slidescale)".into());
    }
    if let Some(i) = scores.iter().position(|v| !v.is_finite()) {
        return ResultState::Invalid(format!("score {i} is {}", scores[i]));
    }
    if older_than(path, store) {
        return ResultState::Invalid("older than its store (the slide was split again)".into());
    }
    ResultState::Done
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

#[cfg(test)]
mod tests {
    use super::*;
    use slidescale_heatmap::write_npy_f32;

    fn invalid(state: ResultState) -> String {
        match state {
            ResultState::Invalid(why) => why,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn damaged_non_finite_and_unchecksummed_results_are_invalid() {
        let dir = slidescale_testutil::temp_dir("check-result");
        let (path, store) = (dir.join("000001.npy"), dir.join("absent.h5"));
        let stride = Stride::new(112).unwrap(); // 2×2 windows per tile
        let scores: Vec<f32> = (0..12).map(|i| i as f32 / 12.0).collect();
        write_npy_f32(&path, &[3, 2, 2], &scores).unwrap();
        assert_eq!(check_result(&path, &store, 3, stride), ResultState::Done);
        assert!(invalid(check_result(&path, &store, 4, stride)).contains("shape"));

        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 5;
        bad[last] ^= 0x10;
        std::fs::write(&path, &bad).unwrap();
        assert!(invalid(check_result(&path, &store, 3, stride)).contains("damaged"));

        let mut nan = scores.clone();
        nan[7] = f32::NAN;
        write_npy_f32(&path, &[3, 2, 2], &nan).unwrap();
        assert!(invalid(check_result(&path, &store, 3, stride)).contains("score 7 is NaN"));
        nan[7] = f32::INFINITY;
        write_npy_f32(&path, &[3, 2, 2], &nan).unwrap();
        assert!(invalid(check_result(&path, &store, 3, stride)).contains("score 7 is inf"));

        slidescale_testutil::run_python(
            "import numpy as np, sys; np.save(sys.argv[1], np.zeros((3, 2, 2), '<f4'))",
            &[path.to_str().unwrap()],
        );
        assert!(invalid(check_result(&path, &store, 3, stride)).contains("no checksum"));
        std::fs::remove_file(&path).unwrap();
        assert_eq!(check_result(&path, &store, 3, stride), ResultState::Missing);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
