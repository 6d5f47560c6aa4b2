//! `slidescale split` on the real CMU slide, checked from the outside with
//! h5py, scikit-image and openslide-python: layout, dtypes, attributes and
//! chunking; the tissue mask recomputed from the stored thumbnail; and every
//! stored tile against openslide-python's `read_region` of the same context
//! window composited on white — exact with `--reader openslide`, within the
//! slide crate's stated tolerance with the native reader. CMU's tissue
//! reaches its top and bottom edges, so tiles that overhang the slide (white
//! outside) are among those compared.

mod split_support;

use split_support::{cmu, run};

const CHECK: &str = r#"
import sys, json, h5py, hdf5plugin, numpy as np, openslide
from skimage.color import rgb2hsv
from skimage.filters import threshold_otsu
store, slide_path = sys.argv[1], sys.argv[2]
f = h5py.File(store, 'r')
a = dict(f.attrs)
out = {'attrs': sorted(a.keys()), 'root': sorted(f.keys())}
# tissue mask from the stored thumbnail, independently
t = f['thumbnail'][...]
hsv = rgb2hsv(t); H, S = hsv[..., 0], hsv[..., 1]
th, ts = threshold_otsu(H), threshold_otsu(S)
out['otsu_equal'] = bool(th == a['otsu_h'] and ts == a['otsu_s'])
RED=[(150,80,90),(110,20,30),(185,65,105),(195,85,125),(220,115,145),(125,40,70),(100,50,65),(85,25,45)]
GREEN=[(150,160,140),(70,110,110),(45,115,100),(30,75,60),(195,220,210),(225,230,225),(170,210,200),
       (20,30,20),(50,60,40),(30,50,35),(65,70,60),(100,110,105),(165,180,180),(140,140,150),(185,195,195)]
BLUE=[(60,120,190),(120,170,200),(175,210,230),(145,180,210),(37,95,160),(30,65,130),(130,155,180),
      (40,35,85),(30,20,65),(90,90,140),(60,60,120),(110,110,175)]
r, g, b = (t[..., i].astype(int) for i in range(3))
pen = np.zeros(r.shape, bool)
for R, G, B in RED: pen |= (r > R) & (g < G) & (b < B)
for R, G, B in GREEN: pen |= (r < R) & (g > G) & (b > B)
for R, G, B in BLUE: pen |= (r < R) & (g < G) & (b > B)
px = (H > th) & (S > ts) & (S >= a['tissue_min_saturation']) & ~pen
rows, cols = int(a['grid_rows']), int(a['grid_cols'])
mask = np.zeros((rows, cols), np.uint8)
for rr in range(rows):
    for cc in range(cols):
        cell = px[7*rr:7*rr+7, 7*cc:7*cc+7]
        mask[rr, cc] = cell.mean() >= a['tissue_min_fraction']
