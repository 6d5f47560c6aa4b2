//! Detections from heatmaps: the authors' rule against OpenCV and
//! scikit-image run on the same heatmaps, NCRF's rule against NCRF's own
//! loop, and the CSV / GeoJSON / ASAP XML files read back by our readers
//! and by Python's csv, geojson + shapely and xml.etree.

use slidescale_eval::detect::csv::{parse_csv, read_csv, write_csv};
use slidescale_eval::detect::files::{
    read_asap_detections, read_geojson_detections, write_asap_xml, write_geojson, LesionFileOptions,
};
use slidescale_eval::detect::morphology::ellipse_element;
use slidescale_eval::detect::{
    detect, heatmap_to_level0, region_mask, DetectRule, Detection, Lesion, NmsRule, RegionRule,
};
use slidescale_eval::raster::Raster;
use slidescale_testutil::{run_python, temp_dir};
use std::path::Path;

use slidescale_testutil::SplitMix64 as Rng;

/// Writes a heatmap as raw little-endian f32 for NumPy's `fromfile`.
fn write_raw(path: &Path, h: &Raster<f32>) {
    let bytes: Vec<u8> = h.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// A heatmap with noise, NaN background, blobs of many sizes (some touching
/// the border, some touching each other diagonally) and thin streaks.
fn noisy_heatmap(width: usize, height: usize, seed: u64) -> Raster<f32> {
    let mut rng = Rng(seed);
    let mut h = Raster::filled(width, height, 0f32);
    for v in h.data.iter_mut() {
        *v = (rng.unit() * 0.95) as f32;
    }
    for _ in 0..40 {
        let (cx, cy) = (rng.unit() * width as f64, rng.unit() * height as f64);
        let (rx, ry) = (3.0 + rng.unit() * 30.0, 3.0 + rng.unit() * 30.0);
        for y in 0..height {
            for x in 0..width {
                let (dx, dy) = ((x as f64 - cx) / rx, (y as f64 - cy) / ry);
                if dx * dx + dy * dy <= 1.0 && rng.unit() < 0.93 {
                    h.set(x, y, (0.9 + rng.unit() * 0.1) as f32);
                }
            }
        }
    }
    // Background: a NaN band and NaN holes.
    for y in 0..height {
        for x in 0..width.min(9) {
            h.set(x, y, f32::NAN);
        }
    }
    for _ in 0..300 {
        let (x, y) = (
            (rng.unit() * width as f64) as usize,
            (rng.unit() * height as f64) as usize,
        );
        h.set(x.min(width - 1), y.min(height - 1), f32::NAN);
    }
    h
}

#[test]
fn the_ellipse_is_opencvs_pixel_for_pixel() {
    let sizes: Vec<String> = (1..=41).map(|k| k.to_string()).collect();
    let code = "import sys, cv2\nfor k in map(int, sys.argv[1:]):\n    e = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))\n    print(k, ''.join(str(v) for v in e.ravel()))";
    let args: Vec<&str> = sizes.iter().map(String::as_str).collect();
    for line in run_python(code, &args).lines() {
        let (k, bits) = line.split_once(' ').unwrap();
        let ours: String = ellipse_element(k.parse().unwrap())
            .data
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(ours, bits, "element {k}");
    }
}

/// What OpenCV + scikit-image give for the authors' rule on a raw heatmap:
/// the mask after close/open, and per region (label order) area, centroid
/// and mean of the heatmap (NaN as 0, in float64).
const AUTHORS_REFERENCE: &str = r#"
import sys, json, cv2, numpy as np
from skimage.measure import label, regionprops
path, h, w, k, t, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
heat = np.fromfile(path, dtype='<f4').reshape(h, w).astype(np.float64)
binary = (heat > t).astype(np.uint8)
kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
closed = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel)
opened.astype(np.uint8).tofile(out)
for p in regionprops(label(opened, connectivity=2), intensity_image=np.nan_to_num(heat, nan=0.0)):
    print(json.dumps([int(p.area), float(p.centroid[0]), float(p.centroid[1]), float(p.intensity_mean)]))
"#;

/// skimage's area, centroid row, centroid column and intensity mean.
type SkimageRegion = (u64, f64, f64, f64);

