//! Per-group results, `WORK/results/NAME/000001.npy` (float32 `[N, n, n]`,
//! n = T / stride): where they are and whether one is complete and valid
//! for its group. "Valid" is what resume, `stitch` and `status` rely on:
//! right header, right shape for the group's tile count and the run's
//! stride, right file length, data matching the CRC-32 in its header (a
//! flipped bit is invalid; a file without one predates checksums and is
//! recomputed), every score finite, and computed from the tiles the store
//! holds now: the header's tiles digest equals the store's
//! [`Store::group_digest`]. A slide that changed is split into other tiles,
//! so its old results are invalid even when their shapes still fit; a store
//! split again from the unchanged slide (a damaged store repaired) has the
//! same digests, so its results stay valid. [`check_result`] is the one
//! place this is decided.

use std::path::Path;

use slidescale_core::{Stride, WorkDir};
use slidescale_heatmap::read_npy;
use slidescale_store::Store;

/// The state of one group's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultState {
    Done,
    Missing,
    /// Present but unusable (truncated, wrong shape, damaged, not finite,
    /// from other tiles); recomputed on resume.
    Invalid(String),
}

/// Check `path` as the result of group `k` of `store` at `stride`.
pub fn check_result(path: &Path, store: &Store, k: u32, stride: Stride) -> ResultState {
    if !path.exists() {
        return ResultState::Missing;
    }
    match store.group_digest(k) {
        Ok(digest) => {
            let n = store.info().geometry.windows_per_axis(stride);
            check_against(path, store.info().group_len(k), digest, n)
        }
        Err(e) => ResultState::Invalid(format!("the store's checksums are unreadable: {e}")),
    }
}

/// [`check_result`] for a group of `tiles` tiles whose digest is `digest`,
/// `per_axis` windows to a tile side.
fn check_against(path: &Path, tiles: u64, digest: u64, per_axis: u32) -> ResultState {
    let n = per_axis as u64;
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
    match header.tiles_digest {
        None => ResultState::Invalid("no tiles digest (written by an older slidescale)".into()),
        Some(d) if d != digest => ResultState::Invalid(format!(
            "computed from other tiles (digest {d:016x}, the store's is {digest:016x}): \
             the slide was split again"
        )),
        Some(_) => ResultState::Done,
    }
}

/// States of every group of one slide, index k−1 for group k.
pub fn slide_results(work: &WorkDir, store: &Store, stride: Stride) -> Vec<ResultState> {
    let name = &store.info().name;
    (1..=store.info().n_groups)
        .map(|k| check_result(&work.result_path(name, k), store, k, stride))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use slidescale_heatmap::{write_npy_f32, write_result_npy};

    fn invalid(state: ResultState) -> String {
        match state {
            ResultState::Invalid(why) => why,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn damaged_non_finite_and_unchecksummed_results_are_invalid() {
        let dir = slidescale_testutil::temp_dir("check-result");
        let path = dir.join("000001.npy");
        let check = |tiles| check_against(&path, tiles, 9, 2); // 2×2 windows per tile
        let scores: Vec<f32> = (0..12).map(|i| i as f32 / 12.0).collect();
        write_result_npy(&path, &[3, 2, 2], &scores, Some(9)).unwrap();
        assert_eq!(check(3), ResultState::Done);
        assert!(invalid(check(4)).contains("shape"));

        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 5;
        bad[last] ^= 0x10;
        std::fs::write(&path, &bad).unwrap();
        assert!(invalid(check(3)).contains("damaged"));

        let mut nan = scores.clone();
        nan[7] = f32::NAN;
        write_result_npy(&path, &[3, 2, 2], &nan, Some(9)).unwrap();
        assert!(invalid(check(3)).contains("score 7 is NaN"));
        nan[7] = f32::INFINITY;
        write_result_npy(&path, &[3, 2, 2], &nan, Some(9)).unwrap();
        assert!(invalid(check(3)).contains("score 7 is inf"));

        slidescale_testutil::run_python(
            "import numpy as np, sys; np.save(sys.argv[1], np.zeros((3, 2, 2), '<f4'))",
            &[path.to_str().unwrap()],
        );
        assert!(invalid(check(3)).contains("no checksum"));
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_result_from_other_tiles_or_without_a_digest_is_invalid() {
        let dir = slidescale_testutil::temp_dir("check-result-digest");
        let path = dir.join("000001.npy");
        let stride = 1; // one window per tile
        write_result_npy(&path, &[2, 1, 1], &[0.5, 0.25], Some(0xabc)).unwrap();
        assert_eq!(check_against(&path, 2, 0xabc, stride), ResultState::Done);
        let other = invalid(check_against(&path, 2, 0xabd, stride));
        assert!(other.contains("computed from other tiles"), "{other}");
        assert!(other.contains("0000000000000abc"), "{other}");
        write_npy_f32(&path, &[2, 1, 1], &[0.5, 0.25]).unwrap();
        let none = invalid(check_against(&path, 2, 0xabc, stride));
        assert!(none.contains("no tiles digest"), "{none}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
