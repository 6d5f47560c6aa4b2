//! `slidescale submit-groups`: the second level of the hierarchical plan,
//! run by a cluster run's master job after `plan`.

use std::path::PathBuf;

use slidescale_cluster::plan::SPEC_FILE;
use slidescale_cluster::submit_groups;
use slidescale_core::exit;
use slidescale_pipeline::spec::RunSpec;

use super::bad_input;
use super::cluster::StoreCheck;

/// Submit one process array per slide (one task per missing or invalid
/// group, several arrays above the scheduler's limit) and one stitch job
/// per slide after its arrays. Run by the master job of
/// `slidescale run --executor slurm|sge|pbs`; JOBDIR is WORK/jobs/run-NNN.
#[derive(clap::Args)]
pub struct Args {
    /// The run's job directory (WORK/jobs/run-NNN).
    pub job_dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let spec = RunSpec::read(&args.job_dir.join(SPEC_FILE)).map_err(bad_input)?;
    let sub = submit_groups(&args.job_dir, &StoreCheck::new(spec.stride()))?;
    for note in &sub.notes {
        println!("note: {note}");
    }
    for job in &sub.jobs {
        let slide = job.slide.as_deref().unwrap_or("");
        println!(
            "{} {} {:?} {} task(s)",
            job.job,
            job.stage.name(),
            slide,
            job.tasks
        );
    }
    Ok(exit::OK)
}
