//! `WORK/lookup.tsv`, the look-up table of global group ids (the paper's
//! LUT): a header line and one `start<TAB>end<TAB>name` row per slide with
//! work, sorted by name, 1-based ids contiguous over the slides, so one
//! number (a scheduler's array index) names one group of one slide. `plan`
//! writes it; the cluster executors and `plan`'s callers read it here.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// The first line of `lookup.tsv`.
pub const HEADER: &str = "start\tend\tname";

#[derive(Debug, Error)]
pub enum LookupError {
    #[error("{path}: {source} (run `slidescale plan` first)")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
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

impl LookupRow {
    /// Groups of this slide: `end − start + 1`.
    pub fn groups(&self) -> u32 {
        self.end + 1 - self.start
    }
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
    pub fn read(path: &Path) -> Result<LookupTable, LookupError> {
        let text = std::fs::read_to_string(path).map_err(|source| LookupError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |line: usize, reason: String| LookupError::Parse {
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

    #[test]
    fn names_are_the_rest_of_the_line_tabs_included() {
        let dir = std::env::temp_dir().join(format!("slidescale-lookup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("lookup.tsv");
        std::fs::write(&p, "start\tend\tname\n1\t3\ta\n4\t4\tname\twith tab \\n\n").unwrap();
        let t = LookupTable::read(&p).unwrap();
        assert_eq!(t.rows()[0].groups(), 3);
        assert_eq!(t.rows()[1].name, "name\twith tab \\n");
        std::fs::write(&p, "start\tend\tname\n3\t2\tx\n").unwrap();
        let err = LookupTable::read(&p).unwrap_err().to_string();
        assert!(err.contains("lookup.tsv:2"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
