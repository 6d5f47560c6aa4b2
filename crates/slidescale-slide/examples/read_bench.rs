//! Read benchmark: every 448² level-0 context window of a set of grid cells,
//! as `split` reads them, through one driver; prints one JSON line per pass
//! with context tiles per second. Each pass opens the slide afresh (cold tile
//! cache), like `shared/bench/bench_read.py`.
//!
//! usage: read_bench SLIDE [--reader auto|native|openslide] [--threads N]
//!                         [--repeat R] [--cells FILE] [--whole-level L]
//!
//! `--cells FILE`: "col row" lines (e.g. the tissue cells the Python baseline
//! picks); default: every cell of the 224 grid.
//! `--whole-level L`: instead, time one read of all of level L (what the
//! tissue thumbnail does), in megapixels per second.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use slidescale_slide::{open, ReaderKind};

const TILE: i64 = 224;
const CONTEXT: u32 = 448;

struct Args {
    slide: PathBuf,
    reader: ReaderKind,
    threads: usize,
    repeat: usize,
    cells: Option<PathBuf>,
    whole_level: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut args = Args {
        slide: PathBuf::new(),
        reader: ReaderKind::Auto,
        threads: 1,
        repeat: 1,
        cells: None,
        whole_level: None,
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--reader" => args.reader = value()?.parse()?,
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
            }
            "--repeat" => args.repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--cells" => args.cells = Some(PathBuf::from(value()?)),
            "--whole-level" => {
                args.whole_level = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--whole-level: {e}"))?,
                )
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => args.slide = PathBuf::from(a),
        }
    }
    if args.slide.as_os_str().is_empty() {
        return Err(
            "usage: read_bench SLIDE [--reader R] [--threads N] [--repeat R] [--cells FILE]".into(),
        );
    }
    Ok(args)
}

fn cells(args: &Args, width: u64, height: u64) -> Result<Vec<(i64, i64)>, String> {
    let Some(file) = &args.cells else {
        let (cols, rows) = (
            width.div_ceil(TILE as u64) as i64,
            height.div_ceil(TILE as u64) as i64,
        );
        return Ok((0..rows)
            .flat_map(|r| (0..cols).map(move |c| (c, r)))
            .collect());
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut p = l.split_whitespace().map(str::parse::<i64>);
            match (p.next(), p.next()) {
                (Some(Ok(c)), Some(Ok(r))) => Ok((c, r)),
                _ => Err(format!("{}: bad line {l:?}", file.display())),
            }
        })
        .collect()
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("read_bench: {e}");
        std::process::exit(2)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .unwrap();
    for rep in 0..args.repeat {
        let slide = open(&args.slide, args.reader).unwrap_or_else(|e| {
            eprintln!("read_bench: {e}");
            std::process::exit(1)
        });
        let p = slide.properties();
        if let Some(level) = args.whole_level {
            let l = p.levels.get(level).expect("no such level");
            let (w, h) = (l.width as u32, l.height as u32);
            let start = Instant::now();
            pool.install(|| slide.read_region(0, 0, level, w, h))
                .unwrap_or_else(|e| panic!("{e}"));
            let seconds = start.elapsed().as_secs_f64();
            println!(
                "{{\"bench\":\"whole_level\",\"driver\":\"{}\",\"level\":{level},\"width\":{w},\"height\":{h},\"seconds\":{seconds:.3},\"mpix_per_s\":{:.1}}}",
                slide.driver(),
                w as f64 * h as f64 / seconds / 1e6
            );
            continue;
        }
        let cells = cells(&args, p.width(), p.height()).unwrap_or_else(|e| {
            eprintln!("read_bench: {e}");
            std::process::exit(2)
        });
        let start = Instant::now();
        let checksum: u64 = pool.install(|| {
            cells
                .par_iter()
                .with_max_len(1)
                .map(|&(c, r)| {
                    let img = slide
                        .read_region(
                            c * TILE - TILE / 2,
                            r * TILE - TILE / 2,
                            0,
                            CONTEXT,
                            CONTEXT,
                        )
                        .unwrap_or_else(|e| panic!("{e}"));
                    img.data[img.data.len() / 2] as u64
                })
                .sum()
        });
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{{\"bench\":\"read_region\",\"impl\":\"rust\",\"driver\":\"{}\",\"threads\":{},\"rep\":{rep},\"patches\":{},\"seconds\":{seconds:.3},\"patches_per_s\":{:.1},\"checksum\":{checksum}}}",
            slide.driver(),
            args.threads,
            cells.len(),
            cells.len() as f64 / seconds
        );
    }
}
