//! What is left to do in a work directory: the look-up table's slides and
//! their groups, and which group results are missing or invalid.

use std::fs;
use std::io::Read;
use std::path::Path;

use slidescale_core::{WorkDir, TILE};

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
/// array of shape `[n, 224/s, 224/s]` with `n ≥ 1`: header parses, and the
/// file is exactly as long as the header says. (Whether `n` equals the
/// group's tile count needs the store; the CLI can add that.)
#[derive(Debug, Clone, Copy)]
pub struct NpyCheck {
    pub stride: u32,
}

impl ResultCheck for NpyCheck {
    fn is_done(&self, work: &WorkDir, slide: &str, group: u32) -> bool {
        let k = u64::from(TILE / self.stride.max(1));
        match npy_shape(&work.result_path(slide, group)) {
            Some((shape, data_len)) => {
                shape.len() == 3
                    && shape[0] >= 1
                    && shape[1] == k
                    && shape[2] == k
                    && data_len == shape.iter().product::<u64>() * 4
            }
            None => false,
        }
    }
}

/// Shape of a little-endian float32 C-order `.npy` file and the number of
/// bytes after its header; `None` if it is anything else or unreadable.
pub fn npy_shape(path: &Path) -> Option<(Vec<u64>, u64)> {
    let mut f = fs::File::open(path).ok()?;
    let total = f.metadata().ok()?.len();
    let mut pre = [0u8; 10];
    f.read_exact(&mut pre).ok()?;
    if &pre[..6] != b"\x93NUMPY" {
        return None;
    }
    let (header_len, skip) = match pre[6] {
        1 => (u16::from_le_bytes([pre[8], pre[9]]) as u64, 10u64),
        2 | 3 => {
            let mut more = [0u8; 2];
            f.read_exact(&mut more).ok()?;
            (
                u32::from_le_bytes([pre[8], pre[9], more[0], more[1]]) as u64,
                12,
            )
        }
        _ => return None,
    };
    let mut header = vec![0u8; header_len as usize];
    f.read_exact(&mut header).ok()?;
    let header = String::from_utf8(header).ok()?;
    let descr_ok = header.contains("'descr': '<f4'");
    let c_order = header.contains("'fortran_order': False");
    let shape_txt = header.split("'shape':").nth(1)?;
    let inner = shape_txt.split('(').nth(1)?.split(')').next()?;
    let shape: Vec<u64> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect::<Option<_>>()?;
    (descr_ok && c_order).then_some((shape, total.checked_sub(skip + header_len)?))
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
