//! `slidescale report`: run statistics per stage from the tasks' timing
//! lines (serial time, wall time, speedup, parallel efficiency, slowest
//! tasks), the shape of the paper's Tables I–III.

use std::path::PathBuf;

use anyhow::{bail, Context};
use slidescale_runstats::report::report;
use slidescale_core::timing::{read_timings, timing_dir};
use slidescale_core::{exit, WorkDir};

/// Run statistics of a work directory, per stage.
///
/// Reads every timing line under WORK/logs/timing/ (one per task, written by
/// split, process and stitch) and prints per stage: tasks, serial time (sum
/// of the tasks' durations), wall time (last end − first start), speedup
/// (serial / wall) and parallel efficiency (core-seconds used / (wall ×
/// cores)), and the slowest tasks.
#[derive(clap::Args)]
pub struct Args {
    /// The work directory of a run.
    pub work: PathBuf,
    /// Cores the run had (its allocation); default: the most cores its tasks
    /// used at once, from their threads and overlap.
    #[arg(long)]
    pub cores: Option<u32>,
    /// How many of the slowest tasks to list per stage.
    #[arg(long, default_value_t = 5)]
    pub slowest: usize,
    /// Only these stages (split, process, stitch); default all.
    #[arg(long, value_delimiter = ',')]
    pub stage: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let work = WorkDir::new(&args.work);
    let dir = timing_dir(&work);
    let all = read_timings(&dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut lines = Vec::new();
    let mut unreadable = Vec::new();
    for line in all {
        match line {
            Ok(t) if args.stage.is_empty() || args.stage.contains(&t.stage) => lines.push(t),
            Ok(_) => {}
            Err(e) => unreadable.push(e),
        }
    }
    if lines.is_empty() {
        bail!(
            "no timing lines under {} (has anything run in this work directory?)",
            dir.display()
        );
    }
    let mut rep = report(&lines, args.cores, args.slowest);
    rep.unreadable = unreadable;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rep)?);
    } else {
        print!("{rep}");
    }
    Ok(exit::OK)
}
