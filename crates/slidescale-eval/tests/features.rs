//! Region properties and slide features equal what scikit-image and the
//! authors' feature extraction compute on the same inputs. The reference
//! runs in the venv's Python inside the test: it draws seeded random inputs
//! (blobby label images with single pixels, lines, rings with holes and
//! concave polygons; smooth heatmaps with NaN background), writes them as raw
//! files, and prints its results; the Rust side reads the same bytes.

use std::collections::HashMap;
use std::path::Path;

use slidescale_eval::features::{feature_names, slide_features, GLOBAL_THRESHOLDS};
use slidescale_eval::raster::{Labels, Raster};
use slidescale_eval::regionprops::label::label_8_connected_where;
use slidescale_eval::regionprops::regionprops;

/// Draws label images, labels a blob mask with skimage (full
/// connectivity), and prints skimage `regionprops` of every region.
const REGIONPROPS_REFERENCE: &str = r#"
import sys, numpy as np
from scipy import ndimage as ndi
from skimage.draw import disk, line, polygon
from skimage.measure import label, regionprops
out = sys.argv[1]
rng = np.random.default_rng(20261201)
for k in range(40):
    h, w = (int(v) for v in rng.integers(12, 70, 2))
    noise = ndi.gaussian_filter(rng.random((h, w)), sigma=rng.uniform(0.8, 3.5))
    blobs = noise > np.quantile(noise, rng.uniform(0.4, 0.8))
    skl = label(blobs)
    lab = skl.astype(np.uint32)
    nxt = int(lab.max()) + 1
    def paint(rr, cc):
        global nxt
        keep = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        lab[rr[keep], cc[keep]] = nxt
        nxt += 1
    for _ in range(3):
        paint(rng.integers(0, h, 1), rng.integers(0, w, 1))
    for _ in range(3):
        r0, c0, r1, c1 = rng.integers(0, h), rng.integers(0, w), rng.integers(0, h), rng.integers(0, w)
        kind = rng.integers(0, 3)
        if kind == 0: r1 = r0
        if kind == 1: c1 = c0
        paint(*line(r0, c0, r1, c1))
    rad = rng.uniform(2.5, 8)
    cr, cc_ = rng.uniform(0, h), rng.uniform(0, w)
    ring = np.zeros((h, w), bool)
    ring[disk((cr, cc_), rad, shape=(h, w))] = True
    ring[disk((cr, cc_), rad / 2, shape=(h, w))] = False
    if ring.any(): paint(*np.nonzero(ring))
    n = rng.integers(5, 12)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(1, 12, n)
    pr, pc = rng.uniform(0, h) + rad * np.sin(ang), rng.uniform(0, w) + rad * np.cos(ang)
    paint(*polygon(pr, pc, shape=(h, w)))
    inten = rng.random((h, w)).astype(np.float32)
    lab.tofile(f"{out}/{k}.labels")
    inten.tofile(f"{out}/{k}.intensity")
    blobs.astype(np.uint8).tofile(f"{out}/{k}.blobs")
    skl.astype(np.uint32).tofile(f"{out}/{k}.sklabel")
    print("case", k, h, w)
    for p in regionprops(lab.astype(np.int64), intensity_image=inten.astype(np.float64)):
        vals = [p.area, *p.bbox, *p.centroid, p.eccentricity, p.extent, p.area_bbox,
                p.axis_major_length, p.axis_minor_length, p.area_convex, p.solidity,
                p.intensity_min, p.intensity_max, p.intensity_mean]
        print("region", k, p.label, *(repr(float(v)) for v in vals))
"#;

/// Draws heatmaps and prints the authors' 30 features (their
/// `glob_features` + `local_features` with the tissue as the non-NaN pixels,
/// the second largest region as the largest other one, zeros where a region
/// is missing, global features kept when there is no region).
const FEATURES_REFERENCE: &str = r#"
import sys, numpy as np
from scipy import ndimage as ndi
from skimage.measure import label, regionprops
from skimage.segmentation import clear_border
out = sys.argv[1]
T = [0.5, 0.6, 0.7, 0.8, 0.9]
def glob_features(h):
    tissue = np.count_nonzero(~np.isnan(h))
    if tissue == 0:
        return [0.0] * 10
    ratio = [np.count_nonzero(h > t) / tissue for t in T]
    total = [np.nansum(np.clip(h - t, 0, None).astype(np.float64)) / tissue for t in T]
    return ratio + total
