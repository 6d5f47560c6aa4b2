//! Pathologists' outlines in: ASAP XML, NCRF JSON and QuPath GeoJSON.
//!
//! Every format becomes one [`SlideAnnotations`]: polygons in level-0 pixels
//! (x, y), each with a class ([`OutlineClass`]) that says whether it is tumour,
//! an exclusion (a region the challenge ignores) or something else. Which
//! names mean which class is one rule, [`class_from_name`], for all formats.
//!
//! A malformed file is an [`AnnotationError`] that names the file and where
//! the fault is: line and column for syntax errors, the annotation (index,
//! counted from 0, and name) and the vertex for structural ones.

mod asap;
mod geojson;
mod ncrf;

use std::fmt;
use std::path::{Path, PathBuf};

/// A polygon in level-0 pixels: `[x, y]` vertices of the exterior ring and of
/// each hole, in file order, without a repeated closing vertex (the ring
/// closes implicitly). Every ring has at least 3 vertices, all finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    pub exterior: Vec<[f64; 2]>,
    pub holes: Vec<Vec<[f64; 2]>>,
}

/// What an outline marks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OutlineClass {
    /// Tumour (metastasis): part of the evaluation mask.
    Tumour,
    /// A region cut out of the tumour (CAMELYON16's `_2` group, QuPath's
    /// `Exclusion` / `Ignore*` classes).
    Exclusion,
    /// Any other group or class, by its name as written (empty when the file
    /// gives none); not part of the mask.
    Other(String),
}

/// One outlined region.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The annotation's name as the file gives it (ASAP `Name`, NCRF `name`,
    /// GeoJSON `properties.name` or the feature's `id`); may be empty.
    pub name: String,
    pub class: OutlineClass,
    pub polygon: Polygon,
}

/// Everything read from one slide's annotation file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SlideAnnotations {
    /// Area annotations (polygons, splines, rectangles), in file order; a
    /// GeoJSON MultiPolygon gives one outline per part, all with its name.
    pub outlines: Vec<Outline>,
    /// Point annotations (ASAP Dot, PointSet and Measurement, GeoJSON Point
    /// and MultiPoint), in file order; kept for callers, never part of masks.
    pub points: Vec<[f64; 2]>,
}

/// Why an annotation file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AnnotationError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not an annotation file (expected .xml, .json or .geojson)", path.display())]
    UnknownFormat { path: PathBuf },
    /// The file is not well-formed XML or JSON; `line` and `column` count
    /// from 1.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    /// The file is well-formed but not a valid annotation file. `at` names
    /// the annotation and vertex (e.g. `annotation 3 ("_0 12") coordinate
    /// 7`); `position` is its line and column where the parser knows it
    /// (XML).
    #[error("{}{}: {at}: {message}", path.display(), LineColumn(*position))]
    Invalid {
        path: PathBuf,
        position: Option<(u64, u64)>,
        at: String,
        message: String,
    },
    /// More than one of NAME.xml, NAME.json and NAME.geojson exists.
    #[error("{}: slide {name} has more than one annotation file: {}", dir.display(), names(found))]
    Ambiguous {
        dir: PathBuf,
        name: String,
        found: Vec<PathBuf>,
    },
}

/// `:line:column` when known, nothing otherwise.
struct LineColumn(Option<(u64, u64)>);

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((line, column)) => write!(f, ":{line}:{column}"),
            None => Ok(()),
        }
    }
}

fn names(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.join(", ")
}

/// A fault found by a format's parser, before the file's path is attached.
#[derive(Debug)]
pub(crate) enum Fault {
    Syntax {
        line: u64,
        column: u64,
        message: String,
    },
    Invalid {
        position: Option<(u64, u64)>,
        at: String,
        message: String,
    },
}

impl Fault {
    pub(crate) fn invalid(at: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault::Invalid {
            position: None,
            at: at.into(),
            message: message.into(),
        }
    }

    fn in_file(self, path: &Path) -> AnnotationError {
        let path = path.to_path_buf();
        match self {
            Fault::Syntax {
                line,
                column,
                message,
            } => AnnotationError::Syntax {
                path,
                line,
                column,
                message,
            },
            Fault::Invalid {
                position,
                at,
                message,
            } => AnnotationError::Invalid {
                path,
                position,
                at,
                message,
            },
        }
    }
}

/// Reads one slide's annotations, choosing the format by extension
/// (case-insensitive): `.xml` is ASAP, `.geojson` is GeoJSON, and `.json` is
/// GeoJSON when the top level is an array or has a `type`, NCRF JSON when it
/// has `positive` or `negative`.
pub fn read_annotations(path: &Path) -> Result<SlideAnnotations, AnnotationError> {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let parse: fn(&str) -> Result<SlideAnnotations, Fault> = match extension.as_deref() {
        Some("xml") => asap::parse,
        Some("json") => parse_json_by_content,
        Some("geojson") => geojson::parse,
        _ => {
            return Err(AnnotationError::UnknownFormat {
                path: path.to_path_buf(),
            })
        }
    };
    let text = std::fs::read_to_string(path).map_err(|source| AnnotationError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|fault| fault.in_file(path))
}

