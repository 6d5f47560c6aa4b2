//! `split`: slides in, one grouped HDF5 patch store per slide out
//! (`WORK/NAME.h5`, DESIGN §4).
//!
//! Slides are split one after another, each with every thread of the pool:
//! the thumbnail's blocks and the context tiles are read and compressed in
//! parallel and written in order. A slide that cannot be opened or read is
//! reported with its cause and the others go on; a slide whose complete
//! store already exists and matches the file is skipped unless `force`.

mod decision;
mod inputs;
mod slide;
mod source;
mod tiles;

use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_core::{exit, Resolution, TileGeometry};
use slidescale_slide::{ReaderKind, SlideError};
use slidescale_store::{Compression, StoreError, DEFAULT_TASK_MEMORY};
use slidescale_tissue::TissueParams;
use thiserror::Error;

pub use decision::{decide_store, store_decision, ExistingStore, StoreDecision};
pub use inputs::{check_slide_inputs, name_max, name_rule, InputErrors, LONGEST_SUFFIX};
pub use source::SourceStamp;
pub use tiles::TileTimes;

/// How to split.
#[derive(Debug, Clone)]
pub struct SplitOptions {
    /// The work directory the stores go to (created if missing).
    pub out: PathBuf,
    pub reader: ReaderKind,
    /// Window and tile sides: the context tiles' size.
    pub geometry: TileGeometry,
    /// The analysis resolution tiles are read at.
    pub resolution: Resolution,
    /// Tiles per group.
    pub group_size: u32,
    pub compression: Compression,
    pub tissue: TissueParams,
    /// Rewrite stores that exist and match their slide.
    pub force: bool,
    /// Threads to read and compress with; 0 = one per core.
    pub threads: usize,
}

impl SplitOptions {
    /// Defaults for everything but the work directory: the paper's
    /// geometry at level 0.
    pub fn new(out: impl Into<PathBuf>) -> SplitOptions {
        let geometry = TileGeometry::PAPER;
        SplitOptions {
            out: out.into(),
            reader: ReaderKind::Auto,
            geometry,
            resolution: Resolution::default(),
            group_size: slidescale_store::group_size_for_memory(DEFAULT_TASK_MEMORY, &geometry),
            compression: Compression::default(),
            tissue: TissueParams::default(),
            force: false,
            threads: 0,
        }
    }

    fn effective_threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        }
    }
}

