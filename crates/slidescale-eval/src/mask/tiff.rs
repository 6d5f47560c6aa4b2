//! Evaluation masks as pyramidal tiled TIFF, the form the CAMELYON16
//! challenge distributes them in and OpenSlide reads as "generic-tiff".
//!
//! The writer emits BigTIFF (a level-0 mask of a whole slide can pass 4 GiB
//! before compression is known), one top-level IFD per level, level 0
//! first, 8-bit single-channel (MinIsBlack) deflate tiles of
//! [`TILE_SIZE`]². Level `k` is `ceil(width / 2^k) × ceil(height / 2^k)`
//! and marked reduced-resolution (NewSubfileType 1). Tiles are requested one
//! at a time from a window function and written as they come, so memory is
//! one tile plus the tile offsets whatever the slide size; every all-zero
//! tile shares one stored tile. The `tiff` crate writes strips only; a
//! writer of our own (~200 lines) shares the empty tile and adds no
//! dependency.
//!
//! The reader goes through OpenSlide, exactly as the reference script does.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use flate2::write::ZlibEncoder;
use flate2::Compression;
use slidescale_slide::{OpenSlide, Slide};

use super::MaskError;
use crate::raster::Raster;

/// Width and height of every tile.
pub const TILE_SIZE: usize = 512;

/// TIFF field types used here.
const SHORT: u16 = 3;
const LONG: u16 = 4;
const LONG8: u16 = 16;

/// Dimensions of `level` of a pyramid whose level 0 is `width × height`:
/// each level halves the previous one, rounding up (never below 1).
pub fn level_dimensions(width: usize, height: usize, level: u32) -> (usize, usize) {
    let d = 1usize << level;
    (width.div_ceil(d).max(1), height.div_ceil(d).max(1))
}

/// How many levels a mask pyramid gets: down to the first level that fits
/// in one tile, and at least `at_least` (the evaluation level + 1, so that
/// the reference can read it).
pub fn pyramid_levels(width: usize, height: usize, at_least: u32) -> u32 {
    let mut levels = 1;
    while {
        let (w, h) = level_dimensions(width, height, levels - 1);
        w > TILE_SIZE || h > TILE_SIZE
    } {
        levels += 1;
    }
    levels.max(at_least)
}

