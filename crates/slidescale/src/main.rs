//! `slidescale`: the command-line front end. Each subcommand lives in its own
//! module under `commands/` and is a thin layer over a library crate; this
//! file only parses arguments, sets up logging and maps errors to exit codes.

mod commands;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "slidescale",
    version,
    // `--version` also says which OpenSlide library is in use, so it is
    // ours (commands::version), not clap's.
    disable_version_flag = true,
    arg_required_else_help = true,
    about = "Pixel-wise CNN heatmaps over whole-slide images, from one laptop to an HPC cluster",
    long_about = "slidescale runs a trained ONNX model as a sliding window over whole-slide \
images (Aperio SVS, tiled TIFF, NDPI, MRXS, DICOM, ... through OpenSlide), following \
Li, Mikailov & Chen (IEEE TAI 2023): split slides into grouped HDF5 patch stores, \
score every group as an independent task (in-process or as scheduler array jobs), \
stitch per-group scores into heatmaps.\n\nTypical use:\n  \
slidescale run slides/*.svs --model model.onnx --out work/\n  \
slidescale status work/"
)]
struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// OpenSlide library to load [default: $SLIDESCALE_OPENSLIDE, then
    /// $SLIDESCALE_HOME/lib/libopenslide.so.1, then the system's libopenslide.so.0].
    #[arg(long, global = true, value_name = "PATH")]
    openslide: Option<PathBuf>,
    /// Print the version and the OpenSlide library in use.
    #[arg(short = 'V', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Segment tissue and write one grouped HDF5 patch store per slide.
    Split(commands::split::Args),
    /// Write the look-up table of global group ids (WORK/lookup.tsv).
    Plan(commands::plan::Args),
    /// Score one group of one slide: the unit a scheduler runs.
    Process(commands::process::Args),
    /// Stitch a slide's group results into a heatmap (.npy and .png).
    Stitch(commands::stitch::Args),
    /// Agreement and speed-up of a fast scoring mode vs exact sliding fp32 on a work directory's tiles.
    CheckFast(commands::check_fast::Args),
    /// Static int8 (QDQ) copy of a model, calibrated on a work directory's stored tiles.
    Quantize(commands::quantize::Args),
    /// Everything: split, plan, process every group, stitch (local or on a cluster).
    Run(Box<commands::run::Args>),
    /// Your own per-input program (and per-part, with --parts) as tasks, local or on a cluster.
    Batch(Box<commands::batch::Args>),
    /// Lesion detections from every heatmap: CSV (prob,X,Y level 0), GeoJSON, ASAP XML.
    Detect(commands::detect::Args),
    /// Heatmaps as viewers open them: pyramidal TIFF (probability map, overlay), QuPath GeoJSON.
    Export(commands::export::Args),
    /// Lesion FROC and slide-level AUC per stride: the paper's Tables IV and V, curves.
    Evaluate(Box<commands::evaluate::Args>),
    /// What is done, running, failed and missing, per slide and overall.
    Status(commands::status::Args),
    /// Run statistics per stage: serial time, wall time, speedup, efficiency.
    Report(commands::report::Args),
    /// Predict wall time and efficiency of a run on a modelled cluster.
    Simulate(commands::simulate::Args),
    /// (Run by a cluster run's master job) submit the per-slide process arrays and stitch jobs.
    SubmitGroups(commands::submit_groups::Args),
    /// (Run by a cluster run's job scripts) one task of a run's job spec.
    Task(commands::task::Args),
}

fn main() {
    exit_quietly_on_closed_stdout();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    if let Some(path) = cli.openslide {
        slidescale_slide::openslide::use_library(path);
    }
    if cli.version {
        print!("{}", commands::version::render());
        std::process::exit(0);
    }
    let Some(command) = cli.command else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingSubcommand,
                "a subcommand is required",
            )
            .exit()
    };
    let result = match command {
        Command::Split(args) => commands::split::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Process(args) => commands::process::run(args),
        Command::Stitch(args) => commands::stitch::run(args),
        Command::Run(args) => commands::run::run(*args),
        Command::CheckFast(args) => commands::check_fast::run(args),
        Command::Quantize(args) => commands::quantize::run(args),
        Command::Batch(args) => commands::batch::run(*args),
        Command::Detect(args) => commands::detect::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Evaluate(args) => commands::evaluate::run(*args),
        Command::Status(args) => commands::status::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Simulate(args) => commands::simulate::run(args),
        Command::SubmitGroups(args) => commands::submit_groups::run(args),
        Command::Task(args) => commands::task::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {}", commands::one_line(&err));
            std::process::exit(commands::exit_code_for(&err));
        }
    }
}

/// `slidescale status WORK | head` must end quietly when `head` has read
/// enough, as `cat` does, not panic in `println!`: Rust ignores SIGPIPE, so
/// restore its default (slidescale writes to no child's stdin, where that
/// would matter).
fn exit_quietly_on_closed_stdout() {
    // SAFETY: called first in main, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
