//! ASAP XML: `ASAP_Annotations/Annotations/Annotation[Name, Type,
//! PartOfGroup]/Coordinates/Coordinate[Order, X, Y]`, the CAMELYON16 format.
//!
//! Polygon and Spline annotations are outlines through their coordinates
//! (ASAP draws a spline as a smooth curve through them; the polygon through
//! the same points is what CAMELYON16's own conversion uses), Rectangle is
//! its 4 corners (or the box of 2 opposite ones), and Dot, PointSet and
//! Measurement are points. Coordinates are taken in `Order`, file order
//! where `Order` is missing. The class is the `PartOfGroup` through
//! [`class_from_name`].

use super::{class_from_name, closed_ring, finite, Fault, Outline, Polygon, SlideAnnotations};
use roxmltree::{Document, Node};

/// Parses ASAP XML text.
pub(crate) fn parse(text: &str) -> Result<SlideAnnotations, Fault> {
    let doc = Document::parse(text).map_err(|e| syntax_fault(&e, text))?;
    let root = doc.root_element();
    if root.tag_name().name() != "ASAP_Annotations" {
        return Err(Fault::Invalid {
            position: Some(position(&doc, root.range().start)),
            at: "root element".into(),
            message: format!("<{}> is not <ASAP_Annotations>", root.tag_name().name()),
        });
    }
    let mut annotations = SlideAnnotations::default();
    let elements = root
        .children()
        .filter(|n| n.has_tag_name("Annotations"))
        .flat_map(|n| n.children().filter(|c| c.has_tag_name("Annotation")));
    for (index, element) in elements.enumerate() {
        read_annotation(&doc, element, index, &mut annotations)?;
    }
    Ok(annotations)
}

/// roxmltree's error with its position; the errors it has no position for
/// (an unclosed root, a file that ends early) are placed at the end of the
/// text, where the fault shows.
fn syntax_fault(error: &roxmltree::Error, text: &str) -> Fault {
    use roxmltree::Error as E;
    let at_end = matches!(
        error,
        E::UnexpectedEndOfStream | E::UnclosedRootNode | E::NoRootNode
    );
    let (line, column) = if at_end {
        end_position(text)
    } else {
        (u64::from(error.pos().row), u64::from(error.pos().col))
    };
    let message = error
        .to_string()
        .replace(&format!(" at {}", error.pos()), "");
    Fault::Syntax {
        line,
        column,
        message,
    }
}

/// Line and column (from 1) just past the last character of `text`.
fn end_position(text: &str) -> (u64, u64) {
    let line = text.matches('\n').count() as u64 + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    (line, last.chars().count() as u64 + 1)
}

fn position(doc: &Document, byte: usize) -> (u64, u64) {
    let p = doc.text_pos_at(byte);
    (u64::from(p.row), u64::from(p.col))
}

fn read_annotation(
    doc: &Document,
    element: Node,
    index: usize,
    out: &mut SlideAnnotations,
) -> Result<(), Fault> {
    let name = element.attribute("Name").unwrap_or_default().to_string();
    let at = format!("annotation {index} ({name:?})");
    let invalid = |byte: usize, at: &str, message: String| Fault::Invalid {
        position: Some(position(doc, byte)),
        at: at.to_string(),
        message,
    };
    let kind = element
        .attribute("Type")
        .ok_or_else(|| invalid(element.range().start, &at, "has no Type".into()))?;
    let vertices = coordinates(doc, element, &at)?;
    match kind {
        "Dot" | "PointSet" | "Measurement" => out.points.extend(vertices),
        "Polygon" | "Spline" | "Rectangle" => {
            let ring = if kind == "Rectangle" && vertices.len() == 2 {
                box_corners(vertices[0], vertices[1])
            } else {
                vertices
            };
            let exterior = closed_ring(ring).map_err(|m| invalid(element.range().start, &at, m))?;
            let group = element.attribute("PartOfGroup").unwrap_or("None");
            out.outlines.push(Outline {
                name,
                class: class_from_name(group),
                polygon: Polygon {
                    exterior,
                    holes: Vec::new(),
                },
            });
        }
        other => {
            return Err(invalid(
                element.range().start,
                &at,
                format!("unknown Type {other:?}"),
            ))
        }
    }
    Ok(())
}

/// The 4 corners of the axis-aligned box with opposite corners `a` and `b`.
fn box_corners(a: [f64; 2], b: [f64; 2]) -> Vec<[f64; 2]> {
    vec![a, [b[0], a[1]], b, [a[0], b[1]]]
}

/// An annotation's `Coordinate` elements, sorted by `Order` (stable, so file
/// order breaks ties and stands where `Order` is missing).
fn coordinates(doc: &Document, element: Node, at: &str) -> Result<Vec<[f64; 2]>, Fault> {
    let nodes = element
        .children()
        .filter(|n| n.has_tag_name("Coordinates"))
        .flat_map(|n| n.children().filter(|c| c.has_tag_name("Coordinate")));
    let mut ordered = Vec::new();
    for (i, node) in nodes.enumerate() {
        let at = format!("{at} coordinate {i}");
        let order = match node.attribute("Order") {
            None => i as f64,
            Some(_) => attribute_number(doc, node, "Order", &at)?,
        };
        let x = attribute_number(doc, node, "X", &at)?;
        let y = attribute_number(doc, node, "Y", &at)?;
        ordered.push((order, [x, y]));
    }
    ordered.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(ordered.into_iter().map(|(_, v)| v).collect())
}

/// A numeric attribute, finite; the fault names the attribute and points at
/// its value.
fn attribute_number(doc: &Document, node: Node, name: &str, at: &str) -> Result<f64, Fault> {
    let fault = |byte: usize, message: String| Fault::Invalid {
        position: Some(position(doc, byte)),
        at: at.to_string(),
        message,
    };
    let attribute = node
        .attribute_node(name)
        .ok_or_else(|| fault(node.range().start, format!("{name} is missing")))?;
    let byte = attribute.range_value().start;
    let value = asap_number(attribute.value()).ok_or_else(|| {
        fault(
            byte,
            format!("{name} is not a number: {:?}", attribute.value()),
        )
    })?;
    finite(value, name).map_err(|m| fault(byte, m))
}

/// An ASAP number. ASAP writes them with the C locale ("70342.5391"), but
/// files saved under a locale with a decimal comma ("70342,5391") exist, so a
/// single comma without a point is read as the decimal point.
fn asap_number(text: &str) -> Option<f64> {
    let text = text.trim();
    text.parse().ok().or_else(|| {
        let decimal_comma = text.matches(',').count() == 1 && !text.contains('.');
        decimal_comma
            .then(|| text.replace(',', ".").parse().ok())
            .flatten()
    })
}
