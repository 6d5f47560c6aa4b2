//! `process`: score every window of one group of one slide and write the
//! group's result — the unit a scheduler runs (DESIGN §6).
//!
//! A task reads only its group, writes only its result (temp name + fsync +
//! rename), and succeeds without work when a valid result is already there.
//! The paper reads a group at once to avoid per-patch reads; a task here
//! reads it in pieces of 16 tiles on a second thread (and stain-normalises
//! them there) while the model scores the pieces already read, so I/O and
//! normalisation overlap with inference. The local executor, which prefetches
//! whole groups while the previous one is scored, uses [`load_group`] and
//! [`score_group`] instead.

use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_core::timing::{hostname, unix_now, TaskTiming};
use slidescale_core::{exit, Stride, TileGeometry, WorkDir};
use slidescale_heatmap::{write_result_npy, NpyError};
use slidescale_infer::{BatchProgress, InferError, PrefetchError, ScoreStats, Scorer};
use slidescale_stain::FittedTarget;
use slidescale_store::{GroupData, Store, StoreError};
use thiserror::Error;

use crate::results::{check_result, ResultState};

/// Tiles handed from the normalising thread to the scorer at a time.
const TILES_PER_SEND: usize = 8;

#[derive(Debug, Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error(transparent)]
    Result(#[from] NpyError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Geometry { path: PathBuf, reason: String },
    #[error("{0}: not a store in a work directory (expected WORK/NAME.h5)")]
    NotInWorkDir(PathBuf),
    #[error(
        "{name} group {group}: the model gave {count} non-finite score(s) (NaN or infinite); \
         no result is written"
    )]
    NonFinite {
        name: String,
        group: u32,
        count: usize,
    },
}

impl ProcessError {
    /// `exit::BAD_INPUT` when rerunning the same task cannot help (corrupt or
    /// missing store, no such group, unusable model), else `exit::TRANSIENT`;
    /// a full disk is always transient.
    pub fn exit_code(&self) -> i32 {
        let otherwise = match self {
            ProcessError::Store(StoreError::Io { .. }) => exit::TRANSIENT,
            ProcessError::Store(_)
            | ProcessError::NotInWorkDir(_)
            | ProcessError::Geometry { .. }
            | ProcessError::NonFinite { .. } => exit::BAD_INPUT,
            ProcessError::Infer(e) if e.is_bad_input() => exit::BAD_INPUT,
            _ => exit::TRANSIENT,
        };
        exit::classify(self, otherwise)
    }

    /// The store's own data is damaged (a checksum did not match): splitting
    /// the unchanged slide again repairs it, rerunning the task does not.
    pub fn is_damaged_store(&self) -> bool {
        matches!(self, ProcessError::Store(StoreError::Corrupt { .. }))
    }
}

/// The work directory and slide name of a store path `WORK/NAME.h5`.
pub fn locate_store(store: &Path) -> Result<(WorkDir, String), ProcessError> {
    let name = store
        .file_stem()
        .filter(|_| store.extension().is_some_and(|e| e == "h5"))
        .ok_or_else(|| ProcessError::NotInWorkDir(store.to_path_buf()))?;
    let dir = store.parent().filter(|d| !d.as_os_str().is_empty());
    let work = WorkDir::new(dir.unwrap_or(Path::new(".")));
    Ok((work, name.to_string_lossy().into_owned()))
}

/// A group read from its store, ready to score.
pub struct LoadedGroup {
    pub name: String,
    pub group: u32,
    pub data: GroupData,
    /// How its tiles were cut.
    pub geometry: TileGeometry,
    /// [`Store::group_digest`]: what its result records.
    pub digest: u64,
    pub read_s: f64,
}

/// Read all of group `k` at once.
pub fn load_group(store: &Store, k: u32) -> Result<LoadedGroup, ProcessError> {
    let t = Instant::now();
    let data = store.read_group(k)?;
    Ok(LoadedGroup {
        name: store.info().name.clone(),
        group: k,
        data,
        geometry: store.info().geometry,
        digest: store.group_digest(k)?,
        read_s: t.elapsed().as_secs_f64(),
    })
}

/// Scores of a loaded group, `[N, n, n]`, and where the time went.
pub struct GroupScores {
    pub scores: Vec<f32>,
    pub stats: ScoreStats,
    pub normalise_s: f64,
}

