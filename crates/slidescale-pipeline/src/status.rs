//! `status`: what a work directory holds — per slide and overall, groups
//! done, missing and failed (with the error), windows scored, heatmaps —
//! from the files themselves, so it is right after a crash or on a cluster
//! whose scheduler has forgotten the jobs. [`verify_work`] (`status
//! --verify`) also reads every tile of every store against its checksums.

use std::collections::BTreeMap;

use slidescale_core::timing::{read_timings, timing_dir, TaskTiming};
use slidescale_core::{Stride, WorkDir};
use slidescale_heatmap::read_npy;
use slidescale_store::{Store, StoreDamage};

use crate::results::{slide_results, ResultState};
use crate::spec::RunSpec;

/// One slide's line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlideStatus {
    pub name: String,
    /// Groups in its store; `None` when the store is missing or unreadable.
    pub groups: Option<u32>,
    pub done: u32,
    pub missing: u32,
    /// Groups whose result is absent or invalid and whose last attempt
    /// failed, with the error.
    pub failed: Vec<(u32, String)>,
    /// Present but unusable results.
    pub invalid: u32,
    pub windows: u64,
    /// Its heatmap (.npy and .png) exists and is newer than the store and
    /// every group result.
    pub heatmap: bool,
    /// Why the slide has no usable store (split failure, corrupt store).
    pub error: Option<String>,
}

/// The whole work directory.
#[derive(Debug, Clone, Default)]
pub struct WorkStatus {
    /// The run recorded in the work directory (`run.json`), if any.
    pub spec: Option<RunSpec>,
    pub slides: Vec<SlideStatus>,
}

impl WorkStatus {
    pub fn total(&self) -> SlideStatus {
        let mut t = SlideStatus {
            name: "total".into(),
            groups: Some(0),
            ..SlideStatus::default()
        };
        for s in &self.slides {
            t.groups = Some(t.groups.unwrap_or(0) + s.groups.unwrap_or(0));
            t.done += s.done;
            t.missing += s.missing;
            t.invalid += s.invalid;
            t.failed.extend(s.failed.iter().cloned());
            t.windows += s.windows;
        }
        t
    }

    /// Every group has a valid result and every slide a heatmap.
    pub fn is_complete(&self) -> bool {
        self.slides
            .iter()
            .all(|s| s.error.is_none() && s.missing == 0 && s.invalid == 0 && s.heatmap)
    }
}

/// Read the state of `work`. Without run settings (only `split` has run),
/// results cannot be judged and every group counts as missing.
pub fn work_status(work: &WorkDir) -> std::io::Result<WorkStatus> {
    let spec = RunSpec::load(work).ok().flatten();
    let stride = spec.as_ref().map(RunSpec::stride);
    let last = last_attempts(work)?;
    let mut slides: BTreeMap<String, SlideStatus> = BTreeMap::new();
    for name in work.store_names()? {
        slides.insert(name.clone(), slide_status(work, &name, stride, &last));
    }
    // Slides whose split failed have no store, only a failed split line.
    for ((stage, slide, _), t) in &last {
        if stage == "split" && t.status == "failed" && !slides.contains_key(slide) {
            slides.insert(
                slide.clone(),
                SlideStatus {
                    name: slide.clone(),
                    error: t.error.clone(),
                    ..SlideStatus::default()
                },
            );
        }
    }
    Ok(WorkStatus {
        spec,
        slides: slides.into_values().collect(),
    })
}

type AttemptKey = (String, String, Option<u32>);

/// The latest timing line of every task.
fn last_attempts(work: &WorkDir) -> std::io::Result<BTreeMap<AttemptKey, TaskTiming>> {
    let mut last: BTreeMap<AttemptKey, TaskTiming> = BTreeMap::new();
    for t in read_timings(&timing_dir(work))?.into_iter().flatten() {
        let key = (t.stage.clone(), t.slide.clone(), t.group);
        if last.get(&key).is_none_or(|old| old.end <= t.end) {
            last.insert(key, t);
        }
    }
    Ok(last)
}

