//! Corrupt copies of a real TIFF slide (classic or BigTIFF), damaged inside one level-0
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
    /// File position and size of this tile's TileOffsets and TileByteCounts
    /// values.
    offset_entry: (usize, usize),
    count_entry: (usize, usize),
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
            let past = bytes.len() as u64 - tile.len / 2;
            put_uint(&mut bytes, tile.offset_entry, past);
        }
        Damage::ByteCountHalved => {
            put_uint(&mut bytes, tile.count_entry, tile.len / 2);
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

/// Every tile of directory 0 of a little-endian TIFF (classic or BigTIFF).
pub fn level0_tiles(b: &[u8]) -> Vec<TileSpan> {
    let big = match &b[..4] {
        b"II*\0" => false,
        b"II+\0" => true,
        other => panic!("little-endian TIFF expected, found {other:?}"),
    };
    let ifd = if big { uint(b, 8, 8) } else { uint(b, 4, 4) } as usize;
    let entry = |tag| find_entry(b, ifd, big, tag);
    let (width, tile_width, tile_height) = (entry(256), entry(322), entry(323));
    let (width, tile_width, tile_height) = (
        width.value(b, 0) as u32,
        tile_width.value(b, 0) as u32,
        tile_height.value(b, 0) as u32,
    );
    let across = width.div_ceil(tile_width);
    let offsets = entry(324);
    let counts = entry(325);
    assert_eq!(offsets.count, counts.count);
    (0..offsets.count)
        .map(|i| TileSpan {
            col: i as u32 % across,
            row: i as u32 / across,
            width: tile_width,
            height: tile_height,
            offset: offsets.value(b, i),
            len: counts.value(b, i),
            offset_entry: (offsets.at(i), offsets.size),
            count_entry: (counts.at(i), counts.size),
        })
        .collect()
}

/// One directory entry: `count` values of `size` bytes at `values`.
struct Entry {
    count: usize,
    size: usize,
    values: usize,
}

impl Entry {
    fn at(&self, i: usize) -> usize {
        self.values + self.size * i
    }
    fn value(&self, b: &[u8], i: usize) -> u64 {
        uint(b, self.at(i), self.size)
    }
}

fn find_entry(b: &[u8], ifd: usize, big: bool, tag: u16) -> Entry {
    let (n, first, entry_len, field) = if big {
        (uint(b, ifd, 8) as usize, ifd + 8, 20, 8)
    } else {
        (uint(b, ifd, 2) as usize, ifd + 2, 12, 4)
    };
    let e = (0..n)
        .map(|i| first + entry_len * i)
        .find(|&e| uint(b, e, 2) == u64::from(tag))
        .unwrap_or_else(|| panic!("TIFF tag {tag} missing"));
    let size = match uint(b, e + 2, 2) {
        3 => 2,  // SHORT
        4 => 4,  // LONG
        16 => 8, // LONG8
        other => panic!("TIFF tag {tag} has type {other}"),
    };
    let count = uint(b, e + 4, field) as usize; // as wide as the value field
    let value_field = e + 4 + field;
    let values = if size * count <= field {
        value_field
    } else {
        uint(b, value_field, field) as usize
    };
    Entry {
        count,
        size,
        values,
    }
}

/// A little-endian unsigned integer of `size` bytes at `at`.
fn uint(b: &[u8], at: usize, size: usize) -> u64 {
    let mut v = [0u8; 8];
    v[..size].copy_from_slice(&b[at..at + size]);
    u64::from_le_bytes(v)
}

fn put_uint(b: &mut [u8], (at, size): (usize, usize), v: u64) {
    b[at..at + size].copy_from_slice(&v.to_le_bytes()[..size]);
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
