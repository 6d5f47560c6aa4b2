//! The feature table: one row of features per slide, as CSV with a header
//! `slide,<feature names…>`. Values are written in Rust's shortest
//! round-trip form, so reading a written table gives the same `f64`s.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::SlideFeatures;

/// Features of many slides: `rows[i] = (slide name, values)`, each with
/// `names.len()` values in `names` order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    pub names: Vec<String>,
    pub rows: Vec<(String, Vec<f64>)>,
}

/// What can go wrong building, writing or reading a feature table.
#[derive(Debug, thiserror::Error)]
pub enum FeatureTableError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("slide {slide:?}: a slide name in a feature table may not contain ',', '\"' or a line break, nor be empty")]
    BadSlideName { slide: String },
    #[error("slide {slide:?} is already in the feature table")]
    DuplicateSlide { slide: String },
    #[error("slide {slide:?}: its feature names differ from the table's")]
    NamesDiffer { slide: String },
}

impl FeatureTable {
    /// An empty table with these feature names.
    pub fn new(names: Vec<String>) -> FeatureTable {
        FeatureTable {
            names,
            rows: Vec::new(),
        }
    }

    /// Appends a slide's features; its names must be the table's, and the
    /// slide name new and writable in a CSV field without quoting.
    pub fn push(&mut self, slide: &str, features: SlideFeatures) -> Result<(), FeatureTableError> {
        check_slide_name(slide)?;
        if features.names != self.names || features.values.len() != self.names.len() {
            return Err(FeatureTableError::NamesDiffer {
                slide: slide.into(),
            });
        }
        if self.rows.iter().any(|(s, _)| s == slide) {
            return Err(FeatureTableError::DuplicateSlide {
                slide: slide.into(),
            });
        }
        self.rows.push((slide.to_string(), features.values));
        Ok(())
    }

    /// The values of `slide`'s row.
    pub fn row(&self, slide: &str) -> Option<&[f64]> {
        self.rows
            .iter()
            .find(|(s, _)| s == slide)
            .map(|(_, v)| v.as_slice())
    }

    /// The table as CSV text.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("slide");
        for name in &self.names {
            out.push(',');
            out.push_str(name);
        }
        out.push('\n');
        for (slide, values) in &self.rows {
            out.push_str(slide);
            for v in values {
                out.push(',');
                out.push_str(&v.to_string());
            }
            out.push('\n');
        }
        out
    }

    /// Writes the table as CSV to `path`.
    pub fn write_csv_file(&self, path: &Path) -> Result<(), FeatureTableError> {
        let io = |source| FeatureTableError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::File::create(path).map_err(io)?;
        file.write_all(self.to_csv().as_bytes()).map_err(io)
    }

    /// Reads a table written by [`FeatureTable::write_csv_file`].
    pub fn read_csv_file(path: &Path) -> Result<FeatureTable, FeatureTableError> {
        let text = std::fs::read_to_string(path).map_err(|source| FeatureTableError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        FeatureTable::parse_csv(&text, path)
    }

    /// Parses CSV text; `path` names the source in errors.
    pub fn parse_csv(text: &str, path: &Path) -> Result<FeatureTable, FeatureTableError> {
        let fail = |line: usize, message: String| FeatureTableError::Parse {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
        let (_, header) = lines
            .next()
            .ok_or_else(|| fail(1, "empty file, expected a header 'slide,…'".into()))?;
        let mut fields = header.split(',');
        if fields.next() != Some("slide") {
            return Err(fail(1, "the header must start with 'slide'".into()));
        }
        let names: Vec<String> = fields.map(str::to_string).collect();
        if names.is_empty() || names.iter().any(String::is_empty) {
            return Err(fail(1, "the header has an empty or no feature name".into()));
        }
        let mut table = FeatureTable::new(names);
        let mut seen = HashSet::new();
        for (n, line) in lines.filter(|(_, l)| !l.is_empty()) {
            let (slide, values) = parse_row(line, table.names.len()).map_err(|m| fail(n, m))?;
            if !seen.insert(slide.clone()) {
                return Err(fail(n, format!("slide {slide:?} appears twice")));
            }
            table.rows.push((slide, values));
        }
        Ok(table)
    }
}

/// One data row: the slide name and exactly `expected` numbers.
fn parse_row(line: &str, expected: usize) -> Result<(String, Vec<f64>), String> {
    let mut fields = line.split(',');
    let slide = fields.next().unwrap_or_default().to_string();
    if slide.is_empty() {
        return Err("empty slide name".into());
    }
    let values = fields
        .enumerate()
        .map(|(i, f)| {
            f.trim()
                .parse::<f64>()
                .map_err(|_| format!("column {}: {f:?} is not a number", i + 2))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    if values.len() != expected {
        return Err(format!(
            "{} values, the header names {expected}",
            values.len()
        ));
    }
    Ok((slide, values))
}

fn check_slide_name(slide: &str) -> Result<(), FeatureTableError> {
    if slide.is_empty() || slide.contains([',', '"', '\n', '\r']) {
        return Err(FeatureTableError::BadSlideName {
            slide: slide.into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_table_reads_back_exactly_and_faults_name_their_line() {
        let names = vec!["a".to_string(), "b".to_string()];
        let mut t = FeatureTable::new(names.clone());
        let values = vec![0.1 + 0.2, 1e-300];
        t.push(
            "s1",
            SlideFeatures {
                names: names.clone(),
                values,
            },
        )
        .unwrap();
        t.push(
            "s2",
            SlideFeatures {
                names: names.clone(),
                values: vec![3.0, 0.0],
            },
        )
        .unwrap();
        let p = Path::new("f.csv");
        assert_eq!(FeatureTable::parse_csv(&t.to_csv(), p).unwrap(), t);
        let dup = t.push(
            "s1",
            SlideFeatures {
                names: names.clone(),
                values: vec![0.0; 2],
            },
        );
        assert!(matches!(dup, Err(FeatureTableError::DuplicateSlide { .. })));
        assert!(matches!(
            t.push(
                "x,y",
                SlideFeatures {
                    names,
                    values: vec![0.0; 2]
                }
            ),
            Err(FeatureTableError::BadSlideName { .. })
        ));
        let err = FeatureTable::parse_csv("slide,a,b\ns1,1,2\ns2,1,x\n", p).unwrap_err();
        assert_eq!(err.to_string(), "f.csv:3: column 3: \"x\" is not a number");
        let err = FeatureTable::parse_csv("slide,a\ns1,1,2\n", p).unwrap_err();
        assert_eq!(err.to_string(), "f.csv:2: 2 values, the header names 1");
    }
}
