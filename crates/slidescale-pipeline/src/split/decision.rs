//! The one rule for a slide whose store name is already taken in the work
//! directory: split it, re-split it (replacing the store), keep the store,
//! or refuse because the store is another file's. [`store_decision`] is pure
//! (what is on disk is read by [`ExistingStore::read`] first), so the local
//! split and the cluster submission can both ask it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use slidescale_core::timing::{read_timings, TaskTiming};
use slidescale_core::WorkDir;
use slidescale_store::{Store, StoreInfo};

use crate::spec::SplitIdentity;

use super::{SourceStamp, SplitOptions};

/// What the work directory holds under a slide's store name.
#[derive(Debug, Clone)]
pub enum ExistingStore {
    /// Nothing: the slide was never split here.
    Absent,
    /// A file that is not a complete, valid store, and why.
    Invalid(String),
    /// A valid store, with its attributes.
    Valid(Box<StoreInfo>),
    /// A store that opens, but whose tiles a `process` task found damaged
    /// since it was written (the task's error).
    Damaged(Box<StoreInfo>, String),
}

impl ExistingStore {
    /// Look at `path` (WORK/NAME.h5): open and validate it if it is there,
    /// and learn from the work directory's process timing lines whether a
    /// task found it damaged.
    pub fn read(path: &Path) -> ExistingStore {
        if !path.exists() {
            return ExistingStore::Absent;
        }
        match Store::open(path).and_then(|s| s.validate().map(|_| s)) {
            Ok(store) => {
                let info = Box::new(store.info().clone());
                match recorded_damage(path, &info.name) {
                    Some(damage) => ExistingStore::Damaged(info, damage),
                    None => ExistingStore::Valid(info),
                }
            }
            Err(e) => ExistingStore::Invalid(e.to_string()),
        }
    }
}

/// The error of a `process` task that found the store at `path` (of slide
/// `name`) damaged, from `WORK/logs/timing/process/NAME/`.
fn recorded_damage(path: &Path, name: &str) -> Option<String> {
    let work = WorkDir::new(path.parent()?);
    let written = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let written = written.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    let lines = read_timings(&work.timing_slide_dir("process", name)).ok()?;
    let lines: Vec<TaskTiming> = lines.into_iter().filter_map(Result::ok).collect();
    damage_in(&lines, written)
}

/// The damage the latest attempt of some group found in a store written at
/// `written` (Unix seconds). A later attempt of the group supersedes an
/// earlier one; an attempt that started before the store was written saw
/// another store (the one a re-split replaced).
fn damage_in(lines: &[TaskTiming], written: f64) -> Option<String> {
    let mut latest: BTreeMap<u32, &TaskTiming> = BTreeMap::new();
    for t in lines {
        let Some(group) = t.group else { continue };
        let newer = latest.get(&group).is_none_or(|l| t.start >= l.start);
        if newer {
            latest.insert(group, t);
        }
    }
    latest
        .into_values()
        .find(|t| t.damaged_store && t.start >= written)
        .map(|t| {
            t.error
                .clone()
                .unwrap_or_else(|| "a checksum did not match".into())
        })
}

/// What to do with a slide given what its store name holds.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreDecision {
    /// No store yet: split.
    Split,
    /// Split again and replace the store, for the reason given.
    Replace(String),
    /// Keep the store; the note (if any) says what is unusual about it.
    Reuse { note: Option<String> },
    /// Refuse: the store was split from another file with the same name
    /// (`store_source`), not from `slide`; only `--force` replaces it.
    OtherSlide {
        store_source: PathBuf,
        slide: PathBuf,
    },
}

