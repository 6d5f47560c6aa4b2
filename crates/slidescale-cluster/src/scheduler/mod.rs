//! One interface over the batch systems: write a job's directives, submit a
//! script with dependencies, list what is still queued, cancel.
//!
//! Everything goes through the scheduler's own command-line clients
//! (`sbatch`/`squeue`/`scontrol`/`scancel`, `qsub`/`qstat`/`qconf`/`qdel`,
//! PBS `qsub`/`qstat`/`qmgr`/`qdel`), called with argument vectors, never
//! through a shell.

mod pbs;
mod sge;
mod slurm;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

pub use pbs::Pbs;
pub use sge::Sge;
pub use slurm::Slurm;

use crate::error::{ClusterError, Result};
use crate::job::{Dependency, JobId, JobSpec, QueuedTask, SchedulerKind};

/// A batch system that runs array jobs.
pub trait Executor {
    /// The most tasks one array job may have on this cluster, as the
    /// scheduler's configuration says (SLURM `MaxArraySize` − 1, since task
    /// ids start at 1; SGE `max_aj_tasks`; PBS `max_array_size`).
    fn max_array_tasks(&self) -> Result<u32>;

    /// The limit assumed when the scheduler cannot be asked (a dry run on a
    /// machine without it): the scheduler's default.
    fn default_max_array_tasks(&self) -> u32;

    /// Shebang and directive lines for `job`.
    fn directives(&self, job: &JobSpec) -> String;

    /// A bash statement that sets `SS_TASK` to this task's id (1 for a job
    /// that is not an array).
    fn task_id_setup(&self) -> &'static str;

    /// Submit the script file `script`, to start after `after` have ended
    /// (as `dep` says); `extra` are passed to the submit command as they
    /// are (e.g. `--account=x`). Returns the scheduler's job id.
    fn submit(
        &self,
        script: &Path,
        after: &[JobId],
        dep: Dependency,
        extra: &[String],
    ) -> Result<JobId>;

    /// Tasks of `jobs` that the scheduler still has queued or running.
    /// Finished tasks are absent (their outcome is in the task's exit record).
    fn queue(&self, jobs: &[JobId]) -> Result<Vec<QueuedTask>>;

    /// Cancel `jobs` (every task of an array).
    fn cancel(&self, jobs: &[JobId]) -> Result<()>;

    /// The complete script: directives, then how the task finds its id,
    /// then the body.
    fn render(&self, job: &JobSpec) -> String {
        format!(
            "{}\n{}\n{}",
            self.directives(job),
            self.task_id_setup(),
            job.body
        )
    }
}

/// Site settings a scheduler needs beyond the resources of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerOptions {
    /// SGE parallel environment for multi-core tasks (`-pe NAME cores`).
    pub sge_pe: String,
    /// SGE resource that carries a task's memory (e.g. `h_vmem`), if any.
    pub sge_memory_resource: Option<String>,
}

impl Default for SchedulerOptions {
    fn default() -> SchedulerOptions {
        SchedulerOptions {
            sge_pe: "smp".into(),
            sge_memory_resource: None,
        }
    }
}

/// The executor for `kind`.
pub fn executor(kind: SchedulerKind, opts: &SchedulerOptions) -> Box<dyn Executor> {
    match kind {
        SchedulerKind::Slurm => Box::new(Slurm),
        SchedulerKind::Sge => Box::new(Sge {
            pe: opts.sge_pe.clone(),
            memory_resource: opts.sge_memory_resource.clone(),
        }),
        SchedulerKind::Pbs => Box::new(Pbs),
    }
}

