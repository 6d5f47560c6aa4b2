//! Lesions as GeoJSON that QuPath imports and as ASAP XML, and readers of
//! the detections (points) in both, for round trips and for other tools'
//! files. All files are written atomically.
//!
//! GeoJSON: a point feature per lesion (`name` "Lesion N", `classification`,
//! `measurements.probability`, `measurements.area_um2` when the level-0 MPP
//! is known and the lesion has a region) and, when the lesion has an
//! outline, a polygon feature "Lesion N outline" with the same properties.
//!
//! ASAP XML: a `Dot` annotation per lesion with an extra `Probability`
//! attribute (ASAP keeps no measurements; it ignores attributes it does not
//! know), and a `Polygon` annotation for each outline, all in one group.

use super::csv::{integral, read_text, write_file, DetectionFileError};
use super::{Detection, Lesion};
use crate::geojson::{feature_collection, Classification, Feature, Geometry, ObjectType};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// What the GeoJSON and XML files say besides the lesions.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionFileOptions {
    /// Level-0 pixels per heatmap pixel (for areas).
    pub stride: u32,
    /// Level-0 µm per pixel, when known (for `area_um2`).
    pub level0_mpp: Option<f64>,
    /// QuPath class and ASAP group name (default "Tumor" / "detections").
    pub class_name: String,
    pub group_name: String,
    /// Display colour (default QuPath's Tumor red, 200, 0, 0).
    pub color: [u8; 3],
    /// QuPath object type (default annotation: visible and editable).
    pub object_type: ObjectType,
}

impl LesionFileOptions {
    /// The defaults for a heatmap of `stride`.
    pub fn new(stride: u32, level0_mpp: Option<f64>) -> LesionFileOptions {
        LesionFileOptions {
            stride,
            level0_mpp,
            class_name: "Tumor".into(),
            group_name: "detections".into(),
            color: [200, 0, 0],
            object_type: ObjectType::Annotation,
        }
    }
}

/// A lesion's area in µm², when it has one and the MPP is known.
fn area_um2(lesion: &Lesion, o: &LesionFileOptions) -> Option<f64> {
    let side = f64::from(o.stride) * o.level0_mpp?;
    Some(lesion.area_px? as f64 * side * side)
}

fn lesion_features(i: usize, lesion: &Lesion, o: &LesionFileOptions) -> Vec<Feature> {
    let d = lesion.detection;
    let mut measurements = vec![("probability".to_string(), d.prob)];
    if let Some(a) = area_um2(lesion, o) {
        measurements.push(("area_um2".to_string(), a));
    }
    let feature = |geometry, name: String| Feature {
        geometry,
        object_type: o.object_type,
        name: Some(name),
        classification: Some(Classification {
            name: o.class_name.clone(),
            color: o.color,
        }),
        measurements: measurements.clone(),
    };
    let mut out = vec![feature(
        Geometry::Point([d.x as f64, d.y as f64]),
        format!("Lesion {}", i + 1),
    )];
    if let Some(ring) = &lesion.outline {
        out.push(feature(
            Geometry::Polygon(vec![ring.clone()]),
            format!("Lesion {} outline", i + 1),
        ));
    }
    out
}

/// The GeoJSON text of `lesions`.
pub fn geojson_text(lesions: &[Lesion], o: &LesionFileOptions) -> String {
    let features: Vec<Feature> = lesions
        .iter()
        .enumerate()
        .flat_map(|(i, l)| lesion_features(i, l, o))
        .collect();
    feature_collection(&features)
}

/// Writes `lesions` as GeoJSON to `path` atomically.
pub fn write_geojson(
    path: &Path,
    lesions: &[Lesion],
    o: &LesionFileOptions,
) -> Result<(), DetectionFileError> {
    write_file(path, geojson_text(lesions, o).as_bytes())
}

/// The detections of a GeoJSON file: every `Point` feature, with
/// `properties.measurements.probability` and integral coordinates; other
/// geometries (outlines) are skipped.
pub fn read_geojson_detections(path: &Path) -> Result<Vec<Detection>, DetectionFileError> {
    let text = read_text(path)?;
    let fail = |at: String, message: String| DetectionFileError::Parse {
        path: path.to_path_buf(),
        at,
        message,
    };
    let root: Value = serde_json::from_str(&text).map_err(|e| {
        fail(
            format!("line {} column {}", e.line(), e.column()),
            e.to_string(),
        )
    })?;
    let features = root["features"]
        .as_array()
        .ok_or_else(|| fail("top level".into(), "no \"features\" array".into()))?;
    let mut out = Vec::new();
    for (i, f) in features.iter().enumerate() {
        if f["geometry"]["type"] != "Point" {
            continue;
        }
        out.push(point_detection(f).map_err(|m| fail(format!("feature {i}"), m))?);
    }
    Ok(out)
}

