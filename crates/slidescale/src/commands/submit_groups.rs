//! `slidescale submit-groups`: the second level of the hierarchical plan,
//! run by a cluster run's master job after `plan`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use slidescale_cluster::{job_dir::read_config, submit_groups, NpyCheck, ResultCheck};
use slidescale_core::{exit, Stride, WorkDir};
use slidescale_pipeline::results::{slide_results, ResultState};
use slidescale_store::Store;

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
    let config = read_config(&args.job_dir)?;
    let check = StoreCheck {
        stride: Stride::new(config.stride)?,
        fallback: NpyCheck {
            stride: config.stride,
        },
        slides: RefCell::new(HashMap::new()),
    };
    let sub = submit_groups(&args.job_dir, &check)?;
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

/// A group result is done when it has the shape its group's tile count and
/// the run's stride give (the same rule as `run --resume` locally). The
/// store of each slide is opened once; a store that cannot be opened falls
/// back to the shape-only check (its `process` tasks will report why).
struct StoreCheck {
    stride: Stride,
    fallback: NpyCheck,
    slides: RefCell<HashMap<String, Option<Vec<bool>>>>,
}

impl ResultCheck for StoreCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool {
        let mut slides = self.slides.borrow_mut();
        let states = slides.entry(slide.to_string()).or_insert_with(|| {
            let store = Store::open(&work.store_path(slide)).ok()?;
            let states = slide_results(work, store.info(), self.stride);
            Some(states.iter().map(|s| *s == ResultState::Done).collect())
        });
        match states {
            Some(done) => done
                .get(group.saturating_sub(1) as usize)
                .copied()
                .unwrap_or(false),
            None => self.fallback.is_done(work, slide, group),
        }
    }
}
