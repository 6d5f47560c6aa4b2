//! `slidescale plan`: the look-up table of global group ids
//! (`WORK/lookup.tsv`), over `slidescale_pipeline::plan`.

use std::path::PathBuf;

use slidescale_core::{exit, WorkDir};
use slidescale_pipeline::plan::{plan, PlanError};

use super::bad_input;

/// Write WORK/lookup.tsv: one "start end name" row of global group ids per slide.
#[derive(clap::Args)]
#[command(
    after_help = "lookup.tsv is tab-separated: a header line \"start end name\", then \
one row per slide sorted by name, with 1-based global group ids contiguous over all slides \
(global id g of a row is group g - start + 1 of that slide). A slide whose store holds no \
tissue tile has no groups and no row; plan lists it on stderr."
)]
pub struct Args {
    /// Work directory holding the slides' stores.
    pub work: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let report = match plan(&WorkDir::new(&args.work)) {
        Ok(r) => r,
        Err(e @ (PlanError::Store(_) | PlanError::Empty(_))) => return Err(bad_input(e)),
        Err(e) => return Err(e.into()),
    };
    for name in &report.empty {
        eprintln!("note: {name}: no tissue tile, no group, no row in the table");
    }
    println!(
        "{}: {} slides, {} groups",
        report.path.display(),
        report.table.rows().len(),
        report.table.total_groups()
    );
    Ok(exit::OK)
}