fn authors_reference(
    heat: &Raster<f32>,
    k: usize,
    t: f64,
    dir: &Path,
) -> (Vec<u8>, Vec<SkimageRegion>) {
    let (raw, out) = (dir.join("heat.f32"), dir.join("mask.u8"));
    write_raw(&raw, heat);
    let args = [
        raw.to_str().unwrap(),
        &heat.height.to_string(),
        &heat.width.to_string(),
        &k.to_string(),
        &t.to_string(),
        out.to_str().unwrap(),
    ];
    let printed = run_python(AUTHORS_REFERENCE, &args);
    let regions = printed
        .lines()
        .map(|l| {
            let v: Vec<f64> = serde_json::from_str(l).unwrap();
            (v[0] as u64, v[1], v[2], v[3])
        })
        .collect();
    (std::fs::read(out).unwrap(), regions)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

#[test]
fn the_authors_rule_equals_opencv_and_skimage() {
    let dir = temp_dir("detect-authors");
    // Widths around word boundaries, elements even (asymmetric) and odd.
    for (w, h, k, seed) in [
        (301, 211, 20, 1),
        (128, 97, 20, 2),
        (190, 150, 5, 3),
        (257, 64, 21, 4),
        (70, 90, 2, 5),
    ] {
        let heat = noisy_heatmap(w, h, seed);
        let rule = RegionRule {
            element_size: k,
            ..RegionRule::default()
        };
        let (mask, regions) = authors_reference(&heat, k, rule.threshold, &dir);
        let ours = region_mask(&heat, &rule).unwrap();
        let differ = ours.data.iter().zip(&mask).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ, 0,
            "{w}x{h} element {k}: mask pixels differing from OpenCV"
        );
        assert!(!regions.is_empty(), "{w}x{h}: the case has regions");
        eprintln!("{w}x{h} element {k}: {} regions", regions.len());
        for stride in [16u32, 224] {
            let lesions = detect(&heat, stride, &DetectRule::Regions(rule.clone())).unwrap();
            assert_eq!(
                lesions.len(),
                regions.len(),
                "{w}x{h} element {k}: region count"
            );
            for (l, &(area, r, c, mean)) in lesions.iter().zip(&regions) {
                assert_eq!(l.area_px, Some(area));
                assert!(
                    close(l.detection.prob, mean),
                    "mean {} vs skimage {mean}",
                    l.detection.prob
                );
                let s = f64::from(stride);
                let expected = (
                    ((c + 0.5) * s).round() as i64,
                    ((r + 0.5) * s).round() as i64,
                );
                assert_eq!(
                    (l.detection.x, l.detection.y),
                    expected,
                    "centroid ({r}, {c})"
                );
            }
        }
    }
}

/// Disks of value 0.95 on NaN background at known heatmap centres.
fn disks(width: usize, height: usize, centres: &[(usize, usize, usize)]) -> Raster<f32> {
    let mut h = Raster::filled(width, height, f32::NAN);
    for &(row, col, radius) in centres {
        for y in 0..height {
            for x in 0..width {
                let (dx, dy) = (x as i64 - col as i64, y as i64 - row as i64);
                if dx * dx + dy * dy <= (radius * radius) as i64 {
                    h.set(x, y, 0.95);
                }
            }
        }
    }
    h
}

#[test]
fn blobs_are_found_at_their_level0_centres_at_every_stride() {
    // In label order: raster order of each disk's first pixel.
    let centres = [(45, 150, 25), (40, 50, 15), (120, 90, 18)];
    let heat = disks(220, 170, &centres);
    for stride in [16u32, 224] {
        // A symmetric (odd) element keeps a disk's centre exactly.
        let odd = RegionRule {
            element_size: 21,
            outlines: true,
            ..RegionRule::default()
        };
        let lesions = detect(&heat, stride, &DetectRule::Regions(odd)).unwrap();
        assert_eq!(lesions.len(), 3);
        for (l, &(row, col, _)) in lesions.iter().zip(&centres) {
            let (x, y) = heatmap_to_level0(row as f64, col as f64, stride);
            assert_eq!((l.detection.x, l.detection.y), (x, y));
            assert_eq!(x, (col as i64 * 2 + 1) * stride as i64 / 2);
            assert!((l.detection.prob - f64::from(0.95f32)).abs() < 1e-12);
            let ring = l.outline.as_ref().unwrap();
            let s = f64::from(stride);
            assert_eq!(shoelace(ring).abs(), l.area_px.unwrap() as f64 * s * s);
        }
        // The authors' even element moves a centre by at most a pixel.
        let lesions = detect(&heat, stride, &DetectRule::default()).unwrap();
        assert_eq!(lesions.len(), 3);
        for (l, &(row, col, _)) in lesions.iter().zip(&centres) {
            let (x, y) = heatmap_to_level0(row as f64, col as f64, stride);
            assert!(
                (l.detection.x - x).abs() <= stride as i64
                    && (l.detection.y - y).abs() <= stride as i64
            );
        }
    }
}

