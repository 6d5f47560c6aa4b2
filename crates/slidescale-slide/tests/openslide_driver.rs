//! The OpenSlide driver against openslide-python (OpenSlide 4.0.1 from
//! openslide-bin, the library slidescale loads by default after
//! `scripts/setup.sh`; with `SLIDESCALE_OPENSLIDE` naming Debian's 3.4.1 the
//! driver reads the same pixels, as 3.4.1 and 4.0.1 decode these fixtures
//! identically): properties equal, pixels equal exactly after the baseline's
//! composite onto white, on windows inside, across and wholly outside the
//! slide and on lower levels (including non-integer level coordinates, where
//! OpenSlide resamples and produces partial alpha).

mod common;

use common::{diff, python_regions, win, Window};
use slidescale_slide::{open, OpenSlide, ReaderKind, Slide};
use slidescale_testutil::{fixture, run_python};

fn assert_pixels_equal_python(path: &std::path::Path, windows: &[Window]) {
    let slide = OpenSlide::open(path).unwrap();
    let expected = python_regions(path, windows);
    for (w, want) in windows.iter().zip(&expected) {
        let got = slide.read_region(w.x, w.y, w.level, w.w, w.h).unwrap();
        let d = diff(&got, want);
        assert_eq!(d.max, 0, "{w:?}: differs from openslide-python by {d:?}");
    }
}

#[test]
fn cmu_pixels_equal_openslide_python() {
    let path = fixture("slides/CMU-1-Small-Region.svs");
    assert_pixels_equal_python(
        &path,
        &[
            win(-112, -112, 0, 448, 448),             // top-left corner overhang
            win(1000, 1500, 0, 448, 448),             // inside
            win(2220 - 300, 2967 - 200, 0, 448, 448), // bottom-right overhang
            win(-1000, 100, 0, 64, 64),               // wholly outside
            win(0, 0, 0, 2220, 2967),                 // the whole level
        ],
    );
}

#[test]
fn boxes_lower_levels_equal_openslide_python() {
    let path = fixture("slides/openslide-python_boxes.tiff");
    let mut windows = Vec::new();
    for level in 0..4 {
        windows.push(win(0, 0, level, 320, 260));
        windows.push(win(-30, -17, level, 50, 40)); // fractional: partial alpha
        windows.push(win(41, 20, level, 60, 30));
    }
    assert_pixels_equal_python(&path, &windows);
}

#[test]
fn properties_match_openslide_python() {
    const CODE: &str = r#"
import sys, openslide
s = openslide.OpenSlide(sys.argv[1])
print(s.properties.get("openslide.vendor"))
mpp = lambda v: repr(float(v)) if v is not None else None  # the f64, as Rust prints it
print(mpp(s.properties.get("openslide.mpp-x")), mpp(s.properties.get("openslide.mpp-y")))
for (w, h), d in zip(s.level_dimensions, s.level_downsamples):
    print(w, h, repr(d))
"#;
    for name in [
        "slides/CMU-1-Small-Region.svs",
        "slides/openslide-python_boxes.tiff",
        "slides/openslide-python_small.svs",
    ] {
        let path = fixture(name);
        let slide = open(&path, ReaderKind::OpenSlide).unwrap();
        assert_eq!(slide.driver(), "openslide");
        let p = slide.properties();
        let mpp = |v: Option<f64>| v.map_or("None".to_string(), |m| format!("{m}"));
        let mut mine = format!("{}\n{} {}\n", p.vendor, mpp(p.mpp_x), mpp(p.mpp_y));
        for l in &p.levels {
            mine += &format!("{} {} {:?}\n", l.width, l.height, l.downsample);
        }
        assert_eq!(mine, run_python(CODE, &[path.to_str().unwrap()]), "{name}");
    }
}

#[test]
fn associated_images_and_raw_properties() {
    let slide = OpenSlide::open(&fixture("slides/CMU-1-Small-Region.svs")).unwrap();
    let mut names = slide.associated_image_names().to_vec();
    names.sort();
    assert_eq!(names, ["label", "macro", "thumbnail"]);
    assert_eq!(slide.property("aperio.AppMag").as_deref(), Some("20"));
    let lib = slidescale_slide::openslide::library().unwrap();
    assert_eq!(
        slidescale_slide::openslide::library_version(),
        lib.version()
    );
    let v = lib.version();
    assert!(v.starts_with("3.4") || v.starts_with("4."), "OpenSlide {v}");
}

/// Every valid premultiplied ARGB value class (each alpha, each colour level up
/// to it) converted by openslide-python's `_convert.argb2rgba` and the
/// baseline's `rgba_to_rgb_white` equals our conversion. (OpenSlide 3.4.1
/// gives the fixtures only alpha 0 or 255, so the partial-alpha path needs
/// this synthetic check.)
#[test]
fn partial_alpha_conversion_equals_python() {
    const CODE: &str = r#"
import sys
import numpy as np
from openslide import _convert
bench, inp = sys.argv[1:3]
sys.path.insert(0, bench)
from split import rgba_to_rgb_white
buf = np.fromfile(inp, dtype=np.uint32)  # native-endian, as OpenSlide writes
_convert.argb2rgba(buf)
rgba = buf.view(np.uint8).reshape(1, -1, 4)
sys.stdout.write(rgba_to_rgb_white(rgba).tobytes().hex())
"#;
    let mut argb = Vec::new();
    for a in 0u32..=255 {
        for c in 0..=a {
            argb.push(a << 24 | c << 16 | (c / 2) << 8 | (a - c));
        }
    }
    let dir = slidescale_testutil::temp_dir("argb");
    let input = dir.join("argb.bin");
    let bytes: Vec<u8> = argb.iter().flat_map(|p| p.to_ne_bytes()).collect();
    std::fs::write(&input, bytes).unwrap();
    let bench = slidescale_testutil::shared("bench");
    let hex = run_python(CODE, &[bench.to_str().unwrap(), input.to_str().unwrap()]);
    let mut mine = vec![0u8; argb.len() * 3];
    slidescale_slide::composite::argb_buffer_to_rgb(&argb, &mut mine);
    let mine_hex: String = mine.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        mine_hex == hex,
        "conversion differs from openslide-python + baseline"
    );
    std::fs::remove_dir_all(&dir).ok();
}