fn point_detection(f: &Value) -> Result<Detection, String> {
    let c = &f["geometry"]["coordinates"];
    let coordinate = |k: usize, name: &str| {
        c[k].as_f64()
            .and_then(integral)
            .ok_or_else(|| format!("point {name} {} is not an integral pixel coordinate", c[k]))
    };
    let prob = f["properties"]["measurements"]["probability"]
        .as_f64()
        .ok_or("no numeric properties.measurements.probability")?;
    Ok(Detection {
        prob,
        x: coordinate(0, "X")?,
        y: coordinate(1, "Y")?,
    })
}

/// XML attribute text with the five special characters escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn hex_color(c: [u8; 3]) -> String {
    format!("#{:02X}{:02X}{:02X}", c[0], c[1], c[2])
}

fn xml_annotation(
    out: &mut String,
    name: &str,
    kind: &str,
    prob: f64,
    points: &[[f64; 2]],
    o: &LesionFileOptions,
) {
    let (group, color) = (escape(&o.group_name), hex_color(o.color));
    let _ = writeln!(
        out,
        "\t\t<Annotation Name=\"{name}\" Type=\"{kind}\" PartOfGroup=\"{group}\" Color=\"{color}\" Probability=\"{prob}\">"
    );
    out.push_str("\t\t\t<Coordinates>\n");
    for (k, p) in points.iter().enumerate() {
        let _ = writeln!(
            out,
            "\t\t\t\t<Coordinate Order=\"{k}\" X=\"{}\" Y=\"{}\" />",
            p[0], p[1]
        );
    }
    out.push_str("\t\t\t</Coordinates>\n\t\t</Annotation>\n");
}

/// The ASAP XML text of `lesions`.
pub fn asap_xml_text(lesions: &[Lesion], o: &LesionFileOptions) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<ASAP_Annotations>\n\t<Annotations>\n");
    for (i, l) in lesions.iter().enumerate() {
        let d = l.detection;
        let point = [d.x as f64, d.y as f64];
        xml_annotation(
            &mut out,
            &format!("Lesion {}", i + 1),
            "Dot",
            d.prob,
            &[point],
            o,
        );
        if let Some(ring) = &l.outline {
            // ASAP closes polygons itself: the ring without its repeated point.
            let open = &ring[..ring.len().saturating_sub(1)];
            xml_annotation(
                &mut out,
                &format!("Lesion {} outline", i + 1),
                "Polygon",
                d.prob,
                open,
                o,
            );
        }
    }
    let _ = write!(
        out,
        "\t</Annotations>\n\t<AnnotationGroups>\n\t\t<Group Name=\"{}\" PartOfGroup=\"None\" Color=\"{}\">\n\t\t\t<Attributes />\n\t\t</Group>\n\t</AnnotationGroups>\n</ASAP_Annotations>\n",
        escape(&o.group_name),
        hex_color(o.color)
    );
    out
}

/// Writes `lesions` as ASAP XML to `path` atomically.
pub fn write_asap_xml(
    path: &Path,
    lesions: &[Lesion],
    o: &LesionFileOptions,
) -> Result<(), DetectionFileError> {
    write_file(path, asap_xml_text(lesions, o).as_bytes())
}

/// The detections of an ASAP XML file: every `Dot` annotation, with its
/// `Probability` attribute and first coordinate (integral); other types
/// are skipped.
pub fn read_asap_detections(path: &Path) -> Result<Vec<Detection>, DetectionFileError> {
    let text = read_text(path)?;
    let fail = |at: String, message: String| DetectionFileError::Parse {
        path: path.to_path_buf(),
        at,
        message,
    };
    let doc = roxmltree::Document::parse(&text).map_err(|e| {
        let p = e.pos();
        fail(format!("line {} column {}", p.row, p.col), e.to_string())
    })?;
    let mut out = Vec::new();
    for a in doc.descendants().filter(|n| n.has_tag_name("Annotation")) {
        if a.attribute("Type") != Some("Dot") {
            continue;
        }
        let p = doc.text_pos_at(a.range().start);
        out.push(
            dot_detection(a).map_err(|m| fail(format!("line {} column {}", p.row, p.col), m))?,
        );
    }
    Ok(out)
}

fn dot_detection(a: roxmltree::Node) -> Result<Detection, String> {
    let prob = a
        .attribute("Probability")
        .and_then(|p| p.trim().parse::<f64>().ok())
        .filter(|p| p.is_finite())
        .ok_or("Dot annotation without a numeric Probability attribute")?;
    let c = a
        .descendants()
        .find(|n| n.has_tag_name("Coordinate"))
        .ok_or("Dot annotation without a Coordinate")?;
    let coordinate = |name: &str| {
        let v = c.attribute(name).unwrap_or("");
        super::csv::parse_coordinate(v.trim(), name)
    };
    Ok(Detection {
        prob,
        x: coordinate("X")?,
        y: coordinate("Y")?,
    })
}
