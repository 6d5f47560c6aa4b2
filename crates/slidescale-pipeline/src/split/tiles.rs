//! Reading, compressing and writing a slide's context tiles: reads and
//! compression run on every thread of the pool, writes go to the store in
//! storage order. Tiles move in windows: while one window is written (by one
//! thread; the HDF5 library serialises its calls anyway) the other threads
//! read and compress the next, so memory stays at two windows.

use std::time::Instant;

use rayon::prelude::*;
use slidescale_core::{Analysis, TileGeometry};
use slidescale_slide::{read_analysis_region, Slide, SlideError};
use slidescale_store::{encode_tile, Compression, EncodedTile, StoreError, StoreWriter};

/// Tiles per window per pool thread.
const WINDOW_PER_THREAD: usize = 8;

/// Seconds spent, summed over threads.
#[derive(Debug, Default, Clone, Copy)]
pub struct TileTimes {
    /// Reading (decoding) tiles, all threads together.
    pub read_s: f64,
    /// Compressing tiles, all threads together.
    pub encode_s: f64,
    /// Writing chunks into the store.
    pub write_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error(transparent)]
    Slide(#[from] SlideError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where context tiles come from: a slide, cut with a geometry at an
/// analysis resolution.
pub struct TileSource<'a> {
    pub slide: &'a dyn Slide,
    pub geometry: TileGeometry,
    pub analysis: Analysis,
}

/// Read the context tile of every cell of `cells`, compress it and write it
/// to `writer`, in order. `progress` is called after each window written
/// with the number of tiles in it.
pub fn write_tiles(
    source: &TileSource,
    cells: &[(u32, u32)],
    compression: Compression,
    writer: &mut StoreWriter,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<TileTimes, TileError> {
    let window = (WINDOW_PER_THREAD * rayon::current_num_threads()).max(1);
    let mut times = TileTimes::default();
    let mut pending: Option<Vec<Encoded>> = None;
    for chunk in cells.chunks(window) {
        let (written, next) = rayon::join(
            || write_window(writer, pending.take(), progress),
            || read_window(source, chunk, compression),
        );
        times.write_s += written?;
        let next = next?;
        for e in &next {
            times.read_s += e.read_s;
            times.encode_s += e.encode_s;
        }
        pending = Some(next);
    }
    times.write_s += write_window(writer, pending, progress)?;
    Ok(times)
}

struct Encoded {
    tile: EncodedTile,
    read_s: f64,
    encode_s: f64,
}

fn read_window(
    source: &TileSource,
    cells: &[(u32, u32)],
    compression: Compression,
) -> Result<Vec<Encoded>, SlideError> {
    let side = source.geometry.context();
    cells
        .par_iter()
        .map(|&(c, r)| {
            let t0 = Instant::now();
            let origin = source.geometry.context_origin(c, r);
            let img = read_analysis_region(source.slide, &source.analysis, origin, (side, side))?;
            let t1 = Instant::now();
            let tile = encode_tile(img.data, compression);
            Ok(Encoded {
                tile,
                read_s: (t1 - t0).as_secs_f64(),
                encode_s: t1.elapsed().as_secs_f64(),
            })
        })
        .collect()
}

/// Write a window's tiles in order; returns the seconds it took.
fn write_window(
    writer: &mut StoreWriter,
    tiles: Option<Vec<Encoded>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<f64, StoreError> {
    let Some(tiles) = tiles else {
        return Ok(0.0);
    };
    let t0 = Instant::now();
    for e in &tiles {
        writer.write_tile(&e.tile)?;
    }
    progress(tiles.len() as u64);
    Ok(t0.elapsed().as_secs_f64())
}
