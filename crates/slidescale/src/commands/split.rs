//! `slidescale split`: slides in, one grouped HDF5 patch store per slide out.

use std::path::PathBuf;

/// Segment tissue and write one grouped HDF5 patch store per slide.
#[derive(clap::Args)]
pub struct Args {
    /// Slide files (any format OpenSlide reads).
    #[arg(required = true)]
    pub slides: Vec<PathBuf>,
    /// Work directory for the stores (created if missing).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    anyhow::bail!("split is not implemented yet")
}
