//! Annotations in and the tumour rasteriser, against independent Python:
//! the real files parsed by `json` / `xml.etree`, rasters by shapely's
//! `contains_xy` at the same pixel centres.

use slidescale_eval::annotations::{
    annotation_file_for_slide, annotations_for_slide, read_annotations, AnnotationError,
    OutlineClass, SlideAnnotations,
};
use slidescale_eval::mask::rasterise::{tumour_raster, tumour_raster_window};
use slidescale_eval::raster::Raster;
use slidescale_testutil::{run_python, shared, temp_dir};
use std::path::{Path, PathBuf};

/// The real annotation files of the shared data.
fn real_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["data/annotations/asap", "data/annotations/camelyon16"] {
        for entry in std::fs::read_dir(shared(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.sort();
    assert!(files.len() >= 5, "expected the 5 shared annotation files");
    files
}

/// One line per outline (class, name, ring sizes, coordinate sums) and one
/// for the points; Python prints the same from its own parse.
fn summary(annotations: &SlideAnnotations) -> String {
    let mut lines = Vec::new();
    for outline in &annotations.outlines {
        let class = match &outline.class {
            OutlineClass::Tumour => "tumour".to_string(),
            OutlineClass::Exclusion => "exclusion".to_string(),
            OutlineClass::Other(name) => format!("other:{name}"),
        };
        let rings: Vec<&Vec<[f64; 2]>> = std::iter::once(&outline.polygon.exterior)
            .chain(&outline.polygon.holes)
            .collect();
        let sizes: Vec<String> = rings.iter().map(|r| r.len().to_string()).collect();
        let (sx, sy) = sums(rings.iter().flat_map(|r| r.iter()));
        lines.push(format!(
            "O\t{class}\t{}\t{}\t{sx:?}\t{sy:?}",
            outline.name,
            sizes.join(",")
        ));
    }
    let (sx, sy) = sums(annotations.points.iter());
    lines.push(format!("P\t{}\t{sx:?}\t{sy:?}", annotations.points.len()));
    lines.join("\n") + "\n"
}

fn sums<'a>(vertices: impl Iterator<Item = &'a [f64; 2]>) -> (f64, f64) {
    vertices.fold((0.0, 0.0), |(sx, sy), v| (sx + v[0], sy + v[1]))
}

/// Independent parsers printing `summary`'s lines.
const PY_SUMMARY: &str = r#"
import json, sys, xml.etree.ElementTree as ET

def cls(name):
    n = name.strip().lower()
    if n in ('_0', '_1', 'tumor', 'tumour'): return 'tumour'
    if n in ('_2', 'exclusion') or n.startswith('ignore'): return 'exclusion'
    return 'other:' + name

def opened(ring):
    ring = [(float(x), float(y)) for x, y, *_ in ring]
    if len(ring) > 1 and ring[0] == ring[-1]: ring.pop()
    return ring

out, points = [], []
def outline(c, name, rings):
    sx = sy = 0.0
    for r in rings:
        for x, y in r: sx += x; sy += y
    out.append('O\t%s\t%s\t%s\t%r\t%r' % (c, name, ','.join(str(len(r)) for r in rings), sx, sy))

path = sys.argv[1]
if path.endswith('.xml'):
    for a in ET.parse(path).getroot().find('Annotations').findall('Annotation'):
        cs = sorted(a.find('Coordinates').findall('Coordinate'), key=lambda c: float(c.get('Order')))
        v = [(float(c.get('X')), float(c.get('Y'))) for c in cs]
        if a.get('Type') in ('Dot', 'PointSet'): points.extend(v)
        else: outline(cls(a.get('PartOfGroup')), a.get('Name'), [opened(v)])
else:
    d = json.load(open(path))
    if isinstance(d, dict) and 'positive' in d:
        for key, c in (('positive', 'tumour'), ('negative', 'exclusion')):
            for p in d.get(key, []): outline(c, p['name'], [opened(p['vertices'])])
    else:
        feats = d['features'] if isinstance(d, dict) and d['type'] == 'FeatureCollection' else d
        for f in feats:
            pr = f.get('properties', {})
            k = pr.get('classification', '')
            c = cls(k if isinstance(k, str) else k.get('name', ''))
            g = f['geometry']
            polys = {'Polygon': [g['coordinates']], 'MultiPolygon': g['coordinates']}.get(g['type'], [])
            for p in polys: outline(c, pr.get('name', f.get('id', '')), [opened(r) for r in p])
            if g['type'] == 'Point': points.append(tuple(g['coordinates'][:2]))
sx = sy = 0.0
for x, y in points: sx += x; sy += y
out.append('P\t%d\t%r\t%r' % (len(points), float(sx), float(sy)))
print('\n'.join(out))
"#;

fn python_summary(path: &Path) -> String {
    run_python(PY_SUMMARY, &[path.to_str().unwrap()])
}

#[test]
fn every_real_file_parses_as_python_reads_it() {
    for path in real_files() {
        let annotations = read_annotations(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            summary(&annotations),
            python_summary(&path),
            "{}",
            path.display()
        );
    }
    let tumour = read_annotations(&shared("data/annotations/camelyon16/Tumor_001.json")).unwrap();
    assert!(tumour.outlines.len() >= 2 && tumour.outlines[0].polygon.exterior.len() > 100);
}

/// A QuPath-shaped GeoJSON built by Python from Tumor_001's real outlines:
/// a MultiPolygon (outline `_0` with a hole cut by shapely, and `_1`)
/// classified Tumor, an Exclusion box across `_1`, a Tumour outline with the
/// old string classification, an unclassified polygon and a point.
const PY_WRITE_GEOJSON: &str = r#"
import json, sys, shapely
d = json.load(open(sys.argv[1]))
p0, p1 = [shapely.Polygon(p['vertices']) for p in d['positive']]
inner = shapely.buffer(p0, -250)
inner = max(getattr(inner, 'geoms', [inner]), key=lambda g: g.area).simplify(40)
hole = list(inner.exterior.coords)
ring = lambda vs: [list(map(float, v)) for v in vs] + [list(map(float, vs[0]))]
cx, cy = p1.centroid.x, p1.centroid.y
box = [[cx - 900, cy - 700], [cx + 1100, cy - 700], [cx + 1100, cy + 600], [cx - 900, cy + 600], [cx - 900, cy - 700]]
small = [[c[0] + 3000, c[1] - 2000] for c in box]
feature = lambda geom, props: {'type': 'Feature', 'id': 'f%d' % len(feats), 'geometry': geom,
                               'properties': dict(props, objectType='annotation', isLocked=False)}
feats = []
feats.append(feature({'type': 'MultiPolygon', 'coordinates': [[ring(d['positive'][0]['vertices']), hole], [ring(d['positive'][1]['vertices'])]]},
                     {'name': 'lesions', 'classification': {'name': 'Tumor', 'colorRGB': -3670016}}))
feats.append(feature({'type': 'Polygon', 'coordinates': [box]}, {'name': 'cut', 'classification': {'name': 'Exclusion', 'color': [0, 0, 180]}}))
feats.append(feature({'type': 'Polygon', 'coordinates': [small]}, {'name': 'old', 'classification': 'Tumour'}))
feats.append(feature({'type': 'Polygon', 'coordinates': [[[c[0], c[1] + 3000] for c in small]]}, {}))
feats.append(feature({'type': 'Point', 'coordinates': [cx, cy]}, {'name': 'dot'}))
json.dump({'type': 'FeatureCollection', 'features': feats}, open(sys.argv[2], 'w'), indent=1)
"#;

fn constructed_geojson(dir: &Path) -> PathBuf {
    let path = dir.join("Tumor_001_qupath.geojson");
    let source = shared("data/annotations/camelyon16/Tumor_001.json");
    run_python(
        PY_WRITE_GEOJSON,
        &[source.to_str().unwrap(), path.to_str().unwrap()],
    );
    path
}

#[test]
fn qupath_geojson_with_multipolygon_hole_and_classes_parses() {
    let dir = temp_dir("ann-geojson");
    let path = constructed_geojson(&dir);
    let annotations = read_annotations(&path).unwrap();
    assert_eq!(summary(&annotations), python_summary(&path));
    let classes: Vec<&OutlineClass> = annotations.outlines.iter().map(|o| &o.class).collect();
    assert_eq!(
        classes,
        [
            &OutlineClass::Tumour,
            &OutlineClass::Tumour,
            &OutlineClass::Exclusion,
            &OutlineClass::Tumour,
            &OutlineClass::Other(String::new())
        ]
    );
    assert_eq!(annotations.outlines[0].polygon.holes.len(), 1);
    assert_eq!(annotations.points.len(), 1);
    // The same content as .json is GeoJSON by its content.
    let as_json = dir.join("copy.json");
    std::fs::copy(&path, &as_json).unwrap();
    assert_eq!(read_annotations(&as_json).unwrap(), annotations);
}

/// Shapely's mask at the pixel centres ((x + 0.5)·d, (y + 0.5)·d) of a
/// width × height level, evaluated in the outlines' bounding box (zero
/// elsewhere), from the file parsed again by `json`; compared with the raw
/// bytes Rust wrote. Prints `mismatches tumour_pixels`.
const PY_SHAPELY_MASK: &str = r#"
import json, sys, numpy as np, shapely
path, raw, w, h, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
data = json.load(open(path))
tum, exc = [], []
if isinstance(data, dict) and 'positive' in data:
    tum = [shapely.Polygon(p['vertices']) for p in data['positive']]
    exc = [shapely.Polygon(p['vertices']) for p in data.get('negative', [])]
else:
    for f in data['features']:
        k = f['properties'].get('classification', '')
        k = (k if isinstance(k, str) else k['name']).lower()
        g = f['geometry']
        polys = {'Polygon': [g['coordinates']], 'MultiPolygon': g['coordinates']}.get(g['type'], [])
        for p in polys:
            poly = shapely.Polygon([c[:2] for c in p[0]], [[c[:2] for c in r] for r in p[1:]])
            {'tumor': tum, 'tumour': tum, 'exclusion': exc}.get(k, []).append(poly)
mask = np.zeros((h, w), dtype=bool)
x0, y0, x1, y1 = shapely.GeometryCollection(tum).bounds
c0, c1 = max(int(x0 // d) - 1, 0), min(int(x1 // d) + 2, w)
r0, r1 = max(int(y0 // d) - 1, 0), min(int(y1 // d) + 2, h)
xs, ys = np.meshgrid((np.arange(c0, c1) + 0.5) * d, (np.arange(r0, r1) + 0.5) * d)
inside = np.zeros(xs.shape, dtype=bool)
for p in tum: inside |= shapely.contains_xy(p, xs, ys)
for p in exc: inside &= ~shapely.contains_xy(p, xs, ys)
mask[r0:r1, c0:c1] = inside
ours = np.fromfile(raw, dtype=np.uint8).reshape(h, w)
assert set(np.unique(ours)) <= {0, 255}, np.unique(ours)
print(int(((ours == 255) != mask).sum()), int(mask.sum()))
"#;

/// A level big enough for the outlines' tumour bounds at downsample `d`.
fn level_size(annotations: &SlideAnnotations, d: f64) -> (usize, usize) {
    let (mut mx, mut my) = (0.0f64, 0.0f64);
    for o in &annotations.outlines {
        for v in &o.polygon.exterior {
            mx = mx.max(v[0]);
            my = my.max(v[1]);
        }
    }
    ((mx / d).ceil() as usize + 2, (my / d).ceil() as usize + 2)
}

fn assert_equals_shapely(path: &Path, dir: &Path, d: f64, size: Option<(usize, usize)>) {
    let annotations = read_annotations(path).unwrap();
    let (w, h) = size.unwrap_or_else(|| level_size(&annotations, d));
    let raster = tumour_raster(&annotations, w, h, d);
    let raw = dir.join("raster.u8");
    std::fs::write(&raw, &raster.data).unwrap();
    let args = [&w.to_string(), &h.to_string(), &d.to_string()].map(|s| s.to_string());
    let out = run_python(
        PY_SHAPELY_MASK,
        &[
            path.to_str().unwrap(),
            raw.to_str().unwrap(),
            &args[0],
            &args[1],
            &args[2],
        ],
    );
    let numbers: Vec<u64> = out.split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(
        numbers[0],
        0,
        "{}: pixels differing from shapely",
        path.display()
    );
    assert!(numbers[1] > 0, "{}: no tumour at all", path.display());
}

#[test]
fn raster_of_real_outlines_at_level_5_equals_shapely() {
    let dir = temp_dir("ann-raster");
    for name in ["Tumor_001.json", "Tumor_002.json"] {
        let path = shared(&format!("data/annotations/camelyon16/{name}"));
        assert_equals_shapely(&path, &dir, 32.0, None);
    }
    assert_equals_shapely(&constructed_geojson(&dir), &dir, 32.0, None);
}

/// Shapes whose edges and vertices pass exactly through pixel centres
/// (16 + 32k at downsample 32): horizontal and vertical edges on centre
/// lines, a slanted edge through centres, a vertex touching a centre line,
/// an exclusion sharing an edge with the tumour, a hole, a self-crossing
/// bow tie and two overlapping tumour squares.
const EDGE_CASES: &str = r#"{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"classification": {"name": "Tumor"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[16,16],[336,16],[336,336],[16,336],[16,16]], [[112,112],[240,112],[240,240],[112,240],[112,112]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Tumor"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[400,16],[720,336],[400,336],[400,16]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Tumor"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[16,400],[336,720],[336,400],[16,720],[16,400]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Tumor"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[400,400],[500,400],[560,496],[620,400],[720,400],[720,720],[400,720],[400,400]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Tumor"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[800,16],[1040,16],[1040,256],[800,256],[800,16]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Tumor"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[912,144],[1152,144],[1152,368],[912,368],[912,144]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Exclusion"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[560,496],[720,496],[720,800],[560,800],[560,496]]]}},
 {"type": "Feature", "properties": {"classification": {"name": "Ignore*"}}, "geometry": {"type": "Polygon",
  "coordinates": [[[1,1],[2,1],[2,2],[1,1]]]}}
]}"#;

#[test]
fn raster_on_edges_through_pixel_centres_equals_shapely() {
    let dir = temp_dir("ann-edges");
    let path = dir.join("edges.geojson");
    std::fs::write(&path, EDGE_CASES).unwrap();
    assert_equals_shapely(&path, &dir, 32.0, Some((40, 30)));
    assert_equals_shapely(&path, &dir, 16.0, Some((80, 60)));
    assert_equals_shapely(&path, &dir, 7.5, Some((170, 120)));
}

fn crop(raster: &Raster<u8>, x0: usize, y0: usize, w: usize, h: usize) -> Vec<u8> {
    (y0..y0 + h)
        .flat_map(|y| raster.row(y)[x0..x0 + w].to_vec())
        .collect()
}

#[test]
fn window_equals_the_crop_of_the_whole_level() {
    let dir = temp_dir("ann-window");
    let annotations = read_annotations(&constructed_geojson(&dir)).unwrap();
    let d = 32.0;
    let (w, h) = level_size(&annotations, d);
    let full = tumour_raster(&annotations, w, h, d);
    let windows = [
        (0, 0, w, h),
        (2180, 3820, 97, 213),
        (2200, 3900, 80, 300),
        (0, 0, 64, 64),
        (w - 50, h - 40, 50, 40),
        (2150, 3900, 1, 300),
    ];
    for (x0, y0, ww, wh) in windows {
        let window = tumour_raster_window(&annotations, x0, y0, ww, wh, d);
        assert_eq!((window.width, window.height), (ww, wh));
        assert_eq!(window.data, crop(&full, x0, y0, ww, wh), "window {x0},{y0}");
    }
    assert!(full.data.contains(&255));
    // At level 0, a tile across the boundary of `_0` equals the crop of a
    // larger window holding it.
    let (bx, by) = (71500, 131700);
    let big = tumour_raster_window(&annotations, bx, by, 700, 500, 1.0);
    let tile = tumour_raster_window(&annotations, bx + 256, by + 128, 256, 256, 1.0);
    assert_eq!(tile.data, crop(&big, 256, 128, 256, 256));
    assert!(tile.data.contains(&255) && tile.data.contains(&0));
}

#[test]
fn a_camelyon_sized_level_rasterises_quickly() {
    let annotations =
        read_annotations(&shared("data/annotations/camelyon16/Tumor_001.json")).unwrap();
    let started = std::time::Instant::now();
    let raster = tumour_raster(&annotations, 3000, 7000, 32.0);
    let elapsed = started.elapsed();
    assert!(raster.data.contains(&255));
    assert!(elapsed.as_secs_f64() < 2.0, "3000 × 7000 took {elapsed:?}");
}

// ---- errors ----------------------------------------------------------

fn error_of(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let error = read_annotations(&path).expect_err(name).to_string();
    assert!(error.starts_with(path.to_str().unwrap()), "{error}");
    error
}

/// The 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

fn asap_polygon() -> String {
    std::fs::read_to_string(shared("data/annotations/asap/asap-polygon.xml")).unwrap()
}

#[test]
fn truncated_xml_names_the_file_and_the_end() {
    let dir = temp_dir("ann-err-xml");
    let text = asap_polygon();
    let cut = &text[..text.len() / 2];
    let error = error_of(&dir, "cut.xml", cut);
    let lines = cut.matches('\n').count() + 1;
    assert!(error.contains(&format!("cut.xml:{lines}:")), "{error}");
}

#[test]
fn a_coordinate_that_is_not_a_number_is_named_with_its_line() {
    let dir = temp_dir("ann-err-abc");
    let text = asap_polygon().replace("X=\"22911.5078\"", "X=\"abc\"");
    let error = error_of(&dir, "abc.xml", &text);
    let line = line_of(&text, "abc");
    assert!(
        error.contains(&format!("abc.xml:{line}:"))
            && error.contains("annotation 0 (\"Annotation 0\") coordinate 2")
            && error.contains("X is not a number: \"abc\""),
        "{error}"
    );
    let inf = asap_polygon().replace("Y=\"16669.7832\"", "Y=\"inf\"");
    let error = error_of(&dir, "inf.xml", &inf);
    assert!(
        error.contains("coordinate 1") && error.contains("Y is not finite"),
        "{error}"
    );
}

#[test]
fn truncated_json_gives_line_and_column() {
    let dir = temp_dir("ann-err-json");
    let text =
        std::fs::read_to_string(shared("data/annotations/camelyon16/Tumor_002.json")).unwrap();
    let cut = &text[..text.len() / 3];
    let error = error_of(&dir, "Tumor_002.json", cut);
    let lines = cut.matches('\n').count() + 1;
    assert!(
        error.contains(&format!("Tumor_002.json:{lines}:")),
        "{error}"
    );
    let error = error_of(&dir, "cut.geojson", &EDGE_CASES[..500]);
    assert!(error.contains("cut.geojson:"), "{error}");
}

#[test]
fn a_two_vertex_polygon_is_an_error_naming_the_annotation() {
    let dir = temp_dir("ann-err-two");
    let ncrf = r#"{"positive": [{"name": "_0", "vertices": [[1, 1], [5, 1], [5, 5]]},
                               {"name": "_1", "vertices": [[1, 1], [5, 1]]}], "negative": []}"#;
    let error = error_of(&dir, "two.json", ncrf);
    assert!(
        error.contains("positive 1 (\"_1\")") && error.contains("3 vertices"),
        "{error}"
    );
    let geojson = r#"{"type": "Feature", "properties": {"name": "thin"}, "geometry":
        {"type": "Polygon", "coordinates": [[[1, 1], [5, 1], [1, 1]]]}}"#;
    let error = error_of(&dir, "two.geojson", geojson);
    assert!(error.contains("feature 0 (\"thin\") ring 0"), "{error}");
    let text = asap_polygon();
    let start = text.find("<Coordinate Order=\"2\"").unwrap();
    let end = text.find("</Coordinates>").unwrap();
    let xml = format!("{}{}", &text[..start], &text[end..]);
    let error = error_of(&dir, "two.xml", &xml);
    assert!(
        error.contains("annotation 0 (\"Annotation 0\")") && error.contains("3 vertices"),
        "{error}"
    );
    let error = error_of(
        &dir,
        "bad.json",
        r#"{"positive": [{"name": "a", "vertices": [[1, "x"]]}]}"#,
    );
    assert!(
        error.contains("positive 0 (\"a\") vertex 0: y is not a number"),
        "{error}"
    );
}

