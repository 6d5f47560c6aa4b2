//! `slidescale report`: run statistics per stage from the tasks' timing
//! lines (task, core and wall time, speedup, parallel efficiency, slowest
//! tasks), the shape of the paper's Tables I–III. The numbers come from
//! `slidescale_runstats::report`; this module renders them.

use std::path::PathBuf;

use anyhow::{bail, Context};
use slidescale_core::timing::{read_timings, timing_dir};
use slidescale_core::{exit, WorkDir};
use slidescale_runstats::report::{report, RunStatistics, StageStats};

/// Run statistics of a work directory, per stage.
///
/// Reads every timing line under WORK/logs/timing/ (one per task, written by
/// split, process and stitch) and prints per stage: tasks, task time (sum of
/// the tasks' durations), core time (sum of duration × threads: the serial
/// single-core time), wall time (last end − first start), speedup (core
/// time / wall time, the paper's definition), the speedup over one task
/// on its own threads (task time / wall time), parallel efficiency (speedup / cores), and
/// the slowest tasks.
#[derive(clap::Args)]
#[command(
    after_help = "JSON (--json): {\"stages\": [{\"stage\", \"tasks\", \"failed\", \
\"skipped\", \"task_s\", \"core_s\", \"wall_s\", \"speedup\" (core_s / wall_s), \
\"task_speedup\" (task_s / wall_s), \"cores\", \"cores_given\", \"peak_cores\", \
\"efficiency\", \"windows\", \"windows_per_s\", \"read_s\", \"normalise_s\", \"infer_s\", \
\"write_s\", \"slowest\": [{\"slide\", \"group\", \"seconds\", \"host\", \"status\"}]}], \
\"unreadable\": [\"file: reason\"]}; times in seconds, stage \"all\" last when there \
are several stages."
)]
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
    /// Print JSON instead of a table (fields below).
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
        print!("{}", render(&rep));
    }
    Ok(exit::OK)
}

/// `3725.5` → `1:02:05.5`.
pub fn hms(s: f64) -> String {
    let h = (s / 3600.0).floor();
    let m = ((s - h * 3600.0) / 60.0).floor();
    let sec = s - h * 3600.0 - m * 60.0;
    format!("{}:{:02}:{:04.1}", h as u64, m as u64, sec)
}

/// The report as the table `slidescale report` prints.
fn render(rep: &RunStatistics) -> String {
    let mut out = format!(
        "{:<8} {:>6} {:>6} {:>13} {:>13} {:>13} {:>8} {:>8} {:>6} {:>10} {:>10}\n",
        "stage",
        "tasks",
        "failed",
        "task time",
        "core time",
        "wall",
        "speedup",
        "vs task",
        "cores",
        "efficiency",
        "windows/s"
    );
    for s in &rep.stages {
        let cores = format!("{}{}", s.cores, if s.cores_given { "" } else { "*" });
        out += &format!(
            "{:<8} {:>6} {:>6} {:>13} {:>13} {:>13} {:>8.2} {:>8.2} {:>6} {:>9.1}% {:>10.1}\n",
            s.stage,
            s.tasks,
            s.failed,
            hms(s.task_s),
            hms(s.core_s),
            hms(s.wall_s),
            s.speedup,
            s.task_speedup,
            cores,
            100.0 * s.efficiency,
            s.windows_per_s
        );
    }
    out += "speedup: core time (duration × threads, the serial single-core time) / wall time, \
            as in the paper's Tables I–III; vs task: task time / wall time, the speedup over one task \
            on its own threads\n";
    if rep.stages.iter().any(|s| !s.cores_given) {
        out += "* cores measured: most cores busy at once (give --cores for the allocation)\n";
    }
    for s in rep
        .stages
        .iter()
        .filter(|s| s.stage == "process" && s.task_s > 0.0)
    {
        out += &process_breakdown(s);
    }
    for s in rep
        .stages
        .iter()
        .filter(|s| s.stage != "all" && !s.slowest.is_empty())
    {
        out += &format!("slowest {} tasks:\n", s.stage);
        for t in &s.slowest {
            let group = t.group.map_or(String::new(), |g| format!(" group {g}"));
            out += &format!(
                "  {:>10.2} s  {:?}{group}  {} {}\n",
                t.seconds, t.slide, t.host, t.status
            );
        }
    }
    for u in &rep.unreadable {
        out += &format!("unreadable timing line: {u}\n");
    }
    out
}

/// Where a process stage's task time went.
fn process_breakdown(s: &StageStats) -> String {
    let pct = |x: f64| 100.0 * x / s.task_s;
    format!(
        "process time: read {:.1}%, normalise {:.1}%, infer {:.1}%, write {:.1}%\n",
        pct(s.read_s),
        pct(s.normalise_s),
        pct(s.infer_s),
        pct(s.write_s)
    )
}
