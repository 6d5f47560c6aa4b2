//! Corrupt copies of a real classic-TIFF slide, damaged inside one level-0
//! tile that is found by reading the file's first directory (its TileOffsets
//! and TileByteCounts), not at fixed offsets. Only std, so the CLI tests can
//! include this file too (`#[path]`).

#![allow(dead_code)]

use std::path::Path;

/// One level-0 tile as the TIFF lays it out.
#[derive(Debug, Clone, Copy)]
pub struct TileSpan {
    pub col: u32,
    pub row: u32,
    /// Tile size in pixels (TileWidth, TileLength).
    pub width: u32,
    pub height: u32,
    pub offset: u64,
    pub len: u64,
    /// File positions of this tile's TileOffsets and TileByteCounts entries.
    offset_entry: usize,
    count_entry: usize,
}

/// What to do to the tile.
#[derive(Debug, Clone, Copy)]
pub enum Damage {
    /// 4 KiB of zeros in the middle of the tile's entropy-coded data.
    Zero4KiB,
    /// 50 bytes of the entropy-coded data XORed with non-zero values.
    Flip50 { seed: u64 },
    /// The TileOffsets entry moved so the data would end past the end of the file.
    OffsetPastEof,
    /// The TileByteCounts entry halved: the tile's data is cut short.
    ByteCountHalved,
    /// The tile's JPEG frame header one row shorter than the TIFF's tiles.
    FrameHeightOneLess,
    /// The file cut in the middle of the tile's data (an interrupted copy).
    FileCutInsideTile,
}

/// The level-0 tile with the most data (room for 4 KiB of damage).
pub fn largest_level0_tile(bytes: &[u8]) -> TileSpan {
    let tiles = level0_tiles(bytes);
    *tiles
        .iter()
        .max_by_key(|t| t.len)
        .expect("level 0 has tiles")
}

/// Write `src` damaged by `damage` to `dst`; returns the tile hit.
pub fn write_damaged(src: &Path, dst: &Path, damage: Damage) -> TileSpan {
    let mut bytes = std::fs::read(src).unwrap();
    let tile = largest_level0_tile(&bytes);
    let (start, end) = (tile.offset as usize, (tile.offset + tile.len) as usize);
    let data = entropy_coded_start(&bytes[start..end]) + start;
    match damage {
        Damage::Zero4KiB => {
            assert!(end - data > 4096 + 64, "tile too small: {tile:?}");
            let at = data + (end - data - 4096) / 2;
            bytes[at..at + 4096].fill(0);
        }
        Damage::Flip50 { seed } => {
            let mut rng = XorShift(seed | 1);
            // leave the final EOI alone: the damage is inside the data
            for _ in 0..50 {
                let at = data + (rng.next() % (end - 2 - data) as u64) as usize;
                bytes[at] ^= (rng.next() % 255 + 1) as u8;
            }
        }
        Damage::OffsetPastEof => {
            let past = (bytes.len() as u64 - tile.len / 2) as u32;
            put_u32(&mut bytes, tile.offset_entry, past);
        }
        Damage::ByteCountHalved => {
            put_u32(&mut bytes, tile.count_entry, (tile.len / 2) as u32);
        }
        Damage::FrameHeightOneLess => {
            let sof = start + marker(&bytes[start..end], 0xc0);
            let height = u16::from_be_bytes([bytes[sof + 5], bytes[sof + 6]]) - 1;
            bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
        }
        Damage::FileCutInsideTile => bytes.truncate(data + (end - data) / 2),
    }
    std::fs::write(dst, &bytes).unwrap();
    tile
}

/// Where the entropy-coded data of a JPEG tile starts (after its SOS).
fn entropy_coded_start(tile: &[u8]) -> usize {
    let sos = marker(tile, 0xda);
    sos + 2 + u16::from_be_bytes([tile[sos + 2], tile[sos + 3]]) as usize
}

/// Position of the first marker `code` in a JPEG tile's headers.
fn marker(tile: &[u8], code: u8) -> usize {
    tile.windows(2)
        .position(|w| w == [0xff, code])
        .unwrap_or_else(|| panic!("tile has no marker 0x{code:02x}"))
}

/// Every tile of directory 0 of a little-endian classic TIFF whose tile
/// offsets and byte counts are LONG arrays (Aperio SVS).
pub fn level0_tiles(b: &[u8]) -> Vec<TileSpan> {
    assert_eq!(&b[..4], b"II*\0", "little-endian classic TIFF expected");
    let ifd = u32_at(b, 4) as usize;
    let (width, tile_width, tile_height) = (
        scalar(b, ifd, 256),
        scalar(b, ifd, 322),
        scalar(b, ifd, 323),
    );
    let across = width.div_ceil(tile_width);
    let offsets = entry(b, ifd, 324);
    let counts = entry(b, ifd, 325);
    assert!(offsets.kind == LONG && counts.kind == LONG && offsets.count == counts.count);
    (0..offsets.count as usize)
        .map(|i| {
            let (oe, ce) = (offsets.value_at + 4 * i, counts.value_at + 4 * i);
            TileSpan {
                col: i as u32 % across,
                row: i as u32 / across,
                width: tile_width,
                height: tile_height,
                offset: u64::from(u32_at(b, oe)),
                len: u64::from(u32_at(b, ce)),
                offset_entry: oe,
                count_entry: ce,
            }
        })
        .collect()
}

const SHORT: u16 = 3;
const LONG: u16 = 4;

struct Entry {
    kind: u16,
    count: u32,
    /// Where the values are: in the entry itself when they fit in 4 bytes.
    value_at: usize,
}

fn entry(b: &[u8], ifd: usize, tag: u16) -> Entry {
    let n = u16::from_le_bytes([b[ifd], b[ifd + 1]]) as usize;
    let e = (0..n)
        .map(|i| ifd + 2 + 12 * i)
        .find(|&e| u16::from_le_bytes([b[e], b[e + 1]]) == tag)
        .unwrap_or_else(|| panic!("TIFF tag {tag} missing"));
    let kind = u16::from_le_bytes([b[e + 2], b[e + 3]]);
    let count = u32_at(b, e + 4);
    let size = if kind == SHORT { 2 } else { 4 };
    let value_at = if size * count <= 4 {
        e + 8
    } else {
        u32_at(b, e + 8) as usize
    };
    Entry {
        kind,
        count,
        value_at,
    }
}

fn scalar(b: &[u8], ifd: usize, tag: u16) -> u32 {
    let e = entry(b, ifd, tag);
    match e.kind {
        SHORT => u32::from(u16::from_le_bytes([b[e.value_at], b[e.value_at + 1]])),
        LONG => u32_at(b, e.value_at),
        other => panic!("TIFF tag {tag} has type {other}"),
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// A small seeded generator (xorshift64), so the damage is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
