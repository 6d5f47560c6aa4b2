//! `slidescale report`.

/// (not implemented yet)
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    anyhow::bail!("report is not implemented yet")
}
