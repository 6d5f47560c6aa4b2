//! `slidescale status`.

/// (not implemented yet)
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<i32> {
    anyhow::bail!("status is not implemented yet")
}
