//! `status`: what a work directory holds — per slide and overall, groups
//! done, missing and failed (with the error), windows scored, heatmaps —
//! from the files themselves, so it is right after a crash or on a cluster
//! whose scheduler has forgotten the jobs.

use std::collections::BTreeMap;

use slidescale_core::timing::{read_timings, timing_dir, TaskTiming};
use slidescale_core::{Stride, WorkDir};
use slidescale_store::Store;

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
    let info = match Store::open(&work.store_path(name)) {
        Ok(store) => store.info().clone(),
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
    for (i, state) in slide_results(work, &info, stride).into_iter().enumerate() {
        let k = i as u32 + 1;
        match state {
            ResultState::Done => {
                s.done += 1;
                s.windows += info.group_len(k) * stride.windows_per_tile() as u64;
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
