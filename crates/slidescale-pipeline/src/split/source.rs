//! What is known about a slide before it is read: its name, its file's size
//! and modification time (to tell whether an existing store still matches
//! it), and the checks that must pass before any slide is touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use slidescale_core::workdir::slide_name;
use slidescale_store::StoreInfo;

use super::SplitError;

/// Size and modification time of a slide file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceStamp {
    pub size: u64,
    /// Unix seconds, with the file system's sub-second precision.
    pub mtime: f64,
}

impl SourceStamp {
    pub fn of(path: &Path) -> std::io::Result<SourceStamp> {
        let meta = std::fs::metadata(path)?;
        let mtime = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Ok(SourceStamp {
            size: meta.len(),
            mtime,
        })
    }

    /// Whether a store was written from a file with this stamp.
    pub fn matches(&self, info: &StoreInfo) -> bool {
        info.source_size == self.size && info.source_mtime == self.mtime
    }
}

/// The slides' names, in input order, after checking that each has one and
/// that no two share it (their stores would collide). Nothing is read.
pub fn checked_names(slides: &[PathBuf]) -> Result<Vec<String>, SplitError> {
    let mut seen: HashMap<String, &PathBuf> = HashMap::new();
    let mut names = Vec::with_capacity(slides.len());
    for path in slides {
        let name = slide_name(path);
        if name.is_empty() || name.starts_with('.') {
            return Err(SplitError::BadName {
                path: path.clone(),
                reason: "no file name to call its store by".into(),
            });
        }
        // lookup.tsv is tab-separated, one slide a line.
        if name.contains(['\t', '\n', '\r']) {
            return Err(SplitError::BadName {
                path: path.clone(),
                reason: "the name contains a tab or line break, which lookup.tsv cannot hold"
                    .into(),
            });
        }
        if let Some(first) = seen.insert(name.clone(), path) {
            return Err(SplitError::DuplicateName {
                name,
                first: first.clone(),
                second: path.clone(),
            });
        }
        names.push(name);
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_slides_with_one_name_are_refused() {
        let slides = [PathBuf::from("a/x.svs"), PathBuf::from("b/x.tiff")];
        let err = checked_names(&slides).unwrap_err().to_string();
        assert!(err.contains("a/x.svs") && err.contains("b/x.tiff"), "{err}");
    }

    #[test]
    fn odd_but_legal_names_pass_and_tabs_do_not() {
        let ok = [PathBuf::from("d/a b $(x) 'q'.svs"), PathBuf::from("y.tif")];
        assert_eq!(checked_names(&ok).unwrap(), ["a b $(x) 'q'", "y"]);
        assert!(checked_names(&[PathBuf::from("t\tab.svs")]).is_err());
        assert!(checked_names(&[PathBuf::from("/")]).is_err());
    }
}
