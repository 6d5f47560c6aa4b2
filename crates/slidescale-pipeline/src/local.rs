//! The local executor, `run --executor local`: split, plan, every missing
//! group of every slide, stitch — in this process, on this machine's cores,
//! as the stages of the one local engine ([`crate::engine`]): a slide's
//! split is its first-level task, `plan` the master step, its groups the
//! parts and its stitch the final job.
//!
//! What is `run`'s own: one model session uses every core for inference
//! (so the engine runs one task at a time) while the engine's reader thread
//! reads (and stain-normalises) the next group, so I/O and normalisation
//! hide behind the model; a slide is stitched as soon as its last group is
//! scored, and only when they all succeeded. Progress is reported to a
//! [`RunObserver`]; the CLI draws it.
//!
//! Resume: every result is checked (`results::check_result`) and only missing
//! or invalid ones are computed; temporary files left by a killed run (its
//! own naming, its writer gone) are removed first. A lock file keeps two
//! runs out of one work directory.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use slidescale_core::timing::unix_now;
use slidescale_core::timing::TaskTiming;
use slidescale_core::workdir::{slide_name, WorkDirError};
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_infer::Scorer;
use slidescale_stain::FittedTarget;
use slidescale_store::{Store, StoreInfo};
use thiserror::Error;

use crate::engine::{run_hierarchy, Pending, Stages, Task};
use crate::plan::{plan, PlanError};
use crate::process::{
    failed_timing, load_group, score_group, scored_timing, write_result, LoadedGroup, ProcessError,
};
use crate::results::{slide_results, ResultState};
use crate::spec::{Admission, RunSpec, SpecError};
use crate::split::{
    SlideOutcome, SlideReport, SplitError, SplitObserver, SplitOptions, SplitReport, Splitter,
};
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

impl From<WorkDirError> for RunError {
    /// The lock on `WORK/.lock`, taken by the engine (shared with a caller
    /// in this process that claimed the directory first).
    fn from(e: WorkDirError) -> RunError {
        match e {
            WorkDirError::Locked(root) => RunError::Locked(root),
            other => RunError::WorkDir(other),
        }
    }
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
    let stages = RunStages {
        run,
        split: &split,
        work: work.clone(),
        observer,
        scorer: Mutex::new(scorer),
        splitter: OnceLock::new(),
        split_report: Mutex::new(None),
        stores: OnceLock::new(),
        done_before: OnceLock::new(),
    };
    let heard = |task: Task, outcome: &RunOutcome| stages.heard(task, outcome);
    // One task at a time: the model session already uses every core.
    let second = run_hierarchy(&work, &stages, 1, &heard)?;
    let mut report = stages.summary(second);
    report.seconds = unix_now() - start;
    Ok(report)
}

/// `run`'s stages; units are the slides, in the order given.
struct RunStages<'a> {
    run: &'a LocalRun<'a>,
    split: &'a SplitOptions,
    work: WorkDir,
    observer: &'a dyn RunObserver,
    scorer: Mutex<&'a mut Scorer>,
    /// Made under the lock, after admission (`--force` discards first).
    splitter: OnceLock<Splitter<'a>>,
    split_report: Mutex<Option<SplitReport>>,
    /// Per slide, its store once split (`None`: split failed or unreadable).
    stores: OnceLock<Vec<Option<(PathBuf, StoreInfo)>>>,
    done_before: OnceLock<u64>,
}

enum RunOutcome {
    Split(SlideReport),
    /// A group's timing line and, if it failed, why and the exit status.
    Group(TaskTiming, Option<(String, i32)>),
    Stitch(Result<Stitched, StitchError>),
}

