//! `slidescale status`: what is done, failed and missing in a work directory.

use std::path::PathBuf;

use slidescale_core::{exit, WorkDir};
use slidescale_pipeline::status::{verify_work, work_status, SlideStatus, SlideVerification};

use super::cluster::print_scheduler_section;
use super::name_width;

/// Per slide and overall: groups done, missing, failed (with the error), windows scored.
#[derive(clap::Args)]
#[command(
    after_help = "Exit status 0 when every slide has all its group results and \
its heatmap (for a batch: every task done), 1 otherwise; with --verify, 65 when any \
store or result (for a batch: any output of a done task) is damaged. \
Judged from the files in WORK, so it is right after a crash; \
for a cluster run the scheduler's view of pending, running and failed tasks follows."
)]
pub struct Args {
    /// Work directory of a run.
    pub work: PathBuf,
    /// Show every failed group's error, not just the first few.
    #[arg(long)]
    pub all: bool,
    /// Also read every tile of every store and check it, and every result,
    /// against its checksum (for a batch: every output of a done task
    /// against the size and CRC-32 recorded when it completed); list what
    /// is damaged (exit 65 if anything is).
    #[arg(long, conflicts_with = "json")]
    pub verify: bool,
    /// Print JSON instead of tables (every failed group is listed).
    #[arg(long, long_help = super::status_view::JSON_HELP)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if !args.work.is_dir() {
        anyhow::bail!("{}: no such work directory", args.work.display());
    }
    if args
        .work
        .join(slidescale_pipeline::batch::BATCH_FILE)
        .exists()
    {
        return super::batch_status::print_status(&args.work, args.json, args.verify);
    }
    let work = WorkDir::new(&args.work);
    let status = work_status(&work)?;
    let code = if status.is_complete() {
        exit::OK
    } else {
        exit::FAILURE
    };
    if args.json {
        super::status_view::print_json(&args.work, &status)?;
        return Ok(code);
    }
    if let Some(s) = &status.spec {
        println!(
            "run: model {}, stride {}, stain {}",
            s.execution.model.display(),
            s.identity.stride,
            s.identity.stain.method
        );
    }
    let width = name_width(status.slides.iter().map(|s| s.name.as_str()));
    println!(
        "{:width$}  {:>6} {:>6} {:>7} {:>6} {:>12}  heatmap",
        "slide", "groups", "done", "missing", "failed", "windows"
    );
    for s in &status.slides {
        print_row(s, width);
    }
    print_row(&status.total(), width);
    let failed = status.total().failed;
    let shown = if args.all { failed.len() } else { 5 };
    for (s, k, e) in status
        .slides
        .iter()
        .flat_map(|s| s.failed.iter().map(move |(k, e)| (&s.name, k, e)))
        .take(shown)
    {
        println!("failed: {s} group {k}: {e}");
    }
    if failed.len() > shown {
        println!("… and {} more failed groups (--all)", failed.len() - shown);
    }
    for s in status.slides.iter().filter(|s| s.error.is_some()) {
        println!("error: {}: {}", s.name, s.error.as_deref().unwrap_or(""));
    }
    print_scheduler_section(&args.work)?;
    if args.verify {
        let found = verify_work(&work)?;
        print_verification(&found);
        if found.iter().any(SlideVerification::is_damaged) {
            return Ok(exit::BAD_INPUT);
        }
    }
    Ok(code)
}

fn print_row(s: &SlideStatus, width: usize) {
    let groups = s.groups.map_or("-".to_string(), |g| g.to_string());
    let heatmap = if s.name == "total" {
        ""
    } else if s.heatmap {
        "yes"
    } else {
        "no"
    };
    println!(
        "{:width$}  {:>6} {:>6} {:>7} {:>6} {:>12}  {heatmap}",
        s.name,
        groups,
        s.done,
        s.missing + s.invalid,
        s.failed.len(),
        s.windows
    );
}

/// One line per damaged part, then what was checked.
fn print_verification(found: &[SlideVerification]) {
    for v in found {
        if let Some(e) = &v.store_error {
            println!("damaged: {}: store: {e}", v.name);
        }
        for d in &v.store_damage {
            println!("damaged: {}: store {d}", v.name);
        }
        for (k, why) in &v.result_damage {
            println!("damaged: {}: result group {k}: {why}", v.name);
        }
        if let Some(why) = &v.heatmap_damage {
            println!("damaged: {}: heatmap: {why}", v.name);
        }
    }
    let tiles: u64 = found.iter().map(|v| v.tiles).sum();
    let results: u32 = found.iter().filter_map(|v| v.results).sum();
    let damaged = found.iter().filter(|v| v.is_damaged()).count();
    let unjudged = if found.iter().any(|v| v.results.is_none()) {
        " (results not checked without run.json)"
    } else {
        ""
    };
    println!(
        "verify: {} stores ({tiles} tiles) and {results} results checked{unjudged}: {}",
        found.len(),
        if damaged == 0 {
            "no damage".to_string()
        } else {
            format!("{damaged} slide(s) damaged")
        }
    );
}
