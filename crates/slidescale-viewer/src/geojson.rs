//! GeoJSON features the way QuPath writes and imports them (checked
//! against qupath/qupath
//! `qupath-core/src/main/java/qupath/lib/io/PathObjectTypeAdapters.java`,
//! `PathObjectTypeAdapter.write`/`read`): a `FeatureCollection` of
//! `Feature`s with a standard `geometry` and `properties` holding
//! `objectType` (`"annotation"`, `"detection"`, …), an optional `name`, an
//! optional `classification` `{ "name", "color": [r, g, b] }` and a
//! `measurements` object of name → number (QuPath ≥ 0.4's map form).
//! Coordinates are level-0 pixels, origin at the image's top left, as
//! QuPath's are.
//!
//! QuPath's `PathObjectTypeAdapter.MAP_TYPES` names the object types
//! (`PathTileObject` → `"tile"`, `PathDetectionObject` → `"detection"`,
//! `PathAnnotationObject` → `"annotation"`), and its
//! `MeasurementListTypeAdapter.write` writes `measurements` as one JSON
//! object of name → number.
//!
//! Shared by everything that writes GeoJSON (lesion detections, heatmap
//! tiles).

use serde_json::{json, Map, Number, Value};

/// A geometry in level-0 pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    Point([f64; 2]),
    /// Rings, the first the exterior, each closed (first point = last).
    Polygon(Vec<Vec<[f64; 2]>>),
}

/// QuPath's object types that we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// Editable in QuPath; what a pathologist's outline is.
    Annotation,
    /// QuPath's detections: many, light, not editable.
    Detection,
    /// QuPath's tiles (a detection subtype): cells of a grid, coloured by
    /// their measurements in QuPath's measurement maps.
    Tile,
}

impl ObjectType {
    /// The `objectType` string QuPath reads.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Annotation => "annotation",
            ObjectType::Detection => "detection",
            ObjectType::Tile => "tile",
        }
    }
}

/// A QuPath classification (its class name and display colour).
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub name: String,
    pub color: [u8; 3],
}

/// One feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub geometry: Geometry,
    pub object_type: ObjectType,
    pub name: Option<String>,
    pub classification: Option<Classification>,
    /// Name → value, written in this order's keys (finite values only; a
    /// non-finite one is left out, as JSON has no NaN).
    pub measurements: Vec<(String, f64)>,
}

/// A number as JSON: integral values as integers (`1234`, not `1234.0`),
/// others in shortest round-trip form; `None` for NaN and infinities.
pub fn number(v: f64) -> Option<Value> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if v.fract() == 0.0 && v.abs() <= EXACT {
        Some(Value::Number(Number::from(v as i64)))
    } else {
        Number::from_f64(v).map(Value::Number)
    }
}

fn position(p: [f64; 2]) -> Value {
    Value::Array(
        p.iter()
            .map(|&c| number(c).unwrap_or(Value::Null))
            .collect(),
    )
}

fn geometry_json(g: &Geometry) -> Value {
    match g {
        Geometry::Point(p) => json!({ "type": "Point", "coordinates": position(*p) }),
        Geometry::Polygon(rings) => {
            let rings: Vec<Value> = rings
                .iter()
                .map(|r| Value::Array(r.iter().map(|&p| position(p)).collect()))
                .collect();
            json!({ "type": "Polygon", "coordinates": rings })
        }
    }
}

/// The feature as a JSON value.
pub fn feature_json(f: &Feature) -> Value {
    let mut properties = Map::new();
    properties.insert("objectType".into(), f.object_type.as_str().into());
    if let Some(name) = &f.name {
        properties.insert("name".into(), name.clone().into());
    }
    if let Some(c) = &f.classification {
        properties.insert(
            "classification".into(),
            json!({ "name": c.name, "color": c.color }),
        );
    }
    let measurements: Map<String, Value> = f
        .measurements
        .iter()
        .filter_map(|(k, v)| number(*v).map(|v| (k.clone(), v)))
        .collect();
    if !measurements.is_empty() {
        properties.insert("measurements".into(), Value::Object(measurements));
    }
    json!({ "type": "Feature", "geometry": geometry_json(&f.geometry), "properties": properties })
}

/// A `FeatureCollection` of `features`, one feature a line.
pub fn feature_collection(features: &[Feature]) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        out.push_str(&feature_json(f).to_string());
        out.push_str(if i + 1 < features.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    out
}
