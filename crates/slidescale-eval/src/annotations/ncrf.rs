//! NCRF JSON (as NCRF converts the CAMELYON16 XMLs):
//! `{"positive": [{"name", "vertices": [[x, y], …]}], "negative": […]}`.
//! Positive polygons are tumour, negative ones exclusions, whatever their
//! names.

use super::{closed_ring, json_vertex, Fault, Outline, OutlineClass, Polygon, SlideAnnotations};
use serde_json::Value;

/// Parses NCRF JSON already read as a value (see `parse_json_by_content`).
pub(crate) fn from_value(value: &Value) -> Result<SlideAnnotations, Fault> {
    let mut annotations = SlideAnnotations::default();
    for (key, class) in [
        ("positive", OutlineClass::Tumour),
        ("negative", OutlineClass::Exclusion),
    ] {
        let Some(list) = value.get(key) else { continue };
        let list = list
            .as_array()
            .ok_or_else(|| Fault::invalid(key, "is not an array"))?;
        for (index, item) in list.iter().enumerate() {
            annotations
                .outlines
                .push(outline(item, &format!("{key} {index}"), &class)?);
        }
    }
    Ok(annotations)
}

/// One `{"name", "vertices"}` entry; `at` names it ("positive 2").
fn outline(item: &Value, at: &str, class: &OutlineClass) -> Result<Outline, Fault> {
    let name = item
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let at = format!("{at} ({name:?})");
    let vertices = item
        .get("vertices")
        .and_then(Value::as_array)
        .ok_or_else(|| Fault::invalid(&at, "has no \"vertices\" array"))?;
    let ring = vertices
        .iter()
        .enumerate()
        .map(|(i, v)| json_vertex(v).map_err(|m| Fault::invalid(format!("{at} vertex {i}"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    let exterior = closed_ring(ring).map_err(|m| Fault::invalid(&at, m))?;
    Ok(Outline {
        name,
        class: class.clone(),
        polygon: Polygon {
            exterior,
            holes: Vec::new(),
        },
    })
}
