//! What is left to do in a work directory: which group results are missing
//! or invalid (the look-up table itself is `slidescale_core::lookup`).

use slidescale_core::{WorkDir, TILE};
use slidescale_heatmap::read_npy_header;

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
    use std::fs;

    use super::*;

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