impl Stages for RunStages<'_> {
    /// A group read ahead (`None` for the other tasks).
    type Loaded = Option<Result<LoadedGroup, ProcessError>>;
    type Outcome = RunOutcome;
    type Error = RunError;
    // Locally a slide is stitched only when every group succeeded.
    const FINAL_AFTER_ANY: bool = false;

    fn admit(&self) -> Result<(), RunError> {
        prepare(&self.work, self.run)?;
        let splitter = Splitter::new(self.run.slides, self.split)?;
        let _ = self.splitter.set(splitter);
        Ok(())
    }

    /// Every slide: its split keeps a store that is already right.
    fn first_todo(&self) -> Vec<usize> {
        (0..self.run.slides.len()).collect()
    }

    fn master(&self, first: Vec<(Task, RunOutcome)>) -> Result<(), RunError> {
        let mut slides: Vec<(usize, SlideReport)> = first
            .into_iter()
            .filter_map(|(t, o)| match o {
                RunOutcome::Split(r) => Some((t.unit(), r)),
                _ => None,
            })
            .collect();
        slides.sort_by_key(|(k, _)| *k);
        let report = self
            .splitter()
            .report(slides.into_iter().map(|(_, r)| r).collect());
        if report.nothing_split() {
            return Err(RunError::NothingSplit(report));
        }
        *self.split_report.lock().expect("not poisoned") = Some(report);
        plan(&self.work)?;
        Ok(())
    }

    fn second_todo(&self) -> Vec<Pending> {
        let stores = self.stores.get_or_init(|| self.ready_stores());
        let stride = self.run.stride();
        let (mut pending, mut todo, mut tiles, mut all) = (Vec::new(), 0u64, 0u64, 0u64);
        for (unit, (path, info)) in stores
            .iter()
            .enumerate()
            .filter_map(|(k, s)| s.as_ref().map(|s| (k, s)))
        {
            let parts: Vec<u32> = slide_states(&self.work, path, info, stride)
                .into_iter()
                .enumerate()
                .filter(|(_, state)| *state != ResultState::Done)
                .map(|(i, _)| i as u32 + 1)
                .collect();
            todo += parts.len() as u64;
            tiles += parts.iter().map(|&g| info.group_len(g)).sum::<u64>();
            all += info.n_groups as u64;
            // A slide with every result but no up-to-date heatmap (a run
            // killed while stitching) is stitched first.
            let final_job =
                !parts.is_empty() || !self.work.heatmap_up_to_date(&info.name, info.n_groups);
            pending.push(Pending {
                unit,
                parts,
                final_job,
            });
        }
        let per_tile = self.split.geometry.windows_per_tile(stride) as u64;
        let _ = self.done_before.set(all - todo);
        self.observer
            .scoring_started(todo, tiles * per_tile, all - todo);
        pending
    }

    fn load(&self, task: Task) -> Self::Loaded {
        let Task::Part(unit, group) = task else {
            return None;
        };
        let (path, _) = self.store(unit);
        Some(load_from(path, group))
    }

    fn run(&self, task: Task, loaded: Self::Loaded) -> Result<RunOutcome, RunError> {
        Ok(match task {
            Task::First(k) => RunOutcome::Split(self.splitter().split(k, self.observer)),
            Task::Part(unit, group) => {
                let name = &self.store(unit).1.name;
                let start = unix_now();
                let loaded = loaded.expect("a group is loaded before it runs");
                let mut scorer = self.scorer.lock().expect("not poisoned");
                let outcome = loaded.and_then(|g| {
                    score_and_write(&mut scorer, self.run, &self.work, g, start, self.observer)
                });
                let (timing, failure) = match outcome {
                    Ok(t) => (t, None),
                    Err(e) => (
                        failed_timing(name, group, start, &e),
                        Some((e.to_string(), e.exit_code())),
                    ),
                };
                if let Err(e) = timing.record(&self.work) {
                    tracing::warn!(
                        "cannot write timing line {}: {e}",
                        timing.path(&self.work).display()
                    );
                }
                RunOutcome::Group(timing, failure)
            }
            Task::Final(unit) => {
                RunOutcome::Stitch(stitch_slide(&self.store(unit).0, self.run.stride(), None))
            }
        })
    }

    fn succeeded(&self, outcome: &RunOutcome) -> bool {
        match outcome {
            RunOutcome::Split(r) => !matches!(r.outcome, SlideOutcome::Failed(_)),
            RunOutcome::Group(_, failure) => failure.is_none(),
            RunOutcome::Stitch(r) => r.is_ok(),
        }
    }
}

