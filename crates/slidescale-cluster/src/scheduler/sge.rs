//! Son of Grid Engine / Univa: `qsub -terse -t`, `-hold_jid`, `qstat -g d`.
//!
//! Two SGE habits matter here: `-hold_jid` releases dependants whatever the
//! exit status of the jobs they wait for (slidescale's dependants check
//! completeness themselves), and an exit status of 99 or 100 has a meaning
//! (requeue, error state), which the task wrapper maps away.

use std::path::Path;

use super::{config_value, directive_lines, join_ids, run_client, submit_script, Executor};
use crate::error::{ClusterError, Result};
use crate::job::{Dependency, JobId, JobSpec, QueueState, QueuedTask};
use crate::shell::directive_safe;

/// Grid Engine through its command-line clients.
pub struct Sge {
    /// Parallel environment for multi-core tasks (`-pe smp N`).
    pub pe: String,
    /// Resource that carries a task's memory (`-l h_vmem=…`), if the
    /// cluster wants one; SGE divides it per slot.
    pub memory_resource: Option<String>,
}

const NAME: &str = "SGE";

impl Executor for Sge {
    fn max_array_tasks(&self) -> Result<u32> {
        let out = run_client(NAME, "qconf", ["-sconf"])?;
        let value = config_value(&out, "max_aj_tasks").ok_or_else(|| ClusterError::Parse {
            command: "qconf -sconf".into(),
            output: "no max_aj_tasks line".into(),
        })?;
        match value.parse::<u32>() {
            Ok(0) => Ok(u32::MAX), // 0 = unlimited
            Ok(n) => Ok(n),
            Err(_) => Err(ClusterError::Parse {
                command: "qconf -sconf".into(),
                output: format!("max_aj_tasks {value}"),
            }),
        }
    }

    fn default_max_array_tasks(&self) -> u32 {
        75000
    }

    fn directives(&self, job: &JobSpec) -> String {
        let r = &job.resources;
        let mut items = vec![format!("-N {}", job.name), "-S /bin/bash".into()];
        if let Some(n) = job.tasks {
            items.push(format!("-t 1-{n}"));
            // `-tc K`: SGE runs at most K tasks of the array at once.
            if let Some(k) = job.max_running {
                items.push(format!("-tc {k}"));
            }
        }
        if r.cores > 1 {
            items.push(format!("-pe {} {}", self.pe, r.cores));
        }
        if let Some(res) = &self.memory_resource {
            let per_slot = r.memory_mb.div_ceil(u64::from(r.cores));
            items.push(format!("-l {res}={per_slot}M"));
        }
        if let Some(t) = &r.time {
            items.push(format!("-l h_rt={t}"));
        }
        if let Some(q) = &r.queue {
            items.push(format!("-q {q}"));
        }
        items.push("-j y".into());
        match job.sched_log_dir.as_deref().and_then(Path::to_str) {
            // A directory: SGE names the files NAME.oJOB[.TASK] inside it.
            Some(dir) if directive_safe(dir) => items.push(format!("-o {dir}/")),
            _ => items.push("-o /dev/null".into()),
        }
        directive_lines("#$", &items)
    }

    fn task_id_setup(&self) -> &'static str {
        // SGE sets SGE_TASK_ID to the word "undefined" outside arrays.
        "SS_TASK=${SGE_TASK_ID:-undefined}; [ \"$SS_TASK\" = undefined ] && SS_TASK=1"
    }

    fn submit(
        &self,
        script: &Path,
        after: &[JobId],
        _dep: Dependency,
        extra: &[String],
    ) -> Result<JobId> {
        let mut args: Vec<String> = vec!["-terse".into()];
        if !after.is_empty() {
            args.push("-hold_jid".into());
            args.push(join_ids(after, ","));
        }
        let out = submit_script(NAME, "qsub", args, extra, script)?;
        parse_terse(&out)
    }

    fn queue(&self, jobs: &[JobId]) -> Result<Vec<QueuedTask>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let user = current_user();
        let out = run_client(NAME, "qstat", ["-g", "d", "-u", user.as_str()])?;
        parse_qstat(&out, jobs)
    }

    fn cancel(&self, jobs: &[JobId]) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        run_client(NAME, "qdel", [join_ids(jobs, ",")])?;
        Ok(())
    }
}

