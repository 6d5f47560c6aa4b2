//! The cluster side of `slidescale run` and `slidescale status`: options
//! for `--executor slurm|sge|pbs` and the calls into `slidescale-cluster`.
//! `run` flattens [`ClusterArgs`] into its own arguments and hands over to
//! [`run_on_cluster`]; `status` prints [`print_scheduler_section`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use slidescale_cluster::shell::shell_quote;
use slidescale_cluster::{
    scheduler_status, submit, task_memory_mb, wait_idle, ClusterRequest, Resources, ResultCheck,
    SchedulerKind, SchedulerOptions,
};
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_pipeline::results::{slide_results, ResultState};
use slidescale_pipeline::spec::RunSpec;
use slidescale_store::Store;

use super::status_view::scheduler_text;

/// Options that only matter with `--executor slurm|sge|pbs`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ClusterArgs {
    /// Partition (SLURM) or queue (SGE, PBS) to submit to.
    #[arg(long, help_heading = "Cluster")]
    pub partition: Option<String>,
    /// Wall-time limit of a task, e.g. 2:00:00.
    #[arg(long, help_heading = "Cluster")]
    pub time: Option<String>,
    /// Memory of a process task in MiB; default: the group's tiles + 1 GiB.
    #[arg(long, help_heading = "Cluster")]
    pub task_memory_mb: Option<u64>,
    /// Most tasks per array job; default: what the scheduler allows
    /// (SLURM MaxArraySize, SGE max_aj_tasks, PBS max_array_size).
    #[arg(long, help_heading = "Cluster")]
    pub max_array_size: Option<u32>,
    /// Extra argument for every sbatch/qsub call (repeatable), e.g. --submit-arg=--account=lab.
    #[arg(
        long = "submit-arg",
        help_heading = "Cluster",
        allow_hyphen_values = true
    )]
    pub submit_args: Vec<String>,
    /// SGE parallel environment for multi-core tasks.
    #[arg(long, default_value = "smp", help_heading = "Cluster")]
    pub sge_pe: String,
    /// SGE resource that carries a task's memory (e.g. h_vmem); none by default.
    #[arg(long, help_heading = "Cluster")]
    pub sge_memory_resource: Option<String>,
    /// Write the job scripts under WORK/jobs/ and submit nothing.
    #[arg(long, help_heading = "Cluster")]
    pub dry_run: bool,
    /// Most tasks of this run running at once (SLURM --array=…%K, SGE -tc K,
    /// PBS max_run_subjobs=K; the run's arrays then run one after another).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), help_heading = "Cluster")]
    pub max_running: Option<u32>,
    /// After submitting, wait until every job has ended and print their status.
    #[arg(long, help_heading = "Cluster")]
    pub wait: bool,
}

/// What `run` knows that the cluster jobs need.
pub struct ClusterRun {
    pub scheduler: SchedulerKind,
    /// The run's job spec, already admitted into its work directory.
    pub spec: RunSpec,
    /// Slides whose store must be (re)written, with their names.
    pub to_split: Vec<(PathBuf, String)>,
    /// Slides whose existing store is reused.
    pub reused: usize,
    pub group_size: u32,
}

/// A group result is done when `slidescale_pipeline::results` says so —
/// the rule `run --resume` applies locally. Each slide's store is opened
/// once; a store that cannot be opened has nothing done (its `process`
/// tasks will report why).
pub struct StoreCheck {
    stride: Stride,
    slides: RefCell<HashMap<String, Vec<bool>>>,
}

impl StoreCheck {
    pub fn new(stride: Stride) -> StoreCheck {
        StoreCheck {
            stride,
            slides: RefCell::new(HashMap::new()),
        }
    }
}

