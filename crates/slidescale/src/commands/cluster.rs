//! The cluster side of `slidescale run` and `slidescale status`: options
//! for `--executor slurm|sge|pbs` and the calls into `slidescale-cluster`.
//! `run` flattens [`ClusterArgs`] into its own arguments and hands over to
//! [`run_on_cluster`]; `status` prints [`print_scheduler_section`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use slidescale_cluster::{
    scheduler_status, submit, task_memory_mb, wait_idle, ClusterRequest, Resources, SchedulerKind,
    SchedulerOptions,
};
use slidescale_core::{exit, WorkDir};

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
    /// After submitting, wait until every job has ended and print their status.
    #[arg(long, help_heading = "Cluster")]
    pub wait: bool,
}

/// What `run` knows that the cluster jobs need.
pub struct ClusterRun {
    pub scheduler: SchedulerKind,
    pub work: PathBuf,
    pub slides: Vec<PathBuf>,
    /// After `split SLIDE --out WORK`.
    pub split_args: Vec<OsString>,
    /// After `process STORE --group K`.
    pub process_args: Vec<OsString>,
    /// After `stitch STORE`.
    pub stitch_args: Vec<OsString>,
    pub threads: u32,
    pub group_size: u32,
    pub stride: u32,
}

/// Submit the hierarchical plan; with `--wait`, follow it to the end.
/// Exit status: 0 once submitted (or, with `--wait`, when every task
/// succeeded), 1 with `--wait` if a task failed.
pub fn run_on_cluster(run: ClusterRun, args: &ClusterArgs) -> anyhow::Result<i32> {
    let mut split_args = run.split_args;
    // A split task uses the cores it was given, not every core of its node.
    if !split_args.iter().any(|a| a == "--jobs" || a == "-j") {
        split_args.extend(["--jobs".into(), run.threads.max(1).to_string().into()]);
    }
    let req = ClusterRequest {
        scheduler: run.scheduler,
        scheduler_options: SchedulerOptions {
            sge_pe: args.sge_pe.clone(),
            sge_memory_resource: args.sge_memory_resource.clone(),
        },
        work: run.work.clone(),
        slides: run.slides,
        split_args,
        process_args: run.process_args,
        stitch_args: run.stitch_args,
        resources: Resources {
            cores: run.threads.max(1),
            memory_mb: args
                .task_memory_mb
                .unwrap_or_else(|| task_memory_mb(run.group_size)),
            time: args.time.clone(),
            queue: args.partition.clone(),
        },
        stride: run.stride,
        max_array_size: args.max_array_size,
        submit_args: args.submit_args.clone(),
        slidescale_bin: None,
        dry_run: args.dry_run,
    };
    let sub = submit(&req)?;
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
    println!("follow with: slidescale status {}", run.work.display());
    if !args.wait {
        return Ok(exit::OK);
    }
    let work = WorkDir::new(&run.work);
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

/// The scheduler section of `status`: what the latest cluster run's jobs
/// are doing. Prints nothing for a work directory never run on a cluster.
pub fn print_scheduler_section(work: &std::path::Path) -> anyhow::Result<()> {
    if let Some(status) = scheduler_status(&WorkDir::new(work))? {
        print!("{}", scheduler_text(&status));
    }
    Ok(())
}
