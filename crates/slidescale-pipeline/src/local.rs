//! The local executor, `run --executor local`: split, plan, every missing
//! group of every slide, stitch — in this process, on this machine's cores.
//!
//! One model session uses every core for inference while a reader thread
//! reads (and stain-normalises) the next group, so I/O and normalisation hide
//! behind the model. A slide is stitched as soon as its last group is
//! scored. Progress is reported to a [`RunObserver`]; the CLI draws it.
//!
//! Resume: every result is checked (`results::check_result`) and only missing
//! or invalid ones are computed; temporary files left by a killed run are
//! removed first. A lock file keeps two runs out of one work directory.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use slidescale_core::timing::unix_now;
use slidescale_core::timing::TaskTiming;
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_infer::Scorer;
use slidescale_stain::FittedTarget;
use slidescale_store::{Store, StoreInfo};
use thiserror::Error;

use crate::plan::{plan, PlanError};
use crate::process::{
    load_group, score_group, scored_timing, unscored_timing, write_result, LoadedGroup,
    ProcessError,
};
use crate::results::{slide_results, ResultState};
use crate::settings::{RunSettings, SettingsError};
use crate::split::{
    split_slides, SlideOutcome, SplitError, SplitObserver, SplitOptions, SplitReport,
};
use crate::stitch::{stitch_slide, StitchError, Stitched};

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{0} already holds a run: add --resume to finish it, or --force to start over")]
    AlreadyStarted(PathBuf),
    #[error("another slidescale run is using {0} (lock file {0}/.lock)")]
    Locked(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How to run (everything but the model session, which the caller loads
/// first so a bad model fails before any work).
pub struct LocalRun<'a> {
    pub slides: &'a [PathBuf],
    pub split: SplitOptions,
    pub settings: RunSettings,
    pub stride: Stride,
    pub stain: Option<&'a FittedTarget>,
    /// Finish a run already started in this work directory.
    pub resume: bool,
    /// Discard earlier results and stores and start over.
    pub force: bool,
    /// Cores the run uses (for timing lines).
    pub threads: u32,
}

/// What the runner tells its reporter.
pub trait RunObserver: SplitObserver {
    /// Split and plan are done; `todo` groups (`windows` windows) remain.
    fn scoring_started(&self, _todo: u64, _windows: u64, _done_before: u64) {}
    fn group_finished(&self, _timing: &TaskTiming) {}
    fn slide_stitched(&self, _result: &Result<Stitched, StitchError>, _name: &str) {}
}

/// What happened, for the summary and the exit status.
#[derive(Debug, Default)]
pub struct LocalRunSummary {
    pub split: Option<SplitReport>,
    pub groups_scored: u64,
    pub groups_skipped: u64,
    pub windows: u64,
    /// (slide, group, error, exit status the error calls for).
    pub failed_groups: Vec<(String, u32, String, i32)>,
    pub stitched: Vec<Stitched>,
    pub failed_stitches: Vec<(String, String)>,
    pub seconds: f64,
}

impl LocalRunSummary {
    pub fn failed_slides(&self) -> usize {
        self.split.as_ref().map_or(0, |s| s.failures().count())
    }

    pub fn is_success(&self) -> bool {
        self.failed_slides() == 0
            && self.failed_groups.is_empty()
            && self.failed_stitches.is_empty()
    }

    /// The run's exit status: 0 when everything succeeded; 75 (retry) when
    /// the only failures were transient groups; else 65 (bad input).
    pub fn exit_code(&self) -> i32 {
        if self.is_success() {
            exit::OK
        } else if self.failed_slides() == 0
            && self.failed_stitches.is_empty()
            && self.failed_groups.iter().all(|f| f.3 == exit::TRANSIENT)
        {
            exit::TRANSIENT
        } else {
            exit::BAD_INPUT
        }
    }
}

/// One group to score.
struct Task {
    store: PathBuf,
    /// The slide's name, for results, timing lines and the report.
    name: String,
    group: u32,
    tiles: u64,
}

pub fn run_local(
    scorer: &mut Scorer,
    run: &LocalRun,
    observer: &dyn RunObserver,
) -> Result<LocalRunSummary, RunError> {
    let start = unix_now();
    let work = WorkDir::new(&run.split.out);
    std::fs::create_dir_all(work.root()).map_err(io(work.root()))?;
    let _lock = lock(&work)?;
    prepare(&work, run)?;

    let mut split = run.split.clone();
    split.force |= run.force;
    let split_report = split_slides(run.slides, &split, observer)?;
    plan(&work)?;

    let stores = ready_stores(&work, &split_report);
    let (tasks, complete) = pending_tasks(&work, &stores, run.stride);
    let windows: u64 =
        tasks.iter().map(|t| t.tiles).sum::<u64>() * run.stride.windows_per_tile() as u64;
    let done_before: u64 =
        stores.iter().map(|(_, i)| i.n_groups as u64).sum::<u64>() - tasks.len() as u64;
    observer.scoring_started(tasks.len() as u64, windows, done_before);

    let mut report = LocalRunSummary {
        groups_skipped: done_before,
        ..LocalRunSummary::default()
    };
    // Slides with every result already there but no up-to-date heatmap (a
    // run killed while stitching, or between a slide's last result and its
    // stitch) are stitched first; the others as their last group lands.
    for (path, info) in &stores {
        if complete.contains(&info.name) && !work.heatmap_up_to_date(&info.name, info.n_groups) {
            stitch_into(path, &info.name, run.stride, &mut report, observer);
        }
    }
    score_tasks(scorer, run, &work, tasks, &mut report, observer);
    report.split = Some(split_report);
    report.seconds = unix_now() - start;
    Ok(report)
}

/// Refuse to mix runs, discard on --force, clear leftovers of a killed run.
fn prepare(work: &WorkDir, run: &LocalRun) -> Result<(), RunError> {
    let existing = RunSettings::load(work)?;
    if existing.is_some() && !run.resume && !run.force {
        return Err(RunError::AlreadyStarted(work.root().to_path_buf()));
    }
    if run.force {
        for dir in [work.root().join("results"), work.heatmaps_dir()] {
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
            }
        }
    }
    run.settings.ensure(work, run.force)?;
    let removed = remove_partials(work.root()).map_err(io(work.root()))?;
    if removed > 0 {
        tracing::info!("removed {removed} temporary file(s) left by an interrupted run");
    }
    Ok(())
}

