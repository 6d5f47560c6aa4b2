//! `stitch`: a slide's group results laid out on its grid as one heatmap
//! (`WORK/heatmaps/NAME.npy`, float32, NaN = background), its sidecar
//! (`NAME.json`: stride, slide size, MPP, the model and settings of the run,
//! see `slidescale_heatmap::meta`) and a PNG of it over the thumbnail
//! (`NAME.png`).
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
    read_npy_f32, render_overlay, write_heatmap_meta, ColourRange, HeatmapMeta, HeatmapReadError,
    HeatmapSummary, HeatmapWriteError, HeatmapWriter, ModelMeta, NpyError, RenderError,
    ScoringMeta, HEATMAP_META_VERSION,
};
use slidescale_slide::ReaderKind;
use slidescale_store::{Store, StoreError, StoreInfo};
use slidescale_tissue::read_reduced;
use thiserror::Error;

use crate::process::{locate_store, ProcessError};
use crate::results::{slide_results, ResultState};
use crate::spec::{RunSpec, SpecError};

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
    #[error("{path}: {reason}")]
    Geometry { path: PathBuf, reason: String },
    #[error(transparent)]
    Layout(#[from] HeatmapWriteError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Meta(#[from] HeatmapReadError),
    #[error(transparent)]
    Spec(#[from] SpecError),
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
    /// The heatmap's sidecar, `NAME.json`.
    pub meta: PathBuf,
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
    let stride = info
        .geometry
        .check_stride(stride)
        .map_err(|e| StitchError::Geometry {
            path: store_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let n = info.geometry.windows_per_axis(stride);
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
    let spec = RunSpec::load(work)?;
    let described = heatmap_meta(&info, spec.as_ref(), stride, &heatmap);
    let meta = write_heatmap_meta(&npy, &described)?;
    let png = work.heatmap_png(&info.name);
    let background = background(&store, &info)?;
    render_overlay(
        &npy,
        (
            (info.level0_width, info.level0_height),
            described.level0_per_pixel(),
        ),
        &background,
        range.unwrap_or(ColourRange::PROBABILITY),
        &png,
    )?;
    Ok(Stitched {
        name: info.name,
        heatmap,
        meta,
        png,
    })
}

/// The sidecar of the heatmap just written: the slide from its store, the
/// model and stain from the run's recorded spec (none when the work
/// directory has no `run.json`, e.g. `stitch --stride` on copied results).
fn heatmap_meta(
    info: &StoreInfo,
    spec: Option<&RunSpec>,
    stride: Stride,
    heatmap: &HeatmapSummary,
) -> HeatmapMeta {
    let model = spec.map(|s| ModelMeta {
        file: s
            .execution
            .model
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        bytes: s.identity.model.bytes.clone(),
        config: serde_json::to_value(&s.identity.model.config).expect("a ModelConfig serialises"),
    });
    let scoring = ScoringMeta {
        stain_method: spec.map(|s| s.identity.stain.method.clone()),
        stain_target: spec.map(|s| s.identity.stain.target.clone()),
        reader: info.reader.clone(),
        context: info.geometry.context(),
        min_tissue: info.tissue_min_fraction,
        min_saturation: info.tissue_min_saturation,
        pen_filter: info.tissue_pen_filter,
    };
    HeatmapMeta {
        format_version: HEATMAP_META_VERSION,
        slidescale_version: env!("CARGO_PKG_VERSION").to_string(),
        slide: info.name.clone(),
        source_path: Some(info.source_path.clone()),
        stride: stride.get(),
        pixel_size: stride.get() as f64 * info.analysis.downsample(),
        shape: [heatmap.height, heatmap.width],
        tile: info.geometry.tile,
        window: info.geometry.window,
        analysis_downsample: info.analysis.downsample(),
        analysis_level: info.analysis.level,
        analysis_mpp: info.analysis.mpp,
        level0_width: info.level0_width,
        level0_height: info.level0_height,
        mpp_x: info.mpp_x,
        mpp_y: info.mpp_y,
        model,
        scoring: Some(scoring),
        npy_crc32: heatmap.crc32,
    }
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