/// The decision for the slide at `slide` (canonical path, as a store records
/// it) with file stamp `stamp`, given what its store name holds and the split
/// options (`force`, and the options a kept store is compared with).
///
/// A store made from another path is the same slide only when the size and
/// modification time match too (the slide was moved); otherwise it is a
/// different file that happens to share the name, and replacing its store
/// would silently throw away a finished slide.
pub fn store_decision(
    existing: &ExistingStore,
    slide: &Path,
    stamp: &SourceStamp,
    opts: &SplitOptions,
) -> StoreDecision {
    let info = match existing {
        ExistingStore::Absent => return StoreDecision::Split,
        ExistingStore::Invalid(reason) => {
            return StoreDecision::Replace(format!("replaced an invalid store ({reason})"))
        }
        ExistingStore::Valid(info) | ExistingStore::Damaged(info, _) => info,
    };
    let store_source = Path::new(&info.source_path);
    let same_file = stamp.matches(info);
    if store_source != slide && !same_file {
        if opts.force {
            return StoreDecision::Replace(format!(
                "--force: replaced the store split from {}",
                store_source.display()
            ));
        }
        return StoreDecision::OtherSlide {
            store_source: store_source.to_path_buf(),
            slide: slide.to_path_buf(),
        };
    }
    if opts.force {
        return StoreDecision::Replace("--force".into());
    }
    if !same_file {
        return StoreDecision::Replace(
            "replaced: the slide changed since its store was written".into(),
        );
    }
    if let ExistingStore::Damaged(_, damage) = existing {
        return StoreDecision::Replace(format!(
            "the store is damaged ({damage}); split again from the unchanged slide"
        ));
    }
    // Tiles split another way (reader, grouping, tissue rule) would score or
    // group differently from what the run records: such a store is replaced.
    if let Some(reason) = SplitIdentity::of_options(opts).store_mismatch(info) {
        return StoreDecision::Replace(format!("replaced: the store was split with {reason}"));
    }
    StoreDecision::Reuse {
        note: reuse_note(info, slide),
    }
}

/// Why a kept store may surprise: it was split from the same file at
/// another path.
fn reuse_note(info: &StoreInfo, slide: &Path) -> Option<String> {
    (Path::new(&info.source_path) != slide).then(|| {
        format!(
            "kept the store split from {} (same size and modification time)",
            info.source_path
        )
    })
}

