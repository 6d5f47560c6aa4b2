//! What the store's checksums cost, measured on a real store's tiles
//! (docs/store.md, "Integrity"): CRC-32 (`crc32fast`, what the store uses)
//! against HDF5's Fletcher32 algorithm (the alternative: a filter over the
//! stored bytes), next to LZ4-encoding the same tiles and to a checked
//! `read_group`.
//!
//! `cargo run --release -p slidescale-store --example checksum_cost -- STORE.h5 [REPS]`

use std::time::Instant;

use slidescale_store::{encode_tile, Compression, Store};

/// HDF5's Fletcher32 (H5checksum.c): 16-bit big-endian words, two sums
/// reduced every 360 words.
fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let mut words = data.chunks_exact(2);
    let mut left = data.len() / 2;
    while left > 0 {
        let n = left.min(360);
        left -= n;
        for w in words.by_ref().take(n) {
            sum1 += ((w[0] as u32) << 8) | w[1] as u32;
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if let [last] = words.remainder() {
        sum1 += (*last as u32) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

fn ms_per_tile(reps: usize, tiles: usize, mut f: impl FnMut()) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e3 / tiles as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: checksum_cost STORE.h5 [REPS]");
    let reps: usize = args.next().map_or(5, |r| r.parse().unwrap());
    let store = Store::open(path.as_ref()).unwrap();
    let groups = store.info().n_groups;
    let t = Instant::now();
    let mut tiles: Vec<Vec<u8>> = Vec::new();
    for k in 1..=groups {
        let g = store.read_group(k).unwrap();
        tiles.extend(g.tiles.chunks_exact(602_112).map(<[u8]>::to_vec));
    }
    let read_s = t.elapsed().as_secs_f64();
    let n = tiles.len();
    let encoded: Vec<Vec<u8>> = tiles
        .iter()
        .map(|t| encode_tile(t.clone(), Compression::BloscLz4).bytes)
        .collect();
    let mut sink = 0u32;
    let crc = ms_per_tile(reps, n, || {
        tiles.iter().for_each(|t| sink ^= crc32fast::hash(t))
    });
    let fl_raw = ms_per_tile(reps, n, || tiles.iter().for_each(|t| sink ^= fletcher32(t)));
    let fl_enc = ms_per_tile(reps, n, || {
        encoded.iter().for_each(|t| sink ^= fletcher32(t))
    });
    let lz4 = ms_per_tile(reps, n, || {
        tiles
            .iter()
            .for_each(|t| sink ^= encode_tile(t.clone(), Compression::BloscLz4).crc32)
    });
    let read = ms_per_tile(reps, n, || {
        (1..=groups).for_each(|k| sink ^= store.read_group(k).unwrap().tiles[0] as u32)
    });
    let mb = 602_112.0 / 1e6;
    println!("{n} tiles in {groups} groups (first checked read {read_s:.2} s), best of {reps}, one thread:");
    println!(
        "crc32fast, decoded tile     {crc:.3} ms/tile ({:.1} GB/s)",
        mb / crc
    );
    println!(
        "fletcher32, decoded tile    {fl_raw:.3} ms/tile ({:.1} GB/s)",
        mb / fl_raw
    );
    println!("fletcher32, encoded chunk   {fl_enc:.3} ms/tile");
    println!(
        "encode_tile blosc-lz4 (+crc) {lz4:.3} ms/tile (crc {:.1} %)",
        100.0 * crc / lz4
    );
    println!(
        "read_group, checked (warm)  {read:.3} ms/tile, {:.3} s per 400 tiles (crc {:.1} %)",
        read * 0.4,
        100.0 * crc / read
    );
    std::hint::black_box(sink);
}
