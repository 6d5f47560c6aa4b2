//! The one JSON timing line every task writes (DESIGN §6), from which run
//! statistics (serial time, wall time, speedup, parallel efficiency) are
//! computed. `process` fills the stage breakdown; other stages leave it zero.
//!
//! Each task writes its line atomically to its own file,
//! `WORK/logs/timing/<stage>/<slide>/<task>.json`, and prints it on stdout:
//! one file per task survives retries and shared file systems without
//! interleaved appends.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::workdir::{write_atomic, WorkDir};

/// Timing of one task: one slide split, one group processed, one slide stitched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskTiming {
    /// "split", "process" or "stitch".
    pub stage: String,
    pub slide: String,
    /// 1-based group id for `process`; absent for per-slide stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
    /// Unix time (seconds) when the task started and ended.
    pub start: f64,
    pub end: f64,
    /// end − start.
    pub seconds: f64,
    #[serde(default)]
    pub read_s: f64,
    #[serde(default)]
    pub normalise_s: f64,
    #[serde(default)]
    pub infer_s: f64,
    #[serde(default)]
    pub write_s: f64,
    /// Windows scored (process) or tiles written (split).
    #[serde(default)]
    pub windows: u64,
    #[serde(default)]
    pub windows_per_s: f64,
    /// Cores the task was given.
    #[serde(default)]
    pub threads: u32,
    #[serde(default)]
    pub host: String,
    /// "ok", "skipped" (result already there) or "failed".
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A `process` task that failed because its store is damaged (a tile
    /// or coordinate checksum did not match): resume splits the slide again
    /// when it is unchanged (`slidescale_pipeline::split::store_decision`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub damaged_store: bool,
}

impl TaskTiming {
    /// File this task's line is written to.
    pub fn path(&self, work: &WorkDir) -> PathBuf {
        let task = match self.group {
            Some(g) => crate::workdir::group_label(g),
            None => "slide".to_string(),
        };
        work.timing_slide_dir(&self.stage, &self.slide)
            .join(format!("{task}.json"))
    }

    /// Write the line to its file (atomically) and return it.
    pub fn record(&self, work: &WorkDir) -> std::io::Result<String> {
        let line = serde_json::to_string(self).expect("timing serialises");
        write_atomic(&self.path(work), format!("{line}\n").as_bytes())?;
        Ok(line)
    }
}

/// `WORK/logs/timing`.
pub fn timing_dir(work: &WorkDir) -> PathBuf {
    work.timing_dir()
}

/// Every timing line under `dir` (recursively), in path order. Lines that do
/// not parse are returned as errors with their file, not dropped silently.
pub fn read_timings(dir: &Path) -> std::io::Result<Vec<Result<TaskTiming, String>>> {
    let mut files = Vec::new();
    collect_json(dir, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.push(serde_json::from_str(line).map_err(|e| format!("{}: {e}", file.display())));
        }
    }
    Ok(out)
}

fn collect_json(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_json(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "jsonl")
        {
            files.push(path);
        }
    }
    Ok(())
}

/// This machine's name, for `host`.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Seconds since the Unix epoch, for `start`/`end`.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_line_reads_back() {
        let dir = std::env::temp_dir().join(format!("slidescale-timing-{}", std::process::id()));
        let work = WorkDir::new(&dir);
        let t = TaskTiming {
            stage: "process".into(),
            slide: "a b".into(),
            group: Some(3),
            start: 10.0,
            end: 12.5,
            seconds: 2.5,
            windows: 400,
            status: "ok".into(),
            ..Default::default()
        };
        t.record(&work).unwrap();
        assert!(t
            .path(&work)
            .ends_with("logs/timing/process/a b/000003.json"));
        let back = read_timings(&timing_dir(&work)).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].as_ref().unwrap(), &t);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
