//! The local executor, `run --executor local`: split, plan, every missing
//! group of every slide, stitch — in this process, on this machine's cores.
//!
//! One model session uses every core for inference while a reader thread
//! reads (and stain-normalises) the next group, so I/O and normalisation hide
//! behind the model. A slide is stitched as soon as its last group is
//! scored. Progress is reported to a [`RunObserver`]; the CLI draws it.
//!
//! Resume: every result is checked (`results::check_result`) and only missing
//! or invalid ones are computed; temporary files left by a killed run (its
//! own naming, its writer gone) are removed first. A lock file keeps two
//! runs out of one work directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use slidescale_core::timing::unix_now;
use slidescale_core::timing::TaskTiming;
use slidescale_core::workdir::{slide_name, WorkDirError, WorkDirLock};
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_infer::Scorer;
use slidescale_stain::FittedTarget;
use slidescale_store::{Store, StoreInfo};
use thiserror::Error;

use crate::plan::{plan, PlanError};
use crate::process::{
    failed_timing, load_group, score_group, scored_timing, write_result, LoadedGroup, ProcessError,
};
use crate::results::{slide_results, ResultState};
use crate::spec::{Admission, RunSpec, SpecError};
use crate::split::{split_slides, SlideOutcome, SplitError, SplitObserver, SplitReport};
use crate::stitch::{stitch_slide, StitchError, Stitched};

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Split(#[from] SplitError),
    /// Every slide failed to split; the report says why, slide by slide.
    #[error("no slide could be split: {}", .0.failure_causes())]
    NothingSplit(SplitReport),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("another slidescale run is using {0} (lock file {0}/.lock)")]
    Locked(PathBuf),
    #[error(transparent)]
    WorkDir(WorkDirError),
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
    /// What to compute and how; its split part must be set.
    pub spec: &'a RunSpec,
    /// The stain target the spec's identity names, fitted.
    pub stain: Option<&'a FittedTarget>,
    /// Finish a run already started in this work directory.
    pub resume: bool,
    /// Discard earlier results and stores and start over.
    pub force: bool,
}

impl LocalRun<'_> {
    fn stride(&self) -> Stride {
        self.spec.stride()
    }

    fn threads(&self) -> u32 {
        self.spec.execution.threads
    }

    fn admission(&self) -> Admission {
        if self.force {
            Admission::Replace
        } else if self.resume {
            Admission::Resume
        } else {
            Admission::Fresh
        }
    }
}

/// What the runner tells its reporter.
pub trait RunObserver: SplitObserver {
    /// Split and plan are done; `todo` groups (`windows` windows) remain.
    fn scoring_started(&self, _todo: u64, _windows: u64, _done_before: u64) {}
    /// `n` more windows are scored: called after every batch the model runs
    /// (from the scoring thread), so progress moves inside a group; over a
    /// run whose groups all succeed the calls add up to `windows`.
    fn windows_scored(&self, _n: u64) {}
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
    /// (slide, error, exit status the error calls for).
    pub failed_stitches: Vec<(String, String, i32)>,
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
    /// every failure was transient (a full disk, an I/O error scoring a
    /// group); else 65 (bad input).
    pub fn exit_code(&self) -> i32 {
        let split = self
            .split
            .as_ref()
            .map(|s| s.errors().map(|(_, e)| e.exit_code()));
        let codes = split
            .into_iter()
            .flatten()
            .chain(self.failed_groups.iter().map(|f| f.3))
            .chain(self.failed_stitches.iter().map(|f| f.2));
        let mut failed = false;
        let mut transient = true;
        for code in codes {
            failed = true;
            transient &= code == exit::TRANSIENT;
        }
        match (failed, transient) {
            (false, _) => exit::OK,
            (true, true) => exit::TRANSIENT,
            (true, false) => exit::BAD_INPUT,
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
    let split = run
        .spec
        .split_options(run.force)
        .expect("a run's spec has its split part");
    let work = WorkDir::new(&split.out);
    std::fs::create_dir_all(work.root()).map_err(io(work.root()))?;
    let _lock = lock(&work)?;
    prepare(&work, run)?;

    let split_report = split_slides(run.slides, &split, observer)?;
    if split_report.nothing_split() {
        return Err(RunError::NothingSplit(split_report));
    }
    plan(&work)?;

    let stores = ready_stores(&work, &split_report);
    let (tasks, complete) = pending_tasks(&work, &stores, run.stride());
    let per_tile = split.geometry.windows_per_tile(run.stride()) as u64;
    let windows: u64 = tasks.iter().map(|t| t.tiles).sum::<u64>() * per_tile;
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
            stitch_into(path, &info.name, run.stride(), &mut report, observer);
        }
    }
    score_tasks(scorer, run, &work, tasks, &mut report, observer);
    report.split = Some(split_report);
    report.seconds = unix_now() - start;
    Ok(report)
}