fn shoelace(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2)
        .map(|p| p[0][0] * p[1][1] - p[1][0] * p[0][1])
        .sum::<f64>()
        / 2.0
}

#[test]
fn outlines_of_diagonally_touching_pixels_are_one_ring() {
    let mut heat = Raster::filled(6, 5, 0f32);
    for (x, y) in [(1, 1), (2, 2), (3, 1), (3, 3), (4, 3)] {
        heat.set(x, y, 1.0);
    }
    let rule = RegionRule {
        element_size: 1,
        outlines: true,
        ..RegionRule::default()
    };
    let lesions = detect(&heat, 10, &DetectRule::Regions(rule)).unwrap();
    assert_eq!(lesions.len(), 1, "8-connected: one region");
    let ring = lesions[0].outline.as_ref().unwrap();
    assert_eq!(shoelace(ring).abs(), 5.0 * 100.0);
    assert_eq!(ring.first(), ring.last());
}

/// NCRF's own loop (wsi/bin/nms.py `run`) on the map as NCRF indexes it,
/// `[x, y]` (the transpose of our row-major heatmap).
const NCRF_REFERENCE: &str = r#"
import sys, numpy as np
path, h, w, level_px, radius, thr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
probs_map = np.nan_to_num(np.fromfile(path, dtype='<f4').reshape(h, w).T, nan=0.0)
X, Y = probs_map.shape
while np.max(probs_map) > thr:
    prob_max = probs_map.max()
    max_idx = np.where(probs_map == prob_max)
    x_mask, y_mask = max_idx[0][0], max_idx[1][0]
    print(repr(float(prob_max)), int((x_mask + 0.5) * level_px), int((y_mask + 0.5) * level_px))
    x_min = x_mask - radius if x_mask - radius > 0 else 0
    x_max = x_mask + radius if x_mask + radius <= X else X
    y_min = y_mask - radius if y_mask - radius > 0 else 0
    y_max = y_mask + radius if y_mask + radius <= Y else Y
    for x in range(x_min, x_max):
        for y in range(y_min, y_max):
            probs_map[x, y] = 0
"#;

#[test]
fn the_nms_rule_equals_ncrfs_loop() {
    let dir = temp_dir("detect-nms");
    let mut heat = noisy_heatmap(120, 90, 7);
    // Quantise so that maxima tie, as saturated network outputs do.
    for v in heat.data.iter_mut() {
        *v = (*v * 20.0).round() / 20.0;
    }
    let raw = dir.join("heat.f32");
    write_raw(&raw, &heat);
    for (stride, radius_px) in [(16u32, 12usize), (224, 3), (64, 1)] {
        let rule = NmsRule {
            threshold: 0.5,
            radius_level0: (radius_px as u32 * stride) as f64,
        };
        let ours = detect(&heat, stride, &DetectRule::LocalMaxima(rule)).unwrap();
        let args = [
            raw.to_str().unwrap(),
            "90",
            "120",
            &stride.to_string(),
            &radius_px.to_string(),
            "0.5",
        ];
        let reference: Vec<Detection> = run_python(NCRF_REFERENCE, &args)
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                Detection {
                    prob: f[0].parse().unwrap(),
                    x: f[1].parse().unwrap(),
                    y: f[2].parse().unwrap(),
                }
            })
            .collect();
        assert!(reference.len() > 5, "the case has peaks");
        let ours: Vec<Detection> = ours.iter().map(|l| l.detection).collect();
        assert_eq!(ours, reference, "stride {stride}, radius {radius_px}");
    }
}

