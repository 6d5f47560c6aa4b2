//! The checks every slide passes before any executor touches it: the file
//! is there, is a file, is not empty and can be read; its name obeys the
//! name rule, is unique among the slides, and fits the file system of the
//! work directory with every suffix slidescale adds. [`check_slide_inputs`]
//! is the one function `split`, the local run and the cluster submission all
//! call, so a slide refused by one is refused by all, before any work.

use std::collections::HashMap;
use std::ffi::CString;
use std::fmt;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use slidescale_core::workdir::slide_name;

use super::SplitError;

/// The longest suffix slidescale puts after a slide's name in a file name:
/// a heatmap PNG's temporary name, `NAME.png.<pid>.partial`, with a pid of
/// Linux's largest (PID_MAX_LIMIT, 4194304). Longer than a store's
/// `NAME.h5.partial` or a result directory `NAME`.
pub const LONGEST_SUFFIX: &str = ".png.4194304.partial";

/// File-name limit assumed where the file system does not say (POSIX's
/// NAME_MAX on every common Linux file system).
const DEFAULT_NAME_MAX: u64 = 255;

/// Every problem found with a run's slides, in input order; displayed on
/// one line, each problem naming its file.
#[derive(Debug)]
pub struct InputErrors(pub Vec<SplitError>);

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [only] = &self.0[..] {
            return write!(f, "{only}");
        }
        write!(f, "{} slides cannot be used: ", self.0.len())?;
        for (i, e) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

/// Check `slides` before a run into the work directory `out` (which need not
/// exist yet). Returns the slides' names in input order, or every problem
/// found (nothing is opened as a slide, nothing is written).
pub fn check_slide_inputs(slides: &[PathBuf], out: &Path) -> Result<Vec<String>, InputErrors> {
    let limit = name_max(out);
    let mut problems = Vec::new();
    let mut seen: HashMap<String, &PathBuf> = HashMap::new();
    let mut names = Vec::with_capacity(slides.len());
    for path in slides {
        if let Err(e) = check_file(path) {
            problems.push(e);
        }
        let name = match name_rule(path) {
            Ok(name) => name,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if let Err(e) = check_name_length(path, &name, out, limit) {
            problems.push(e);
        }
        if let Some(first) = seen.insert(name.clone(), path) {
            problems.push(SplitError::DuplicateName {
                name: name.clone(),
                first: first.clone(),
                second: path.clone(),
            });
        }
        names.push(name);
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(InputErrors(problems))
    }
}

/// The name rule: the store is called after the file name without its
/// extension, which must exist, must not start with a dot (a hidden file)
/// and must fit in a line of the tab-separated `lookup.tsv`.
pub fn name_rule(path: &Path) -> Result<String, SplitError> {
    let name = slide_name(path);
    let bad = |reason: &str| SplitError::BadName {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if name.is_empty() || name.starts_with('.') {
        return Err(bad("no file name to call its store by"));
    }
    if name.contains(['\t', '\n', '\r']) {
        return Err(bad(
            "the name contains a tab or line break, which lookup.tsv cannot hold",
        ));
    }
    Ok(name)
}

/// The slide file exists, is a file, has bytes and can be opened for reading.
fn check_file(path: &Path) -> Result<(), SplitError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(SplitError::Missing(path.to_path_buf()))
        }
        Err(source) => return Err(unreadable(path, source)),
    };
    if !meta.is_file() {
        return Err(SplitError::NotAFile(path.to_path_buf()));
    }
    if meta.len() == 0 {
        return Err(SplitError::EmptyFile(path.to_path_buf()));
    }
    File::open(path).map_err(|source| unreadable(path, source))?;
    Ok(())
}

fn unreadable(path: &Path, source: std::io::Error) -> SplitError {
    SplitError::Unreadable {
        path: path.to_path_buf(),
        source,
    }
}

/// Every file slidescale names after the slide must fit the file system's
/// file-name limit; refused here, not as an ENAMETOOLONG half-way through.
fn check_name_length(path: &Path, name: &str, out: &Path, limit: u64) -> Result<(), SplitError> {
    let max = limit.saturating_sub(LONGEST_SUFFIX.len() as u64);
    let bytes = name.len() as u64;
    if bytes <= max {
        return Ok(());
    }
    Err(SplitError::NameTooLong {
        path: path.to_path_buf(),
        bytes,
        max,
        limit,
        out: out.to_path_buf(),
    })
}

