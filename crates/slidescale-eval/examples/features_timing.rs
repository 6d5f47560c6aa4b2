//! Times the slide features on a synthetic CAMELYON-sized stride-16
//! heatmap (6,100 × 13,800 f32 by default: smooth blobs, hashed noise, NaN
//! outside an elliptical "tissue"). Run under `/usr/bin/time -v` for the
//! peak memory:
//!
//! ```text
//! cargo run --release -p slidescale-eval --example features_timing [ROWS COLS]
//! ```

use std::time::Instant;

use slidescale_eval::features::{slide_features_reusing, DEFAULT_LOCAL_THRESHOLD};
use slidescale_eval::raster::Raster;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("ROWS COLS"))
        .collect();
    let (rows, cols) = match args[..] {
        [r, c] => (r, c),
        _ => (6100, 13800),
    };
    let heatmap = synthetic_heatmap(rows, cols);
    let mut labels = Raster::filled(0, 0, 0u32);
    for t in [DEFAULT_LOCAL_THRESHOLD, 0.9] {
        let start = Instant::now();
        let f = slide_features_reusing(&heatmap, t, &mut labels);
        println!(
            "{rows}×{cols} local threshold {t}: {:.2} s; largest_area {}, second_largest_area {}",
            start.elapsed().as_secs_f64(),
            f.values[10],
            f.values[20]
        );
    }
}

fn synthetic_heatmap(rows: usize, cols: usize) -> Raster<f32> {
    let mut data = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let (y, x) = (r as f64 / rows as f64 - 0.5, c as f64 / cols as f64 - 0.5);
            if x * x + y * y > 0.24 {
                data.push(f32::NAN);
                continue;
            }
            let smooth = 0.5 + 0.45 * (c as f64 / 310.0).sin() * (r as f64 / 170.0).cos();
            let hash = (r as u64 * 0x9E37_79B9 + c as u64 * 0x85EB_CA6B) % 1000;
            data.push((smooth + (hash as f64 / 1000.0 - 0.5) * 0.08).clamp(0.0, 1.0) as f32);
        }
    }
    Raster::from_vec(cols, rows, data)
}
