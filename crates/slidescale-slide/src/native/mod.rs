//! The native driver: tiled-JPEG TIFF (classic and BigTIFF; generic pyramidal
//! and Aperio SVS) read without OpenSlide. Tile bytes are read with `pread`
//! (no shared file position, no lock), decoded by zune-jpeg (see [`codec`])
//! and kept in a shared bounded cache ([`cache`]). Lossless deflate and
//! uncompressed RGB tiles are handled too, so plain tiled TIFFs qualify.
//! Each JPEG tile is checked the way libjpeg would before zune-jpeg decodes
//! it ([`jpeg_check`]): damaged data fails the read instead of giving pixels.
//!
//! Geometry follows OpenSlide: a level-0 origin maps to level pixel
//! `origin / downsample`. OpenSlide 3.4.1 resamples (cairo, bilinear) when
//! that is not an integer; this driver takes the nearest level pixel instead,
//! so reads at level 0, or at lower levels from origins that are multiples of
//! the downsample, agree with OpenSlide up to JPEG decoder rounding, and other
//! lower-level reads differ by up to a pixel's shift.

mod cache;
mod codec;
mod jpeg_check;
mod layout;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use slidescale_core::RgbImage;

use self::cache::{TileCache, TileData, DEFAULT_CAPACITY_BYTES};
use self::layout::{IfdError, TiledLevel};
use crate::{Level, Slide, SlideError, SlideProperties};

/// Reads touching more tiles than this decode them on rayon's pool and do not
/// keep them in the cache (whole low levels for thumbnails, not context tiles).
const LARGE_READ_TILES: usize = 32;

/// A tiled TIFF / Aperio SVS open with the native reader.
pub struct NativeSlide {
    path: PathBuf,
    file: File,
    /// The file's size at open: tile data must lie inside it.
    file_len: u64,
    properties: SlideProperties,
    levels: Vec<TiledLevel>,
    cache: TileCache,
}

impl NativeSlide {
    /// Open `path` with the default tile cache (256 MiB).
    pub fn open(path: &Path) -> Result<NativeSlide, SlideError> {
        NativeSlide::open_with_cache(path, DEFAULT_CAPACITY_BYTES)
    }