/// Score a loaded group; with `stain`, tiles are normalised on a second
/// thread while earlier tiles are scored. `progress` hears of every batch
/// scored (windows in it).
pub fn score_group(
    scorer: &mut Scorer,
    group: LoadedGroup,
    stride: Stride,
    stain: Option<&FittedTarget>,
    progress: BatchProgress<'_>,
) -> Result<GroupScores, ProcessError> {
    scorer.use_geometry(group.geometry)?;
    let tile_bytes = group.geometry.context_bytes() as usize;
    let Some(target) = stain else {
        let scored = scorer.score_tiles_with_progress(&group.data.tiles, stride, progress)?;
        return Ok(GroupScores {
            scores: scored.scores,
            stats: scored.stats,
            normalise_s: 0.0,
        });
    };
    let mut tiles = group.data.tiles;
    let mut normalise_s = 0.0;
    let result = scorer.score_prefetched_with_progress(stride, 2, progress, |tx| {
        for chunk in tiles.chunks_mut(TILES_PER_SEND * tile_bytes) {
            let t = Instant::now();
            for tile in chunk.chunks_mut(tile_bytes) {
                target.apply(tile);
            }
            normalise_s += t.elapsed().as_secs_f64();
            if tx.send(chunk.to_vec()).is_err() {
                break;
            }
        }
        Ok::<(), std::convert::Infallible>(())
    });
    let scored = result.map_err(|e| match e {
        PrefetchError::Infer(e) => ProcessError::Infer(e),
        PrefetchError::Producer(never) => match never {},
    })?;
    Ok(GroupScores {
        scores: scored.scores,
        stats: scored.stats,
        normalise_s,
    })
}

/// Write a group's scores (`[tiles, n, n]`, n = `per_axis` windows per
/// tile side) atomically, recording `digest` (the group's
/// [`Store::group_digest`]); returns the seconds it took.
pub fn write_result(
    work: &WorkDir,
    (name, k, digest): (&str, u32, u64),
    tiles: usize,
    per_axis: u32,
    scores: &[f32],
) -> Result<f64, ProcessError> {
    // A non-finite score would be written, judged invalid and recomputed
    // on every resume: it is the model's error, said once.
    let count = scores.iter().filter(|v| !v.is_finite()).count();
    if count > 0 {
        return Err(ProcessError::NonFinite {
            name: name.to_string(),
            group: k,
            count,
        });
    }
    let t = Instant::now();
    let n = per_axis as u64;
    let shape = [tiles as u64, n, n];
    write_result_npy(&work.result_path(name, k), &shape, scores, Some(digest))?;
    Ok(t.elapsed().as_secs_f64())
}

/// The timing line of a group that was scored.
pub fn scored_timing(
    group: (&str, u32),
    start: f64,
    read_s: f64,
    scores: &GroupScores,
    write_s: f64,
    threads: u32,
) -> TaskTiming {
    let end = unix_now();
    let seconds = end - start;
    let windows = scores.stats.windows;
    TaskTiming {
        stage: "process".into(),
        slide: group.0.to_string(),
        group: Some(group.1),
        start,
        end,
        seconds,
        read_s,
        normalise_s: scores.normalise_s,
        infer_s: (scores.stats.infer + scores.stats.preprocess).as_secs_f64(),
        write_s,
        windows,
        windows_per_s: if seconds > 0.0 {
            windows as f64 / seconds
        } else {
            0.0
        },
        threads,
        host: hostname(),
        status: "ok".into(),
        error: None,
        damaged_store: false,
    }
}

/// A timing line for a task that did no scoring: "skipped" or "failed".
pub fn unscored_timing(
    name: &str,
    k: u32,
    start: f64,
    status: &str,
    error: Option<String>,
) -> TaskTiming {
    let end = unix_now();
    TaskTiming {
        stage: "process".into(),
        slide: name.to_string(),
        group: Some(k),
        start,
        end,
        seconds: end - start,
        host: hostname(),
        status: status.into(),
        error,
        ..Default::default()
    }
}

/// The timing line of a task that failed with `error`; a damaged store is
/// marked so that resume splits the slide again (`split::store_decision`).
pub fn failed_timing(name: &str, k: u32, start: f64, error: &ProcessError) -> TaskTiming {
    TaskTiming {
        damaged_store: error.is_damaged_store(),
        ..unscored_timing(name, k, start, "failed", Some(error.to_string()))
    }
}

/// What one `process` task needs besides the store and group.
pub struct ProcessOptions<'a> {
    pub stride: Stride,
    pub stain: Option<&'a FittedTarget>,
    /// Recompute even when a valid result exists.
    pub force: bool,
    /// Cores given to the task (for the timing line).
    pub threads: u32,
}

