//! `labels.csv`: which slides are tumour slides, and optionally which are for
//! training and which for testing the slide-level classifier.
//!
//! ```text
//! slide,label,split
//! tumor_001,tumor,train
//! normal_001,normal,test
//! ```
//! The header names the columns (`slide,label` or `slide,label,split`, in
//! that order). A label is `tumor` / `tumour` / `1` or `normal` / `0`, a
//! split `train` or `test`, all case-insensitive; spaces around fields and
//! blank lines are ignored. Either every row has a split or none has
//! (then the classifier is cross-validated). A slide listed twice is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

/// A slide's ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Tumor,
    Normal,
}

/// Which part of the slide-level evaluation a slide belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

/// One row of `labels.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlideLabel {
    pub slide: String,
    pub label: Label,
    /// `None` when the file has no split column.
    pub split: Option<Split>,
}

/// The whole file, by slide name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlideLabels {
    pub slides: BTreeMap<String, SlideLabel>,
    /// Whether the file has a split column.
    pub has_split: bool,
}

impl SlideLabels {
    pub fn get(&self, slide: &str) -> Option<&SlideLabel> {
        self.slides.get(slide)
    }

    /// Names of the tumour slides, sorted.
    pub fn tumor_slides(&self) -> impl Iterator<Item = &str> {
        self.slides
            .values()
            .filter(|s| s.label == Label::Tumor)
            .map(|s| s.slide.as_str())
    }
}

#[derive(Debug, Error)]
pub enum LabelsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Read `labels.csv` at `path`.
pub fn read_labels(path: &Path) -> Result<SlideLabels, LabelsError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabelsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_labels(&text).map_err(|(line, reason)| LabelsError::Parse {
        path: path.to_path_buf(),
        line,
        reason,
    })
}

/// Parse the text of a labels file; an error is (1-based line, reason).
pub fn parse_labels(text: &str) -> Result<SlideLabels, (usize, String)> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (header_line, header) = lines.next().ok_or((1, "empty file".to_string()))?;
    let has_split = parse_header(header).map_err(|r| (header_line, r))?;
    let columns = if has_split { 3 } else { 2 };
    let mut labels = SlideLabels {
        slides: BTreeMap::new(),
        has_split,
    };
    for (n, line) in lines {
        let row = parse_row(line, columns).map_err(|r| (n, r))?;
        if labels.slides.contains_key(&row.slide) {
            return Err((n, format!("slide {:?} is listed twice", row.slide)));
        }
        labels.slides.insert(row.slide.clone(), row);
    }
    Ok(labels)
}

/// Whether the header `slide,label[,split]` has the split column.
fn parse_header(line: &str) -> Result<bool, String> {
    let names: Vec<String> = fields(line).map(|f| f.to_ascii_lowercase()).collect();
    match names.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["slide", "label"] => Ok(false),
        ["slide", "label", "split"] => Ok(true),
        _ => Err(format!(
            "header {line:?}: expected slide,label or slide,label,split"
        )),
    }
}

fn fields(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(str::trim)
}

fn parse_row(line: &str, columns: usize) -> Result<SlideLabel, String> {
    let values: Vec<&str> = fields(line).collect();
    if values.len() != columns {
        return Err(format!(
            "{} fields, the header has {columns}: {line:?}",
            values.len()
        ));
    }
    if values[0].is_empty() {
        return Err("empty slide name".into());
    }
    Ok(SlideLabel {
        slide: values[0].to_string(),
        label: parse_label(values[1])?,
        split: values.get(2).map(|s| parse_split(s)).transpose()?,
    })
}

/// The one rule for what a label may be spelt as.
fn parse_label(value: &str) -> Result<Label, String> {
    match value.to_ascii_lowercase().as_str() {
        "tumor" | "tumour" | "1" => Ok(Label::Tumor),
        "normal" | "0" => Ok(Label::Normal),
        _ => Err(format!(
            "label {value:?}: expected tumor, tumour, normal, 1 or 0"
        )),
    }
}

fn parse_split(value: &str) -> Result<Split, String> {
    match value.to_ascii_lowercase().as_str() {
        "train" => Ok(Split::Train),
        "test" => Ok(Split::Test),
        _ => Err(format!("split {value:?}: expected train or test")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_splits_in_every_spelling() {
        let text = "Slide, Label, Split\n\ntumor_001,Tumor,train\nt2,TUMOUR,Test\nn1,0,train\nn2 , normal , TEST\nt3,1,test\n";
        let labels = parse_labels(text).unwrap();
        assert!(labels.has_split);
        assert_eq!(labels.slides.len(), 5);
        assert_eq!(
            labels.get("n2"),
            Some(&SlideLabel {
                slide: "n2".into(),
                label: Label::Normal,
                split: Some(Split::Test)
            })
        );
        assert_eq!(labels.get("t2").unwrap().label, Label::Tumor);
        assert_eq!(labels.get("n1").unwrap().split, Some(Split::Train));
        let tumours: Vec<&str> = labels.tumor_slides().collect();
        assert_eq!(tumours, ["t2", "t3", "tumor_001"]);
        let plain = parse_labels("slide,label\na,tumor\nb,normal\n").unwrap();
        assert!(!plain.has_split && plain.get("a").unwrap().split.is_none());
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let cases = [
            ("slide,label\na,tumor\na,normal\n", 3, "listed twice"),
            ("slide,label\na,maybe\n", 2, "label \"maybe\""),
            (
                "slide,label,split\na,tumor,validate\n",
                2,
                "split \"validate\"",
            ),
            (
                "slide,label,split\na,tumor\n",
                2,
                "2 fields, the header has 3",
            ),
            ("name,class\n", 1, "expected slide,label"),
            ("", 1, "empty file"),
            ("slide,label\n,tumor\n", 2, "empty slide name"),
        ];
        let dir = slidescale_testutil::temp_dir("labels");
        let path = dir.join("labels.csv");
        for (text, line, says) in cases {
            std::fs::write(&path, text).unwrap();
            let err = read_labels(&path).unwrap_err().to_string();
            let at = format!("labels.csv:{line}: ");
            assert!(err.contains(&at) && err.contains(says), "{text:?}: {err}");
        }
        let err = read_labels(&dir.join("none.csv")).unwrap_err().to_string();
        assert!(err.contains("none.csv"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