out['mask_equal'] = bool((mask == f['tissue_mask'][...]).all())
out['mask_dtype'] = str(f['tissue_mask'].dtype)
ys, xs = np.nonzero(mask)
out['bbox_equal'] = [int(v) for v in a['bbox']] == [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
# tiles against openslide-python
s = openslide.OpenSlide(slide_path)
W, Hh = s.dimensions
diffs, groups, order = [], [], []
edge = 0
for name in sorted(f['groups']):
    grp = f['groups'][name]
    tiles, coords = grp['tiles'], grp['coords'][...]
    groups.append({'shape': list(tiles.shape), 'dtype': str(tiles.dtype), 'chunks': list(tiles.chunks),
                   'coords_dtype': str(grp['coords'].dtype), 'n': int(grp.attrs['n']),
                   'first': int(grp.attrs['first_patch_index'])})
    for i, (c, rr) in enumerate(coords):
        order.append([int(c), int(rr)])
        x0, y0 = int(c) * 224 - 112, int(rr) * 224 - 112
        rgba = np.asarray(s.read_region((x0, y0), 0, (448, 448))).astype(np.float64)
        al = rgba[..., 3:4] / 255.0
        ref = np.rint(rgba[..., :3] * al + 255.0 * (1.0 - al))
        got = tiles[i].astype(np.float64)
        diffs.append(np.abs(got - ref))
        if x0 < 0 or y0 < 0 or x0 + 448 > W or y0 + 448 > Hh:
            edge += 1
            # outside the slide must be white in the store
            yy, xx = np.mgrid[y0:y0+448, x0:x0+448]
            outside = (xx < 0) | (yy < 0) | (xx >= W) | (yy >= Hh)
            if not (tiles[i][outside] == 255).all():
                out['white_outside'] = False
out.setdefault('white_outside', True)
d = np.stack(diffs)
out['max_diff'] = float(d.max()); out['mean_diff'] = float(d.mean())
out['edge_tiles'] = edge; out['groups'] = groups
out['row_major_tissue_order'] = order == [[int(x), int(y)] for y, x in zip(*np.nonzero(mask))]
print(json.dumps(out))
"#;

const REQUIRED_ATTRS: &[&str] = &[
    "schema",
    "slidescale_version",
    "source_path",
    "source_size",
    "source_mtime",
    "level0_width",
    "level0_height",
    "mpp_x",
    "mpp_y",
    "vendor",
    "tile",
    "context",
    "grid_cols",
    "grid_rows",
    "bbox",
    "otsu_h",
    "otsu_s",
    "tissue_min_fraction",
    "group_size",
    "n_groups",
    "n_patches",
    "compression",
];

fn split_and_check(reader: &str, group_size: u32) -> serde_json::Value {
    let dir = slidescale_testutil::temp_dir(&format!("split-store-{reader}"));
    let (code, stdout, stderr) = run(&[
        "split".as_ref(),
        cmu().as_os_str(),
        "--out".as_ref(),
        dir.as_os_str(),
        "--reader".as_ref(),
        reader.as_ref(),
        "--group-size".as_ref(),
        group_size.to_string().as_ref(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let store = dir.join("CMU-1-Small-Region.h5");
    let out =
        slidescale_testutil::run_python(CHECK, &[store.to_str().unwrap(), cmu().to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // layout
    let attrs: Vec<&str> = v["attrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for name in REQUIRED_ATTRS {
        assert!(attrs.contains(name), "missing attribute {name}");
    }
    assert_eq!(
        v["root"],
        serde_json::json!(["groups", "thumbnail", "tissue_mask"])
    );
    assert_eq!(v["mask_dtype"], "uint8");
    let groups = v["groups"].as_array().unwrap();
    let total: u64 = groups.iter().map(|g| g["n"].as_u64().unwrap()).sum();
    assert!(total >= 40, "CMU has about 50 tissue cells, got {total}");
    assert_eq!(groups.len() as u64, total.div_ceil(group_size as u64));
    for (k, g) in groups.iter().enumerate() {
        let n = g["n"].as_u64().unwrap();
        assert_eq!(g["shape"], serde_json::json!([n, 448, 448, 3]));
        assert_eq!(g["dtype"], "uint8");
        assert_eq!(g["chunks"], serde_json::json!([1, 448, 448, 3]));
        assert_eq!(g["coords_dtype"], "int32");
        assert_eq!(g["first"].as_u64().unwrap(), k as u64 * group_size as u64);
    }
    // segmentation, recomputed by scikit-image from the stored thumbnail
    assert_eq!(
        v["otsu_equal"], true,
        "Otsu thresholds differ from scikit-image"
    );
    assert_eq!(
        v["mask_equal"], true,
        "tissue mask differs from scikit-image's"
    );
    assert_eq!(v["bbox_equal"], true);
    assert_eq!(v["row_major_tissue_order"], true);
    // edges
    assert!(
        v["edge_tiles"].as_u64().unwrap() >= 5,
        "expected tiles overhanging the slide"
    );
    assert_eq!(v["white_outside"], true);
    println!(
        "{reader}: {total} tiles, {} at the edge, max diff {}, mean diff {}",
        v["edge_tiles"], v["max_diff"], v["mean_diff"]
    );
    std::fs::remove_dir_all(dir).unwrap();
    v
}

#[test]
fn openslide_reader_tiles_equal_openslide_python_exactly() {
    let v = split_and_check("openslide", 400);
    assert_eq!(v["max_diff"], 0.0, "mean {}", v["mean_diff"]);
}

#[test]
fn native_reader_tiles_are_within_the_slide_crates_tolerance() {
    // slidescale-slide's native_parity.rs: on CMU (RGB JPEG) max 1, mean ≤ 0.012.
    let v = split_and_check("native", 20);
    assert!(
        v["max_diff"].as_f64().unwrap() <= 1.0,
        "max {}",
        v["max_diff"]
    );
    assert!(
        v["mean_diff"].as_f64().unwrap() <= 0.05,
        "mean {}",
        v["mean_diff"]
    );
}
