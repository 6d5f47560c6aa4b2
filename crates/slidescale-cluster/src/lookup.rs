//! What is left to do in a work directory: which second-level tasks exist
//! and which are missing or invalid (the look-up table itself is
//! `slidescale_core::lookup`).

use std::path::PathBuf;

use slidescale_core::WorkDir;

use crate::error::Result;

/// Decides what the master job submits. The defaults are `run`'s: the
/// slides with a store and their groups, the store as each slide's item,
/// the heatmap as its final output. `batch` answers with its inputs, their
/// parts and its gather outputs instead; the engine is the same.
///
/// The one rule for a group result is
/// `slidescale_pipeline::results::check_result`; the CLI hands the cluster
/// executor a check built on it, so the cluster and the local executor
/// never disagree about what is done.
pub trait ResultCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool;

    /// Every unit of the second level with its number of tasks, sorted.
    fn units(&self, work: &WorkDir) -> Result<Vec<(String, u32)>> {
        crate::plan::planned_slides(work)
    }

    /// The path a unit's tasks are given (`stores.nul`).
    fn unit_item(&self, work: &WorkDir, name: &str) -> PathBuf {
        work.store_path(name)
    }

    /// Whether each unit has a final job at all (`batch` without `--gather`
    /// has none).
    fn has_final(&self) -> bool {
        true
    }

    /// Whether a unit's final job (stitch, gather) has nothing to redo.
    fn final_up_to_date(&self, work: &WorkDir, name: &str, tasks: u32) -> bool {
        work.heatmap_up_to_date(name, tasks)
    }
}