/// Lesions with awkward probabilities and, for some, outlines.
fn sample_lesions() -> Vec<Lesion> {
    let heat = disks(220, 170, &[(40, 50, 15), (45, 150, 25), (120, 90, 18)]);
    let rule = RegionRule {
        outlines: true,
        ..RegionRule::default()
    };
    let mut lesions = detect(&heat, 16, &DetectRule::Regions(rule)).unwrap();
    for (i, p) in [
        0.1 + 0.2,
        1e-7,
        0.9999999999999999,
        5e-324,
        1.0,
        0.0,
        2.0f64.powi(-30),
    ]
    .into_iter()
    .enumerate()
    {
        lesions.push(Lesion {
            detection: Detection {
                prob: p,
                x: 1_000_003 * i as i64,
                y: 77 + i as i64,
            },
            area_px: None,
            outline: None,
        });
    }
    lesions
}

/// Python's readings of the three files: one line per detection, the
/// probability as its f64 bits so that nothing is lost in printing.
const PYTHON_READERS: &str = r#"
import sys, csv, struct, geojson, shapely.geometry, xml.etree.ElementTree as ET
bits = lambda p: struct.unpack('<Q', struct.pack('<d', p))[0]
kind, path = sys.argv[1], sys.argv[2]
if kind == 'csv':
    for row in csv.reader(open(path, newline='')):
        print('point', bits(float(row[0])), int(row[1]), int(row[2]))
elif kind == 'geojson':
    for f in geojson.load(open(path))['features']:
        g = shapely.geometry.shape(f['geometry'])
        p = bits(float(f['properties']['measurements']['probability']))
        assert f['properties']['classification']['name'] == 'Tumor'
        if g.geom_type == 'Point':
            print('point', p, repr(g.x), repr(g.y))
        else:
            print('ring', p, ' '.join('%r,%r' % c for c in g.exterior.coords))
else:
    for a in ET.parse(path).getroot().iter('Annotation'):
        cs = [(c.get('X'), c.get('Y')) for c in a.iter('Coordinate')]
        p = bits(float(a.get('Probability')))
        if a.get('Type') == 'Dot':
            print('point', p, int(float(cs[0][0])), int(float(cs[0][1])))
        else:
            cs.append(cs[0])
            print('ring', p, ' '.join('%r,%r' % (float(x), float(y)) for x, y in cs))
"#;

/// A probability and a closed ring.
type Outline = (f64, Vec<[f64; 2]>);

/// What Python printed, as (points, rings).
fn python_read(kind: &str, path: &Path) -> (Vec<Detection>, Vec<Outline>) {
    let (mut points, mut rings) = (Vec::new(), Vec::new());
    for line in run_python(PYTHON_READERS, &[kind, path.to_str().unwrap()]).lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let prob = f64::from_bits(f[1].parse().unwrap());
        if f[0] == "point" {
            let c = |s: &str| s.parse::<f64>().unwrap() as i64;
            points.push(Detection {
                prob,
                x: c(f[2]),
                y: c(f[3]),
            });
        } else {
            let ring = f[2..]
                .iter()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    [x.parse().unwrap(), y.parse().unwrap()]
                })
                .collect();
            rings.push((prob, ring));
        }
    }
    (points, rings)
}

#[test]
fn files_round_trip_through_our_readers_and_pythons() {
    let dir = temp_dir("detect-files");
    let lesions = sample_lesions();
    let detections: Vec<Detection> = lesions.iter().map(|l| l.detection).collect();
    let outlines: Vec<Outline> = lesions
        .iter()
        .filter_map(|l| l.outline.clone().map(|o| (l.detection.prob, o)))
        .collect();
    assert_eq!(outlines.len(), 3);
    let options = LesionFileOptions::new(16, Some(0.243));
    let (csv, json, xml) = (dir.join("s.csv"), dir.join("s.geojson"), dir.join("s.xml"));
    write_csv(&csv, &detections).unwrap();
    write_geojson(&json, &lesions, &options).unwrap();
    write_asap_xml(&xml, &lesions, &options).unwrap();
    assert_eq!(read_csv(&csv).unwrap(), detections);
    assert_eq!(read_geojson_detections(&json).unwrap(), detections);
    assert_eq!(read_asap_detections(&xml).unwrap(), detections);
    assert_eq!(python_read("csv", &csv).0, detections);
    for (kind, path) in [("geojson", &json), ("xml", &xml)] {
        let (points, rings) = python_read(kind, path);
        assert_eq!(points, detections, "{kind} points");
        assert_eq!(rings, outlines, "{kind} outlines");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "only the three files: {leftovers:?}");
}

