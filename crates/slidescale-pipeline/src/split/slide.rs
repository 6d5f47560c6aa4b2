//! Splitting one slide: skip it if its store is already there and current,
//! else segment its thumbnail and write its tiles to `NAME.h5.partial`,
//! renamed to `NAME.h5` once complete. Every outcome is also recorded as the
//! split task's timing line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_core::timing::{hostname, unix_now, TaskTiming};
use slidescale_core::{WorkDir, THUMB_DOWNSAMPLE};
use slidescale_slide::Slide;
use slidescale_store::{n_groups, StoreInfo, StoreWriter};
use slidescale_tissue::{read_thumbnail, segment_thumbnail};

use super::decision::{store_decision, ExistingStore, StoreDecision};
use super::source::SourceStamp;
use super::tiles::{write_tiles, TileError, TileSource, TileTimes};
use super::{SlideOutcome, SlideReport, SplitError, SplitObserver, SplitOptions};

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
    let existing = ExistingStore::read(&out);
    match store_decision(&existing, &canonical(path), &stamp, opts) {
        StoreDecision::Split => {}
        StoreDecision::Replace(reason) => report.note = Some(reason),
        StoreDecision::Reuse { note } => {
            if let ExistingStore::Valid(info) = &existing {
                report.tiles = info.n_patches;
                report.groups = info.n_groups;
            }
            report.bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            report.note = note;
            return Ok(SlideOutcome::Skipped);
        }
        StoreDecision::OtherSlide {
            store_source,
            slide,
        } => {
            return Err(SplitError::OtherSlide {
                store: out,
                store_source,
                slide,
            })
        }
    }
    let slide = slidescale_slide::open(path, opts.reader)?;
    let (info, thumb, mask, cells) = segment_slide(slide.as_ref(), path, name, &stamp, opts)?;
    report.tiles = info.n_patches;
    report.groups = info.n_groups;
    observer.slide_started(name, info.n_patches);
    let coords: Vec<(i32, i32)> = cells.iter().map(|&(c, r)| (c as i32, r as i32)).collect();
    let mut writer = StoreWriter::create(&out, &info, &thumb, &mask, &coords)?;
    let progress = |n: u64| observer.tiles_written(name, n);
    let source = TileSource {
        slide: slide.as_ref(),
        geometry: info.geometry,
        analysis: info.analysis,
    };
    report.times = write_tiles(&source, &cells, opts.compression, &mut writer, &progress).map_err(
        |e| match e {
            TileError::Slide(e) => SplitError::Slide(e),
            TileError::Store(e) => SplitError::Store(e),
        },
    )?;
    report.bytes = writer.finish()?;
    Ok(SlideOutcome::Written)
}

/// The slide's path as a store records it (absolute, links resolved).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
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
    let analysis = slidescale_slide::resolve(&props, opts.resolution).map_err(|reason| {
        SplitError::Resolution {
            path: path.to_path_buf(),
            reason,
        }
    })?;
    let thumb = read_thumbnail(slide)?;
    let grid = opts.geometry.grid(analysis.width, analysis.height);
    // thumbnail pixels per cell side: T analysis pixels of `downsample`
    // level-0 pixels each, 32 level-0 pixels to a thumbnail pixel
    let cell_px = opts.geometry.tile as f64 * analysis.downsample() / THUMB_DOWNSAMPLE as f64;
    let seg = segment_thumbnail(&thumb, grid, cell_px, &opts.tissue);
    let cells = seg.cells.tissue_cells();
    let n_patches = cells.len() as u64;
    let source = canonical(path);
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
        geometry: opts.geometry,
        resolution: opts.resolution,
        analysis,
        grid,
        bbox: seg.cells.bbox.unwrap_or([0; 4]),
        otsu_h: seg.pixels.otsu_h,
        otsu_s: seg.pixels.otsu_s,
        tissue_min_fraction: opts.tissue.min_fraction,
        tissue_min_saturation: opts.tissue.min_saturation,
        tissue_pen_filter: opts.tissue.pen_filter,
        tissue_rule: slidescale_tissue::TISSUE_RULE,
        tissue_modality: seg.pixels.modality.name().to_string(),
        otsu_v: match seg.pixels.modality {
            slidescale_tissue::Modality::Fluorescence { otsu_v } => Some(otsu_v),
            _ => None,
        },
        openslide: match slidescale_slide::openslide::library() {
            Ok(lib) => format!("{} ({})", lib.version(), lib.source()),
            Err(e) => format!("not loaded: {e}"),
        },
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
        damaged_store: false,
    }
}
