//! `stitch`: a slide's group results laid out on its grid as one heatmap
//! (`WORK/heatmaps/NAME.npy`, float32, NaN = background) and a PNG of it over
//! the thumbnail (`NAME.png`).
//!
//! Stitching refuses an incomplete slide and names the missing groups, so a
//! scheduler that starts it too early (SGE's `-hold_jid` ignores failures)
//! cannot produce a heatmap with holes. Memory: one result group and one band
//! of the heatmap at a time (see `slidescale_heatmap::stitch`), plus the
//! thumbnail while the PNG is drawn.

use std::path::{Path, PathBuf};

use slidescale_core::timing::{hostname, unix_now, TaskTiming};
use slidescale_core::{RgbImage, Stride, WorkDir, THUMB_DOWNSAMPLE};
use slidescale_heatmap::{
    read_npy_f32, render_overlay, ColourRange, HeatmapSummary, HeatmapWriteError, HeatmapWriter,
    NpyError, RenderError,
};
use slidescale_slide::ReaderKind;
use slidescale_store::{Store, StoreError, StoreInfo};
use slidescale_tissue::read_reduced;
use thiserror::Error;

use crate::process::{locate_store, ProcessError};
use crate::results::{slide_results, ResultState};

#[derive(Debug, Error)]
pub enum StitchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{name}: cannot stitch, {} of {total} group results missing or invalid: {}", .missing.len(), list(.missing))]
    Incomplete {
        name: String,
        total: u32,
        missing: Vec<(u32, String)>,
    },
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Layout(#[from] HeatmapWriteError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Locate(#[from] ProcessError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn list(missing: &[(u32, String)]) -> String {
    let shown: Vec<String> = missing
        .iter()
        .take(10)
        .map(|(k, why)| format!("{k} ({why})"))
        .collect();
    let more = missing.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// What stitching wrote.
#[derive(Debug)]
pub struct Stitched {
    pub name: String,
    pub heatmap: HeatmapSummary,
    pub png: PathBuf,
}

/// Stitch the slide of store `store_path` (`WORK/NAME.h5`) at `stride`
/// (the run's; see `RunSpec`), and record the stitch timing line.
pub fn stitch_slide(
    store_path: &Path,
    stride: Stride,
    range: Option<ColourRange>,
) -> Result<Stitched, StitchError> {
    let start = unix_now();
    let (work, name) = locate_store(store_path)?;
    let outcome = stitch_inner(&work, store_path, stride, range);
    let end = unix_now();
    let timing = TaskTiming {
        stage: "stitch".into(),
        slide: name,
        start,
        end,
        seconds: end - start,
        host: hostname(),
        status: if outcome.is_ok() { "ok" } else { "failed" }.into(),
        error: outcome.as_ref().err().map(|e| e.to_string()),
        windows: outcome.as_ref().map(|s| s.heatmap.tiles).unwrap_or(0),
        ..Default::default()
    };
    timing.record(&work).map_err(|source| StitchError::Io {
        path: timing.path(&work),
        source,
    })?;
    outcome
}

fn stitch_inner(
    work: &WorkDir,
    store_path: &Path,
    stride: Stride,
    range: Option<ColourRange>,
) -> Result<Stitched, StitchError> {
    let store = Store::open(store_path)?;
    let info = store.info().clone();
    let missing: Vec<(u32, String)> = (1..=info.n_groups)
        .zip(slide_results(work, &store, stride))
        .filter_map(|(k, state)| match state {
            ResultState::Done => None,
            ResultState::Missing => Some((k, "missing".to_string())),
            ResultState::Invalid(why) => Some((k, why)),
        })
        .collect();
    if !missing.is_empty() {
        return Err(StitchError::Incomplete {
            name: info.name,
            total: info.n_groups,
            missing,
        });
    }
    let n = stride.windows_per_axis();
    let npy = work.heatmap_npy(&info.name);
    let mut writer = HeatmapWriter::create(&npy, info.grid.cols, info.grid.rows, n)?;
    let block = (n * n) as usize;
    for k in 1..=info.n_groups {
        let coords = store.group_coords(k)?;
        let (_, scores) = read_npy_f32(&work.result_path(&info.name, k))?;
        for (&(col, row), scores) in coords.iter().zip(scores.chunks_exact(block)) {
            writer.push_tile(col as u32, row as u32, scores)?;
        }
    }
    let heatmap = writer.finish()?;
    let png = work.heatmap_png(&info.name);
    let background = background(&store, &info)?;
    render_overlay(
        &npy,
        (info.level0_width, info.level0_height),
        &background,
        range.unwrap_or(ColourRange::PROBABILITY),
        &png,
    )?;
    Ok(Stitched {
        name: info.name,
        heatmap,
        png,
    })
}

/// Longest side of the heatmap image, in pixels.
const IMAGE_SIDE: f64 = 2048.0;

/// The slide under the heatmap image: read from the slide itself at up to
/// 2048 px on the long side when it is still where `split` found it, else
/// the store's 32× thumbnail (small, but always there).
fn background(store: &Store, info: &StoreInfo) -> Result<RgbImage, StitchError> {
    let long_side = info.level0_width.max(info.level0_height) as f64;
    let factor = (long_side / IMAGE_SIDE).max(1.0);
    if factor < THUMB_DOWNSAMPLE as f64 {
        let read = slidescale_slide::open(Path::new(&info.source_path), ReaderKind::Auto)
            .and_then(|slide| read_reduced(slide.as_ref(), factor));
        match read {
            Ok(t) => return Ok(t.image),
            Err(e) => tracing::info!("heatmap background from the thumbnail: {e}"),
        }
    }
    Ok(store.thumbnail()?)
}
