//! `slidescale status`: what is done, failed and missing in a work directory.

use std::path::PathBuf;

use slidescale_core::{exit, WorkDir};
use slidescale_pipeline::status::{work_status, SlideStatus};

use super::cluster::print_scheduler_section;
use super::name_width;

/// Per slide and overall: groups done, missing, failed (with the error), windows scored.
#[derive(clap::Args)]
#[command(
    after_help = "Exit status 0 when every slide has all its group results and \
its heatmap, 1 otherwise. Judged from the files in WORK, so it is right after a crash; \
for a cluster run the scheduler's view of pending, running and failed tasks follows."
)]
pub struct Args {
    /// Work directory of a run.
    pub work: PathBuf,
    /// Show every failed group's error, not just the first few.
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of tables (every failed group is listed).
    #[arg(long, long_help = super::status_view::JSON_HELP)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if !args.work.is_dir() {
        anyhow::bail!("{}: no such work directory", args.work.display());
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
    if let Some(s) = &status.settings {
        println!(
            "run: model {}, stride {}, stain {}",
            s.model, s.stride, s.stain
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