impl RunStages<'_> {
    fn splitter(&self) -> &Splitter<'_> {
        self.splitter.get().expect("made on admission")
    }

    fn store(&self, unit: usize) -> &(PathBuf, StoreInfo) {
        self.stores
            .get()
            .and_then(|s| s[unit].as_ref())
            .expect("a split slide")
    }

    /// The stores of this run's slides that split produced or kept.
    fn ready_stores(&self) -> Vec<Option<(PathBuf, StoreInfo)>> {
        let report = self.split_report.lock().expect("not poisoned");
        let slides = report.as_ref().map_or(&[][..], |r| &r.slides);
        slides
            .iter()
            .map(|s| {
                if matches!(s.outcome, SlideOutcome::Failed(_)) {
                    return None;
                }
                let path = self.work.store_path(&s.name);
                Store::open(&path).ok().map(|st| (path, st.info().clone()))
            })
            .collect()
    }

    /// Tell the reporter (splits report themselves, as they go).
    fn heard(&self, task: Task, outcome: &RunOutcome) {
        match outcome {
            RunOutcome::Split(_) => {}
            RunOutcome::Group(timing, _) => self.observer.group_finished(timing),
            RunOutcome::Stitch(r) => self
                .observer
                .slide_stitched(r, &self.store(task.unit()).1.name),
        }
    }

    /// The run's summary from the second level's outcomes.
    fn summary(&self, second: Vec<(Task, RunOutcome)>) -> LocalRunSummary {
        let mut report = LocalRunSummary {
            split: self.split_report.lock().expect("not poisoned").take(),
            groups_skipped: self.done_before.get().copied().unwrap_or(0),
            ..LocalRunSummary::default()
        };
        for (task, outcome) in second {
            let name = self.store(task.unit()).1.name.clone();
            match (task, outcome) {
                (_, RunOutcome::Group(t, None)) => {
                    report.groups_scored += 1;
                    report.windows += t.windows;
                }
                (Task::Part(_, g), RunOutcome::Group(_, Some((e, code)))) => {
                    report.failed_groups.push((name, g, e, code))
                }
                (_, RunOutcome::Stitch(Ok(s))) => report.stitched.push(s),
                (_, RunOutcome::Stitch(Err(e))) => {
                    let code = exit::classify(&e, exit::BAD_INPUT);
                    report.failed_stitches.push((name, e.to_string(), code))
                }
                _ => {}
            }
        }
        report
    }
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

/// [`slide_results`] of the store at `path`; every group is pending when the
/// store no longer opens (its task then fails with the cause).
fn slide_states(work: &WorkDir, path: &Path, info: &StoreInfo, stride: Stride) -> Vec<ResultState> {
    match Store::open(path) {
        Ok(store) => slide_results(work, &store, stride),
        Err(e) => vec![ResultState::Invalid(e.to_string()); info.n_groups as usize],
    }
}

thread_local! {
    /// The reader thread's open store: groups come slide by slide, so one
    /// is kept open.
    static OPEN: RefCell<Option<(PathBuf, Store)>> = const { RefCell::new(None) };
}

/// Read group `group` of the store at `path` (on the engine's reader thread).
fn load_from(path: &Path, group: u32) -> Result<LoadedGroup, ProcessError> {
    OPEN.with(|open| {
        let mut open = open.borrow_mut();
        if open.as_ref().is_none_or(|(p, _)| p != path) {
            *open = None;
            *open = Some((path.to_path_buf(), Store::open(path)?));
        }
        load_group(&open.as_ref().expect("just opened").1, group)
    })
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
