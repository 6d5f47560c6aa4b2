//! `slidescale submit-groups`: the second level of the hierarchical plan,
//! run by a cluster run's master job after `plan`.

use std::path::PathBuf;

use slidescale_cluster::job_dir::{read_config, Workflow};
use slidescale_cluster::plan::SPEC_FILE;
use slidescale_cluster::{submit_groups, ResultCheck};
use slidescale_core::exit;
use slidescale_pipeline::batch::BatchSpec;
use slidescale_pipeline::spec::RunSpec;

use super::bad_input;
use super::batch::BatchCheck;
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
    let spec_path = args.job_dir.join(SPEC_FILE);
    let config = read_config(&args.job_dir)?;
    // The same engine for both; only what counts as done differs.
    let check: Box<dyn ResultCheck> = match config.workflow {
        Workflow::Run => {
            let spec = RunSpec::read(&spec_path).map_err(bad_input)?;
            Box::new(StoreCheck::new(spec.stride()))
        }
        Workflow::Batch => Box::new(BatchCheck(BatchSpec::read(&spec_path).map_err(bad_input)?)),
    };
    let sub = submit_groups(&args.job_dir, check.as_ref())?;
    for note in &sub.notes {
        println!("note: {note}");
    }
    for job in &sub.jobs {
        let slide = job.slide.as_deref().unwrap_or("");
        println!(
            "{} {} {:?} {} task(s)",
            job.job,
            config.workflow.stage_label(job.stage),
            slide,
            job.tasks
        );
    }
    Ok(exit::OK)
}
