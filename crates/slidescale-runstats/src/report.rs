//! Run statistics from the tasks' timing lines (`WORK/logs/timing/**.json`),
//! per stage, in the shape of the paper's Tables I–III:
//!
//! * task time: the sum of the tasks' durations, each on its own threads
//!   (what one task slot would need to run them one after the other);
//! * core time: the sum of duration × threads — the serial single-core time
//!   the paper's tables start from (its "133,034 CPU hours");
//! * wall time: last end − first start;
//! * speedup: core time / wall time, the paper's definition (serial
//!   single-core time over wall time; 3,788 for its 4,000-core run);
//! * task speedup: task time / wall time, the speedup over running the tasks
//!   one after the other on one task's threads. It equals the speedup when
//!   tasks are single-threaded and is `threads` times smaller otherwise;
//! * parallel efficiency: core time / (wall × cores) = speedup / cores.
//!   `cores` is given, or else the peak number of cores busy at once (tasks'
//!   threads summed over the tasks running at the same time).

use serde::Serialize;
use slidescale_core::timing::TaskTiming;

/// Statistics of one stage (or of the whole run, stage "all"). Field names
/// are those of `slidescale report --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageStats {
    pub stage: String,
    pub tasks: usize,
    pub failed: usize,
    /// Tasks that found their result already there.
    pub skipped: usize,
    /// Σ task seconds, each task on its own threads.
    pub task_s: f64,
    /// Σ task seconds × threads: the serial single-core time.
    pub core_s: f64,
    /// Last end − first start.
    pub wall_s: f64,
    /// `core_s / wall_s`: the paper's speedup (serial single-core time over
    /// wall time).
    pub speedup: f64,
    /// `task_s / wall_s`: the speedup over one task slot.
    pub task_speedup: f64,
    pub cores: u32,
    /// `true` when `cores` was given rather than measured.
    pub cores_given: bool,
    /// Most cores busy at once, from the timing lines.
    pub peak_cores: u32,
    /// `core_s / (wall_s × cores)` = `speedup / cores`.
    pub efficiency: f64,
    pub windows: u64,
    /// Windows per second of wall time.
    pub windows_per_s: f64,
    /// Σ of the process breakdown (zero for other stages).
    pub read_s: f64,
    pub normalise_s: f64,
    pub infer_s: f64,
    pub write_s: f64,
    /// The slowest tasks, slowest first.
    pub slowest: Vec<SlowTask>,
}

/// One of the slowest tasks of a stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowTask {
    pub slide: String,
    pub group: Option<u32>,
    pub seconds: f64,
    pub host: String,
    pub status: String,
}

/// The report: one row per stage in pipeline order, then "all".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStatistics {
    pub stages: Vec<StageStats>,
    /// Timing lines that could not be read (file: reason).
    pub unreadable: Vec<String>,
}

/// Compute the report. `cores`: the cores the run had, if known; `slowest`:
/// how many of the slowest tasks to list per stage.
pub fn report(lines: &[TaskTiming], cores: Option<u32>, slowest: usize) -> RunStatistics {
    let order = ["split", "process", "stitch"];
    let mut names: Vec<&str> = lines.iter().map(|t| t.stage.as_str()).collect();
    names.sort_by_key(|s| (order.iter().position(|o| o == s).unwrap_or(order.len()), *s));
    names.dedup();
    let mut stages: Vec<StageStats> = names
        .iter()
        .map(|name| {
            let tasks: Vec<&TaskTiming> = lines.iter().filter(|t| t.stage == *name).collect();
            stage_stats(name, &tasks, cores, slowest)
        })
        .collect();
    if stages.len() > 1 {
        let all: Vec<&TaskTiming> = lines.iter().collect();
        stages.push(stage_stats("all", &all, cores, slowest));
    }
    RunStatistics {
        stages,
        unreadable: Vec::new(),
    }
}

fn threads(t: &TaskTiming) -> u32 {
    t.threads.max(1)
}

fn stage_stats(
    name: &str,
    tasks: &[&TaskTiming],
    cores: Option<u32>,
    slowest: usize,
) -> StageStats {
    let sum = |f: fn(&TaskTiming) -> f64| tasks.iter().map(|t| f(t)).sum::<f64>();
    let task_s = sum(|t| t.seconds);
    let core_s = sum(|t| t.seconds * f64::from(threads(t)));
    let start = tasks.iter().map(|t| t.start).fold(f64::INFINITY, f64::min);
    let end = tasks
        .iter()
        .map(|t| t.end)
        .fold(f64::NEG_INFINITY, f64::max);
    let wall_s = if tasks.is_empty() {
        0.0
    } else {
        (end - start).max(0.0)
    };
    let peak_cores = peak_cores(tasks);
    let used = cores.unwrap_or(peak_cores).max(1);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let windows = tasks.iter().map(|t| t.windows).sum();
    let mut slow: Vec<&&TaskTiming> = tasks.iter().collect();
    slow.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    StageStats {
        stage: name.to_string(),
        tasks: tasks.len(),
        failed: tasks.iter().filter(|t| t.status == "failed").count(),
        skipped: tasks.iter().filter(|t| t.status == "skipped").count(),
        task_s,
        core_s,
        wall_s,
        speedup: ratio(core_s, wall_s),
        task_speedup: ratio(task_s, wall_s),
        cores: used,
        cores_given: cores.is_some(),
        peak_cores,
        efficiency: ratio(core_s, wall_s * f64::from(used)),
        windows,
        windows_per_s: ratio(windows as f64, wall_s),
        read_s: sum(|t| t.read_s),
        normalise_s: sum(|t| t.normalise_s),
        infer_s: sum(|t| t.infer_s),
        write_s: sum(|t| t.write_s),
        slowest: slow
            .iter()
            .take(slowest)
            .map(|t| SlowTask {
                slide: t.slide.clone(),
                group: t.group,
                seconds: t.seconds,
                host: t.host.clone(),
                status: t.status.clone(),
            })
            .collect(),
    }
}

