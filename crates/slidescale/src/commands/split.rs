//! `slidescale split`: slides in, one grouped HDF5 patch store per slide out
//! (`WORK/NAME.h5`). A thin layer over `slidescale_pipeline::split`: options,
//! a progress bar per slide, and the summary table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use slidescale_core::{exit, Resolution, TileGeometry, WorkDir};
use slidescale_pipeline::split::{
    check_slide_inputs, split_slides, SlideOutcome, SlideReport, SplitError, SplitObserver,
    SplitOptions, SplitReport,
};
use slidescale_slide::ReaderKind;
use slidescale_store::{group_size_for_memory, parse_memory, Compression};
use slidescale_tissue::{TissueParams, DEFAULT_MIN_FRACTION};

use super::{bad_input, classified_error, explain, name_width};

/// Segment tissue and write one grouped HDF5 patch store per slide.
#[derive(clap::Args)]
#[command(
    after_help = "Each slide becomes WORK/NAME.h5 (NAME = the file name without its \
extension), written as NAME.h5.<pid>.partial and renamed when complete. WORK must be new, \
empty or a slidescale work directory (see --allow-nonempty-out). Slides whose complete store \
already exists, matches the file (size, modification time) and was split the same way (reader, \
group size, tissue rule) are skipped unless --force; a store split another way is rewritten. \
A slide that cannot be read is reported and the others go on; the exit status is then 65."
)]
pub struct Args {
    /// Slide files (any format OpenSlide reads).
    #[arg(required = true)]
    pub slides: Vec<PathBuf>,
    /// Work directory for the stores (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Slide reader: auto (native when the file qualifies), openslide or native.
    #[arg(long, default_value = "auto", value_name = "auto|openslide|native")]
    pub reader: ReaderKind,
    #[command(flatten)]
    pub geometry: GeometryArgs,
    /// Memory one task may spend on tiles; groups get ⌊M / (C·C·3)⌋ tiles
    /// (C, the context side, is 448 for 224-px windows).
    #[arg(long, default_value = "230MiB", value_name = "SIZE")]
    pub task_memory: String,
    /// Tiles per group; overrides --task-memory.
    #[arg(long, value_name = "N")]
    pub group_size: Option<u32>,
    /// How tile chunks are compressed (docs/store.md has the measurements).
    #[arg(long, default_value_t = Compression::default(), value_name = "none|lzf|blosc-lz4|deflate")]
    pub compression: Compression,
    /// A grid cell is tissue when at least this fraction of its thumbnail
    /// pixels is tissue.
    #[arg(long, default_value_t = DEFAULT_MIN_FRACTION, value_name = "F")]
    pub min_tissue: f64,
    /// Rewrite stores that already exist and match their slide.
    #[arg(long)]
    pub force: bool,
    /// Threads to read and compress tiles with [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Use an --out that is not empty and is not a slidescale work directory
    /// (no WORK/.slidescale). slidescale marks it and from then on writes,
    /// and removes, only files of its own layout there; nothing else is touched.
    #[arg(long)]
    pub allow_nonempty_out: bool,
}

/// How tiles are cut: the window they are cut for, the cell size and the
/// resolution they are read at (DESIGN §3).
#[derive(clap::Args, Debug, Clone)]
pub struct GeometryArgs {
    /// Window side W the tiles are cut for: the model's input size. `run`
    /// takes it from the model; give it for a model whose input size is
    /// dynamic [split's default: 224].
    #[arg(long, value_name = "W")]
    pub window: Option<u32>,
    /// Grid cell (target patch) side T; strides must divide it [default: W].
    #[arg(long, value_name = "T")]
    pub tile: Option<u32>,
    /// Analyse at this many µm per pixel: the closest pyramid level not
    /// coarser, area-resampled when no level is within 2 % [default: the
    /// model config's "mpp", else level 0].
    #[arg(long, value_name = "X", conflicts_with = "level")]
    pub mpp: Option<f64>,
    /// Analyse this pyramid level as stored.
    #[arg(long, value_name = "N")]
    pub level: Option<u32>,
}

/// What `run`'s model says about how to cut tiles.
pub struct ModelView {
    /// The window side of its input.
    pub window: u32,
    /// The µm/px its config asks for.
    pub mpp: Option<f64>,
}