impl ResultCheck for StoreCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool {
        let mut slides = self.slides.borrow_mut();
        let done = slides.entry(slide.to_string()).or_insert_with(|| {
            let Ok(store) = Store::open(&work.store_path(slide)) else {
                return Vec::new();
            };
            let states = slide_results(work, &store, self.stride);
            states.iter().map(|s| *s == ResultState::Done).collect()
        });
        done.get(group.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// Submit the hierarchical plan; with `--wait`, follow it to the end.
/// Exit status: 0 once submitted (or, with `--wait`, when every task
/// succeeded), 1 with `--wait` if a task failed.
pub fn run_on_cluster(run: ClusterRun, args: &ClusterArgs) -> anyhow::Result<i32> {
    let work_dir = run.spec.execution.work.clone();
    let resources = Resources {
        cores: run.spec.execution.threads.max(1),
        memory_mb: args.task_memory_mb.unwrap_or_else(|| {
            let geometry = run
                .spec
                .geometry()
                .unwrap_or(slidescale_core::TileGeometry::PAPER);
            task_memory_mb(run.group_size, &geometry)
        }),
        time: args.time.clone(),
        queue: args.partition.clone(),
    };
    let req = cluster_request(
        args,
        work_dir,
        run.to_split,
        serde_json::to_string_pretty(&run.spec)?,
        resources,
        run.scheduler,
    );
    if run.reused > 0 {
        eprintln!(
            "note: {} slide(s) already split: their stores are reused",
            run.reused
        );
    }
    submit_and_follow(&req, &StoreCheck::new(run.spec.stride()), args)
}

/// Submit `req` through the hierarchical engine (for `run` and `batch`
/// alike), print what was submitted; with `--wait`, follow it to the end.
pub fn submit_and_follow(
    req: &ClusterRequest,
    check: &dyn ResultCheck,
    args: &ClusterArgs,
) -> anyhow::Result<i32> {
    let work_dir = req.work.clone();
    let sub = submit(req, check)?;
    for note in &sub.notes {
        eprintln!("note: {note}");
    }
    for job in &sub.jobs {
        let what = job
            .slide
            .as_deref()
            .map(|s| format!(" of {s:?}"))
            .unwrap_or_default();
        let id = if args.dry_run {
            "would submit".to_string()
        } else {
            format!("submitted job {}", job.job)
        };
        println!("{id}: {} ({} task(s)){what}", job.key, job.tasks);
    }
    println!("job scripts in {}", sub.job_dir.display());
    if args.dry_run {
        return Ok(exit::OK);
    }
    println!("{}", follow_hint(&work_dir));
    if !args.wait {
        return Ok(exit::OK);
    }
    let work = WorkDir::new(&work_dir);
    let status = wait_idle(
        &work,
        Duration::from_secs(u64::MAX / 4),
        Duration::from_secs(2),
    )?;
    match status {
        Some(s) => {
            print!("{}", scheduler_text(&s));
            Ok(if s.failed_tasks().is_empty() {
                exit::OK
            } else {
                exit::FAILURE
            })
        }
        None => Ok(exit::OK),
    }
}

/// The request every cluster submission makes from the shared options.
pub fn cluster_request(
    args: &ClusterArgs,
    work: PathBuf,
    to_split: Vec<(PathBuf, String)>,
    spec_json: String,
    resources: Resources,
    scheduler: SchedulerKind,
) -> ClusterRequest {
    ClusterRequest {
        scheduler,
        scheduler_options: SchedulerOptions {
            sge_pe: args.sge_pe.clone(),
            sge_memory_resource: args.sge_memory_resource.clone(),
        },
        work,
        to_split,
        spec_json,
        resources,
        max_array_size: args.max_array_size,
        submit_args: args.submit_args.clone(),
        slidescale_bin: None,
        dry_run: args.dry_run,
        workflow: Default::default(),
        master: true,
        max_running: args.max_running,
    }
}

/// The command that shows the run's progress, quoted so that it can be
/// pasted into a shell whatever the work directory is called.
fn follow_hint(work: &std::path::Path) -> String {
    let path = shell_quote(&work.to_string_lossy());
    format!("follow with: slidescale status {path}")
}

/// The scheduler section of `status`: what the latest cluster run's jobs
/// are doing. Prints nothing for a work directory never run on a cluster.
pub fn print_scheduler_section(work: &std::path::Path) -> anyhow::Result<()> {
    if let Some(status) = scheduler_status(&WorkDir::new(work))? {
        print!("{}", scheduler_text(&status));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::follow_hint;
    use std::path::Path;

    #[test]
    fn the_follow_hint_pastes_into_a_shell() {
        assert_eq!(
            follow_hint(Path::new("/w/run-1")),
            "follow with: slidescale status /w/run-1"
        );
        let hostile = Path::new("/w/it's a $(touch x) run");
        assert_eq!(
            follow_hint(hostile),
            r"follow with: slidescale status '/w/it'\''s a $(touch x) run'"
        );
        // what a shell makes of it: the path, byte for byte
        let hint = follow_hint(hostile);
        let word = hint
            .strip_prefix("follow with: slidescale status ")
            .unwrap();
        let out = std::process::Command::new("sh")
            .args(["-c", &format!("printf %s {word}")])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            hostile.to_str().unwrap()
        );
    }
}
