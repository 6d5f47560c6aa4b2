//! What is left to do in a work directory: the look-up table's slides and
//! their groups, and which group results are missing or invalid.

use std::fs;

use slidescale_core::{WorkDir, TILE};
use slidescale_heatmap::read_npy_header;

use crate::error::{ClusterError, Result};

/// One row of `WORK/lookup.tsv`: slide `name` has global group ids
/// `start..=end`, i.e. local groups `1..=end-start+1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRow {
    pub start: u64,
    pub end: u64,
    pub name: String,
}

impl LookupRow {
    pub fn groups(&self) -> u32 {
        (self.end + 1 - self.start) as u32
    }
}

/// Read `WORK/lookup.tsv` (`slidescale plan`): a header line, then
/// `start<TAB>end<TAB>name` rows; the name is the rest of the line, as
/// `plan` writes it (so a name may hold a tab, not a newline).
pub fn read_lookup(work: &WorkDir) -> Result<Vec<LookupRow>> {
    let path = work.lookup_path();
    let text = fs::read_to_string(&path).map_err(|e| ClusterError::Lookup {
        path: path.clone(),
        msg: format!("{e} (run `slidescale plan` first)"),
    })?;
    let bad = |n: usize, msg: &str| ClusterError::Lookup {
        path: path.clone(),
        msg: format!("line {n}: {msg}"),
    };
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.is_empty() {
            continue;
        }
        let mut f = line.splitn(3, '\t');
        let (Some(a), Some(b), Some(name)) = (f.next(), f.next(), f.next()) else {
            return Err(bad(i + 1, "expected start<TAB>end<TAB>name"));
        };
        let start: u64 = a.parse().map_err(|_| bad(i + 1, "start is not a number"))?;
        let end: u64 = b.parse().map_err(|_| bad(i + 1, "end is not a number"))?;
        if start == 0 || end < start {
            return Err(bad(i + 1, "expected 1 <= start <= end"));
        }
        rows.push(LookupRow {
            start,
            end,
            name: name.to_string(),
        });
    }
    Ok(rows)
}

/// Decides whether a group's result is there and valid.
pub trait ResultCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool;
}

/// A result is valid when `results/NAME/00000K.npy` is a complete float32
/// array of shape `[n, 224/s, 224/s]` with `n ≥ 1`: its header parses and
/// the file is exactly as long as the header says
/// ([`slidescale_heatmap::read_npy_header`]). (Whether `n` equals the
/// group's tile count needs the store; the CLI can add that.)
#[derive(Debug, Clone, Copy)]
pub struct NpyCheck {
    pub stride: u32,
}

impl ResultCheck for NpyCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool {
        let k = u64::from(TILE / self.stride.max(1));
        read_npy_header(&work.result_path(slide, group))
            .is_ok_and(|h| matches!(h.shape[..], [n, a, b] if n >= 1 && a == k && b == k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_rows_as_plan_writes_them() {
        let dir = slidescale_testutil::temp_dir("lookup");
        fs::write(
            dir.join("lookup.tsv"),
            "start\tend\tname\n1\t3\ta\n4\t4\tname\twith tab \\n\n",
        )
        .unwrap();
        let rows = read_lookup(&WorkDir::new(&dir)).unwrap();
        assert_eq!(rows[0].groups(), 3);
        assert_eq!(rows[1].name, "name\twith tab \\n");
        fs::write(dir.join("lookup.tsv"), "start\tend\tname\n3\t2\tx\n").unwrap();
        let err = read_lookup(&WorkDir::new(&dir)).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    /// The check agrees with numpy about what numpy wrote, and refuses a
    /// truncated copy and a wrong shape.
    #[test]
    fn npy_check_against_numpy_files() {
        let dir = slidescale_testutil::temp_dir("npy");
        let work = WorkDir::new(&dir);
        let res = work.results_dir("s");
        fs::create_dir_all(&res).unwrap();
        slidescale_testutil::run_python(
            "import numpy as np, sys\n\
d = sys.argv[1]\n\
np.save(d + '/000001.npy', np.zeros((5, 14, 14), np.float32))\n\
np.save(d + '/000002.npy', np.zeros((5, 7, 7), np.float32))\n\
np.save(d + '/000003.npy', np.zeros((5, 14, 14), np.float64))\n",
            &[res.to_str().unwrap()],
        );
        let bytes = fs::read(res.join("000001.npy")).unwrap();
        fs::write(res.join("000004.npy"), &bytes[..bytes.len() - 4]).unwrap();
        let check = NpyCheck { stride: 16 };
        assert!(check.is_done(&work, "s", 1));
        assert!(!check.is_done(&work, "s", 2)); // stride 32 result
        assert!(!check.is_done(&work, "s", 3)); // float64
        assert!(!check.is_done(&work, "s", 4)); // truncated
        assert!(!check.is_done(&work, "s", 5)); // absent
        fs::remove_dir_all(dir).unwrap();
    }
}