    /// Open `path` with a tile cache of `cache_bytes` (0 disables caching).
    /// Files this driver does not handle give [`SlideError::NotNative`].
    pub fn open_with_cache(path: &Path, cache_bytes: usize) -> Result<NativeSlide, SlideError> {
        let file = File::open(path).map_err(|e| SlideError::Open {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let not_native = |reason: String| SlideError::NotNative {
            path: path.to_path_buf(),
            reason,
        };
        let file_len = file
            .metadata()
            .map_err(|e| SlideError::Open {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
            .len();
        let ifds = layout::read_ifds(&file).map_err(|e| match e {
            IfdError::NotNative(reason) => not_native(reason),
            IfdError::Truncated(reason) => SlideError::Open {
                path: path.to_path_buf(),
                reason,
            },
        })?;
        let layout = layout::layout(&ifds).map_err(not_native)?;
        let properties = properties(&layout);
        Ok(NativeSlide {
            path: path.to_path_buf(),
            file,
            file_len,
            properties,
            levels: layout.levels,
            cache: TileCache::new(cache_bytes),
        })
    }

    /// The file this slide was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tiles held by the cache now.
    pub fn cached_tiles(&self) -> usize {
        self.cache.len()
    }

    /// The decoded tile (`col`, `row`) of `level`, or `None` when the file has
    /// no data for it (OpenSlide paints missing tiles transparent: white here).
    fn tile(
        &self,
        level: usize,
        col: u32,
        row: u32,
        keep: bool,
    ) -> Result<Option<TileData>, String> {
        let l = &self.levels[level];
        let index = row as usize * l.tiles_across as usize + col as usize;
        let (offset, len) = (l.offsets[index], l.byte_counts[index]);
        if offset == 0 || len == 0 {
            return Ok(None);
        }
        let tile_bytes = l.tile_width as usize * l.tile_height as usize * 3;
        // A compressed tile is never much larger than its pixels; a corrupt
        // byte count must not become a giant allocation.
        if len > 2 * tile_bytes as u64 + (1 << 20) {
            return Err(format!("tile ({col}, {row}): implausible byte count {len}"));
        }
        if offset
            .checked_add(len)
            .is_none_or(|end| end > self.file_len)
        {
            return Err(format!(
                "tile ({col}, {row}): its {len} bytes at offset {offset} lie past the end of the \
                 file ({} bytes): the file is truncated or its tile offsets are corrupt",
                self.file_len
            ));
        }
        let key = (level, index as u64);
        let tile = self.cache.get_or_decode(key, tile_bytes, keep, || {
            let mut raw = vec![0u8; len as usize];
            self.file.read_exact_at(&mut raw, offset).map_err(|e| {
                format!("tile ({col}, {row}): reading {len} bytes at {offset}: {e}")
            })?;
            let rgb = codec::decode_tile(&l.codec, &raw, l.tile_width, l.tile_height)
                .map_err(|e| format!("tile ({col}, {row}): {e}"))?;
            Ok::<TileData, String>(Arc::from(rgb))
        })?;
        Ok(Some(tile))
    }

    /// Fill `band` (rows `y0..y0+band_rows` of the region, full region width)
    /// from the tiles of tile row `row`.
    #[allow(clippy::too_many_arguments)]
    fn fill_band(
        &self,
        level: usize,
        row: u32,
        region: Rect,
        band_y0: i64,
        band: &mut [u8],
        keep: bool,
    ) -> Result<(), String> {
        let l = &self.levels[level];
        let (tw, th) = (l.tile_width as i64, l.tile_height as i64);
        let out_stride = region.w as usize * 3;
        let band_rows = band.len() / out_stride.max(1);
        let x0 = region.x.max(0);
        let x1 = (region.x + region.w as i64).min(l.width as i64);
        for col in (x0 / tw) as u32..=((x1 - 1) / tw) as u32 {
            let Some(tile) = self.tile(level, col, row, keep)? else {
                continue;
            };
            // Intersection of tile, level and region, in level pixels.
            let sx0 = (col as i64 * tw).max(x0);
            let sx1 = ((col as i64 + 1) * tw).min(x1);
            let n = (sx1 - sx0) as usize * 3;
            let tile_x = (sx0 - col as i64 * tw) as usize * 3;
            let out_x = (sx0 - region.x) as usize * 3;
            for r in 0..band_rows {
                let ly = band_y0 + r as i64;
                let tile_y = (ly - row as i64 * th) as usize;
                let src = &tile[tile_y * tw as usize * 3 + tile_x..][..n];
                band[r * out_stride + out_x..][..n].copy_from_slice(src);
            }
        }
        Ok(())
    }
}

/// A region in level pixels.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: i64,
    y: i64,
    w: u32,
}

fn properties(layout: &layout::Layout) -> SlideProperties {
    let (w0, h0) = (
        layout.levels[0].width as f64,
        layout.levels[0].height as f64,
    );
    let levels = layout
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| Level {
            width: l.width as u64,
            height: l.height as u64,
            // openslide.c: the mean of the height and width ratios.
            downsample: if i == 0 {
                1.0
            } else {
                (h0 / l.height as f64 + w0 / l.width as f64) / 2.0
            },
        })
        .collect();
    SlideProperties {
        levels,
        mpp_x: layout.mpp_x,
        mpp_y: layout.mpp_y,
        vendor: layout.vendor.to_string(),
    }
}

/// Level-0 coordinate to level coordinate: the nearest level pixel.
fn to_level(v: i64, downsample: f64) -> i64 {
    if downsample == 1.0 {
        v
    } else {
        (v as f64 / downsample).round() as i64
    }
}

impl Slide for NativeSlide {
    fn properties(&self) -> &SlideProperties {
        &self.properties
    }

    fn driver(&self) -> &'static str {
        "native"
    }

    fn read_region(
        &self,
        x: i64,
        y: i64,
        level: usize,
        width: u32,
        height: u32,
    ) -> Result<RgbImage, SlideError> {
        let fail = |reason: String| SlideError::Read {
            path: self.path.clone(),
            x,
            y,
            level,
            reason,
        };
        let Some(l) = self.levels.get(level) else {
            return Err(fail(format!(
                "no such level (the slide has {})",
                self.levels.len()
            )));
        };
        let ds = self.properties.levels[level].downsample;
        let region = Rect {
            x: to_level(x, ds),
            y: to_level(y, ds),
            w: width,
        };
        let mut out = RgbImage::white(width, height);
        let y0 = region.y.max(0);
        let y1 = (region.y + height as i64).min(l.height as i64);
        let x1 = (region.x + width as i64).min(l.width as i64);
        if y0 >= y1 || region.x.max(0) >= x1 {
            return Ok(out);
        }
        let th = l.tile_height as i64;
        let rows = (y0 / th) as u32..=((y1 - 1) / th) as u32;
        let tiles = rows.clone().count()
            * ((x1 - 1) / l.tile_width as i64 - region.x.max(0) / l.tile_width as i64 + 1) as usize;
        // Split the output into one band of rows per tile row.
        let stride = width as usize * 3;
        let mut bands = Vec::new();
        let mut rest = &mut out.data[(y0 - region.y) as usize * stride..];
        for row in rows {
            let band_y0 = (row as i64 * th).max(y0);
            let band_y1 = ((row as i64 + 1) * th).min(y1);
            let (band, tail) = rest.split_at_mut((band_y1 - band_y0) as usize * stride);
            bands.push((row, band_y0, band));
            rest = tail;
        }
        let large = tiles > LARGE_READ_TILES;
        let fill = |(row, band_y0, band): (u32, i64, &mut [u8])| {
            self.fill_band(level, row, region, band_y0, band, !large)
        };
        if large {
            bands.into_par_iter().try_for_each(fill).map_err(fail)?;
        } else {
            bands.into_iter().try_for_each(fill).map_err(fail)?;
        }
        Ok(out)
    }
}
