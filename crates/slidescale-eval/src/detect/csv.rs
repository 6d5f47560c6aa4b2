//! The CAMELYON16 detection CSV: one file per slide (`NAME.csv`), one row
//! `prob,X,Y` per detection, no header, X and Y level-0 pixels.
//!
//! Written: `prob` in Rust's shortest round-trip decimal (never an exponent),
//! so Python's `float()` reads back the same f64; X and Y integers.
//!
//! Read (ours and other tools'): blank lines anywhere, a trailing newline,
//! CRLF and spaces around fields are accepted; X and Y may be written as
//! integral floats (`1234.0`, as some tools write them) but a fractional or
//! out-of-range coordinate, a non-finite probability, a missing or extra
//! field is an error naming the file and line (the reference script's
//! `int()` would refuse `1234.0` too; we accept it because its value is
//! unambiguous, and refuse `1234.5` because which mask pixel it hits would
//! be our choice, not the tool's).

use super::Detection;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A detection file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum DetectionFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `at` says where: `line 3`, `line 2 column 7`, `feature 4`.
    #[error("{path}: {at}: {message}")]
    Parse {
        path: PathBuf,
        at: String,
        message: String,
    },
}

/// The CSV text of `detections`.
pub fn csv_text(detections: &[Detection]) -> String {
    let mut out = String::new();
    for d in detections {
        writeln!(out, "{},{},{}", d.prob, d.x, d.y).expect("write to String");
    }
    out
}

/// Writes `detections` to `path` atomically.
pub fn write_csv(path: &Path, detections: &[Detection]) -> Result<(), DetectionFileError> {
    write_file(path, csv_text(detections).as_bytes())
}

/// Reads `path` as text, naming it in the error.
pub(crate) fn read_text(path: &Path) -> Result<String, DetectionFileError> {
    std::fs::read_to_string(path).map_err(|source| DetectionFileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `bytes` to `path` atomically (temp name in the same directory,
/// fsync, rename), naming the file in the error.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DetectionFileError> {
    slidescale_core::workdir::write_atomic(path, bytes).map_err(|source| DetectionFileError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a detection CSV.
pub fn read_csv(path: &Path) -> Result<Vec<Detection>, DetectionFileError> {
    let text = read_text(path)?;
    parse_csv(&text).map_err(|(line, message)| DetectionFileError::Parse {
        path: path.to_path_buf(),
        at: format!("line {line}"),
        message,
    })
}

/// Parses CSV text; an error is (1-based line, what is wrong).
pub fn parse_csv(text: &str) -> Result<Vec<Detection>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        out.push(parse_row(line).map_err(|m| (i + 1, m))?);
    }
    Ok(out)
}

fn parse_row(line: &str) -> Result<Detection, String> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [prob, x, y] = fields[..] else {
        return Err(format!(
            "expected 3 fields prob,X,Y, found {}: {line:?}",
            fields.len()
        ));
    };
    let prob: f64 = prob
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite())
        .ok_or_else(|| format!("probability {prob:?} is not a finite number"))?;
    Ok(Detection {
        prob,
        x: parse_coordinate(x, "X")?,
        y: parse_coordinate(y, "Y")?,
    })
}

/// An integer coordinate, or a float with an integral value (`1234.0`).
pub(crate) fn parse_coordinate(field: &str, name: &str) -> Result<i64, String> {
    if let Ok(v) = field.parse::<i64>() {
        return Ok(v);
    }
    match field.parse::<f64>() {
        Ok(v) => integral(v)
            .ok_or_else(|| format!("{name} {field:?} is not an integral pixel coordinate")),
        Err(_) => Err(format!("{name} {field:?} is not a number")),
    }
}

/// `v` as an i64 when it is a whole number that an f64 holds exactly.
pub(crate) fn integral(v: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (v.is_finite() && v.fract() == 0.0 && v.abs() <= EXACT).then_some(v as i64)
}