/// The user whose jobs to list.
fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            let out = std::process::Command::new("id").arg("-un").output().ok()?;
            Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "*".into())
}

/// `qsub -terse` prints `id` for a job and `id.1-5:1` for an array.
fn parse_terse(out: &str) -> Result<JobId> {
    let id = out.trim().split('.').next().unwrap_or("");
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ClusterError::Parse {
            command: "qsub -terse".into(),
            output: out.to_string(),
        });
    }
    Ok(JobId(id.to_string()))
}

/// `qstat -g d`: one line per task after two header lines, columns
/// `job-ID prior name user state date time [queue] slots [ja-task-ID]`
/// (the queue only once the task runs).
fn parse_qstat(out: &str, jobs: &[JobId]) -> Result<Vec<QueuedTask>> {
    let mut tasks = Vec::new();
    for line in out.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            return Err(ClusterError::Parse {
                command: "qstat -g d".into(),
                output: line.to_string(),
            });
        }
        if !jobs.iter().any(|j| j.0 == f[0]) {
            continue;
        }
        let rest = if f[7].contains('@') { &f[8..] } else { &f[7..] };
        let task = rest.get(1).and_then(|t| t.parse().ok());
        let state = match f[4] {
            "qw" | "hqw" | "hRwq" | "Rq" => QueueState::Pending,
            "r" | "t" | "Rr" | "Rt" => QueueState::Running,
            other => QueueState::Other(other.to_string()),
        };
        tasks.push(QueuedTask {
            job: JobId(f[0].to_string()),
            task,
            reason: f[4].to_string(),
            state,
        });
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QSTAT: &str = "\
job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID 
-----------------------------------------------------------------------------------------------------------------
      4 0.50000 qtest      root         r     11/30/2026 04:30:35 all.q@localhost                    1 1
      4 0.50000 qtest      root         qw    11/30/2026 04:30:35                                    1 3
      5 0.00000 single     root         hqw   11/30/2026 04:30:35                                    1        
      6 0.00000 other      root         Eqw   11/30/2026 04:30:35                                    1        
";

    #[test]
    fn qstat_tasks_and_states() {
        let q = parse_qstat(QSTAT, &[JobId("4".into()), JobId("5".into())]).unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!((q[0].task, &q[0].state), (Some(1), &QueueState::Running));
        assert_eq!((q[1].task, &q[1].state), (Some(3), &QueueState::Pending));
        assert_eq!((q[2].task, &q[2].state), (None, &QueueState::Pending));
        let e = parse_qstat(QSTAT, &[JobId("6".into())]).unwrap();
        assert_eq!(e[0].state, QueueState::Other("Eqw".into()));
    }

    #[test]
    fn terse_ids() {
        assert_eq!(parse_terse("4.1-4:1\n").unwrap(), JobId("4".into()));
        assert_eq!(parse_terse("5\n").unwrap(), JobId("5".into()));
        assert!(parse_terse("Your job 5 has been submitted").is_err());
    }

    #[test]
    fn memory_is_per_slot() {
        let sge = Sge {
            pe: "smp".into(),
            memory_resource: Some("h_vmem".into()),
        };
        let job = JobSpec {
            name: "x".into(),
            tasks: None,
            max_running: None,
            resources: crate::job::Resources {
                cores: 4,
                memory_mb: 1000,
                time: None,
                queue: None,
            },
            sched_log_dir: None,
            body: String::new(),
        };
        let d = sge.directives(&job);
        assert!(
            d.contains("#$ -pe smp 4\n") && d.contains("#$ -l h_vmem=250M\n"),
            "{d}"
        );
    }
}
