//! Bare model throughput of slidescale-infer, measured like
//! `../shared/bench/bench_ort.py`: random [batch, 3, 224, 224] input in
//! [0, 1), warm-up runs, then images/s of each timed batch. Also times the
//! whole scorer path (u8 windows → preprocessing → model) for comparison.
//!
//! usage: bench_infer MODEL.onnx [--batch 64] [--threads 2] [--iters 5]
//!        [--warmup 1] [--backend auto|ort|tract]
//!        [--tiles 8 --stride 32]
//! (all bare-model batches are timed first, then the scorer path, then one
//! group of random context tiles at a stride, split into preprocessing and
//! inference time)
//! Prints one JSON line.

use std::time::Instant;

use slidescale_infer::{Scorer, ScorerOptions};

const WINDOW_FLOATS: usize = slidescale_core::TileGeometry::PAPER.window_floats();
const TILE_BYTES: usize = slidescale_core::TileGeometry::PAPER.context_bytes() as usize;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("bad value for {name}: {v}"))
        })
        .unwrap_or(default)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// A small deterministic generator (xorshift) for the random input.
fn random_floats(n: usize, mut state: u64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = args
        .first()
        .expect("usage: bench_infer MODEL.onnx [options]");
    let batch: usize = arg(&args, "--batch", 64);
    let threads: usize = arg(&args, "--threads", 2);
    let iters: usize = arg(&args, "--iters", 5);
    let warmup: usize = arg(&args, "--warmup", 1);
    let opts = ScorerOptions {
        backend: arg(&args, "--backend", Default::default()),
        threads,
        batch,
        ..ScorerOptions::default()
    };
    let mut scorer = Scorer::load(model.as_ref(), &opts).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let x = random_floats(batch * WINDOW_FLOATS, 0x9E37_79B9_7F4A_7C15);
    let windows: Vec<u8> = x.iter().map(|v| (v * 255.0) as u8).collect();
    for _ in 0..warmup {
        scorer.score_floats(&x).unwrap();
    }
    let mut rates = Vec::new();
    let mut scorer_rates = Vec::new();
    for _ in 0..iters {
        let t0 = Instant::now();
        scorer.score_floats(&x).unwrap();
        rates.push(batch as f64 / t0.elapsed().as_secs_f64());
    }
    // the whole scorer path, timed separately so the two never interleave
    for _ in 0..iters {
        let t0 = Instant::now();
        scorer.score_windows(&windows).unwrap();
        scorer_rates.push(batch as f64 / t0.elapsed().as_secs_f64());
    }
    // a group of context tiles scored at a stride: where the time goes
    let stride: u32 = arg(&args, "--stride", 32);
    let n_tiles: usize = arg(&args, "--tiles", 8);
    let tiles: Vec<u8> = random_floats(n_tiles * TILE_BYTES, 7)
        .iter()
        .map(|v| (v * 255.0) as u8)
        .collect();
    let t0 = Instant::now();
    let group = scorer
        .score_tiles(
            &tiles,
            slidescale_core::Stride::new(stride).expect("stride divides 224"),
        )
        .unwrap();
    let group_s = t0.elapsed().as_secs_f64();
    let r2 = |v: f64| (v * 100.0).round() / 100.0;
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{:.2}", r))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "{{\"bench\":\"slidescale-infer\",\"backend\":\"{}\",\"model\":\"{}\",\"batch\":{batch},\"threads\":{threads},\"images_per_s_median\":{},\"min\":{},\"max\":{},\"all\":[{}],\"scorer_u8_images_per_s_median\":{},\"scorer_all\":[{}],\"group\":{{\"tiles\":{n_tiles},\"stride\":{stride},\"windows\":{},\"windows_per_s\":{},\"preprocess_s\":{:.3},\"infer_s\":{:.3}}}}}",
        scorer.backend_name(),
        std::path::Path::new(model).file_name().unwrap().to_string_lossy(),
        r2(median(&rates)),
        r2(rates.iter().copied().fold(f64::MAX, f64::min)),
        r2(rates.iter().copied().fold(0.0, f64::max)),
        fmt(&rates),
        r2(median(&scorer_rates)),
        fmt(&scorer_rates),
        group.stats.windows,
        r2(group.stats.windows as f64 / group_s),
        group.stats.preprocess.as_secs_f64(),
        group.stats.infer.as_secs_f64(),
    );
}
