//! GeoJSON as QuPath exports it: a FeatureCollection, a single Feature or a
//! bare array of features. Polygon and MultiPolygon geometries (with holes)
//! are outlines, Point and MultiPoint are points, lines are ignored, and a
//! GeometryCollection is read part by part. The class is
//! `properties.classification.name`, or `properties.classification` itself
//! when it is a string (older QuPath); other properties (`isLocked`,
//! `objectType`, measurements) are not used.

use super::{
    class_from_name, closed_ring, json_vertex, parse_json, short, Fault, Outline, OutlineClass,
    Polygon, SlideAnnotations,
};
use serde_json::Value;

/// Parses GeoJSON text.
pub(crate) fn parse(text: &str) -> Result<SlideAnnotations, Fault> {
    from_value(&parse_json(text)?)
}

/// Parses GeoJSON already read as a value.
pub(crate) fn from_value(value: &Value) -> Result<SlideAnnotations, Fault> {
    let mut annotations = SlideAnnotations::default();
    for (index, feature) in features(value)?.iter().enumerate() {
        read_feature(feature, index, &mut annotations)?;
    }
    Ok(annotations)
}

/// The features of a FeatureCollection, a Feature or an array.
fn features(value: &Value) -> Result<Vec<Value>, Fault> {
    if let Some(list) = value.as_array() {
        return Ok(list.clone());
    }
    match value.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => value
            .get("features")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| Fault::invalid("FeatureCollection", "has no \"features\" array")),
        Some("Feature") => Ok(vec![value.clone()]),
        other => Err(Fault::invalid(
            "top level",
            format!(
                "expected a FeatureCollection, a Feature or an array of features, found type {}",
                other.map_or("(none)".to_string(), |t| format!("{t:?}"))
            ),
        )),
    }
}

/// One feature's outlines and points, appended to `out`.
fn read_feature(feature: &Value, index: usize, out: &mut SlideAnnotations) -> Result<(), Fault> {
    let name = feature_name(feature);
    let at = format!("feature {index} ({name:?})");
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(Fault::invalid(at, "is not a GeoJSON Feature"));
    }
    let class = class_from_name(&classification(feature));
    match feature.get("geometry") {
        None | Some(Value::Null) => Ok(()),
        Some(geometry) => read_geometry(geometry, &at, &name, &class, out),
    }
}

/// `properties.name`, else the feature's `id`, else empty.
fn feature_name(feature: &Value) -> String {
    let from_properties = feature
        .get("properties")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    match (from_properties, feature.get("id")) {
        (Some(name), _) => name.to_string(),
        (None, Some(Value::String(id))) => id.clone(),
        (None, Some(id @ Value::Number(_))) => id.to_string(),
        _ => String::new(),
    }
}

/// The classification name: `classification.name`, or `classification` as a
/// string; empty when unclassified.
fn classification(feature: &Value) -> String {
    let classification = feature
        .get("properties")
        .and_then(|p| p.get("classification"));
    match classification {
        Some(Value::String(name)) => name.clone(),
        Some(object) => object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        None => String::new(),
    }
}

fn read_geometry(
    geometry: &Value,
    at: &str,
    name: &str,
    class: &OutlineClass,
    out: &mut SlideAnnotations,
) -> Result<(), Fault> {
    let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    if kind == "GeometryCollection" {
        let parts = array(geometry.get("geometries"), at, "geometries")?;
        for (i, part) in parts.iter().enumerate() {
            read_geometry(part, &format!("{at} geometry {i}"), name, class, out)?;
        }
        return Ok(());
    }
    let coordinates = geometry.get("coordinates");
    match kind {
        "Polygon" => {
            let polygon = polygon(coordinates, at)?;
            out.outlines.push(outline(name, class, polygon));
        }
        "MultiPolygon" => {
            for (i, part) in array(coordinates, at, "coordinates")?.iter().enumerate() {
                let polygon = polygon(Some(part), &format!("{at} polygon {i}"))?;
                out.outlines.push(outline(name, class, polygon));
            }
        }
        "Point" => out.points.push(vertex(coordinates, at)?),
        "MultiPoint" => {
            for (i, point) in array(coordinates, at, "coordinates")?.iter().enumerate() {
                out.points
                    .push(vertex(Some(point), &format!("{at} point {i}"))?);
            }
        }
        "LineString" | "MultiLineString" => {}
        other => {
            return Err(Fault::invalid(
                at,
                format!("unknown geometry type {other:?}"),
            ))
        }
    }
    Ok(())
}

fn outline(name: &str, class: &OutlineClass, polygon: Polygon) -> Outline {
    Outline {
        name: name.to_string(),
        class: class.clone(),
        polygon,
    }
}

/// Polygon coordinates: ring 0 the exterior, the rest holes.
fn polygon(coordinates: Option<&Value>, at: &str) -> Result<Polygon, Fault> {
    let rings = array(coordinates, at, "coordinates")?;
    let mut rings = rings.iter().enumerate().map(|(r, ring)| {
        let at = format!("{at} ring {r}");
        let vertices = array(Some(ring), &at, "ring")?
            .iter()
            .enumerate()
            .map(|(i, v)| vertex(Some(v), &format!("{at} vertex {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        closed_ring(vertices).map_err(|m| Fault::invalid(at, m))
    });
    let exterior = rings
        .next()
        .ok_or_else(|| Fault::invalid(at, "a polygon without rings"))??;
    let holes = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon { exterior, holes })
}

fn vertex(value: Option<&Value>, at: &str) -> Result<[f64; 2], Fault> {
    json_vertex(value.unwrap_or(&Value::Null)).map_err(|m| Fault::invalid(at, m))
}

fn array<'v>(value: Option<&'v Value>, at: &str, what: &str) -> Result<&'v Vec<Value>, Fault> {
    value.and_then(Value::as_array).ok_or_else(|| {
        Fault::invalid(
            at,
            format!(
                "{what} is not an array: {}",
                short(value.unwrap_or(&Value::Null))
            ),
        )
    })
}