/// Run one task end to end: skip if done, else read, score, write, and
/// record the timing line (also on failure, with the error).
pub fn process_group(
    store_path: &Path,
    k: u32,
    scorer: &mut Scorer,
    opts: &ProcessOptions,
) -> Result<TaskTiming, ProcessError> {
    let start = unix_now();
    let (work, name) = locate_store(store_path)?;
    let outcome = run_task(&work, store_path, k, scorer, opts, start);
    let timing = match &outcome {
        Ok(t) => t.clone(),
        Err(e) => failed_timing(&name, k, start, e),
    };
    timing.record(&work).map_err(|source| ProcessError::Io {
        path: timing.path(&work),
        source,
    })?;
    outcome
}

fn run_task(
    work: &WorkDir,
    store_path: &Path,
    k: u32,
    scorer: &mut Scorer,
    opts: &ProcessOptions,
    start: f64,
) -> Result<TaskTiming, ProcessError> {
    let store = Store::open(store_path)?;
    let info = store.info();
    let stride = info
        .geometry
        .check_stride(opts.stride)
        .map_err(|e| ProcessError::Geometry {
            path: store_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    scorer.use_geometry(info.geometry)?;
    let tiles = info.group_len(k);
    if !opts.force && tiles > 0 {
        let path = work.result_path(&info.name, k);
        if check_result(&path, &store, k, opts.stride) == ResultState::Done {
            return Ok(unscored_timing(&info.name, k, start, "skipped", None));
        }
    }
    let n_tiles = store.group_coords(k)?.len();
    let (scores, read_s) = score_streamed(scorer, &store, k, n_tiles, opts)?;
    let digest = store.group_digest(k)?;
    let group = (info.name.as_str(), k, digest);
    let per_axis = info.geometry.windows_per_axis(stride);
    let write_s = write_result(work, group, n_tiles, per_axis, &scores.scores)?;
    Ok(scored_timing(
        (&info.name, k),
        start,
        read_s,
        &scores,
        write_s,
        opts.threads,
    ))
}

/// Tiles read from the store at a time by a single task (≈ 9.6 MB).
const TILES_PER_READ: usize = 16;

/// Score group `k` reading it in pieces on a second thread (and
/// normalising them there), so that reading and normalisation overlap with
/// the model instead of preceding it. Returns the scores and the read time.
fn score_streamed(
    scorer: &mut Scorer,
    store: &Store,
    k: u32,
    n_tiles: usize,
    opts: &ProcessOptions,
) -> Result<(GroupScores, f64), ProcessError> {
    let (mut read_s, mut normalise_s) = (0.0, 0.0);
    let scored = scorer.score_prefetched(opts.stride, 2, |tx| {
        for start in (0..n_tiles).step_by(TILES_PER_READ) {
            let t = Instant::now();
            let mut tiles = store.read_tiles(k, start..(start + TILES_PER_READ).min(n_tiles))?;
            read_s += t.elapsed().as_secs_f64();
            if let Some(target) = opts.stain {
                let t = Instant::now();
                let tile_bytes = store.info().geometry.context_bytes() as usize;
                tiles.chunks_mut(tile_bytes).for_each(|tile| {
                    target.apply(tile);
                });
                normalise_s += t.elapsed().as_secs_f64();
            }
            if tx.send(tiles).is_err() {
                break;
            }
        }
        Ok::<(), StoreError>(())
    });
    let scored = scored.map_err(|e| match e {
        PrefetchError::Infer(e) => ProcessError::Infer(e),
        PrefetchError::Producer(e) => ProcessError::Store(e),
    })?;
    let scores = GroupScores {
        scores: scored.scores,
        stats: scored.stats,
        normalise_s,
    };
    Ok((scores, read_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_scores_are_an_error_and_write_nothing() {
        let dir = slidescale_testutil::temp_dir("process-nonfinite");
        let work = WorkDir::new(&dir);
        let per_axis = 2; // 2×2 windows a tile
        let mut scores = vec![0.5f32; 8];
        scores[3] = f32::NAN;
        scores[6] = f32::INFINITY;
        let err = write_result(&work, ("s", 1, 7), 2, per_axis, &scores).unwrap_err();
        assert!(
            matches!(err, ProcessError::NonFinite { count: 2, .. }),
            "{err}"
        );
        assert_eq!(err.exit_code(), exit::BAD_INPUT);
        assert!(!work.result_path("s", 1).exists());
        scores[3] = 0.0;
        scores[6] = 1.0;
        write_result(&work, ("s", 1, 7), 2, per_axis, &scores).unwrap();
        assert!(work.result_path("s", 1).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
