//! Time per 448×448 tile of each stain method (fit of the tile's own stains
//! + re-colouring), on a crop of the bundled H&E target.
//!
//! usage: bench_stain [--reps 20]   (build with --release)

use std::time::Instant;

use slidescale_stain::{default_target, fit, Method};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps: usize = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .map_or(20, |v| v.parse().expect("--reps N"));
    let target = default_target();
    let side = 448usize;
    let mut tile = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        let row = target.row(y as u32);
        tile.extend_from_slice(&row[..side * 3]);
    }
    for method in [Method::Macenko, Method::Reinhard, Method::Vahadane] {
        let fitted = fit(method, &target).unwrap();
        let mut times = Vec::new();
        for _ in 0..reps {
            let mut t = tile.clone();
            let t0 = Instant::now();
            fitted.apply(&mut t);
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"method\":\"{method}\",\"ms_per_tile_median\":{:.2},\"min\":{:.2},\"max\":{:.2}}}",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
}