def region(p):
    b = p['bbox']
    return [p['area'], p['eccentricity'], p['extent'], p['bbox_area'], p['major_axis_length'],
            p['max_intensity'], p['min_intensity'], p['mean_intensity'],
            (b[2] - b[0]) / (b[3] - b[1]), p['solidity']]
def local_features(h, t):
    binary = clear_border((h > t) * 1)
    props = regionprops(label(binary), intensity_image=h.astype(np.float64))
    if len(props) == 0:
        return [0.0] * 20
    li, la = -1, -1
    for i, p in enumerate(props):
        if p['area'] > la:
            li, la = i, p['area']
    si, sa = -1, -1
    for i, p in enumerate(props):
        if i != li and p['area'] > sa:
            si, sa = i, p['area']
    return region(props[li]) + (region(props[si]) if si >= 0 else [0.0] * 10)
rng = np.random.default_rng(8)
cases = []
for k in range(24):
    h, w = (int(v) for v in rng.integers(20, 110, 2))
    f = ndi.gaussian_filter(rng.standard_normal((h, w)), sigma=rng.uniform(1, 5))
    f = (f - f.min()) / (f.max() - f.min())
    heat = (f ** rng.uniform(0.5, 2.5)).astype(np.float32)
    tissue = ndi.gaussian_filter(rng.random((h, w)), sigma=rng.uniform(3, 8))
    tissue = tissue > np.quantile(tissue, rng.uniform(0.1, 0.5))
    if k % 4 == 0:
        tissue[:] = True
    heat[~tissue] = np.nan
    # Values exactly at the thresholds, as float32.
    heat.flat[rng.integers(0, h * w, 20)] = np.float32(T[rng.integers(0, 5)])
    cases.append(heat)
# Two equal squares (tie), one square and a border region, nothing above
# 0.5, no tissue at all, a single pixel.
special = []
a = np.full((30, 40), 0.1, np.float32); a[5:9, 5:9] = 0.8; a[15:19, 20:24] = 0.95; a[0:3, 30:40] = 0.99
special.append(a)
b = np.full((25, 25), 0.3, np.float32); b[10:14, 3:20] = 0.7; b[:, 0] = 0.9; b[20:, 20:] = np.nan
special.append(b)
special.append(np.where(np.arange(400).reshape(20, 20) % 7 == 0, np.nan, 0.4).astype(np.float32))
special.append(np.full((10, 12), np.nan, np.float32))
c = np.full((9, 9), 0.2, np.float32); c[4, 4] = 0.93
special.append(c)
for k, heat in enumerate(cases + special):
    heat.tofile(f"{out}/{k}.heat")
    print("case", k, heat.shape[0], heat.shape[1])
    g = glob_features(heat)
    for t in T:
        print("features", k, repr(t), *(repr(float(v)) for v in g + local_features(heat, t)))
"#;

fn read_raw<T, const N: usize>(path: &Path, from: fn([u8; N]) -> T) -> Vec<T> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(N)
        .map(|b| from(b.try_into().unwrap()))
        .collect()
}

/// The reference's lines, split on whitespace, grouped by their first word.
fn run_reference(code: &str, tag: &str) -> (std::path::PathBuf, HashMap<String, Vec<Vec<String>>>) {
    let dir = slidescale_testutil::temp_dir(tag);
    let stdout = slidescale_testutil::run_python(code, &[dir.to_str().unwrap()]);
    let mut lines: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for line in stdout.lines() {
        let mut words = line.split_whitespace().map(str::to_string);
        let kind = words.next().unwrap();
        lines.entry(kind).or_default().push(words.collect());
    }
    (dir, lines)
}

