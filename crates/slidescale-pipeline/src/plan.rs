//! `plan`: write the look-up table of global group ids (the paper's LUT,
//! `WORK/lookup.tsv`; format in `slidescale_core::lookup`) from the stores
//! in a work directory. A slide whose store has no tissue tile has no group
//! and no row; [`plan`] reports it so it is not silently lost.

use std::path::PathBuf;

pub use slidescale_core::lookup::{LookupError, LookupRow, LookupTable, HEADER};
use slidescale_core::workdir::write_atomic;
use slidescale_core::WorkDir;
use slidescale_store::{Store, StoreError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PlanError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("{0}: no slide stores (*.h5) here; run `slidescale split` first")]
    Empty(PathBuf),
}

/// What [`plan`] did.
#[derive(Debug)]
pub struct PlanReport {
    pub table: LookupTable,
    pub path: PathBuf,
    /// Slides whose store has no tissue tile (no row in the table).
    pub empty: Vec<String>,
}

/// Read every complete store in `work` and write `WORK/lookup.tsv`
/// atomically.
pub fn plan(work: &WorkDir) -> Result<PlanReport, PlanError> {
    let names = work.store_names().map_err(|source| PlanError::Io {
        path: work.root().to_path_buf(),
        source,
    })?;
    if names.is_empty() {
        return Err(PlanError::Empty(work.root().to_path_buf()));
    }
    let mut counts = Vec::with_capacity(names.len());
    for name in &names {
        let store = Store::open(&work.store_path(name))?;
        store.validate()?;
        counts.push((name.clone(), store.info().n_groups));
    }
    let empty = counts
        .iter()
        .filter(|(_, n)| *n == 0)
        .map(|(name, _)| name.clone())
        .collect();
    let table = LookupTable::from_counts(counts);
    let path = work.lookup_path();
    write_atomic(&path, table.to_tsv().as_bytes()).map_err(|source| PlanError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(PlanReport { table, path, empty })
}
