//! What a run submitted and how each task ended, kept in the run's job
//! directory so that `status`, `--resume` and `wait` need nothing else:
//!
//! * `submitted.jsonl`: one line per submitted job (appended by `run` and,
//!   later, by the master job);
//! * `exit/<key>/<task>`: `rc start end host`, written by the task itself
//!   (atomically) as it ends. A task that is neither queued nor has an exit
//!   record was killed (out of memory, time limit, node lost, cancelled).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ClusterError, Result};
use crate::job::JobId;

/// The stages of the hierarchical plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Split,
    Master,
    Process,
    Stitch,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Split => "split",
            Stage::Master => "master",
            Stage::Process => "process",
            Stage::Stitch => "stitch",
        }
    }
}

/// One submitted job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub job: JobId,
    pub stage: Stage,
    /// Names the script (`<key>.sh`), its logs and its exit records.
    pub key: String,
    /// Number of tasks (1 for a job that is not an array).
    pub tasks: u32,
    /// Slide of a process or stitch job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slide: Option<String>,
    /// Process arrays: task i scores group `groups[i-1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<u32>,
    /// Split arrays: task i splits slide `slides[i-1]` (its name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slides: Vec<String>,
    /// Unix time of submission.
    pub submitted: f64,
}

impl LedgerEntry {
    /// What task `task` works on, for messages: "slide a, group 7".
    pub fn task_subject(&self, task: u32) -> String {
        let i = task.saturating_sub(1) as usize;
        match self.stage {
            Stage::Split => match self.slides.get(i) {
                Some(s) => format!("slide {s:?}"),
                None => format!("task {task}"),
            },
            Stage::Master => "plan and submission".into(),
            Stage::Process => format!(
                "slide {:?}, group {}",
                self.slide.as_deref().unwrap_or("?"),
                self.groups.get(i).map_or("?".into(), u32::to_string)
            ),
            Stage::Stitch => format!("slide {:?}", self.slide.as_deref().unwrap_or("?")),
        }
    }
}

/// `JOBDIR/submitted.jsonl`.
pub fn ledger_path(job_dir: &Path) -> PathBuf {
    job_dir.join("submitted.jsonl")
}

/// Append one entry (a whole line per write, so a concurrent reader never
/// sees half of it).
pub fn append(job_dir: &Path, entry: &LedgerEntry) -> Result<()> {
    let path = ledger_path(job_dir);
    let line = format!(
        "{}\n",
        serde_json::to_string(entry).expect("ledger entry serialises")
    );
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(ClusterError::io(&path))?;
    f.write_all(line.as_bytes())
        .map_err(ClusterError::io(&path))?;
    f.sync_data().map_err(ClusterError::io(&path))
}

/// Every entry of a run, in submission order (empty before any submission).
pub fn read(job_dir: &Path) -> Result<Vec<LedgerEntry>> {
    let path = ledger_path(job_dir);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ClusterError::io(&path)(e)),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| ClusterError::Parse {
                command: path.display().to_string(),
                output: format!("{e}: {l}"),
            })
        })
        .collect()
}

/// How a task ended, as it recorded itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitRecord {
    pub code: i32,
    pub start: f64,
    pub end: f64,
    pub host: String,
}

/// The exit records of every task of job `key`, by task id.
pub fn exit_records(job_dir: &Path, key: &str) -> Result<Vec<(u32, ExitRecord)>> {
    let dir = job_dir.join("exit").join(key);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ClusterError::io(&dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(ClusterError::io(&dir))?;
        let Some(task) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue; // a temp file of a task still writing
        };
        let path = entry.path();
        let text = fs::read_to_string(&path).map_err(ClusterError::io(&path))?;
        out.push((
            task,
            parse_exit(&text).ok_or_else(|| ClusterError::Parse {
                command: path.display().to_string(),
                output: text.clone(),
            })?,
        ));
    }
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

fn parse_exit(text: &str) -> Option<ExitRecord> {
    let mut f = text.split_whitespace();
    Some(ExitRecord {
        code: f.next()?.parse().ok()?,
        start: f.next()?.parse().ok()?,
        end: f.next()?.parse().ok()?,
        host: f.next().unwrap_or("").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_exit_records_read_back() {
        let dir = slidescale_testutil::temp_dir("ledger");
        let e = LedgerEntry {
            job: JobId("12".into()),
            stage: Stage::Process,
            key: "process-0001-1".into(),
            tasks: 2,
            slide: Some("a b".into()),
            groups: vec![3, 9],
            slides: vec![],
            submitted: 1.5,
        };
        append(&dir, &e).unwrap();
        append(&dir, &e).unwrap();
        assert_eq!(read(&dir).unwrap(), vec![e.clone(), e.clone()]);
        assert_eq!(e.task_subject(2), "slide \"a b\", group 9");

        let ex = dir.join("exit/process-0001-1");
        fs::create_dir_all(&ex).unwrap();
        fs::write(ex.join("2"), "65 10.5 12.25 node7\n").unwrap();
        fs::write(ex.join(".1.999"), "0 1").unwrap();
        let recs = exit_records(&dir, "process-0001-1").unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].0, 2);
        assert_eq!(recs[0].1.code, 65);
        assert_eq!(recs[0].1.host, "node7");
        fs::remove_dir_all(dir).unwrap();
    }
}