/// An exclusive lock on `WORK/.lock`, held while the returned file lives.
fn lock(work: &WorkDir) -> Result<File, RunError> {
    let path = work.root().join(".lock");
    let file = File::create(&path).map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(RunError::Locked(work.root().to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

/// Delete `*.partial` files under `dir`: what a killed writer left behind.
pub fn remove_partials(dir: &Path) -> std::io::Result<u64> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            removed += remove_partials(&path)?;
        } else if path
            .to_string_lossy()
            .ends_with(slidescale_core::workdir::PARTIAL_SUFFIX)
        {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The stores of this run's slides that split produced or kept.
fn ready_stores(work: &WorkDir, split: &SplitReport) -> Vec<(PathBuf, StoreInfo)> {
    split
        .slides
        .iter()
        .filter(|s| !matches!(s.outcome, SlideOutcome::Failed(_)))
        .filter_map(|s| {
            let path = work.store_path(&s.name);
            Store::open(&path).ok().map(|st| (path, st.info().clone()))
        })
        .collect()
}

/// Groups without a valid result, in slide and group order, and the names of
/// slides that have none missing.
fn pending_tasks(
    work: &WorkDir,
    stores: &[(PathBuf, StoreInfo)],
    stride: Stride,
) -> (Vec<Task>, Vec<String>) {
    let mut tasks = Vec::new();
    let mut complete = Vec::new();
    for (path, info) in stores {
        let before = tasks.len();
        for (i, state) in slide_results(work, info, stride).into_iter().enumerate() {
            if state != ResultState::Done {
                let group = i as u32 + 1;
                tasks.push(Task {
                    store: path.clone(),
                    name: info.name.clone(),
                    group,
                    tiles: info.group_len(group),
                });
            }
        }
        if tasks.len() == before {
            complete.push(info.name.clone());
        }
    }
    (tasks, complete)
}

/// A group read by the reader thread, or why it could not be.
type Prefetched = (Task, Result<LoadedGroup, ProcessError>);

/// Score every task: a reader thread loads groups one ahead while this
/// thread runs the model; each result is written as soon as it is scored.
fn score_tasks(
    scorer: &mut Scorer,
    run: &LocalRun,
    work: &WorkDir,
    tasks: Vec<Task>,
    report: &mut LocalRunSummary,
    observer: &dyn RunObserver,
) {
    let mut remaining: BTreeMap<PathBuf, u32> = BTreeMap::new();
    for task in &tasks {
        *remaining.entry(task.store.clone()).or_default() += 1;
    }
    let (tx, rx) = sync_channel::<Prefetched>(1);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut open: BTreeMap<PathBuf, Store> = BTreeMap::new();
            for task in tasks {
                let loaded = read_task(&mut open, &task);
                if tx.send((task, loaded)).is_err() {
                    break;
                }
            }
        });
        for (task, loaded) in rx {
            let start = unix_now();
            let outcome = loaded.and_then(|g| score_and_write(scorer, run, work, g, start));
            let name = &task.name;
            let timing = match outcome {
                Ok(t) => {
                    report.groups_scored += 1;
                    report.windows += t.windows;
                    t
                }
                Err(e) => {
                    report.failed_groups.push((
                        name.clone(),
                        task.group,
                        e.to_string(),
                        e.exit_code(),
                    ));
                    unscored_timing(name, task.group, start, "failed", Some(e.to_string()))
                }
            };
            if let Err(e) = timing.record(work) {
                tracing::warn!(
                    "cannot write timing line {}: {e}",
                    timing.path(work).display()
                );
            }
            observer.group_finished(&timing);
            let left = remaining.get_mut(&task.store).expect("counted");
            *left -= 1;
            let failed = report.failed_groups.iter().any(|f| &f.0 == name);
            if *left == 0 && !failed {
                stitch_into(&task.store, name, run.stride, report, observer);
            }
        }
    });
}