impl GeometryArgs {
    /// The geometry and resolution asked for; `model` (in `run`) gives the
    /// window and its config's resolution.
    pub fn resolve(&self, model: Option<&ModelView>) -> anyhow::Result<(TileGeometry, Resolution)> {
        let window = match model {
            Some(m) => m.window,
            None => self.window.unwrap_or(TileGeometry::PAPER.window),
        };
        let geometry = TileGeometry::new(window, self.tile)
            .map_err(|e| anyhow::anyhow!("--window/--tile: {e}"))?;
        let resolution = match (self.level, self.mpp) {
            (Some(n), _) => Resolution::Level(n),
            (None, Some(m)) if m.is_finite() && m > 0.0 => Resolution::Mpp(m),
            (None, Some(m)) => anyhow::bail!("--mpp must be a positive number, not {m}"),
            (None, None) => match model.and_then(|m| m.mpp) {
                Some(m) => Resolution::Mpp(m),
                None => Resolution::default(),
            },
        };
        Ok((geometry, resolution))
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let opts = options(&args, None)?;
    let work = adopt_out(&args)?;
    split_and_report(&work, &args.slides, &opts)
}

/// Split `slides` into `work` with `opts` (removing first the partial
/// stores of these slides that dead writers left), draw the bars and print
/// the summary; the exit status. Also a cluster run's split tasks.
pub fn split_and_report(
    work: &WorkDir,
    slides: &[PathBuf],
    opts: &SplitOptions,
) -> anyhow::Result<i32> {
    let names = check_slide_inputs(slides, work.root()).map_err(bad_input)?;
    work.remove_stale_store_partials(&names).with_context(|| {
        format!(
            "removing left-over partial files in {}",
            work.root().display()
        )
    })?;
    let progress = Progress::new();
    let report = match split_slides(slides, opts, &progress) {
        Ok(r) => r,
        Err(e @ SplitError::Inputs(_)) => return Err(bad_input(e)),
        Err(e) => return Err(classified_error(e, exit::FAILURE)),
    };
    print_summary(&report);
    for (s, e) in report.errors() {
        eprintln!("{}", explain(format!("error: {}: {e}", s.name), e));
    }
    Ok(report.exit_code())
}

/// The work directory `--out` names, checked to be slidescale's (created
/// and marked when new: `WorkDir::adopt`) — after the slide names are, so a
/// refused command leaves nothing behind. `split` and the local `run` start
/// here; the cluster `run` adopts `--out` before it submits.
pub fn adopt_out(args: &Args) -> anyhow::Result<WorkDir> {
    check_slide_inputs(&args.slides, &args.out).map_err(bad_input)?;
    let work = WorkDir::new(&args.out);
    work.adopt(args.allow_nonempty_out).map_err(bad_input)?;
    Ok(work)
}

/// The split options `args` ask for (also used by `run`, whose `model`
/// gives the window).
pub fn options(args: &Args, model: Option<&ModelView>) -> anyhow::Result<SplitOptions> {
    let (geometry, resolution) = args.geometry.resolve(model).map_err(bad_input)?;
    let group_size = match args.group_size {
        Some(n) => n,
        None => group_size_for_memory(
            parse_memory(&args.task_memory)
                .map_err(anyhow::Error::msg)
                .context("--task-memory")?,
            &geometry,
        ),
    };
    if group_size == 0 {
        anyhow::bail!("--group-size must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.min_tissue) {
        anyhow::bail!(
            "--min-tissue must be between 0 and 1, not {}",
            args.min_tissue
        );
    }
    Ok(SplitOptions {
        out: args.out.clone(),
        reader: args.reader,
        geometry,
        resolution,
        group_size,
        compression: args.compression,
        tissue: TissueParams {
            min_fraction: args.min_tissue,
            ..TissueParams::default()
        },
        force: args.force,
        threads: args.jobs.unwrap_or(0),
    })
}

/// One progress bar per slide, on stderr, only when it is a terminal.
pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    visible: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            bar: Mutex::new(None),
            visible: std::io::stderr().is_terminal(),
        }
    }
}

impl SplitObserver for Progress {
    fn slide_started(&self, name: &str, tiles: u64) {
        let target = if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(tiles), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} tiles, {rate}, {eta} left",
            )
            .expect("valid template")
            .with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} tiles/s", s.per_sec());
                },
            )
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        *self.bar.lock().unwrap() = Some(bar);
    }

    fn tiles_written(&self, _name: &str, n: u64) {
        if let Some(bar) = self.bar.lock().unwrap().as_ref() {
            bar.inc(n);
        }
    }

    fn slide_finished(&self, _report: &SlideReport) {
        if let Some(bar) = self.bar.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }
}

fn print_summary(report: &SplitReport) {
    let width = name_width(report.slides.iter().map(|s| s.name.as_str()));
    println!(
        "{:width$}  {:8} {:>7} {:>6} {:>10} {:>8} {:>8}",
        "slide", "status", "tiles", "groups", "bytes", "tiles/s", "seconds"
    );
    let (mut tiles, mut groups, mut bytes, mut written_tiles) = (0u64, 0u64, 0u64, 0u64);
    let mut counts = [0usize; 3];
    for s in &report.slides {
        let (status, i) = match &s.outcome {
            SlideOutcome::Written => ("written", 0),
            SlideOutcome::Skipped => ("skipped", 1),
            SlideOutcome::Failed(_) => ("FAILED", 2),
        };
        counts[i] += 1;
        let rate = match s.outcome {
            SlideOutcome::Written if s.seconds > 0.0 => {
                format!("{:.1}", s.tiles as f64 / s.seconds)
            }
            _ => "-".into(),
        };
        println!(
            "{:width$}  {:8} {:>7} {:>6} {:>10} {:>8} {:>8.2}",
            s.name,
            status,
            s.tiles,
            s.groups,
            human_bytes(s.bytes),
            rate,
            s.seconds
        );
        if let SlideOutcome::Failed(e) = &s.outcome {
            println!("{:width$}  cause: {e}", "");
        }
        if let Some(note) = &s.note {
            println!("{:width$}  note: {note}", "");
        }
        tiles += s.tiles;
        groups += s.groups as u64;
        bytes += s.bytes;
        if matches!(s.outcome, SlideOutcome::Written) {
            written_tiles += s.tiles;
        }
    }
    let rate = if report.seconds > 0.0 {
        written_tiles as f64 / report.seconds
    } else {
        0.0
    };
    println!(
        "total: {} slides ({} written, {} skipped, {} failed), {tiles} tiles in {groups} groups, \
         {}, {rate:.1} tiles/s written over {:.2} s with {} threads",
        report.slides.len(),
        counts[0],
        counts[1],
        counts[2],
        human_bytes(bytes),
        report.seconds,
        report.threads
    );
}

fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