#[test]
fn decimal_commas_unknown_formats_and_slide_resolution() {
    let dir = temp_dir("ann-misc");
    let comma = asap_polygon().replace("X=\"22851.3281\"", "X=\"22851,3281\"");
    std::fs::write(dir.join("S1.xml"), comma).unwrap();
    let read = annotations_for_slide(&dir, "S1").unwrap().unwrap();
    assert_eq!(
        read.outlines[0].polygon.exterior[0],
        [22851.3281, 16551.1797]
    );
    assert_eq!(read.outlines[0].class, OutlineClass::Other("None".into()));
    assert!(annotations_for_slide(&dir, "S2").unwrap().is_none());
    std::fs::write(dir.join("S1.geojson"), EDGE_CASES).unwrap();
    let error = annotation_file_for_slide(&dir, "S1").unwrap_err();
    assert!(matches!(error, AnnotationError::Ambiguous { .. }));
    assert!(error.to_string().contains("S1.xml, S1.geojson"), "{error}");
    let error = error_of(&dir, "notes.txt", "x");
    assert!(error.contains("not an annotation file"), "{error}");
    let error = error_of(&dir, "other.json", r#"{"shapes": []}"#);
    assert!(error.contains("neither GeoJSON"), "{error}");
}

#[test]
fn asap_spline_rectangle_groups_and_order() {
    let dir = temp_dir("ann-asap-types");
    let xml = r#"<?xml version="1.0"?>
<ASAP_Annotations><Annotations>
 <Annotation Name="s" Type="Spline" PartOfGroup="_1"><Coordinates>
  <Coordinate Order="2" X="30" Y="30"/><Coordinate Order="0" X="10" Y="10"/>
  <Coordinate Order="1" X="30" Y="10"/><Coordinate Order="3" X="10" Y="30"/>
 </Coordinates></Annotation>
 <Annotation Name="r" Type="Rectangle" PartOfGroup="_2"><Coordinates>
  <Coordinate Order="0" X="0" Y="0"/><Coordinate Order="1" X="8" Y="0"/>
  <Coordinate Order="2" X="8" Y="4"/><Coordinate Order="3" X="0" Y="4"/>
 </Coordinates></Annotation>
 <Annotation Name="r2" Type="Rectangle" PartOfGroup="tumour"><Coordinates>
  <Coordinate Order="0" X="1" Y="2"/><Coordinate Order="1" X="5" Y="7"/>
 </Coordinates></Annotation>
 <Annotation Name="d" Type="Dot" PartOfGroup="_0"><Coordinates>
  <Coordinate Order="0" X="3" Y="4"/></Coordinates></Annotation>
</Annotations><AnnotationGroups/></ASAP_Annotations>"#;
    let path = dir.join("types.xml");
    std::fs::write(&path, xml).unwrap();
    let read = read_annotations(&path).unwrap();
    let o = &read.outlines;
    assert_eq!(o.len(), 3);
    assert_eq!(
        o[0].polygon.exterior,
        [[10.0, 10.0], [30.0, 10.0], [30.0, 30.0], [10.0, 30.0]]
    );
    assert_eq!(o[0].class, OutlineClass::Tumour);
    assert_eq!(o[1].class, OutlineClass::Exclusion);
    assert_eq!(
        o[2].polygon.exterior,
        [[1.0, 2.0], [5.0, 2.0], [5.0, 7.0], [1.0, 7.0]]
    );
    assert_eq!(o[2].class, OutlineClass::Tumour);
    assert_eq!(read.points, [[3.0, 4.0]]);
}