/// Writes a `levels`-level pyramidal mask TIFF of a `width × height` level 0
/// to `path`. `window(level, x0, y0, w, h)` gives the `w × h` pixels of
/// `level` whose top-left is (`x0`, `y0`) in that level's pixels (tumour =
/// 255, else 0); it is only asked for windows inside the level. Level `k` is
/// written exactly as `window` gives it, so the evaluation level equals the
/// raster it was computed from.
pub fn write_mask_tiff<F>(
    path: &Path,
    width: usize,
    height: usize,
    levels: u32,
    window: F,
) -> Result<(), MaskError>
where
    F: Fn(u32, usize, usize, usize, usize) -> Raster<u8>,
{
    let io = |source| MaskError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A private partial name, locked from creation and renamed when whole,
    // so a killed writer never leaves a truncated mask under the final name.
    slidescale_core::workdir::create_parent_dir(path).map_err(io)?;
    let partial = slidescale_core::workdir::unique_partial_path(path);
    let file = slidescale_core::partial::create_locked_partial(&partial).map_err(io)?;
    let written = (|| {
        let mut writer = TileWriter::new(BufWriter::new(&file))?;
        for level in 0..levels {
            let (w, h) = level_dimensions(width, height, level);
            writer.level(level, w, h, &window)?;
        }
        writer.finish()?;
        slidescale_core::partial::commit_locked(&file, &partial, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written.map_err(io)
}

/// The BigTIFF being written: where the last IFD's "next" link is, and the
/// one stored all-zero tile.
struct TileWriter<W: Write + Seek> {
    out: W,
    link_at: u64,
    empty_tile: Option<(u64, u64)>,
    tile: Vec<u8>,
}

impl<W: Write + Seek> TileWriter<W> {
    fn new(mut out: W) -> std::io::Result<Self> {
        // "II", 43 (BigTIFF), offset size 8, reserved 0, first IFD offset.
        out.write_all(b"II")?;
        out.write_all(&43u16.to_le_bytes())?;
        out.write_all(&8u16.to_le_bytes())?;
        out.write_all(&0u16.to_le_bytes())?;
        out.write_all(&0u64.to_le_bytes())?;
        Ok(TileWriter {
            out,
            link_at: 8,
            empty_tile: None,
            tile: vec![0; TILE_SIZE * TILE_SIZE],
        })
    }

    /// Writes one level's tiles, then its IFD.
    fn level<F>(&mut self, level: u32, w: usize, h: usize, window: &F) -> std::io::Result<()>
    where
        F: Fn(u32, usize, usize, usize, usize) -> Raster<u8>,
    {
        let mut offsets = Vec::new();
        let mut counts = Vec::new();
        for y0 in (0..h).step_by(TILE_SIZE) {
            for x0 in (0..w).step_by(TILE_SIZE) {
                let (tw, th) = (TILE_SIZE.min(w - x0), TILE_SIZE.min(h - y0));
                let pixels = window(level, x0, y0, tw, th);
                assert!(
                    pixels.width == tw && pixels.height == th,
                    "mask window of level {level} at ({x0}, {y0}) is {}x{}, expected {tw}x{th}",
                    pixels.width,
                    pixels.height
                );
                let (offset, count) = self.tile(&pixels)?;
                offsets.push(offset);
                counts.push(count);
            }
        }
        self.ifd(level, w, h, &offsets, &counts)
    }

    /// Stores one tile (padded with 0 to the full tile size, as TIFF wants);
    /// returns its offset and byte count.
    fn tile(&mut self, pixels: &Raster<u8>) -> std::io::Result<(u64, u64)> {
        self.tile.fill(0);
        for y in 0..pixels.height {
            self.tile[y * TILE_SIZE..y * TILE_SIZE + pixels.width].copy_from_slice(pixels.row(y));
        }
        let empty = self.tile.iter().all(|&v| v == 0);
        if let (true, Some(stored)) = (empty, self.empty_tile) {
            return Ok(stored);
        }
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&self.tile)?;
        let bytes = encoder.finish()?;
        let offset = self.out.stream_position()?;
        self.out.write_all(&bytes)?;
        let stored = (offset, bytes.len() as u64);
        if empty {
            self.empty_tile = Some(stored);
        }
        Ok(stored)
    }

    /// Writes the tile arrays and the IFD of a level, and links the previous
    /// IFD (or the header) to it.
    fn ifd(
        &mut self,
        level: u32,
        w: usize,
        h: usize,
        offsets: &[u64],
        counts: &[u64],
    ) -> std::io::Result<()> {
        let offsets_at = self.array(offsets)?;
        let counts_at = self.array(counts)?;
        let tile = TILE_SIZE as u64;
        let entries: [(u16, u16, u64, u64); 12] = [
            (254, LONG, 1, u64::from(level > 0)), // NewSubfileType: reduced
            (256, LONG, 1, w as u64),             // ImageWidth
            (257, LONG, 1, h as u64),             // ImageLength
            (258, SHORT, 1, 8),                   // BitsPerSample
            (259, SHORT, 1, 8),                   // Compression: deflate
            (262, SHORT, 1, 1),                   // Photometric: MinIsBlack
            (277, SHORT, 1, 1),                   // SamplesPerPixel
            (284, SHORT, 1, 1),                   // PlanarConfiguration
            (322, LONG, 1, tile),                 // TileWidth
            (323, LONG, 1, tile),                 // TileLength
            (324, LONG8, offsets.len() as u64, offsets_at), // TileOffsets
            (325, LONG8, counts.len() as u64, counts_at), // TileByteCounts
        ];
        let ifd_at = self.align()?;
        self.out.write_all(&(entries.len() as u64).to_le_bytes())?;
        for (tag, kind, count, value) in entries {
            self.out.write_all(&tag.to_le_bytes())?;
            self.out.write_all(&kind.to_le_bytes())?;
            self.out.write_all(&count.to_le_bytes())?;
            // One value fits in the entry (left-justified); longer arrays
            // were written above and the entry holds their offset.
            self.out.write_all(&value.to_le_bytes())?;
        }
        let next_link = self.out.stream_position()?;
        self.out.write_all(&0u64.to_le_bytes())?;
        self.out.seek(SeekFrom::Start(self.link_at))?;
        self.out.write_all(&ifd_at.to_le_bytes())?;
        self.out.seek(SeekFrom::End(0))?;
        self.link_at = next_link;
        Ok(())
    }

    /// Writes a LONG8 array unless it fits in an entry; returns what the
    /// entry holds (its offset, or the single value).
    fn array(&mut self, values: &[u64]) -> std::io::Result<u64> {
        if let [single] = values {
            return Ok(*single);
        }
        let at = self.align()?;
        for v in values {
            self.out.write_all(&v.to_le_bytes())?;
        }
        Ok(at)
    }

    /// Pads to a word boundary (TIFF wants IFDs and arrays there).
    fn align(&mut self) -> std::io::Result<u64> {
        let at = self.out.stream_position()?;
        if at % 2 == 1 {
            self.out.write_all(&[0])?;
            return Ok(at + 1);
        }
        Ok(at)
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads `level` of the mask TIFF at `path` as OpenSlide gives it to the
/// reference script (`read_region((0, 0), level, dims)`, channel 0).
///
/// Errors when the file has no such level, and when it marks tumour with 1
/// instead of 255 (values include 1 but no 255): the reference would find no
/// lesions in it without a word.
pub fn read_mask_tiff(path: &Path, level: u32) -> Result<Raster<u8>, MaskError> {
    let read = |reason: String| MaskError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let slide = OpenSlide::open(path).map_err(|e| read(e.to_string()))?;
    let levels = &slide.properties().levels;
    let Some(dims) = levels.get(level as usize) else {
        return Err(MaskError::MissingLevel {
            path: path.to_path_buf(),
            level,
            levels: levels.len(),
        });
    };
    let (w, h) = (dims.width as u32, dims.height as u32);
    // One read of the whole level, as the reference does: OpenSlide's own
    // splitting of large reads then happens identically.
    let rgb = slide
        .read_region(0, 0, level as usize, w, h)
        .map_err(|e| read(e.to_string()))?;
    let channel0: Vec<u8> = rgb.data.chunks_exact(3).map(|p| p[0]).collect();
    drop(rgb);
    let mask = Raster::from_vec(w as usize, h as usize, channel0);
    refuse_tumour_as_one(path, &mask)?;
    Ok(mask)
}

/// The reference's trap: a mask stored with tumour = 1 yields no lesions.
fn refuse_tumour_as_one(path: &Path, mask: &Raster<u8>) -> Result<(), MaskError> {
    if !mask.data.contains(&255) && mask.data.contains(&1) {
        return Err(MaskError::TumourIsOne {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}
