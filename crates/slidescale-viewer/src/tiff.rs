//! A tiled, pyramidal BigTIFF writer: the one every slidescale output that a
//! viewer opens as an image goes through (evaluation masks, heatmap
//! likelihood maps, colour overlays).
//!
//! Layout, chosen so that OpenSlide's generic-tiff reader (3.4 and 4),
//! tifffile, libvips, QuPath and ASAP all open it:
//!
//! * BigTIFF, little-endian: a whole-slide level 0 can pass 4 GiB before
//!   compression is known;
//! * one top-level IFD per level, level 0 first, each level `k` being
//!   `ceil(width / 2^k) × ceil(height / 2^k)` and marked reduced-resolution
//!   (NewSubfileType 1). OpenSlide reads levels only from the main IFD
//!   chain, not from SubIFDs, so this plain multi-page form is the one all
//!   of them accept;
//! * square deflate tiles (a multiple of 16 px, as TIFF requires), edge
//!   tiles padded with the format's empty pixel;
//! * XResolution/YResolution in pixels per centimetre (ResolutionUnit 3),
//!   per level, when the level-0 µm per pixel is known: OpenSlide derives
//!   `openslide.mpp-x/y` from exactly these tags.
//!
//! Tiles are requested one at a time from a window function and written as
//! they come, so memory is one tile plus the tile offsets whatever the
//! image size; every tile made only of the empty pixel shares one stored
//! tile (most of a mask, and the background of a heatmap).
//!
//! Why our own writer: the `tiff` crate writes strips only; `tiff-forge`
//! builds the whole IFD tree in memory before writing; `tiff-writer`
//! (0.x, geotiff-rust) streams tiles but has no way to point several tiles
//! at one stored block. What is needed here is ~250 lines on top of
//! `flate2`.

use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use flate2::write::ZlibEncoder;
use flate2::Compression;

/// TIFF field types used here.
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const LONG8: u16 = 16;

/// What one pixel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Samples {
    /// 8-bit grey (MinIsBlack); empty pixel 0.
    Gray8,
    /// 32-bit IEEE float grey; empty pixel NaN.
    GrayF32,
    /// 8-bit RGB; empty pixel black.
    Rgb8,
    /// 8-bit RGB with unassociated alpha; empty pixel transparent black.
    Rgba8,
}

impl Samples {
    /// Samples per pixel.
    pub fn channels(self) -> usize {
        match self {
            Samples::Gray8 | Samples::GrayF32 => 1,
            Samples::Rgb8 => 3,
            Samples::Rgba8 => 4,
        }
    }

    fn bits(self) -> u16 {
        match self {
            Samples::GrayF32 => 32,
            _ => 8,
        }
    }

    /// Bytes of one pixel, as the window function gives them.
    pub fn bytes_per_pixel(self) -> usize {
        self.channels() * self.bits() as usize / 8
    }

    /// The pixel edge tiles are padded with, and whose all-of-a-tile
    /// repetitions are stored once.
    pub fn empty_pixel(self) -> Vec<u8> {
        match self {
            Samples::GrayF32 => f32::NAN.to_le_bytes().to_vec(),
            _ => vec![0; self.bytes_per_pixel()],
        }
    }

    /// The IFD entries that describe the samples.
    fn entries(self) -> Vec<Entry> {
        let per_channel = |v: u16| {
            let mut bytes = [0u8; 8];
            for c in 0..self.channels() {
                bytes[c * 2..c * 2 + 2].copy_from_slice(&v.to_le_bytes());
            }
            bytes
        };
        let n = self.channels() as u64;
        let photometric = if self.channels() == 1 { 1 } else { 2 }; // MinIsBlack, RGB
        let sample_format = if self == Samples::GrayF32 { 3 } else { 1 }; // IEEEFP, uint
        let mut entries = vec![
            Entry::inline(258, SHORT, n, per_channel(self.bits())), // BitsPerSample
            Entry::value(262, SHORT, photometric),                  // Photometric
            Entry::value(277, SHORT, n),                            // SamplesPerPixel
            Entry::inline(339, SHORT, n, per_channel(sample_format)), // SampleFormat
        ];
        if self == Samples::Rgba8 {
            entries.push(Entry::value(338, SHORT, 2)); // ExtraSamples: unassociated alpha
        }
        entries
    }
}

/// What is written: a `width × height` level 0 and `levels` levels of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pyramid {
    pub width: usize,
    pub height: usize,
    pub levels: u32,
    /// Tile side; a multiple of 16.
    pub tile: usize,
    pub samples: Samples,
    /// Level-0 µm per pixel (x, y), written as resolution tags; `None`
    /// writes none.
    pub mpp: Option<(f64, f64)>,
}