/// The file-name limit (NAME_MAX, in bytes) of the file system `out` is on,
/// or will be on once created: asked of its nearest existing ancestor.
pub fn name_max(out: &Path) -> u64 {
    let existing = out
        .ancestors()
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.exists())
        .unwrap_or(Path::new("."));
    let Ok(c) = CString::new(existing.as_os_str().as_bytes()) else {
        return DEFAULT_NAME_MAX;
    };
    // SAFETY: `c` is a valid NUL-terminated path for the call's duration.
    let n = unsafe { libc::pathconf(c.as_ptr(), libc::_PC_NAME_MAX) };
    if n > 0 {
        n as u64
    } else {
        DEFAULT_NAME_MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("slidescale-inputs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_name_rule_allows_odd_names_and_refuses_tabs_and_hidden_files() {
        assert_eq!(
            name_rule(Path::new("d/a b $(x) 'q'.svs")).unwrap(),
            "a b $(x) 'q'"
        );
        assert!(matches!(
            name_rule(Path::new("t\tab.svs")),
            Err(SplitError::BadName { .. })
        ));
        assert!(name_rule(Path::new("/")).is_err());
        assert!(name_rule(Path::new("d/.hidden")).is_err());
    }

    #[test]
    fn every_problem_is_found_and_named() {
        let dir = temp("all");
        let good = dir.join("good.svs");
        std::fs::write(&good, b"bytes").unwrap();
        let empty = dir.join("empty.svs");
        std::fs::write(&empty, b"").unwrap();
        let folder = dir.join("folder.svs");
        std::fs::create_dir(&folder).unwrap();
        let missing = dir.join("missing.svs");
        let other = dir.join("b");
        std::fs::create_dir(&other).unwrap();
        let twin = other.join("good.tif");
        std::fs::write(&twin, b"bytes").unwrap();
        let slides = [
            good.clone(),
            empty,
            folder,
            missing,
            twin,
            PathBuf::from("t\tab.svs"),
        ];
        let errs = check_slide_inputs(&slides, &dir.join("work")).unwrap_err();
        let kinds: Vec<&str> = errs
            .0
            .iter()
            .map(|e| match e {
                SplitError::EmptyFile(_) => "empty",
                SplitError::NotAFile(_) => "not a file",
                SplitError::Missing(_) => "missing",
                SplitError::DuplicateName { .. } => "duplicate",
                SplitError::BadName { .. } => "bad name",
                _ => "other",
            })
            .collect();
        // the tab name is missing too, and then breaks the name rule
        assert_eq!(
            kinds,
            [
                "empty",
                "not a file",
                "missing",
                "duplicate",
                "missing",
                "bad name"
            ]
        );
        let line = errs.to_string();
        assert!(line.starts_with("6 slides cannot be used: "), "{line}");
        for p in ["empty.svs", "folder.svs", "missing.svs", "good.tif"] {
            assert!(line.contains(p), "{p} not named: {line}");
        }
        assert_eq!(check_slide_inputs(&[good], &dir).unwrap(), ["good"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_name_too_long_for_the_file_system_is_refused_with_the_limit() {
        let dir = temp("long");
        let limit = name_max(&dir);
        let max = limit as usize - LONGEST_SUFFIX.len();
        // The longest name that fits, and one byte more: both are legal
        // file names here, only the second leaves no room for a suffix.
        let fits = dir.join(format!("{}.svs", "a".repeat(max)));
        let over = dir.join(format!("{}.svs", "b".repeat(max + 1)));
        for p in [&fits, &over] {
            std::fs::write(p, b"bytes").unwrap();
        }
        let out = dir.join("not/yet/made");
        assert!(check_slide_inputs(std::slice::from_ref(&fits), &out).is_ok());
        let err = check_slide_inputs(std::slice::from_ref(&over), &out).unwrap_err();
        let line = err.to_string();
        assert!(
            matches!(err.0[..], [SplitError::NameTooLong { .. }]),
            "{line}"
        );
        assert!(
            line.contains(&format!("limited to {limit} bytes")),
            "{line}"
        );
        assert!(line.contains(&format!("at most {max} bytes")), "{line}");
        // the limit is the file system's: the longest temporary name of
        // the refused slide cannot be created, that of the other can
        let temp_name = |stem: &str| dir.join(format!("{stem}{LONGEST_SUFFIX}"));
        assert!(std::fs::write(temp_name(&"a".repeat(max)), b"").is_ok());
        let e = std::fs::write(temp_name(&"b".repeat(max + 1)), b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidFilename, "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