/// Most cores in use at one instant: a sweep over start (+threads) and end
/// (−threads) events, ends first when they coincide with starts.
fn peak_cores(tasks: &[&TaskTiming]) -> u32 {
    let mut events: Vec<(f64, i64)> = Vec::with_capacity(tasks.len() * 2);
    for t in tasks {
        events.push((t.start, i64::from(threads(t))));
        events.push((t.end, -i64::from(threads(t))));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, d) in events {
        now += d;
        peak = peak.max(now);
    }
    peak as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(
        stage: &str,
        slide: &str,
        group: Option<u32>,
        start: f64,
        secs: f64,
        threads: u32,
    ) -> TaskTiming {
        TaskTiming {
            stage: stage.into(),
            slide: slide.into(),
            group,
            start,
            end: start + secs,
            seconds: secs,
            windows: 100,
            threads,
            host: "n1".into(),
            status: "ok".into(),
            infer_s: secs / 2.0,
            ..Default::default()
        }
    }

    /// Two single-threaded slots fully busy for 20 s, then one idle for 10 s.
    #[test]
    fn known_numbers_single_threaded() {
        let lines = vec![
            t("split", "a", None, 0.0, 5.0, 1),
            t("process", "a", Some(1), 10.0, 10.0, 1),
            t("process", "a", Some(2), 10.0, 10.0, 1),
            t("process", "a", Some(3), 20.0, 10.0, 1),
            t("process", "a", Some(4), 20.0, 20.0, 1),
            t("stitch", "a", None, 40.0, 2.0, 1),
        ];
        let r = report(&lines, None, 2);
        let names: Vec<&str> = r.stages.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(names, ["split", "process", "stitch", "all"]);
        let p = &r.stages[1];
        assert_eq!((p.tasks, p.task_s, p.wall_s), (4, 50.0, 30.0));
        assert_eq!(p.peak_cores, 2);
        // Single-threaded: both speedups are the same number.
        assert!((p.speedup - 50.0 / 30.0).abs() < 1e-12);
        assert_eq!(p.speedup, p.task_speedup);
        assert!((p.efficiency - 50.0 / 60.0).abs() < 1e-12);
        assert!((p.windows_per_s - 400.0 / 30.0).abs() < 1e-12);
        assert_eq!(p.infer_s, 25.0);
        assert_eq!(p.slowest[0].group, Some(4));
        assert_eq!(p.slowest.len(), 2);
        let all = &r.stages[3];
        assert_eq!((all.tasks, all.task_s, all.wall_s), (6, 57.0, 42.0));
        // Given cores override the measured peak.
        let r8 = report(&lines, Some(8), 0);
        assert!((r8.stages[1].efficiency - 50.0 / 240.0).abs() < 1e-12);
    }

    /// Seven-thread tasks, as in the paper: speedup and efficiency count
    /// cores, the task speedup counts slots.
    #[test]
    fn known_numbers_multi_threaded() {
        let lines: Vec<TaskTiming> = (0..6)
            .map(|i| {
                t(
                    "process",
                    "s",
                    Some(i + 1),
                    f64::from(i / 3) * 100.0,
                    100.0,
                    7,
                )
            })
            .collect();
        let r = report(&lines, Some(21), 1);
        let p = &r.stages[0];
        assert_eq!(r.stages.len(), 1);
        assert_eq!((p.task_s, p.core_s, p.wall_s), (600.0, 4200.0, 200.0));
        assert_eq!(p.peak_cores, 21);
        assert!((p.speedup - 21.0).abs() < 1e-12);
        assert!((p.task_speedup - 3.0).abs() < 1e-12);
        assert!((p.efficiency - 1.0).abs() < 1e-12);
    }

    /// The paper's run (Li, Mikailov & Chen 2023, Table III): 27,280 tasks
    /// of 7 cores, 133,034 CPU-hours in all, 35.12 h of wall time on 4,000
    /// cores. Its speedup, 3,788, is core-hours over wall-hours; over one
    /// 7-core task the same run is 7 times less.
    #[test]
    fn the_papers_speedup_is_core_hours_over_wall_hours() {
        let (groups, slots, waves) = (27_280u32, 571u32, 48u32);
        let each = 133_034.0 * 3600.0 / f64::from(groups) / 7.0;
        let wall = 35.12 * 3600.0;
        let gap = (wall - each) / f64::from(waves - 1);
        let lines: Vec<TaskTiming> = (0..groups)
            .map(|g| {
                t(
                    "process",
                    "s",
                    Some(g + 1),
                    f64::from(g / slots) * gap,
                    each,
                    7,
                )
            })
            .collect();
        let p = &report(&lines, Some(4000), 0).stages[0];
        assert!((p.core_s / 3600.0 - 133_034.0).abs() < 1e-6, "{}", p.core_s);
        assert!((p.wall_s - wall).abs() < 1e-6, "{}", p.wall_s);
        assert_eq!(p.speedup.round(), 3788.0);
        assert!((p.task_speedup * 7.0 - p.speedup).abs() < 1e-9);
        assert!((p.efficiency - p.speedup / 4000.0).abs() < 1e-12);
    }

    #[test]
    fn touching_tasks_do_not_overlap() {
        let a = t("process", "s", Some(1), 0.0, 10.0, 1);
        let b = t("process", "s", Some(2), 10.0, 10.0, 1);
        assert_eq!(peak_cores(&[&a, &b]), 1);
    }
}