/// Refuse to mix runs, discard this run's own outputs on --force, clear the
/// partial files dead writers left. Only files the work directory's layout
/// names are removed ([`WorkDir::remove_owned_outputs`],
/// [`WorkDir::remove_stale_partials`]): never another program's.
fn prepare(work: &WorkDir, run: &LocalRun) -> Result<(), RunError> {
    run.spec.admit(work, run.admission(), false)?;
    let slides: Vec<String> = run.slides.iter().map(|p| slide_name(p)).collect();
    if run.force {
        discard_outputs(work, &slides)?;
    }
    run.spec.admit(work, run.admission(), true)?;
    let removed = work
        .remove_stale_partials(&slides)
        .map_err(io(work.root()))?;
    if removed > 0 {
        tracing::info!("removed {removed} temporary file(s) left by an interrupted run");
    }
    Ok(())
}

/// `--force`, on every executor: remove the outputs of the run recorded in
/// `work` that its layout names as slidescale's own (for `slides` and every
/// slide the directory knows), before the new run is recorded.
pub fn discard_outputs(work: &WorkDir, slides: &[String]) -> Result<(), RunError> {
    let removed = work.remove_owned_outputs(slides).map_err(io(work.root()))?;
    tracing::info!("--force: removed {removed} file(s) of the earlier run");
    Ok(())
}

/// The exclusive lock on `WORK/.lock`, held while the returned guard lives;
/// shared with a caller in this process that claimed the directory first.
fn lock(work: &WorkDir) -> Result<WorkDirLock, RunError> {
    work.lock().map_err(|e| match e {
        WorkDirError::Locked(root) => RunError::Locked(root),
        other => RunError::WorkDir(other),
    })
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
        for (i, state) in slide_states(work, path, info, stride)
            .into_iter()
            .enumerate()
        {
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

/// [`slide_results`] of the store at `path`; every group is pending when the
/// store no longer opens (its task then fails with the cause).
fn slide_states(work: &WorkDir, path: &Path, info: &StoreInfo, stride: Stride) -> Vec<ResultState> {
    match Store::open(path) {
        Ok(store) => slide_results(work, &store, stride),
        Err(e) => vec![ResultState::Invalid(e.to_string()); info.n_groups as usize],
    }
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
            let outcome =
                loaded.and_then(|g| score_and_write(scorer, run, work, g, start, observer));
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
                    failed_timing(name, task.group, start, &e)
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
                stitch_into(&task.store, name, run.stride(), report, observer);
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
    observer: &dyn RunObserver,
) -> Result<TaskTiming, ProcessError> {
    let (name, k, read_s) = (group.name.clone(), group.group, group.read_s);
    let (n_tiles, digest) = (group.data.coords.len(), group.digest);
    let per_axis = group.geometry.windows_per_axis(run.stride());
    let progress = |n| observer.windows_scored(n);
    let scores = score_group(scorer, group, run.stride(), run.stain, &progress)?;
    let write_s = write_result(work, (&name, k, digest), n_tiles, per_axis, &scores.scores)?;
    // The read happened on the reader thread, overlapped: it is reported
    // but not counted in this task's wall time.
    Ok(scored_timing(
        (&name, k),
        start,
        read_s,
        &scores,
        write_s,
        run.threads(),
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
        Err(e) => {
            let code = exit::classify(&e, exit::BAD_INPUT);
            report
                .failed_stitches
                .push((name.to_string(), e.to_string(), code))
        }
    }
}