fn slide_status(
    work: &WorkDir,
    name: &str,
    stride: Option<Stride>,
    last: &BTreeMap<AttemptKey, TaskTiming>,
) -> SlideStatus {
    let mut s = SlideStatus {
        name: name.to_string(),
        ..SlideStatus::default()
    };
    let (store, info) = match Store::open(&work.store_path(name)) {
        Ok(store) => {
            let info = store.info().clone();
            (store, info)
        }
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    };
    s.groups = Some(info.n_groups);
    s.heatmap = work.heatmap_up_to_date(name, info.n_groups);
    let Some(stride) = stride else {
        s.missing = info.n_groups;
        return s;
    };
    for (i, state) in slide_results(work, &store, stride).into_iter().enumerate() {
        let k = i as u32 + 1;
        match state {
            ResultState::Done => {
                s.done += 1;
                s.windows += info.group_len(k) * info.geometry.windows_per_tile(stride) as u64;
                continue;
            }
            ResultState::Missing => s.missing += 1,
            ResultState::Invalid(_) => s.invalid += 1,
        }
        let key = ("process".to_string(), name.to_string(), Some(k));
        if let Some(t) = last.get(&key).filter(|t| t.status == "failed") {
            s.failed.push((k, t.error.clone().unwrap_or_default()));
        }
    }
    s
}

/// What [`verify_work`] found for one slide.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlideVerification {
    pub name: String,
    /// Tiles read and checked.
    pub tiles: u64,
    /// Damaged parts of the store (tiles, coordinates, thumbnail, mask).
    pub store_damage: Vec<StoreDamage>,
    /// The store could not be opened or checked at all.
    pub store_error: Option<String>,
    /// Results present and checked (`None` without run settings, which
    /// give the stride a result is judged by).
    pub results: Option<u32>,
    /// Present results that are invalid (damaged, wrong shape, not
    /// finite, …), by group, with `check_result`'s reason.
    pub result_damage: Vec<(u32, String)>,
    /// The heatmap `.npy` is there but unreadable or does not match its
    /// CRC-32 (NaN is background there, not damage).
    pub heatmap_damage: Option<String>,
}

impl SlideVerification {
    pub fn is_damaged(&self) -> bool {
        self.store_error.is_some()
            || !self.store_damage.is_empty()
            || !self.result_damage.is_empty()
            || self.heatmap_damage.is_some()
    }
}

/// Check every store of `work` tile by tile (`Store::verify`) and every
/// present result (`check_result`, the rule resume and stitch use) and
/// heatmap `.npy` against its CRC-32.
/// Missing results are not damage; `work_status` counts them.
pub fn verify_work(work: &WorkDir) -> std::io::Result<Vec<SlideVerification>> {
    let stride = RunSpec::load(work).ok().flatten().map(|s| s.stride());
    Ok(work
        .store_names()?
        .into_iter()
        .map(|name| verify_slide(work, name, stride))
        .collect())
}

fn verify_slide(work: &WorkDir, name: String, stride: Option<Stride>) -> SlideVerification {
    let mut v = SlideVerification {
        name,
        ..SlideVerification::default()
    };
    let store = match Store::open(&work.store_path(&v.name)) {
        Ok(store) => store,
        Err(e) => {
            v.store_error = Some(e.to_string());
            return v;
        }
    };
    match store.verify() {
        Ok(found) => {
            v.tiles = found.tiles;
            v.store_damage = found.damage;
        }
        Err(e) => v.store_error = Some(e.to_string()),
    }
    let heatmap = work.heatmap_npy(&v.name);
    if heatmap.exists() {
        v.heatmap_damage = read_npy(&heatmap).err().map(|e| e.to_string());
    }
    let Some(stride) = stride else {
        return v;
    };
    let mut checked = 0;
    for (i, state) in slide_results(work, &store, stride).into_iter().enumerate() {
        match state {
            ResultState::Missing => continue,
            ResultState::Done => {}
            ResultState::Invalid(why) => v.result_damage.push((i as u32 + 1, why)),
        }
        checked += 1;
    }
    v.results = Some(checked);
    v
}