/// The extensions [`annotation_file_for_slide`] looks for, in this order.
pub const ANNOTATION_EXTENSIONS: [&str; 3] = ["xml", "json", "geojson"];

/// The annotation file of slide `name` in `dir`: whichever of NAME.xml,
/// NAME.json and NAME.geojson exists; `None` when none does, an error when
/// more than one does (which one is meant cannot be guessed).
pub fn annotation_file_for_slide(
    dir: &Path,
    name: &str,
) -> Result<Option<PathBuf>, AnnotationError> {
    let found: Vec<PathBuf> = ANNOTATION_EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        _ => Err(AnnotationError::Ambiguous {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            found,
        }),
    }
}

/// Slide `name`'s annotations from `dir` ([`annotation_file_for_slide`] then
/// [`read_annotations`]); `None` when the slide has no annotation file.
pub fn annotations_for_slide(
    dir: &Path,
    name: &str,
) -> Result<Option<SlideAnnotations>, AnnotationError> {
    match annotation_file_for_slide(dir, name)? {
        Some(path) => read_annotations(&path).map(Some),
        None => Ok(None),
    }
}

/// The class a group or classification name means, for every format:
/// `_0`, `_1`, `Tumor`, `Tumour` are tumour; `_2`, `Exclusion` and names
/// starting with `Ignore` are exclusions (case-insensitive, surrounding
/// spaces ignored); anything else is [`OutlineClass::Other`] with the name
/// as written.
pub fn class_from_name(name: &str) -> OutlineClass {
    let folded = name.trim().to_ascii_lowercase();
    match folded.as_str() {
        "_0" | "_1" | "tumor" | "tumour" => OutlineClass::Tumour,
        "_2" | "exclusion" => OutlineClass::Exclusion,
        s if s.starts_with("ignore") => OutlineClass::Exclusion,
        _ => OutlineClass::Other(name.to_string()),
    }
}

/// A ring as stored: a final vertex equal to the first is dropped (GeoJSON
/// always repeats it, other formats may), and fewer than 3 vertices left is
/// an error (the message; the caller names the ring).
pub(crate) fn closed_ring(mut vertices: Vec<[f64; 2]>) -> Result<Vec<[f64; 2]>, String> {
    if vertices.len() > 1 && vertices.first() == vertices.last() {
        vertices.pop();
    }
    if vertices.len() < 3 {
        return Err(format!(
            "a polygon needs at least 3 vertices, this one has {}",
            vertices.len()
        ));
    }
    Ok(vertices)
}

/// A coordinate that must be finite (the message when it is not).
pub(crate) fn finite(value: f64, axis: &str) -> Result<f64, String> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("{axis} is not finite ({value})"))
    }
}

/// `.json` files: GeoJSON or NCRF, told apart by their top level.
fn parse_json_by_content(text: &str) -> Result<SlideAnnotations, Fault> {
    let value = parse_json(text)?;
    let is_geojson = match &value {
        serde_json::Value::Array(_) => true,
        serde_json::Value::Object(map) => map.contains_key("type"),
        _ => false,
    };
    let is_ncrf = value.get("positive").is_some() || value.get("negative").is_some();
    if is_geojson {
        geojson::from_value(&value)
    } else if is_ncrf {
        ncrf::from_value(&value)
    } else {
        Err(Fault::invalid(
            "top level",
            "neither GeoJSON (a \"type\" or an array of features) nor NCRF JSON (\"positive\" / \"negative\")",
        ))
    }
}

/// JSON text to a value; a syntax error keeps serde_json's line and column.
pub(crate) fn parse_json(text: &str) -> Result<serde_json::Value, Fault> {
    serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let message = match full.rsplit_once(" at line ") {
            Some((message, _)) => message.to_string(),
            None => full,
        };
        Fault::Syntax {
            line: e.line() as u64,
            column: e.column() as u64,
            message,
        }
    })
}

/// A JSON vertex `[x, y]` (GeoJSON allows a third value, the altitude,
/// which is ignored); the message when it is not a pair of finite numbers.
pub(crate) fn json_vertex(value: &serde_json::Value) -> Result<[f64; 2], String> {
    let pair = value
        .as_array()
        .filter(|a| a.len() >= 2)
        .ok_or_else(|| format!("not an [x, y] pair: {}", short(value)))?;
    let number = |i: usize, axis: &str| {
        pair[i]
            .as_f64()
            .ok_or_else(|| format!("{axis} is not a number: {}", short(&pair[i])))
            .and_then(|v| finite(v, axis))
    };
    Ok([number(0, "x")?, number(1, "y")?])
}

/// A JSON value for a message, cut to a readable length.
pub(crate) fn short(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
