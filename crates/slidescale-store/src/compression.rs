//! Per-tile compression. Each 448×448×3 tile is one HDF5 chunk; it is
//! compressed here, in whatever thread calls [`encode_tile`], and written
//! as-is with a direct chunk write, so compression runs on all cores while
//! the HDF5 library (which serialises every call) only copies bytes.
//!
//! The bytes are exactly what the standard HDF5 filters produce and expect,
//! so h5py reads every variant: `lzf` (filter 32000, built into h5py),
//! `blosc-lz4` (filter 32001, needs `import hdf5plugin`), `deflate` (zlib,
//! built into HDF5). A tile that does not shrink is stored raw, with the
//! chunk's filter mask telling readers to skip the filter.

use std::io::Write;
use std::str::FromStr;

use hdf5_metno as hdf5;

/// How tile chunks are stored. See `docs/store.md` for the measurements
/// behind the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    None,
    Lzf,
    #[default]
    BloscLz4,
    /// zlib level 1.
    Deflate,
}

impl Compression {
    pub const ALL: [Compression; 4] = [
        Compression::None,
        Compression::Lzf,
        Compression::BloscLz4,
        Compression::Deflate,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Lzf => "lzf",
            Compression::BloscLz4 => "blosc-lz4",
            Compression::Deflate => "deflate",
        }
    }

    /// Add this compression's filter to a dataset being created, so readers
    /// know how to decode the chunks written by [`encode_tile`].
    pub(crate) fn configure(
        self,
        builder: hdf5::DatasetBuilderEmptyShape,
    ) -> hdf5::DatasetBuilderEmptyShape {
        match self {
            Compression::None => builder,
            Compression::Lzf => builder.lzf(),
            Compression::BloscLz4 => {
                builder.blosc_lz4(BLOSC_LEVEL, hdf5::filters::BloscShuffle::None)
            }
            Compression::Deflate => builder.deflate(DEFLATE_LEVEL),
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                format!("unknown compression {s:?} (expected none, lzf, blosc-lz4 or deflate)")
            })
    }
}

/// On real H&E tiles LZ4 level 1 is 20–40 % faster than 5 for 0.2 % more
/// bytes (0.839 vs 0.837 of raw), and shuffling RGB bytes or larger blocks
/// gain nothing (docs/store.md).
const BLOSC_LEVEL: u8 = 1;
const DEFLATE_LEVEL: u8 = 1;

/// One chunk ready for a direct write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedTile {
    pub bytes: Vec<u8>,
    /// HDF5 filter mask: bit 0 set means "stored raw, skip the filter".
    pub filter_mask: u32,
    /// CRC-32 of the tile's raw (decoded) bytes, stored in the group's
    /// `tile_crc32` and checked on every read.
    pub crc32: u32,
}

/// Compress one tile's raw bytes for a dataset using `compression`.
pub fn encode_tile(raw: Vec<u8>, compression: Compression) -> EncodedTile {
    let crc32 = crate::checksum::crc32(&raw);
    let packed = match compression {
        Compression::None => None,
        Compression::Lzf => lzf(&raw),
        Compression::BloscLz4 => blosc_lz4(&raw),
        Compression::Deflate => deflate(&raw),
    };
    match packed {
        Some(bytes) if bytes.len() < raw.len() => EncodedTile {
            bytes,
            filter_mask: 0,
            crc32,
        },
        _ if compression == Compression::None => EncodedTile {
            bytes: raw,
            filter_mask: 0,
            crc32,
        },
        _ => EncodedTile {
            bytes: raw,
            filter_mask: 1,
            crc32,
        },
    }
}

/// Run a C compressor that writes at most `cap` bytes into a fresh buffer
/// and returns how many it wrote (≤ 0: did not fit or failed). The buffer is
/// not zeroed first: at 600 KB a tile, clearing it cost 5 % of a split.
fn compress_into(cap: usize, f: impl FnOnce(*mut u8, usize) -> i64) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(cap);
    let n = f(out.spare_capacity_mut().as_mut_ptr().cast(), cap);
    if n <= 0 || n as usize > cap {
        return None;
    }
    // SAFETY: the compressor initialised the first `n` bytes.
    unsafe { out.set_len(n as usize) };
    Some(out)
}

fn lzf(raw: &[u8]) -> Option<Vec<u8>> {
    compress_into(raw.len(), |out, cap| {
        // SAFETY: `raw` and `out` are valid for the lengths given; lzf never
        // writes past `cap` and returns 0 when the result would not fit.
        unsafe {
            lzf_sys::lzf_compress(
                raw.as_ptr().cast(),
                raw.len() as u32,
                out.cast(),
                cap as u32,
            ) as i64
        }
    })
}

fn blosc_lz4(raw: &[u8]) -> Option<Vec<u8>> {
    let cap = raw.len() + blosc_src::BLOSC_MAX_OVERHEAD as usize;
    compress_into(cap, |out, cap| {
        // SAFETY: `out` has room for the worst case (`nbytes + MAX_OVERHEAD`);
        // the `_ctx` variant keeps no global state, so threads may call it at
        // once.
        unsafe {
            blosc_src::blosc_compress_ctx(
                BLOSC_LEVEL as i32,
                blosc_src::BLOSC_NOSHUFFLE as i32,
                1,
                raw.len(),
                raw.as_ptr().cast(),
                out.cast(),
                cap,
                c"lz4".as_ptr(),
                0,
                1,
            ) as i64
        }
    })
}

fn deflate(raw: &[u8]) -> Option<Vec<u8>> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(raw.len() / 2),
        flate2::Compression::new(DEFLATE_LEVEL as u32),
    );
    enc.write_all(raw).ok()?;
    enc.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Compression::ALL {
            assert_eq!(c.name().parse::<Compression>().unwrap(), c);
        }
        assert!("zstd".parse::<Compression>().is_err());
    }

    #[test]
    fn compressible_tiles_shrink_and_noise_is_stored_raw() {
        let flat = vec![200u8; 448 * 448 * 3];
        let mut x = 0x2545F491u32;
        let noise: Vec<u8> = (0..448 * 448 * 3)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for c in [
            Compression::Lzf,
            Compression::BloscLz4,
            Compression::Deflate,
        ] {
            let e = encode_tile(flat.clone(), c);
            assert_eq!(e.filter_mask, 0, "{c}");
            assert!(e.bytes.len() < flat.len() / 10, "{c}");
            let e = encode_tile(noise.clone(), c);
            assert_eq!((e.filter_mask, e.bytes.len()), (1, noise.len()), "{c}");
        }
        let e = encode_tile(flat.clone(), Compression::None);
        assert_eq!(e.crc32, crc32fast::hash(&flat));
        assert_eq!((e.filter_mask, e.bytes), (0, flat));
    }
}