/// Dimensions of `level` of a pyramid whose level 0 is `width × height`:
/// each level halves the previous one, rounding up (never below 1).
pub fn level_dimensions(width: usize, height: usize, level: u32) -> (usize, usize) {
    let d = 1usize << level;
    (width.div_ceil(d).max(1), height.div_ceil(d).max(1))
}

/// How many levels a pyramid gets: down to the first level that fits in
/// one `tile`, and at least `at_least`.
pub fn pyramid_levels(width: usize, height: usize, tile: usize, at_least: u32) -> u32 {
    let mut levels = 1;
    while {
        let (w, h) = level_dimensions(width, height, levels - 1);
        w > tile || h > tile
    } {
        levels += 1;
    }
    levels.max(at_least)
}

/// Writes `pyramid` to `path` atomically (a private partial name, locked,
/// fsynced and renamed when whole: a killed writer never leaves a truncated
/// TIFF under the final name). `window(level, x0, y0, w, h)` gives the
/// `w × h` pixels of `level` whose top-left is (`x0`, `y0`), row-major,
/// [`Samples::bytes_per_pixel`] little-endian bytes each; it is only asked
/// for windows inside the level. Each level is written exactly as `window`
/// gives it.
pub fn write_pyramid<F>(path: &Path, pyramid: &Pyramid, mut window: F) -> io::Result<()>
where
    F: FnMut(u32, usize, usize, usize, usize) -> Vec<u8>,
{
    assert!(
        pyramid.tile > 0 && pyramid.tile.is_multiple_of(16),
        "TIFF tiles are a multiple of 16 px, not {}",
        pyramid.tile
    );
    slidescale_core::workdir::create_parent_dir(path)?;
    let partial = slidescale_core::workdir::unique_partial_path(path);
    let file = slidescale_core::partial::create_locked_partial(&partial)?;
    let written = (|| {
        let mut writer = TileWriter::new(BufWriter::new(&file), pyramid)?;
        for level in 0..pyramid.levels {
            writer.level(level, &mut window)?;
        }
        writer.out.flush()?;
        drop(writer);
        slidescale_core::partial::commit_locked(&file, &partial, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// One IFD entry: tag, type, count and the 8 bytes of its value field
/// (the value itself, left-justified, or the offset of a longer array).
struct Entry {
    tag: u16,
    kind: u16,
    count: u64,
    field: [u8; 8],
}

impl Entry {
    fn value(tag: u16, kind: u16, value: u64) -> Entry {
        Entry {
            tag,
            kind,
            count: 1,
            field: value.to_le_bytes(),
        }
    }

    fn inline(tag: u16, kind: u16, count: u64, field: [u8; 8]) -> Entry {
        Entry {
            tag,
            kind,
            count,
            field,
        }
    }
}

/// A positive value as a TIFF RATIONAL (two u32: numerator, denominator),
/// with the largest power-of-ten denominator (up to 10^6) that keeps the
/// numerator in range: pixels per centimetre to 6 decimals.
fn rational(v: f64) -> [u8; 8] {
    let mut den: u32 = 1;
    while den < 1_000_000 && v * (den as f64) * 10.0 < u32::MAX as f64 {
        den *= 10;
    }
    let num = (v * den as f64).round().clamp(1.0, u32::MAX as f64) as u32;
    let mut field = [0u8; 8];
    field[..4].copy_from_slice(&num.to_le_bytes());
    field[4..].copy_from_slice(&den.to_le_bytes());
    field
}

/// The BigTIFF being written: where the last IFD's "next" link is, and the
/// one stored empty tile.
struct TileWriter<'p, W: Write + Seek> {
    out: W,
    pyramid: &'p Pyramid,
    link_at: u64,
    empty_tile: Option<(u64, u64)>,
    empty_pixel: Vec<u8>,
    tile: Vec<u8>,
}

impl<'p, W: Write + Seek> TileWriter<'p, W> {
    fn new(mut out: W, pyramid: &'p Pyramid) -> io::Result<Self> {
        // "II", 43 (BigTIFF), offset size 8, reserved 0, first IFD offset.
        out.write_all(b"II")?;
        out.write_all(&43u16.to_le_bytes())?;
        out.write_all(&8u16.to_le_bytes())?;
        out.write_all(&0u16.to_le_bytes())?;
        out.write_all(&0u64.to_le_bytes())?;
        let bpp = pyramid.samples.bytes_per_pixel();
        Ok(TileWriter {
            out,
            pyramid,
            link_at: 8,
            empty_tile: None,
            empty_pixel: pyramid.samples.empty_pixel(),
            tile: vec![0; pyramid.tile * pyramid.tile * bpp],
        })
    }

    /// Writes one level's tiles, then its IFD.
    fn level<F>(&mut self, level: u32, window: &mut F) -> io::Result<()>
    where
        F: FnMut(u32, usize, usize, usize, usize) -> Vec<u8>,
    {
        let (w, h) = level_dimensions(self.pyramid.width, self.pyramid.height, level);
        let t = self.pyramid.tile;
        let bpp = self.pyramid.samples.bytes_per_pixel();
        let mut offsets = Vec::new();
        let mut counts = Vec::new();
        for y0 in (0..h).step_by(t) {
            for x0 in (0..w).step_by(t) {
                let (tw, th) = (t.min(w - x0), t.min(h - y0));
                let pixels = window(level, x0, y0, tw, th);
                assert_eq!(
                    pixels.len(),
                    tw * th * bpp,
                    "window of level {level} at ({x0}, {y0}) has {} bytes, expected {tw}x{th}x{bpp}",
                    pixels.len()
                );
                let (offset, count) = self.tile(&pixels, tw, th)?;
                offsets.push(offset);
                counts.push(count);
            }
        }
        self.ifd(level, w, h, &offsets, &counts)
    }

    /// Stores one tile (padded with the empty pixel to the full tile size,
    /// as TIFF wants); returns its offset and byte count.
    fn tile(&mut self, pixels: &[u8], tw: usize, th: usize) -> io::Result<(u64, u64)> {
        let bpp = self.empty_pixel.len();
        let row = self.pyramid.tile * bpp;
        for px in self.tile.chunks_exact_mut(bpp) {
            px.copy_from_slice(&self.empty_pixel);
        }
        for y in 0..th {
            self.tile[y * row..y * row + tw * bpp]
                .copy_from_slice(&pixels[y * tw * bpp..(y + 1) * tw * bpp]);
        }
        let empty = self
            .tile
            .chunks_exact(bpp)
            .all(|px| px == self.empty_pixel.as_slice());
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
    ) -> io::Result<()> {
        let offsets_at = self.array(offsets)?;
        let counts_at = self.array(counts)?;
        let tile = self.pyramid.tile as u64;
        let mut entries = vec![
            Entry::value(254, LONG, u64::from(level > 0)), // NewSubfileType: reduced
            Entry::value(256, LONG, w as u64),             // ImageWidth
            Entry::value(257, LONG, h as u64),             // ImageLength
            Entry::value(259, SHORT, 8),                   // Compression: deflate
            Entry::value(284, SHORT, 1),                   // PlanarConfiguration: chunky
            Entry::value(322, LONG, tile),                 // TileWidth
            Entry::value(323, LONG, tile),                 // TileLength
            Entry::inline(324, LONG8, offsets.len() as u64, offsets_at.to_le_bytes()),
            Entry::inline(325, LONG8, counts.len() as u64, counts_at.to_le_bytes()),
        ];
        entries.extend(self.pyramid.samples.entries());
        if let Some((mpp_x, mpp_y)) = self.pyramid.mpp {
            // This level's pixels per cm: 10⁴ µm/cm over its µm per pixel.
            let scale = f64::from(1u32 << level);
            entries.push(Entry::inline(
                282,
                RATIONAL,
                1,
                rational(1e4 / (mpp_x * scale)),
            ));
            entries.push(Entry::inline(
                283,
                RATIONAL,
                1,
                rational(1e4 / (mpp_y * scale)),
            ));
            entries.push(Entry::value(296, SHORT, 3)); // ResolutionUnit: centimetre
        }
        entries.sort_by_key(|e| e.tag); // TIFF wants entries in tag order
        let ifd_at = self.align()?;
        self.out.write_all(&(entries.len() as u64).to_le_bytes())?;
        for e in &entries {
            self.out.write_all(&e.tag.to_le_bytes())?;
            self.out.write_all(&e.kind.to_le_bytes())?;
            self.out.write_all(&e.count.to_le_bytes())?;
            self.out.write_all(&e.field)?;
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
    fn array(&mut self, values: &[u64]) -> io::Result<u64> {
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
    fn align(&mut self) -> io::Result<u64> {
        let at = self.out.stream_position()?;
        if at % 2 == 1 {
            self.out.write_all(&[0])?;
            return Ok(at + 1);
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rationals_keep_six_decimals_in_range() {
        let field = rational(1e4 / 0.499);
        let num = u32::from_le_bytes(field[..4].try_into().unwrap());
        let den = u32::from_le_bytes(field[4..].try_into().unwrap());
        assert_eq!(den, 100_000);
        assert!((num as f64 / den as f64 - 1e4 / 0.499).abs() < 1e-5);
        let small = rational(3.0);
        assert_eq!(
            u32::from_le_bytes(small[4..].try_into().unwrap()),
            1_000_000
        );
    }

    #[test]
    fn levels_go_down_to_one_tile() {
        assert_eq!(pyramid_levels(100, 40, 256, 1), 1);
        assert_eq!(pyramid_levels(1000, 40, 256, 1), 3);
        assert_eq!(pyramid_levels(1000, 40, 256, 5), 5);
        assert_eq!(level_dimensions(1000, 41, 2), (250, 11));
    }
}
