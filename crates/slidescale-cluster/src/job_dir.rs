//! A run's job directory, `WORK/jobs/run-NNN/`: which there are, the next
//! one, and its settings file `config.json`, which every later step
//! (the master job, `status`, `--resume`) reads. Both the plan (which
//! creates job directories) and the scheduler status (which reads them) use
//! this module; neither needs the other for it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use slidescale_core::workdir::write_atomic;
use slidescale_core::WorkDir;

use crate::error::{ClusterError, Result};
use crate::job::{Resources, SchedulerKind};
use crate::scheduler::SchedulerOptions;

/// Settings of a run that its master job needs again (`config.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    pub scheduler: SchedulerKind,
    pub scheduler_options: SchedulerOptions,
    pub resources: Resources,
    pub max_array_size: Option<u32>,
    pub submit_args: Vec<String>,
    pub dry_run: bool,
    /// What the tasks of the run are: `run`'s stages or `batch`'s program.
    #[serde(default)]
    pub workflow: Workflow,
    /// Most tasks of the run running at once (`--max-running`), if capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_running: Option<u32>,
}

/// The two uses of the one hierarchical engine. Both have the same shape —
/// a first-level array over the inputs, a master job, one second-level
/// array per input (chunked at the array limit) and one final job per
/// input — and differ only in the `slidescale task` verbs their scripts
/// run and in whether the master first writes the look-up table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Workflow {
    /// `slidescale run`: split a slide, process a group, stitch a slide.
    #[default]
    Run,
    /// `slidescale batch`: the user's program per input (or the parts
    /// command), per part, then the gather command.
    Batch,
}

impl Workflow {
    /// The `slidescale task` verbs of the first level, the second level
    /// and the final job.
    pub fn verbs(self) -> [&'static str; 3] {
        match self {
            Workflow::Run => ["split", "process", "stitch"],
            Workflow::Batch => ["input", "part", "gather"],
        }
    }

    /// What a stage is called to the user.
    pub fn stage_label(self, stage: crate::ledger::Stage) -> &'static str {
        use crate::ledger::Stage;
        match (self, stage) {
            (_, Stage::Master) => "master",
            (w, Stage::Split) => w.verbs()[0],
            (w, Stage::Process) => w.verbs()[1],
            (w, Stage::Stitch) => w.verbs()[2],
        }
    }
}

/// The run directories `WORK/jobs/run-NNN`, oldest first.
pub fn run_dirs(work: &WorkDir) -> Result<Vec<PathBuf>> {
    Ok(numbered_runs(work)?.into_iter().map(|(_, p)| p).collect())
}

/// `WORK/jobs/run-NNN`, created, numbered after the highest there is (so
/// the newest run is always the last of [`run_dirs`]).
pub fn new_job_dir(work: &WorkDir) -> Result<PathBuf> {
    let jobs = work.jobs_dir();
    let last = numbered_runs(work)?.last().map_or(0, |(n, _)| *n);
    for n in last + 1.. {
        let dir = jobs.join(format!("run-{n:03}"));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ClusterError::io(&dir)(e)),
        }
    }
    unreachable!()
}

/// `(NNN, WORK/jobs/run-NNN)` in number order.
fn numbered_runs(work: &WorkDir) -> Result<Vec<(u32, PathBuf)>> {
    let jobs = work.jobs_dir();
    let entries = match fs::read_dir(&jobs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ClusterError::io(&jobs)(e)),
    };
    let mut dirs: Vec<(u32, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_str()?.strip_prefix("run-")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Write a run's `config.json` (atomically).
pub fn write_config(job_dir: &Path, config: &RunConfig) -> Result<()> {
    let cfg = job_dir.join("config.json");
    let text = serde_json::to_string_pretty(config).expect("config serialises");
    write_atomic(&cfg, text.as_bytes()).map_err(ClusterError::io(&cfg))
}

/// Read a run's `config.json`.
pub fn read_config(job_dir: &Path) -> Result<RunConfig> {
    let path = job_dir.join("config.json");
    let text = fs::read_to_string(&path).map_err(ClusterError::io(&path))?;
    serde_json::from_str(&text).map_err(|e| ClusterError::Parse {
        command: path.display().to_string(),
        output: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_dirs_are_numbered_and_listed_in_order() {
        let dir = slidescale_testutil::temp_dir("job-dirs");
        let work = WorkDir::new(&dir);
        assert!(run_dirs(&work).unwrap().is_empty());
        fs::create_dir_all(work.jobs_dir().join("not-a-run")).unwrap();
        fs::create_dir_all(work.jobs_dir().join("run-009")).unwrap();
        let made: Vec<PathBuf> = (0..2).map(|_| new_job_dir(&work).unwrap()).collect();
        let names: Vec<String> = run_dirs(&work)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // Numbered after the highest, so the newest is listed last.
        assert_eq!(names, ["run-009", "run-010", "run-011"]);
        assert_eq!(made[0], work.jobs_dir().join("run-010"));
        let config = RunConfig {
            scheduler: SchedulerKind::Sge,
            scheduler_options: SchedulerOptions::default(),
            resources: Resources {
                cores: 7,
                memory_mb: 2048,
                time: None,
                queue: Some("all.q".into()),
            },
            max_array_size: Some(1000),
            submit_args: vec!["-P lab".into()],
            dry_run: true,
            workflow: Workflow::Batch,
            max_running: Some(3),
        };
        write_config(&made[0], &config).unwrap();
        let back = read_config(&made[0]).unwrap();
        assert_eq!(
            (back.scheduler, back.resources, back.max_array_size),
            (SchedulerKind::Sge, config.resources, Some(1000))
        );
        assert_eq!(
            (back.workflow, back.max_running),
            (Workflow::Batch, Some(3))
        );
        assert_eq!(
            Workflow::Run.stage_label(crate::ledger::Stage::Process),
            "process"
        );
        assert_eq!(
            Workflow::Batch.stage_label(crate::ledger::Stage::Stitch),
            "gather"
        );
        assert!(read_config(&made[1]).is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