/// Run a scheduler client and return its stdout. Variables that a job's own
/// scheduler sets (`SLURM_*`, `SBATCH_*`, `SGE_TASK_*`, `PBS_*`…) are removed
/// so that a master job submitting children does not pass its own job's
/// settings on to them; `SLURM_CONF` (which cluster to talk to) is kept.
pub(crate) fn run_client<I, S>(scheduler: &'static str, program: &str, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args).env("LC_ALL", "C");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let inherited = (key.starts_with("SLURM_") && key != "SLURM_CONF")
            || key.starts_with("SBATCH_")
            || key.starts_with("PBS_")
            || matches!(
                &*key,
                "JOB_ID" | "SGE_TASK_ID" | "SGE_TASK_FIRST" | "SGE_TASK_LAST" | "SGE_TASK_STEPSIZE"
            );
        if inherited {
            cmd.env_remove(&*key);
        }
    }
    let shown = describe(&cmd);
    let out = cmd.output().map_err(|source| ClusterError::NoClient {
        program: program.to_string(),
        scheduler,
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let msg = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        return Err(ClusterError::Command {
            command: shown,
            status: out.status.to_string(),
            stderr: msg.trim().lines().take(5).collect::<Vec<_>>().join(" / "),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Submit `script` with `program args… extra… script`; returns the client's
/// stdout (the job id, in the scheduler's own format).
pub(crate) fn submit_script(
    scheduler: &'static str,
    program: &str,
    args: Vec<String>,
    extra: &[String],
    script: &Path,
) -> Result<String> {
    let argv = args.iter().chain(extra).map(OsStr::new);
    run_client(scheduler, program, argv.chain([script.as_os_str()]))
}

/// Job ids joined by `sep`, as a dependency or cancel list wants them.
pub(crate) fn join_ids(ids: &[JobId], sep: &str) -> String {
    let ids: Vec<&str> = ids.iter().map(|j| j.0.as_str()).collect();
    ids.join(sep)
}

/// `program arg…` for error messages.
fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&crate::shell::shell_quote(&a.to_string_lossy()));
    }
    s
}

/// Value of a `Key = value` / `key value` line in a configuration listing.
pub(crate) fn config_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let mut it = line.split_whitespace();
        if it.next()? != key {
            return None;
        }
        let v = it.next()?;
        if v == "=" {
            it.next()
        } else {
            Some(v)
        }
    })
}

/// Common directive-line writer: `prefix value` lines, one per item.
pub(crate) fn directive_lines(prefix: &str, items: &[String]) -> String {
    let mut s = String::from("#!/bin/bash\n");
    for item in items {
        s.push_str(prefix);
        s.push(' ');
        s.push_str(item);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_running_is_each_schedulers_own_array_cap() {
        let job = |tasks| JobSpec {
            name: "ss-x".into(),
            tasks,
            max_running: Some(3),
            resources: crate::job::Resources {
                cores: 1,
                memory_mb: 100,
                time: None,
                queue: None,
            },
            sched_log_dir: None,
            body: String::new(),
        };
        let opts = SchedulerOptions::default();
        let d = |k| executor(k, &opts).directives(&job(Some(9)));
        assert!(d(SchedulerKind::Slurm).contains("#SBATCH --array=1-9%3\n"));
        assert!(d(SchedulerKind::Sge).contains("#$ -t 1-9\n#$ -tc 3\n"));
        assert!(d(SchedulerKind::Pbs).contains("#PBS -W max_run_subjobs=3\n"));
        // A job that is not an array has nothing to cap.
        let plain = executor(SchedulerKind::Sge, &opts).directives(&job(None));
        assert!(!plain.contains("-tc"), "{plain}");
    }

    #[test]
    fn config_values_in_both_styles() {
        let slurm = "MaxArraySize            = 1001\nMaxJobCount = 10000\n";
        assert_eq!(config_value(slurm, "MaxArraySize"), Some("1001"));
        let sge = "max_aj_instances             2000\nmax_aj_tasks                 75000\n";
        assert_eq!(config_value(sge, "max_aj_tasks"), Some("75000"));
        assert_eq!(config_value(sge, "nope"), None);
    }

    #[test]
    fn a_missing_client_is_named() {
        let err = run_client("SLURM", "/nonexistent/sbatch", ["--version"]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/sbatch") && msg.contains("SLURM"),
            "{msg}"
        );
    }

    #[test]
    fn a_refusing_client_reports_its_stderr() {
        let err = run_client("test", "sh", ["-c", "echo nope >&2; exit 3"]).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
