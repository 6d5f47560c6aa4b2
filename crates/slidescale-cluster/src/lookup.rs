//! What is left to do in a work directory: which group results are missing
//! or invalid (the look-up table itself is `slidescale_core::lookup`).

use slidescale_core::WorkDir;

/// Decides whether a group's result is there and valid. The one rule for
/// that is `slidescale_pipeline::results::check_result`; the CLI hands the
/// cluster executor a check built on it, so the cluster and the local
/// executor never disagree about what is done.
pub trait ResultCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool;
}
