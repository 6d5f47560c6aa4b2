//! slidescale's own install location for the shared libraries it loads at
//! run time (ONNX Runtime, OpenSlide): one directory, so `scripts/setup.sh`
//! and every loader agree on where to look.

use std::path::PathBuf;

/// `$SLIDESCALE_HOME/lib`, default `~/.local/share/slidescale/lib`; `None`
/// when neither `SLIDESCALE_HOME` nor `HOME` is set.
pub fn install_dir() -> Option<PathBuf> {
    let home = match std::env::var_os("SLIDESCALE_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".local/share/slidescale"),
    };
    Some(home.join("lib"))
}
