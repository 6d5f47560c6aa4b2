//! Splitting one slide: skip it if its store is already there and current,
//! else segment its thumbnail and write its tiles to `NAME.h5.partial`,
//! renamed to `NAME.h5` once complete. Every outcome is also recorded as the
//! split task's timing line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_core::timing::{hostname, unix_now, TaskTiming};
use slidescale_core::{Grid, WorkDir};
use slidescale_slide::Slide;
use slidescale_store::{n_groups, Store, StoreInfo, StoreWriter};
use slidescale_tissue::{read_thumbnail, segment};

use super::source::SourceStamp;
use super::tiles::{write_tiles, TileError, TileTimes};
use super::{SlideOutcome, SlideReport, SplitError, SplitObserver, SplitOptions};
use crate::spec::SplitIdentity;

pub(super) fn split_one(
    path: &Path,
    name: &str,
    opts: &SplitOptions,
    observer: &dyn SplitObserver,
) -> SlideReport {
    let start = unix_now();
    let clock = Instant::now();
    let mut report = SlideReport::new(name, path);
    match try_split(path, name, opts, observer, &mut report) {
        Ok(outcome) => report.outcome = outcome,
        // (an abandoned StoreWriter has removed its partial file)
        Err(e) => report.outcome = SlideOutcome::Failed(e),
    }
    report.seconds = clock.elapsed().as_secs_f64();
    if let Err(e) = timing(&report, start, opts).record(&WorkDir::new(&opts.out)) {
        report.note = Some(format!("timing line not written: {e}"));
    }
    observer.slide_finished(&report);
    report
}

fn store_path(opts: &SplitOptions, name: &str) -> PathBuf {
    WorkDir::new(&opts.out).store_path(name)
}

fn try_split(
    path: &Path,
    name: &str,
    opts: &SplitOptions,
    observer: &dyn SplitObserver,
    report: &mut SlideReport,
) -> Result<SlideOutcome, SplitError> {
    let stamp = SourceStamp::of(path).map_err(|e| SplitError::io(path, e))?;
    let out = store_path(opts, name);
    if let Some(store) = existing_store(&out, &stamp, opts, report) {
        let info = store.info();
        report.tiles = info.n_patches;
        report.groups = info.n_groups;
        report.bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        return Ok(SlideOutcome::Skipped);
    }
    let slide = slidescale_slide::open(path, opts.reader)?;
    let (info, thumb, mask, cells) = segment_slide(slide.as_ref(), path, name, &stamp, opts)?;
    report.tiles = info.n_patches;
    report.groups = info.n_groups;
    observer.slide_started(name, info.n_patches);
    let coords: Vec<(i32, i32)> = cells.iter().map(|&(c, r)| (c as i32, r as i32)).collect();
    let mut writer = StoreWriter::create(&out, &info, &thumb, &mask, &coords)?;
    let progress = |n: u64| observer.tiles_written(name, n);
    report.times = write_tiles(
        slide.as_ref(),
        &cells,
        opts.compression,
        &mut writer,
        &progress,
    )
    .map_err(|e| match e {
        TileError::Slide(e) => SplitError::Slide(e),
        TileError::Store(e) => SplitError::Store(e),
    })?;
    report.bytes = writer.finish()?;
    Ok(SlideOutcome::Written)
}

/// The existing store for this slide, if it is complete, valid and was made
/// from this very file (same size and modification time), unless `--force`.
/// Notes on `report` why an existing store is replaced, or that the skipped
/// one was made with other options.
fn existing_store(
    out: &Path,
    stamp: &SourceStamp,
    opts: &SplitOptions,
    report: &mut SlideReport,
) -> Option<Store> {
    if opts.force || !out.exists() {
        return None;
    }
    let store = match Store::open(out).and_then(|s| s.validate().map(|_| s)) {
        Ok(s) => s,
        Err(e) => {
            report.note = Some(format!("replaced an invalid store ({e})"));
            return None;
        }
    };
    if !stamp.matches(store.info()) {
        report.note = Some("replaced: the slide changed since its store was written".into());
        return None;
    }
    // Tiles split another way would score differently (or group
    // differently): such a store is this run's to replace.
    if let Some(reason) = SplitIdentity::of_options(opts).store_mismatch(store.info()) {
        report.note = Some(format!("replaced: the store was split with {reason}"));
        return None;
    }
    Some(store)
}