fn read_task(
    open: &mut BTreeMap<PathBuf, Store>,
    task: &Task,
) -> Result<LoadedGroup, ProcessError> {
    if !open.contains_key(&task.store) {
        open.clear(); // tasks come slide by slide: keep one store open
        open.insert(task.store.clone(), Store::open(&task.store)?);
    }
    load_group(&open[&task.store], task.group)
}

fn score_and_write(
    scorer: &mut Scorer,
    run: &LocalRun,
    work: &WorkDir,
    group: LoadedGroup,
    start: f64,
) -> Result<TaskTiming, ProcessError> {
    let (name, k, read_s) = (group.name.clone(), group.group, group.read_s);
    let n_tiles = group.data.coords.len();
    let scores = score_group(scorer, group, run.stride, run.stain)?;
    let write_s = write_result(work, &name, k, n_tiles, run.stride, &scores.scores)?;
    // The read happened on the reader thread, overlapped: it is reported
    // but not counted in this task's wall time.
    Ok(scored_timing(
        (&name, k),
        start,
        read_s,
        &scores,
        write_s,
        run.threads,
    ))
}

fn stitch_into(
    store: &Path,
    name: &str,
    stride: Stride,
    report: &mut LocalRunSummary,
    observer: &dyn RunObserver,
) {
    let result = stitch_slide(store, stride, None);
    observer.slide_stitched(&result, name);
    match result {
        Ok(s) => report.stitched.push(s),
        Err(e) => report
            .failed_stitches
            .push((name.to_string(), e.to_string())),
    }
}
