//! Helpers shared by this crate's integration tests: reference pixels from
//! openslide-python (composited by the Python baseline's own function) and
//! pixel-difference statistics.

#![allow(dead_code)]

pub mod corrupt;

use std::path::Path;
use std::process::Command;

use slidescale_core::RgbImage;
use slidescale_testutil::{run_python, shared, temp_dir};

/// One `read_region` call: level-0 origin, level, size.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub x: i64,
    pub y: i64,
    pub level: usize,
    pub w: u32,
    pub h: u32,
}

pub const fn win(x: i64, y: i64, level: usize, w: u32, h: u32) -> Window {
    Window { x, y, level, w, h }
}

/// Read `windows` with openslide-python and composite them onto white with
/// `split.rgba_to_rgb_white` from the baseline in `shared/bench`.
pub fn python_regions(slide: &Path, windows: &[Window]) -> Vec<RgbImage> {
    const CODE: &str = r#"
import sys
import numpy as np
import openslide
bench, slide, out = sys.argv[1:4]
sys.path.insert(0, bench)
from split import rgba_to_rgb_white
s = openslide.OpenSlide(slide)
for i, spec in enumerate(sys.argv[4:]):
    x, y, level, w, h = map(int, spec.split(","))
    rgba = np.asarray(s.read_region((x, y), level, (w, h)))
    rgb = np.ascontiguousarray(rgba_to_rgb_white(rgba))
    open(f"{out}/{i}.rgb", "wb").write(rgb.tobytes())
"#;
    let out = temp_dir("pyref");
    let bench = shared("bench");
    let specs: Vec<String> = windows
        .iter()
        .map(|w| format!("{},{},{},{},{}", w.x, w.y, w.level, w.w, w.h))
        .collect();
    let mut args = vec![
        bench.to_str().unwrap(),
        slide.to_str().unwrap(),
        out.to_str().unwrap(),
    ];
    args.extend(specs.iter().map(String::as_str));
    run_python(CODE, &args);
    let images = windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let data = std::fs::read(out.join(format!("{i}.rgb"))).unwrap();
            RgbImage::from_raw(w.w, w.h, data)
        })
        .collect();
    std::fs::remove_dir_all(&out).ok();
    images
}

/// Largest and mean absolute difference per channel value, and the fraction
/// of channel values that differ by more than 2.
#[derive(Debug, Clone, Copy, Default)]
pub struct Diff {
    pub max: u8,
    pub mean: f64,
    pub over_2: f64,
}

pub fn diff(a: &RgbImage, b: &RgbImage) -> Diff {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "image sizes differ"
    );
    let mut max = 0u8;
    let mut sum = 0u64;
    let mut over_2 = 0u64;
    for (p, q) in a.data.iter().zip(&b.data) {
        let d = p.abs_diff(*q);
        max = max.max(d);
        sum += d as u64;
        over_2 += (d > 2) as u64;
    }
    let n = a.data.len().max(1) as f64;
    Diff {
        max,
        mean: sum as f64 / n,
        over_2: over_2 as f64 / n,
    }
}

/// Run libvips' command-line tool (test slides are made with it).
pub fn vips(args: &[&str]) {
    let status = Command::new("vips")
        .args(args)
        .status()
        .expect("run vips (scripts/setup.sh installs libvips-tools)");
    assert!(status.success(), "vips {args:?} failed");
}