#[derive(Debug, Error)]
pub enum SplitError {
    /// Problems [`check_slide_inputs`] found: nothing was done.
    #[error(transparent)]
    Inputs(#[from] InputErrors),
    #[error("{0}: no such file")]
    Missing(PathBuf),
    #[error("{0}: not a file")]
    NotAFile(PathBuf),
    #[error("{0}: empty file (0 bytes)")]
    EmptyFile(PathBuf),
    #[error("{path}: cannot read it: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: the slide's name is {bytes} bytes; file names on the file system of {out} \
         are limited to {limit} bytes (NAME_MAX) and slidescale adds up to {} to the name \
         (NAME{LONGEST_SUFFIX}), so rename the slide to at most {max} bytes",
        LONGEST_SUFFIX.len()
    )]
    NameTooLong {
        path: PathBuf,
        bytes: u64,
        max: u64,
        limit: u64,
        out: PathBuf,
    },
    #[error("{path}: {reason}")]
    BadName { path: PathBuf, reason: String },
    #[error("{path}: cannot read it at the analysis resolution: {reason}")]
    Resolution { path: PathBuf, reason: String },
    #[error(
        "two slides are called {name:?} ({first} and {second}); their stores would both be \
         {name}.h5 — rename one or split them into different work directories"
    )]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error(
        "{store} was split from {store_source}, and {slide} is another file with the same \
         name: its store would replace the finished one. Rename it, use another --out, or \
         --force to replace the store"
    )]
    OtherSlide {
        store: PathBuf,
        store_source: PathBuf,
        slide: PathBuf,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Slide(#[from] SlideError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the thread pool: {0}")]
    Threads(String),
}

impl SplitError {
    /// The exit status this failure calls for: a full disk is transient
    /// (75); anything else about a slide or its store is bad input (65).
    pub fn exit_code(&self) -> i32 {
        exit::classify(self, exit::BAD_INPUT)
    }

    fn io(path: &Path, source: std::io::Error) -> SplitError {
        SplitError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What happened to one slide.
#[derive(Debug)]
pub enum SlideOutcome {
    Written,
    /// Its complete store was already there and matches the slide.
    Skipped,
    Failed(SplitError),
}

/// One slide's line in the summary.
#[derive(Debug)]
pub struct SlideReport {
    pub name: String,
    pub path: PathBuf,
    pub outcome: SlideOutcome,
    /// Tissue tiles (written, or in the skipped store).
    pub tiles: u64,
    pub groups: u32,
    /// Size of the store file.
    pub bytes: u64,
    /// Wall seconds for this slide, thumbnail included.
    pub seconds: f64,
    pub times: TileTimes,
    /// Anything worth telling: why a store was replaced, or kept.
    pub note: Option<String>,
}

impl SlideReport {
    fn new(name: &str, path: &Path) -> SlideReport {
        SlideReport {
            name: name.to_string(),
            path: path.to_path_buf(),
            outcome: SlideOutcome::Skipped,
            tiles: 0,
            groups: 0,
            bytes: 0,
            seconds: 0.0,
            times: TileTimes::default(),
            note: None,
        }
    }
}

/// The whole run.
#[derive(Debug)]
pub struct SplitReport {
    pub slides: Vec<SlideReport>,
    pub seconds: f64,
    pub threads: usize,
}

impl SplitReport {
    pub fn failures(&self) -> impl Iterator<Item = &SlideReport> {
        self.slides
            .iter()
            .filter(|s| matches!(s.outcome, SlideOutcome::Failed(_)))
    }

    /// Each failed slide with its error.
    pub fn errors(&self) -> impl Iterator<Item = (&SlideReport, &SplitError)> {
        self.slides.iter().filter_map(|s| match &s.outcome {
            SlideOutcome::Failed(e) => Some((s, e)),
            _ => None,
        })
    }

    /// There were slides and every one failed.
    pub fn nothing_split(&self) -> bool {
        !self.slides.is_empty() && self.failures().count() == self.slides.len()
    }

    /// Every failed slide and its cause on one line: `NAME (PATH): cause; …`.
    pub fn failure_causes(&self) -> String {
        self.errors()
            .map(|(s, e)| format!("{} ({}): {e}", s.name, s.path.display()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// 0 when no slide failed; 75 when every failure was transient (a full
    /// disk); else 65.
    pub fn exit_code(&self) -> i32 {
        let mut codes = self.errors().map(|(_, e)| e.exit_code()).peekable();
        if codes.peek().is_none() {
            exit::OK
        } else if codes.all(|c| c == exit::TRANSIENT) {
            exit::TRANSIENT
        } else {
            exit::BAD_INPUT
        }
    }
}

/// Hears about progress; called from worker threads.
pub trait SplitObserver: Sync {
    /// A slide was segmented and `tiles` tiles are about to be written.
    fn slide_started(&self, _name: &str, _tiles: u64) {}
    /// `n` more tiles of `name` are in its store.
    fn tiles_written(&self, _name: &str, _n: u64) {}
    fn slide_finished(&self, _report: &SlideReport) {}
}

/// Split every slide of `slides` into `opts.out`. Errors that stop the run
/// before any work (a slide that fails [`check_slide_inputs`], an unusable
/// work directory) are returned as `Err`; a slide's own failure is in its
/// report.
pub fn split_slides(
    slides: &[PathBuf],
    opts: &SplitOptions,
    observer: &dyn SplitObserver,
) -> Result<SplitReport, SplitError> {
    let splitter = Splitter::new(slides, opts)?;
    let reports = (0..slides.len())
        .map(|k| splitter.split(k, observer))
        .collect();
    Ok(splitter.report(reports))
}

/// The split of a list of slides, one slide at a time (the first level of
/// a local run, [`crate::engine`]): the inputs checked before any work,
/// and one thread pool that every slide's split uses.
pub struct Splitter<'a> {
    slides: &'a [PathBuf],
    names: Vec<String>,
    opts: &'a SplitOptions,
    pool: rayon::ThreadPool,
    clock: Instant,
}

impl<'a> Splitter<'a> {
    /// Check `slides` ([`check_slide_inputs`]) and make the work directory.
    pub fn new(slides: &'a [PathBuf], opts: &'a SplitOptions) -> Result<Splitter<'a>, SplitError> {
        let names = check_slide_inputs(slides, &opts.out)?;
        std::fs::create_dir_all(&opts.out).map_err(|e| SplitError::io(&opts.out, e))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.effective_threads())
            .build()
            .map_err(|e| SplitError::Threads(e.to_string()))?;
        Ok(Splitter {
            slides,
            names,
            opts,
            pool,
            clock: Instant::now(),
        })
    }

    /// Split slide `k` (or keep its store, as [`store_decision`] says).
    pub fn split(&self, k: usize, observer: &dyn SplitObserver) -> SlideReport {
        self.pool
            .install(|| slide::split_one(&self.slides[k], &self.names[k], self.opts, observer))
    }

    /// The report of the slides' splits, in slide order.
    pub fn report(&self, slides: Vec<SlideReport>) -> SplitReport {
        SplitReport {
            slides,
            seconds: self.clock.elapsed().as_secs_f64(),
            threads: self.pool.current_num_threads(),
        }
    }
}
