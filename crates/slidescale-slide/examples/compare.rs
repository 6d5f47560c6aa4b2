//! Compare the two drivers on one slide: properties and a few windows.
//! usage: compare SLIDE [x y level w h]...
use std::path::Path;

use slidescale_slide::{NativeSlide, OpenSlide, Slide};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = Path::new(&args[0]);
    let o = OpenSlide::open(path).expect("openslide");
    let n = NativeSlide::open(path).expect("native");
    println!("openslide {:?}", o.properties());
    println!("native    {:?}", n.properties());
    let nums: Vec<i64> = args[1..].iter().map(|s| s.parse().unwrap()).collect();
    for w in nums.chunks(5) {
        let a = o
            .read_region(w[0], w[1], w[2] as usize, w[3] as u32, w[4] as u32)
            .unwrap();
        let b = n
            .read_region(w[0], w[1], w[2] as usize, w[3] as u32, w[4] as u32)
            .unwrap();
        let mut hist = [0u64; 256];
        for (p, q) in a.data.iter().zip(&b.data) {
            hist[p.abs_diff(*q) as usize] += 1;
        }
        let total: u64 = hist.iter().sum();
        let mean: f64 = hist
            .iter()
            .enumerate()
            .map(|(d, c)| d as f64 * *c as f64)
            .sum::<f64>()
            / total as f64;
        let max = hist.iter().rposition(|&c| c > 0).unwrap();
        println!(
            "{w:?}: max {max} mean {mean:.4} hist {:?}",
            &hist[..=max.min(8)]
        );
    }
}