/// Whether `slide` (named `name`) must be split into `opts.out` — its store
/// is missing, invalid, from another version of the file or split another
/// way — or its existing store is reused: the rule `split` applies, for
/// executors that decide up front which slides get a split task.
pub fn needs_split(slide: &Path, name: &str, opts: &SplitOptions) -> bool {
    let Ok(stamp) = SourceStamp::of(slide) else {
        return true; // the split task reports why it cannot read the slide
    };
    let mut report = SlideReport::new(name, slide);
    existing_store(&store_path(opts, name), &stamp, opts, &mut report).is_none()
}

type Segmented = (
    StoreInfo,
    slidescale_core::RgbImage,
    Vec<u8>,
    Vec<(u32, u32)>,
);

/// Thumbnail, tissue cells and the store's attributes.
fn segment_slide(
    slide: &dyn Slide,
    path: &Path,
    name: &str,
    stamp: &SourceStamp,
    opts: &SplitOptions,
) -> Result<Segmented, SplitError> {
    let props = slide.properties().clone();
    let thumb = read_thumbnail(slide)?;
    let grid = Grid::for_slide(props.width(), props.height());
    let seg = segment(&thumb.image, grid, &opts.tissue);
    let cells = seg.cells.tissue_cells();
    let n_patches = cells.len() as u64;
    let source = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let info = StoreInfo {
        name: name.to_string(),
        slidescale_version: env!("CARGO_PKG_VERSION").to_string(),
        source_path: source.to_string_lossy().into_owned(),
        source_size: stamp.size,
        source_mtime: stamp.mtime,
        level0_width: props.width(),
        level0_height: props.height(),
        mpp_x: props.mpp_x,
        mpp_y: props.mpp_y,
        vendor: props.vendor.clone(),
        reader: slide.driver().to_string(),
        grid,
        bbox: seg.cells.bbox.unwrap_or([0; 4]),
        otsu_h: seg.pixels.otsu_h,
        otsu_s: seg.pixels.otsu_s,
        tissue_min_fraction: opts.tissue.min_fraction,
        tissue_min_saturation: opts.tissue.min_saturation,
        tissue_pen_filter: opts.tissue.pen_filter,
        thumbnail_level: thumb.level as u32,
        group_size: opts.group_size,
        n_groups: n_groups(n_patches, opts.group_size),
        n_patches,
        compression: opts.compression,
    };
    Ok((info, thumb.image, seg.cells.mask, cells))
}

/// The split task's timing line: `read_s` and `normalise_s` hold the
/// seconds spent reading and compressing tiles summed over threads,
/// `write_s` the seconds writing the store, `windows` the tiles written.
fn timing(report: &SlideReport, start: f64, opts: &SplitOptions) -> TaskTiming {
    let TileTimes {
        read_s,
        encode_s,
        write_s,
    } = report.times;
    let (status, error) = match &report.outcome {
        SlideOutcome::Written => ("ok", None),
        SlideOutcome::Skipped => ("skipped", None),
        SlideOutcome::Failed(e) => ("failed", Some(e.to_string())),
    };
    let written = matches!(report.outcome, SlideOutcome::Written);
    let windows = if written { report.tiles } else { 0 };
    TaskTiming {
        stage: "split".into(),
        slide: report.name.clone(),
        group: None,
        start,
        end: start + report.seconds,
        seconds: report.seconds,
        read_s,
        normalise_s: encode_s,
        infer_s: 0.0,
        write_s,
        windows,
        windows_per_s: if report.seconds > 0.0 {
            windows as f64 / report.seconds
        } else {
            0.0
        },
        threads: opts.effective_threads() as u32,
        host: hostname(),
        status: status.into(),
        error,
    }
}
