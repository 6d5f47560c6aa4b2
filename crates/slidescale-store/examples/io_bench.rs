//! The I/O study of bench/io (the paper's Fig. 5): time reading the first N
//! tiles of a store four ways, one way per invocation, so that the driving
//! script can drop the page cache between runs. Prints one JSON line.
//!
//! usage:
//!   io_bench export STORE.h5 DIR      one raw file per tile (DIR/NNNNN.rgb)
//!   io_bench read --mode M --n N STORE.h5 [--piece P] [--files DIR] [--slide SLIDE]
//!
//! Modes (every one opens its source inside the timing, one thread, and
//! checks each tile's CRC-32 so all do the same work per decoded byte):
//!   group  one `read_tiles(1, 0..N)`: the whole group in one HDF5 read
//!   tile   N calls `read_tiles(1, i..i+1)`: tile by tile from the store
//!   pieces `read_tiles` of `--piece P` tiles at a time (default 16, what
//!          `process` does while it scores the previous piece)
//!   files  N files of DIR opened and read (raw 602 112-byte tiles)
//!   slide  the same N 448x448 context windows read from the slide with the
//!          native reader (JPEG decode included: what a store saves)
//!
//! The store must hold at least N tiles in group 1 (split with
//! `--group-size` ≥ N), so every N reads contiguous chunks of one dataset.

use std::path::{Path, PathBuf};
use std::time::Instant;

use slidescale_slide::{open, ReaderKind};
use slidescale_store::Store;

const TILE_BYTES: usize = 448 * 448 * 3;

fn fail(msg: String) -> ! {
    eprintln!("io_bench: {msg}");
    std::process::exit(1)
}

fn open_store(path: &Path) -> Store {
    Store::open(path).unwrap_or_else(|e| fail(e.to_string()))
}

fn tile_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("{i:05}.rgb"))
}

/// One raw file per tile of group 1, written 64 tiles at a time (the
/// scratch copy the `files` mode reads; not a slidescale output).
fn export(store: &Path, dir: &Path) {
    let s = open_store(store);
    let n = s.info().group_len(1) as usize;
    std::fs::create_dir_all(dir).unwrap_or_else(|e| fail(format!("{}: {e}", dir.display())));
    for start in (0..n).step_by(64) {
        let end = (start + 64).min(n);
        let bytes = s
            .read_tiles(1, start..end)
            .unwrap_or_else(|e| fail(e.to_string()));
        for (i, t) in bytes.chunks_exact(TILE_BYTES).enumerate() {
            std::fs::write(tile_file(dir, start + i), t)
                .unwrap_or_else(|e| fail(format!("{}: {e}", dir.display())));
        }
    }
    println!("{{\"exported\":{n},\"dir\":\"{}\"}}", dir.display());
}

/// Sum of one byte per tile, so no read can be optimised away.
fn touch(bytes: &[u8]) -> u64 {
    bytes
        .chunks_exact(TILE_BYTES)
        .map(|t| t[TILE_BYTES / 2] as u64)
        .sum()
}

struct Sources<'a> {
    store: &'a Path,
    files: Option<&'a Path>,
    slide: Option<&'a Path>,
}

fn read(mode: &str, n: usize, piece: usize, src: &Sources) {
    let (store, files, slide) = (src.store, src.files, src.slide);
    let start = Instant::now();
    let checksum = match mode {
        "group" => touch(
            &open_store(store)
                .read_tiles(1, 0..n)
                .unwrap_or_else(|e| fail(e.to_string())),
        ),
        "tile" => {
            let s = open_store(store);
            (0..n)
                .map(|i| {
                    touch(
                        &s.read_tiles(1, i..i + 1)
                            .unwrap_or_else(|e| fail(e.to_string())),
                    )
                })
                .sum()
        }
        "pieces" => {
            let s = open_store(store);
            (0..n)
                .step_by(piece)
                .map(|i| {
                    let r = i..(i + piece).min(n);
                    touch(&s.read_tiles(1, r).unwrap_or_else(|e| fail(e.to_string())))
                })
                .sum()
        }
        "files" => {
            let dir = files.unwrap_or_else(|| fail("--mode files needs --files DIR".into()));
            (0..n)
                .map(|i| {
                    let p = tile_file(dir, i);
                    let t =
                        std::fs::read(&p).unwrap_or_else(|e| fail(format!("{}: {e}", p.display())));
                    // the store checks every tile's CRC-32; so does this mode
                    std::hint::black_box(crc32fast::hash(&t));
                    touch(&t)
                })
                .sum()
        }
        "slide" => {
            // the coordinates come from the store, outside the timing
            let coords = open_store(store)
                .group_coords(1)
                .unwrap_or_else(|e| fail(e.to_string()));
            let path = slide.unwrap_or_else(|| fail("--mode slide needs --slide SLIDE".into()));
            let start_slide = Instant::now();
            let sl = open(path, ReaderKind::Native).unwrap_or_else(|e| fail(e.to_string()));
            let sum: u64 = coords[..n]
                .iter()
                .map(|&(c, r)| {
                    let (c, r) = (c as i64, r as i64);
                    let img = sl
                        .read_region(224 * c - 112, 224 * r - 112, 0, 448, 448)
                        .unwrap_or_else(|e| fail(e.to_string()));
                    touch(&img.data)
                })
                .sum();
            return report(mode, n, start_slide.elapsed().as_secs_f64(), sum);
        }
        m => fail(format!(
            "unknown mode {m} (group, tile, pieces, files, slide)"
        )),
    };
    report(mode, n, start.elapsed().as_secs_f64(), checksum)
}

fn report(mode: &str, n: usize, seconds: f64, checksum: u64) {
    println!(
        "{{\"mode\":\"{mode}\",\"n\":{n},\"seconds\":{seconds:.6},\"tiles_per_s\":{:.1},\"checksum\":{checksum}}}",
        n as f64 / seconds
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("export") if args.len() == 3 => export(args[1].as_ref(), args[2].as_ref()),
        Some("read") => {
            let (mut mode, mut n, mut store, mut files, mut slide) = (None, None, None, None, None);
            let mut piece = 16;
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                let mut value = || it.next().cloned().unwrap_or_else(|| fail(format!("{a} needs a value")));
                match a.as_str() {
                    "--mode" => mode = Some(value()),
                    "--n" => n = Some(value().parse::<usize>().unwrap_or_else(|e| fail(format!("--n: {e}")))),
                    "--piece" => piece = value().parse::<usize>().ok().filter(|&p| p > 0).unwrap_or_else(|| fail("--piece: a positive integer".into())),
                    "--files" => files = Some(PathBuf::from(value())),
                    "--slide" => slide = Some(PathBuf::from(value())),
                    s if s.starts_with("--") => fail(format!("unknown option {s}")),
                    s => store = Some(PathBuf::from(s)),
                }
            }
            let (Some(mode), Some(n), Some(store)) = (mode, n, store) else {
                fail("read needs --mode, --n and STORE.h5".into())
            };
            let src = Sources {
                store: &store,
                files: files.as_deref(),
                slide: slide.as_deref(),
            };
            read(&mode, n, piece, &src)
        }
        _ => fail("usage: io_bench export STORE.h5 DIR | io_bench read --mode M --n N STORE.h5 [--piece P] [--files DIR] [--slide SLIDE]".into()),
    }
}
