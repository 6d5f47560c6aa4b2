//! `plan`: the look-up table of global group ids (the paper's LUT).
//!
//! `WORK/lookup.tsv` has a header line and one row per slide with work,
//! sorted by name: `start<TAB>end<TAB>name`, 1-based global group ids,
//! contiguous over the slides, so one number (a scheduler's array index)
//! names one group of one slide. A slide whose store has no tissue tile has
//! no group and no row; [`plan`] reports it so it is not silently lost.

use std::path::{Path, PathBuf};

use slidescale_core::workdir::write_atomic;
use slidescale_core::WorkDir;
use slidescale_store::{Store, StoreError};
use thiserror::Error;

/// The first line of `lookup.tsv`.
pub const HEADER: &str = "start\tend\tname";

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
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{0}: no slide stores (*.h5) here; run `slidescale split` first")]
    Empty(PathBuf),
}

/// One slide's range of global group ids, `start..=end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRow {
    pub start: u32,
    pub end: u32,
    pub name: String,
}

/// Global group id ↔ (slide, group).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LookupTable {
    rows: Vec<LookupRow>,
}

impl LookupTable {
    /// Lay out `(name, n_groups)` pairs, sorted by name, skipping slides
    /// without groups.
    pub fn from_counts(mut counts: Vec<(String, u32)>) -> LookupTable {
        counts.sort();
        let mut next = 1;
        let rows = counts
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| {
                let row = LookupRow {
                    start: next,
                    end: next + n - 1,
                    name,
                };
                next += n;
                row
            })
            .collect();
        LookupTable { rows }
    }

    pub fn rows(&self) -> &[LookupRow] {
        &self.rows
    }

    /// Groups over all slides: the largest global id.
    pub fn total_groups(&self) -> u32 {
        self.rows.last().map_or(0, |r| r.end)
    }

    /// The slide and its 1-based local group for a global id.
    pub fn locate(&self, global: u32) -> Option<(&str, u32)> {
        let i = self.rows.partition_point(|r| r.end < global);
        let row = self.rows.get(i)?;
        (row.start <= global).then(|| (row.name.as_str(), global - row.start + 1))
    }

    /// The global id of a slide's local group.
    pub fn global_id(&self, name: &str, group: u32) -> Option<u32> {
        let row = self.rows.iter().find(|r| r.name == name)?;
        (group >= 1 && row.start + group - 1 <= row.end).then(|| row.start + group - 1)
    }

    pub fn to_tsv(&self) -> String {
        let mut s = format!("{HEADER}\n");
        for r in &self.rows {
            s += &format!("{}\t{}\t{}\n", r.start, r.end, r.name);
        }
        s
    }

    /// Parse `lookup.tsv`, checking that the ids are contiguous from 1.
    pub fn read(path: &Path) -> Result<LookupTable, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |line: usize, reason: String| PlanError::Parse {
            path: path.to_path_buf(),
            line,
            reason,
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h == HEADER => {}
            _ => return Err(bad(1, format!("expected the header {HEADER:?}"))),
        }
        let mut rows = Vec::new();
        let mut next = 1;
        for (i, line) in lines.filter(|(_, l)| !l.is_empty()) {
            let mut f = line.splitn(3, '\t');
            let (Some(a), Some(b), Some(name)) = (f.next(), f.next(), f.next()) else {
                return Err(bad(i + 1, "expected start<TAB>end<TAB>name".into()));
            };
            let num = |s: &str| {
                s.parse::<u32>()
                    .map_err(|_| bad(i + 1, format!("not a group id: {s:?}")))
            };
            let (start, end) = (num(a)?, num(b)?);
            if start != next || end < start {
                return Err(bad(
                    i + 1,
                    format!("ids {start}..{end} do not continue from {next}"),
                ));
            }
            next = end + 1;
            rows.push(LookupRow {
                start,
                end,
                name: name.to_string(),
            });
        }
        Ok(LookupTable { rows })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> LookupTable {
        LookupTable::from_counts(vec![
            ("b".into(), 1),
            ("a".into(), 3),
            ("empty".into(), 0),
            ("c".into(), 2),
        ])
    }

    #[test]
    fn ids_are_global_contiguous_and_sorted_by_name() {
        let t = table();
        assert_eq!(t.to_tsv(), "start\tend\tname\n1\t3\ta\n4\t4\tb\n5\t6\tc\n");
        assert_eq!(t.total_groups(), 6);
    }

    #[test]
    fn global_ids_map_to_slide_groups_and_back() {
        let t = table();
        assert_eq!(t.locate(1), Some(("a", 1)));
        assert_eq!(t.locate(3), Some(("a", 3)));
        assert_eq!(t.locate(4), Some(("b", 1)));
        assert_eq!(t.locate(6), Some(("c", 2)));
        assert_eq!(t.locate(0), None);
        assert_eq!(t.locate(7), None);
        for g in 1..=6 {
            let (name, k) = t.locate(g).unwrap();
            assert_eq!(t.global_id(name, k), Some(g));
        }
        assert_eq!(t.global_id("a", 4), None);
    }

    #[test]
    fn written_tables_read_back_and_broken_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("slidescale-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("lookup.tsv");
        std::fs::write(&p, table().to_tsv()).unwrap();
        assert_eq!(LookupTable::read(&p).unwrap(), table());
        std::fs::write(&p, "start\tend\tname\n1\t2\ta\n4\t4\tb\n").unwrap();
        let err = LookupTable::read(&p).unwrap_err().to_string();
        assert!(
            err.contains("lookup.tsv:3") && err.contains("continue from 3"),
            "{err}"
        );
        std::fs::write(&p, "1 2 a\n").unwrap();
        assert!(LookupTable::read(&p).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
