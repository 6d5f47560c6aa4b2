//! SLURM: `sbatch --parsable --array`, `--dependency`, `squeue`, `scontrol`.

use std::path::Path;

use super::{config_value, directive_lines, join_ids, run_client, submit_script, Executor};
use crate::error::{ClusterError, Result};
use crate::job::{Dependency, JobId, JobSpec, QueueState, QueuedTask};
use crate::shell::directive_safe;

/// SLURM through its command-line clients.
pub struct Slurm;

const NAME: &str = "SLURM";

impl Executor for Slurm {
    fn max_array_tasks(&self) -> Result<u32> {
        let out = run_client(NAME, "scontrol", ["show", "config"])?;
        let value = config_value(&out, "MaxArraySize").ok_or_else(|| ClusterError::Parse {
            command: "scontrol show config".into(),
            output: "no MaxArraySize line".into(),
        })?;
        let max: u32 = value.parse().map_err(|_| ClusterError::Parse {
            command: "scontrol show config".into(),
            output: format!("MaxArraySize = {value}"),
        })?;
        // Indices run 0..MaxArraySize-1; ours start at 1.
        Ok(max.saturating_sub(1).max(1))
    }

    fn default_max_array_tasks(&self) -> u32 {
        1000
    }

    fn directives(&self, job: &JobSpec) -> String {
        let r = &job.resources;
        let mut items = vec![format!("--job-name={}", job.name)];
        if let Some(n) = job.tasks {
            // `%K`: SLURM starts at most K tasks of the array at once.
            match job.max_running {
                Some(k) => items.push(format!("--array=1-{n}%{k}")),
                None => items.push(format!("--array=1-{n}")),
            }
        }
        items.push("--ntasks=1".into());
        items.push(format!("--cpus-per-task={}", r.cores));
        items.push(format!("--mem={}M", r.memory_mb));
        if let Some(t) = &r.time {
            items.push(format!("--time={t}"));
        }
        if let Some(q) = &r.queue {
            items.push(format!("--partition={q}"));
        }
        let pattern = if job.tasks.is_some() { "%A_%a" } else { "%j" };
        match job.sched_log_dir.as_deref().and_then(Path::to_str) {
            Some(dir) if directive_safe(dir) => {
                items.push(format!("--output={dir}/{}-{pattern}.out", job.name))
            }
            _ => items.push("--output=/dev/null".into()),
        }
        directive_lines("#SBATCH", &items)
    }

    fn task_id_setup(&self) -> &'static str {
        "SS_TASK=${SLURM_ARRAY_TASK_ID:-1}"
    }

    fn submit(
        &self,
        script: &Path,
        after: &[JobId],
        dep: Dependency,
        extra: &[String],
    ) -> Result<JobId> {
        let mut args: Vec<String> = vec!["--parsable".into()];
        if !after.is_empty() {
            args.push(format!(
                "--dependency={}:{}",
                dep.name(),
                join_ids(after, ":")
            ));
        }
        let out = submit_script(NAME, "sbatch", args, extra, script)?;
        parse_parsable(&out)
    }

    fn queue(&self, jobs: &[JobId]) -> Result<Vec<QueuedTask>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        // Our own jobs, one line per array task (-r); filtering by id here
        // rather than with -j, which fails once a job has left the queue.
        let out = run_client(NAME, "squeue", ["--me", "-h", "-r", "-o", "%F|%K|%T|%r"])?;
        parse_squeue(&out, jobs)
    }

    fn cancel(&self, jobs: &[JobId]) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        run_client(NAME, "scancel", jobs.iter().map(|j| j.0.as_str()))?;
        Ok(())
    }
}

/// `sbatch --parsable` prints `id` or `id;cluster`.
fn parse_parsable(out: &str) -> Result<JobId> {
    let id = out.trim().split(';').next().unwrap_or("");
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ClusterError::Parse {
            command: "sbatch --parsable".into(),
            output: out.to_string(),
        });
    }
    Ok(JobId(id.to_string()))
}

fn parse_squeue(out: &str, jobs: &[JobId]) -> Result<Vec<QueuedTask>> {
    let mut tasks = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.trim().splitn(4, '|').collect();
        let [job, task, state, reason] = f[..] else {
            return Err(ClusterError::Parse {
                command: "squeue".into(),
                output: line.to_string(),
            });
        };
        if !jobs.iter().any(|j| j.0 == job) {
            continue;
        }
        let state = match state {
            "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "CONFIGURING" => QueueState::Pending,
            "RUNNING" | "COMPLETING" => QueueState::Running,
            other => QueueState::Other(other.to_string()),
        };
        tasks.push(QueuedTask {
            job: JobId(job.to_string()),
            task: task.parse().ok(),
            state,
            reason: if reason == "None" {
                String::new()
            } else {
                reason.to_string()
            },
        });
    }
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsable_ids() {
        assert_eq!(parse_parsable("123\n").unwrap(), JobId("123".into()));
        assert_eq!(parse_parsable("77;ci\n").unwrap(), JobId("77".into()));
        assert!(parse_parsable("Submitted batch job 5").is_err());
    }

    #[test]
    fn squeue_lines_of_our_jobs_only() {
        let out =
            "2|3|PENDING|Resources\n3|N/A|PENDING|Dependency\n2|1|RUNNING|None\n9|1|RUNNING|None\n";
        let q = parse_squeue(out, &[JobId("2".into()), JobId("3".into())]).unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].task, Some(3));
        assert_eq!(q[0].state, QueueState::Pending);
        assert_eq!(q[1].task, None);
        assert_eq!(q[1].reason, "Dependency");
        assert_eq!(q[2].state, QueueState::Running);
        assert_eq!(q[2].reason, "");
    }
}
