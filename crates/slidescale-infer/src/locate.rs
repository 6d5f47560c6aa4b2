//! Where ONNX Runtime's shared library comes from.
//!
//! slidescale does not link ONNX Runtime: it loads `libonnxruntime.so` at run
//! time (ort's `load-dynamic`), so one binary works with whatever 1.31+
//! library the machine has. Search order, first hit wins:
//!
//! 1. an explicit path (the CLI's `--ort-lib`);
//! 2. `$ORT_DYLIB_PATH`;
//! 3. the project's install location `$SLIDESCALE_HOME/lib/libonnxruntime.so`
//!    (default `~/.local/share/slidescale/lib/`, filled by `scripts/setup.sh`);
//! 4. `libonnxruntime.so` next to the executable.

use std::path::{Path, PathBuf};

use crate::InferError;

/// File name of the library on this platform.
pub const LIB_NAME: &str = "libonnxruntime.so";

/// The version of the `onnxruntime` wheel whose library we test against.
pub const WHEEL_VERSION: &str = "1.31.1";

/// One place searched, and why it was searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub source: &'static str,
}

/// The project's own install directory for libraries (shared with the
/// OpenSlide loader).
pub use slidescale_core::install::install_dir;

/// The places searched, in order, for an optional explicit path.
pub fn candidates(explicit: Option<&Path>) -> Vec<Candidate> {
    let mut out = Vec::new();
    if let Some(p) = explicit {
        out.push(Candidate {
            path: p.to_path_buf(),
            source: "--ort-lib",
        });
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push(Candidate {
            path: PathBuf::from(p),
            source: "ORT_DYLIB_PATH",
        });
    }
    if let Some(dir) = install_dir() {
        out.push(Candidate {
            path: dir.join(LIB_NAME),
            source: "slidescale install location",
        });
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        out.push(Candidate {
            path: dir.join(LIB_NAME),
            source: "next to the executable",
        });
    }
    out
}

/// The first candidate that exists. An explicit path or `ORT_DYLIB_PATH`
/// that names a missing file is an error of its own rather than silently
/// skipped: the user asked for that file.
pub fn find_library(explicit: Option<&Path>) -> Result<PathBuf, InferError> {
    let cands = candidates(explicit);
    for c in &cands {
        if c.path.is_file() {
            return Ok(c.path.clone());
        }
        if matches!(c.source, "--ort-lib" | "ORT_DYLIB_PATH") {
            return Err(InferError::OrtNotFound(format!(
                "ONNX Runtime library {} (from {}) does not exist. {}",
                c.path.display(),
                c.source,
                how_to_install()
            )));
        }
    }
    let tried: Vec<String> = cands
        .iter()
        .map(|c| format!("{} ({})", c.path.display(), c.source))
        .collect();
    Err(InferError::OrtNotFound(format!(
        "ONNX Runtime library not found; looked in: {}. {}",
        tried.join(", "),
        how_to_install()
    )))
}

/// The exact instructions printed when the library is missing.
pub fn how_to_install() -> String {
    let dest = install_dir()
        .map(|d| d.join(LIB_NAME).display().to_string())
        .unwrap_or_else(|| format!("$SLIDESCALE_HOME/lib/{LIB_NAME}"));
    format!(
        "To fix: run scripts/setup.sh (installs it at {dest}), or \
         `pip install onnxruntime=={WHEEL_VERSION}` and set \
         ORT_DYLIB_PATH=<site-packages>/onnxruntime/capi/libonnxruntime.so.{WHEEL_VERSION} \
         (or pass --ort-lib PATH)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_path_names_the_file_and_the_fix() {
        let e = find_library(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/nonexistent/libonnxruntime.so"), "{msg}");
        assert!(msg.contains("--ort-lib"), "{msg}");
        assert!(msg.contains("scripts/setup.sh"), "{msg}");
        assert!(msg.contains("pip install onnxruntime==1.31.1"), "{msg}");
        assert!(msg.contains("ORT_DYLIB_PATH="), "{msg}");
    }

    #[test]
    fn explicit_path_comes_first() {
        let c = candidates(Some(Path::new("/x/lib.so")));
        assert_eq!(c[0].path, PathBuf::from("/x/lib.so"));
        assert!(c.iter().any(|c| c.source == "next to the executable"));
    }
}
