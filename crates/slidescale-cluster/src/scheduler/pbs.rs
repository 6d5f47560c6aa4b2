//! PBS Professional / OpenPBS: `qsub -J`, `PBS_ARRAY_INDEX`, `-W depend=`.
//!
//! No PBS server runs where slidescale is tested: the scripts are checked as
//! text (golden files) and the client calls follow the PBS Professional
//! reference guide. Torque's `PBS_ARRAYID` is honoured in the scripts, but
//! Torque's `qsub -t` is not generated.

use std::path::Path;

use super::{config_value, directive_lines, join_ids, run_client, submit_script, Executor};
use crate::error::{ClusterError, Result};
use crate::job::{Dependency, JobId, JobSpec, QueueState, QueuedTask};
use crate::shell::directive_safe;

/// PBS Professional through its command-line clients.
pub struct Pbs;

const NAME: &str = "PBS";

impl Executor for Pbs {
    fn max_array_tasks(&self) -> Result<u32> {
        let out = run_client(NAME, "qmgr", ["-c", "list server"])?;
        match config_value(&out, "max_array_size") {
            Some(v) => v.parse().map_err(|_| ClusterError::Parse {
                command: "qmgr -c 'list server'".into(),
                output: format!("max_array_size = {v}"),
            }),
            None => Ok(self.default_max_array_tasks()),
        }
    }

    fn default_max_array_tasks(&self) -> u32 {
        10000
    }

    fn directives(&self, job: &JobSpec) -> String {
        let r = &job.resources;
        let mut items = vec![format!("-N {}", job.name)];
        // PBS may refuse an array of one subjob: such a job is a plain job,
        // and its task id defaults to 1.
        if let Some(n) = job.tasks.filter(|n| *n > 1) {
            items.push(format!("-J 1-{n}"));
            // PBS Professional ≥ 2020 / OpenPBS: at most K subjobs at once.
            if let Some(k) = job.max_running {
                items.push(format!("-W max_run_subjobs={k}"));
            }
        }
        items.push(format!(
            "-l select=1:ncpus={}:mem={}mb",
            r.cores, r.memory_mb
        ));
        if let Some(t) = &r.time {
            items.push(format!("-l walltime={t}"));
        }
        if let Some(q) = &r.queue {
            items.push(format!("-q {q}"));
        }
        items.push("-j oe".into());
        match job.sched_log_dir.as_deref().and_then(Path::to_str) {
            Some(dir) if directive_safe(dir) => items.push(format!("-o {dir}/")),
            _ => items.push("-o /dev/null".into()),
        }
        directive_lines("#PBS", &items)
    }

    fn task_id_setup(&self) -> &'static str {
        "SS_TASK=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-1}}"
    }

    fn submit(
        &self,
        script: &Path,
        after: &[JobId],
        dep: Dependency,
        extra: &[String],
    ) -> Result<JobId> {
        let mut args: Vec<String> = Vec::new();
        if !after.is_empty() {
            args.push("-W".into());
            args.push(format!("depend={}:{}", dep.name(), join_ids(after, ":")));
        }
        let out = submit_script(NAME, "qsub", args, extra, script)?;
        let id = out.trim();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(ClusterError::Parse {
                command: "qsub".into(),
                output: out.to_string(),
            });
        }
        Ok(JobId(id.to_string()))
    }

    fn queue(&self, jobs: &[JobId]) -> Result<Vec<QueuedTask>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let out = run_client(NAME, "qstat", ["-t"])?;
        Ok(parse_qstat(&out, jobs))
    }

    fn cancel(&self, jobs: &[JobId]) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        run_client(NAME, "qdel", jobs.iter().map(|j| j.0.as_str()))?;
        Ok(())
    }
}

/// `qstat -t`: `Job id  Name  User  Time Use  S  Queue`, one line per job,
/// array (`123[].srv`, state B) and subjob (`123[4].srv`).
fn parse_qstat(out: &str, jobs: &[JobId]) -> Vec<QueuedTask> {
    let mut tasks = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[0] == "Job" || f[0].starts_with('-') {
            continue;
        }
        let (id, state) = (f[0], f[4]);
        // 123[4].server → array 123[].server, task 4
        let (job, task) = match (id.find('['), id.find(']')) {
            (Some(a), Some(b)) if b > a + 1 => {
                let job = format!("{}[]{}", &id[..a], &id[b + 1..]);
                (job, id[a + 1..b].parse().ok())
            }
            (Some(_), Some(_)) => continue, // the array itself; its subjobs are listed
            _ => (id.to_string(), None),
        };
        if !jobs.iter().any(|j| j.0 == job) {
            continue;
        }
        let state = match state {
            "Q" | "W" | "T" => QueueState::Pending,
            "R" | "E" => QueueState::Running,
            "X" | "F" => continue, // finished subjob
            other => QueueState::Other(other.to_string()),
        };
        tasks.push(QueuedTask {
            job: JobId(job),
            task,
            reason: f[4].to_string(),
            state,
        });
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qstat_subjobs_map_to_their_array() {
        let out = "\
Job id            Name             User              Time Use S Queue
----------------  ---------------- ----------------  -------- - -----
123[].pbs         ss-process-0001  alice                    0 B workq
123[1].pbs        ss-process-0001  alice             00:00:01 X workq
123[2].pbs        ss-process-0001  alice             00:00:01 R workq
123[3].pbs        ss-process-0001  alice                    0 Q workq
124.pbs           ss-stitch-0001   alice                    0 H workq
";
        let ids = [JobId("123[].pbs".into()), JobId("124.pbs".into())];
        let q = parse_qstat(out, &ids);
        assert_eq!(q.len(), 3);
        assert_eq!((q[0].task, &q[0].state), (Some(2), &QueueState::Running));
        assert_eq!((q[1].task, &q[1].state), (Some(3), &QueueState::Pending));
        assert_eq!(q[2].job, ids[1]);
        assert_eq!(q[2].state, QueueState::Other("H".into()));
    }
}
