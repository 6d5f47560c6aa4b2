//! `slidescale plan`: the look-up table of global group ids.

use std::path::PathBuf;

/// Write WORK/lookup.tsv: one "start end name" row of global group ids per slide.
#[derive(clap::Args)]
pub struct Args {
    /// Work directory holding the slides' stores.
    pub work: PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    anyhow::bail!("plan is not implemented yet")
}