/// [`store_decision`] for `slide` (named `name`) as things are on disk now:
/// what an executor that decides up front which slides get a split task
/// (the cluster's) asks, so it decides as `split` itself does.
pub fn decide_store(
    slide: &Path,
    name: &str,
    opts: &SplitOptions,
) -> std::io::Result<StoreDecision> {
    let stamp = SourceStamp::of(slide)?;
    let existing = ExistingStore::read(&WorkDir::new(&opts.out).store_path(name));
    let canonical = std::fs::canonicalize(slide)?;
    Ok(store_decision(&existing, &canonical, &stamp, opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "/slides/a/x.svs";

    fn info(source: &str, stamp: SourceStamp, opts: &SplitOptions) -> StoreInfo {
        StoreInfo {
            name: "x".into(),
            slidescale_version: "0".into(),
            source_path: source.into(),
            source_size: stamp.size,
            source_mtime: stamp.mtime,
            level0_width: 1000,
            level0_height: 800,
            mpp_x: None,
            mpp_y: None,
            vendor: String::new(),
            reader: "openslide".into(),
            grid: slidescale_core::TileGeometry::PAPER.grid(1000, 800),
            geometry: slidescale_core::TileGeometry::PAPER,
            resolution: slidescale_core::Resolution::default(),
            analysis: slidescale_core::Analysis::level0(1000, 800, None),
            bbox: [0; 4],
            otsu_h: 0.5,
            otsu_s: 0.5,
            tissue_min_fraction: opts.tissue.min_fraction,
            tissue_min_saturation: opts.tissue.min_saturation,
            tissue_pen_filter: opts.tissue.pen_filter,
            tissue_rule: 2,
            tissue_modality: "brightfield".into(),
            otsu_v: None,
            openslide: "test".into(),
            thumbnail_level: 0,
            group_size: opts.group_size,
            n_groups: 1,
            n_patches: 3,
            compression: opts.compression,
        }
    }

    fn stamp(size: u64) -> SourceStamp {
        SourceStamp { size, mtime: 1.5e9 }
    }

    fn decide(existing: &ExistingStore, slide: &str, size: u64, force: bool) -> StoreDecision {
        let mut opts = SplitOptions::new("/w");
        opts.force = force;
        store_decision(existing, Path::new(slide), &stamp(size), &opts)
    }

    #[test]
    fn the_same_file_keeps_its_store_and_a_changed_one_is_resplit() {
        let opts = SplitOptions::new("/w");
        let made = ExistingStore::Valid(Box::new(info(A, stamp(10), &opts)));
        assert_eq!(
            decide(&ExistingStore::Absent, A, 10, false),
            StoreDecision::Split
        );
        assert_eq!(
            decide(&made, A, 10, false),
            StoreDecision::Reuse { note: None }
        );
        assert!(
            matches!(decide(&made, A, 11, false), StoreDecision::Replace(r) if r.contains("changed"))
        );
        assert!(matches!(
            decide(&made, A, 10, true),
            StoreDecision::Replace(_)
        ));
        let bad = ExistingStore::Invalid("truncated".into());
        assert!(
            matches!(decide(&bad, A, 10, false), StoreDecision::Replace(r) if r.contains("truncated"))
        );
    }

    #[test]
    fn a_damaged_store_of_an_unchanged_slide_is_split_again() {
        let opts = SplitOptions::new("/w");
        let why = "x.h5: damaged store: group 2 tile 5".to_string();
        let damaged = ExistingStore::Damaged(Box::new(info(A, stamp(10), &opts)), why);
        let again = decide(&damaged, A, 10, false);
        assert!(
            matches!(&again, StoreDecision::Replace(r)
                if r.contains("damaged (x.h5: damaged store: group 2 tile 5)")
                    && r.contains("unchanged slide")),
            "{again:?}"
        );
        // a changed slide is replaced for that reason; another file is still refused
        assert!(
            matches!(decide(&damaged, A, 11, false), StoreDecision::Replace(r) if r.contains("changed"))
        );
        assert!(matches!(
            decide(&damaged, "/slides/b/x.svs", 12, false),
            StoreDecision::OtherSlide { .. }
        ));
    }

    #[test]
    fn only_the_latest_attempt_of_a_group_since_the_store_was_written_counts() {
        let attempt = |group, start, damaged| TaskTiming {
            stage: "process".into(),
            group: Some(group),
            start,
            status: if damaged { "failed" } else { "ok" }.into(),
            error: damaged.then(|| format!("group {group} damaged")),
            damaged_store: damaged,
            ..Default::default()
        };
        let failed_then_ok = [attempt(1, 20.0, true), attempt(1, 30.0, false)];
        assert_eq!(damage_in(&failed_then_ok, 10.0), None);
        let ok_then_failed = [
            attempt(1, 30.0, true),
            attempt(1, 20.0, false),
            attempt(2, 5.0, false),
        ];
        assert_eq!(
            damage_in(&ok_then_failed, 10.0).as_deref(),
            Some("group 1 damaged")
        );
        // seen before the store was written again: that store is gone
        assert_eq!(damage_in(&ok_then_failed, 40.0), None);
    }

    #[test]
    fn another_file_of_the_same_name_is_refused_unless_forced() {
        let opts = SplitOptions::new("/w");
        let made = ExistingStore::Valid(Box::new(info(A, stamp(10), &opts)));
        let b = "/slides/b/x.svs";
        assert_eq!(
            decide(&made, b, 12, false),
            StoreDecision::OtherSlide {
                store_source: PathBuf::from(A),
                slide: PathBuf::from(b),
            }
        );
        let forced = decide(&made, b, 12, true);
        assert!(
            matches!(&forced, StoreDecision::Replace(r) if r.contains(A)),
            "{forced:?}"
        );
        // the same bytes moved elsewhere (size and time kept) are the same slide
        let moved = decide(&made, b, 10, false);
        assert!(
            matches!(&moved, StoreDecision::Reuse { note: Some(n) } if n.contains(A)),
            "{moved:?}"
        );
    }

    #[test]
    fn a_store_split_another_way_is_replaced_but_compression_does_not_count() {
        let mut other = SplitOptions::new("/w");
        other.group_size += 1;
        let made = ExistingStore::Valid(Box::new(info(A, stamp(10), &other)));
        let replaced = decide(&made, A, 10, false);
        assert!(
            matches!(&replaced, StoreDecision::Replace(r) if r.contains("group size")),
            "{replaced:?}"
        );
        let mut other = SplitOptions::new("/w");
        other.compression = slidescale_store::Compression::None;
        let made = ExistingStore::Valid(Box::new(info(A, stamp(10), &other)));
        assert_eq!(
            decide(&made, A, 10, false),
            StoreDecision::Reuse { note: None }
        );
    }
}