#[test]
fn other_tools_csvs_are_read_with_tolerance_and_faults_named() {
    let text = "0.5, 1234.0 ,88\r\n\r\n 1e-3,7,9\r\n0.25,-3,0\n\n";
    let expected = vec![
        Detection {
            prob: 0.5,
            x: 1234,
            y: 88,
        },
        Detection {
            prob: 0.001,
            x: 7,
            y: 9,
        },
        Detection {
            prob: 0.25,
            x: -3,
            y: 0,
        },
    ];
    assert_eq!(parse_csv(text).unwrap(), expected);
    assert_eq!(parse_csv("").unwrap(), vec![]);
    for (bad, line) in [
        ("0.5,1,2\n0.4,1234.5,3\n", 2),
        ("0.5,1,2\n\n0.4,1\n", 3),
        ("prob,X,Y\n", 1),
        ("nan,1,2\n", 1),
        ("0.5,1,2,3\n", 1),
        ("0.5,1,1e300\n", 1),
    ] {
        assert_eq!(parse_csv(bad).unwrap_err().0, line, "{bad:?}");
    }
    let dir = temp_dir("detect-csv-error");
    let path = dir.join("slide_7.csv");
    std::fs::write(&path, "0.9,10,10\n0.9,x,10\n").unwrap();
    let message = read_csv(&path).unwrap_err().to_string();
    assert!(
        message.contains("slide_7.csv") && message.contains("line 2"),
        "{message}"
    );
}

#[test]
fn bad_parameters_are_refused() {
    let heat = Raster::filled(4, 4, 0f32);
    assert!(detect(&heat, 0, &DetectRule::default()).is_err());
    let zero = RegionRule {
        element_size: 0,
        ..RegionRule::default()
    };
    assert!(detect(&heat, 16, &DetectRule::Regions(zero)).is_err());
    let radius = NmsRule {
        radius_level0: f64::NAN,
        ..NmsRule::default()
    };
    assert!(detect(&heat, 16, &DetectRule::LocalMaxima(radius)).is_err());
    assert!(detect(&heat, 16, &DetectRule::default())
        .unwrap()
        .is_empty());
}

/// Timing on a CAMELYON-sized stride-16 heatmap (13,800 × 6,100): run with
/// `cargo test -p slidescale-eval --test detect -- --ignored --nocapture`.
#[test]
#[ignore = "a timing, not a test"]
fn time_a_camelyon_sized_heatmap() {
    let (w, h) = (13_800, 6_100);
    let mut rng = Rng(11);
    let mut heat = Raster::filled(w, h, 0f32);
    // Mostly low scores with a tail, and 400 lesion-like blocks.
    for v in heat.data.iter_mut() {
        *v = (rng.unit().powi(4) * 0.85) as f32;
    }
    for _ in 0..400 {
        let (x0, y0) = (
            (rng.unit() * (w - 200) as f64) as usize,
            (rng.unit() * (h - 200) as f64) as usize,
        );
        let (bw, bh) = (
            5 + (rng.unit() * 190.0) as usize,
            5 + (rng.unit() * 190.0) as usize,
        );
        for y in y0..y0 + bh {
            heat.data[y * w + x0..y * w + x0 + bw].fill(0.97);
        }
    }
    let start = std::time::Instant::now();
    let mask = region_mask(&heat, &RegionRule::default()).unwrap();
    let morph = start.elapsed();
    let start = std::time::Instant::now();
    let lesions = detect(&heat, 16, &DetectRule::default()).unwrap();
    let regions = start.elapsed();
    let start = std::time::Instant::now();
    let peaks = detect(&heat, 16, &DetectRule::LocalMaxima(NmsRule::default())).unwrap();
    let nms = start.elapsed();
    eprintln!(
        "{w}x{h}: threshold+close+open {morph:?} ({} px set); whole authors' rule {regions:?} ({} lesions); NMS {nms:?} ({} peaks)",
        mask.data.iter().filter(|&&v| v != 0).count(),
        lesions.len(),
        peaks.len()
    );
}