fn close(what: &str, ours: f64, theirs: f64) {
    assert!(
        (ours - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
        "{what}: ours {ours}, skimage/reference {theirs}"
    );
}

fn num(s: &str) -> f64 {
    s.parse().unwrap()
}

/// Image k's (height, width) from the reference's `case k h w` lines.
fn case_sizes(lines: &HashMap<String, Vec<Vec<String>>>) -> Vec<(usize, usize)> {
    lines["case"]
        .iter()
        .map(|w| (w[1].parse().unwrap(), w[2].parse().unwrap()))
        .collect()
}

#[test]
fn region_properties_equal_skimage_regionprops() {
    let (dir, lines) = run_reference(REGIONPROPS_REFERENCE, "features-regionprops");
    let sizes = case_sizes(&lines);
    let mut expected: HashMap<(usize, u32), Vec<f64>> = HashMap::new();
    for w in &lines["region"] {
        let key = (w[0].parse().unwrap(), w[1].parse().unwrap());
        expected.insert(key, w[2..].iter().map(|s| num(s)).collect());
    }
    let mut checked = 0;
    for (k, &(h, w)) in sizes.iter().enumerate() {
        let labels = Raster::from_vec(
            w,
            h,
            read_raw(&dir.join(format!("{k}.labels")), u32::from_le_bytes),
        );
        let intensity = Raster::from_vec(
            w,
            h,
            read_raw(&dir.join(format!("{k}.intensity")), f32::from_le_bytes),
        );
        let props = regionprops(&labels);
        assert_eq!(
            props.len(),
            expected.keys().filter(|(c, _)| *c == k).count(),
            "case {k}: region count"
        );
        for p in &props {
            let e = &expected[&(k, p.label)];
            let s = p.intensity_stats(&labels, &intensity);
            let (r0, c0, r1, c1) = p.bbox;
            let ours = [
                p.area as f64,
                r0 as f64,
                c0 as f64,
                r1 as f64,
                c1 as f64,
                p.centroid.0,
                p.centroid.1,
                p.eccentricity(),
                p.extent(),
                p.bbox_area() as f64,
                p.major_axis_length(),
                p.minor_axis_length(),
                p.convex_area(&labels) as f64,
                p.solidity(&labels),
                s.min,
                s.max,
                s.mean,
            ];
            let names = [
                "area",
                "min_row",
                "min_col",
                "max_row",
                "max_col",
                "centroid_row",
                "centroid_col",
                "eccentricity",
                "extent",
                "area_bbox",
                "axis_major",
                "axis_minor",
                "area_convex",
                "solidity",
                "intensity_min",
                "intensity_max",
                "intensity_mean",
            ];
            for ((name, &o), &t) in names.iter().zip(&ours).zip(e) {
                close(&format!("case {k} label {} {name}", p.label), o, t);
            }
            checked += 1;
        }
        let blobs = read_raw(&dir.join(format!("{k}.blobs")), u8::from_le_bytes);
        let mut ours = Labels::filled(0, 0, 0);
        label_8_connected_where(w, h, |i| blobs[i] != 0, &mut ours);
        let theirs = read_raw(&dir.join(format!("{k}.sklabel")), u32::from_le_bytes);
        assert!(
            ours.data == theirs,
            "case {k}: labels differ from skimage label()"
        );
    }
    assert!(checked > 400, "only {checked} regions compared");
}

#[test]
fn slide_features_equal_the_authors_extraction() {
    let (dir, lines) = run_reference(FEATURES_REFERENCE, "features-slide");
    let sizes = case_sizes(&lines);
    let names = feature_names();
    let mut checked = 0;
    for w in &lines["features"] {
        let k: usize = w[0].parse().unwrap();
        let t = num(&w[1]);
        let (h, width) = sizes[k];
        let heat = Raster::from_vec(
            width,
            h,
            read_raw(&dir.join(format!("{k}.heat")), f32::from_le_bytes),
        );
        let ours = slide_features(&heat, t);
        assert_eq!(ours.names, names);
        assert_eq!(ours.values.len(), w.len() - 2);
        for ((name, &o), e) in names.iter().zip(&ours.values).zip(&w[2..]) {
            close(&format!("case {k} threshold {t} {name}"), o, num(e));
        }
        checked += 1;
    }
    assert_eq!(checked, sizes.len() * GLOBAL_THRESHOLDS.len());
}
