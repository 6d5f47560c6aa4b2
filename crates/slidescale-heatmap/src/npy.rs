//! NumPy `.npy` files of little-endian float32 in C order: the format of
//! per-group results (`[N, n, n]`) and stitched heatmaps (`[rows·n, cols·n]`),
//! so that `numpy.load` reads everything slidescale writes.
//!
//! Every file slidescale writes carries the CRC-32 (as `zlib.crc32`) of its
//! data bytes in its header, as a Python comment after the header dict:
//! `{'descr': '<f4', …, } # slidescale crc32=1a2b3c4d`. NumPy evaluates the
//! header with `ast.literal_eval`, which skips comments, and checks only the
//! dict's keys, so `np.load` reads the file as before; [`read_npy_f32`]
//! checks the data against it. A group's result also carries the digest of
//! the store tiles it was computed from (`tiles=` and 16 hex digits, see
//! `Store::group_digest`), so a result is known to belong to its store.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use slidescale_core::partial::create_locked_partial;
use slidescale_core::workdir::{commit_partial, create_parent_dir, unique_partial_path};
use thiserror::Error;

const MAGIC: &[u8] = b"\x93NUMPY";
/// What precedes the data's CRC-32 (8 hex digits) in the header.
const CRC_TAG: &str = " # slidescale crc32=";
/// What precedes the source tiles' digest (16 hex digits) in the header.
const TILES_TAG: &str = " tiles=";

#[derive(Debug, Error)]
pub enum NpyError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: not a float32 .npy file: {reason}")]
    Format { path: PathBuf, reason: String },
    /// The data does not match the CRC-32 in the header: the file is damaged.
    #[error("{path}: damaged: data CRC-32 {actual:08x}, header says {stored:08x}")]
    Checksum {
        path: PathBuf,
        actual: u32,
        stored: u32,
    },
    #[error("{path}: wrote {written} values, shape {shape:?} needs {expected}")]
    Incomplete {
        path: PathBuf,
        written: u64,
        expected: u64,
        shape: Vec<u64>,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> NpyError + '_ {
    move |source| NpyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Shape and data offset of a `.npy` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyHeader {
    pub shape: Vec<u64>,
    /// Byte offset of the first value.
    pub data_offset: u64,
    /// CRC-32 of the data bytes, when the header carries one (every file
    /// slidescale writes does; files from elsewhere may not).
    pub crc32: Option<u32>,
    /// Digest of the store tiles a group's result was computed from, when
    /// the header carries one (results do; heatmaps do not).
    pub tiles_digest: Option<u64>,
}

impl NpyHeader {
    pub fn n_values(&self) -> u64 {
        self.shape.iter().product()
    }
}

/// The header bytes for a float32 C-order array of `shape` whose data has
/// CRC-32 `crc32`, padded so the data starts on a 64-byte boundary as NumPy
/// does. Its length does not depend on `crc32`. `tiles` is the source
/// tiles' digest a result records.
fn header_bytes(shape: &[u64], crc32: u32, tiles: Option<u64>) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}{CRC_TAG}{crc32:08x}"
    );
    if let Some(digest) = tiles {
        dict.push_str(&format!("{TILES_TAG}{digest:016x}"));
    }
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = Vec::with_capacity(unpadded + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Streams float32 values into `PATH.<pid>.partial`; [`NpyWriter::finish`]
/// checks the count, fsyncs and renames to `PATH`. Dropped unfinished, it
/// leaves only the partial file, never a truncated file under the final name.
/// The pid keeps two processes that compute the same file (a task run twice
/// by a scheduler) from writing into one partial file.
pub struct NpyWriter {
    path: PathBuf,
    partial: PathBuf,
    out: BufWriter<File>,
    shape: Vec<u64>,
    written: u64,
    /// CRC-32 of the data so far; the header gets it in `finish`.
    crc: crc32fast::Hasher,
    tiles: Option<u64>,
}

impl NpyWriter {
    pub fn create(path: &Path, shape: &[u64]) -> Result<NpyWriter, NpyError> {
        NpyWriter::create_from(path, shape, None)
    }

    /// [`NpyWriter::create`] for a result whose header records `tiles`, the
    /// digest of the store tiles it is computed from.
    pub fn create_from(
        path: &Path,
        shape: &[u64],
        tiles: Option<u64>,
    ) -> Result<NpyWriter, NpyError> {
        let partial = unique_partial_path(path);
        create_parent_dir(path).map_err(io_err(path))?;
        let file = create_locked_partial(&partial).map_err(io_err(&partial))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        // A placeholder of the same length: the CRC goes in at `finish`.
        out.write_all(&header_bytes(shape, 0, tiles))
            .map_err(io_err(&partial))?;
        Ok(NpyWriter {
            path: path.to_path_buf(),
            partial,
            out,
            shape: shape.to_vec(),
            written: 0,
            crc: crc32fast::Hasher::new(),
            tiles,
        })
    }

    pub fn write(&mut self, values: &[f32]) -> Result<(), NpyError> {
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.crc.update(&bytes);
        self.out.write_all(&bytes).map_err(io_err(&self.partial))?;
        self.written += values.len() as u64;
        Ok(())
    }

    pub fn finish(self) -> Result<PathBuf, NpyError> {
        self.finish_with_crc().map(|(path, _)| path)
    }

    /// [`NpyWriter::finish`], also returning the CRC-32 of the data the
    /// header records (what a heatmap's sidecar pairs with).
    pub fn finish_with_crc(self) -> Result<(PathBuf, u32), NpyError> {
        let expected: u64 = self.shape.iter().product();
        if self.written != expected {
            return Err(NpyError::Incomplete {
                path: self.path,
                written: self.written,
                expected,
                shape: self.shape,
            });
        }
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| io_err(&self.partial)(e.into_error()))?;
        let crc = self.crc.finalize();
        let header = header_bytes(&self.shape, crc, self.tiles);
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&header))
            .map_err(io_err(&self.partial))?;
        drop(file);
        commit_partial(&self.partial, &self.path).map_err(io_err(&self.path))?;
        Ok((self.path, crc))
    }
}

/// Write a whole array atomically.
pub fn write_npy_f32(path: &Path, shape: &[u64], values: &[f32]) -> Result<(), NpyError> {
    write_result_npy(path, shape, values, None)
}

/// Write a whole array atomically, its header recording `tiles`, the digest
/// of the store tiles it was computed from (a group's result).
pub fn write_result_npy(
    path: &Path,
    shape: &[u64],
    values: &[f32],
    tiles: Option<u64>,
) -> Result<(), NpyError> {
    let mut w = NpyWriter::create_from(path, shape, tiles)?;
    w.write(values)?;
    w.finish().map(|_| ())
}

/// Parse and check the header: float32, C order, and a file exactly as long
/// as the shape says (a truncated file is rejected here).
pub fn read_npy_header(path: &Path) -> Result<NpyHeader, NpyError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let size = file.metadata().map_err(io_err(path))?.len();
    parse_header(&mut file, size, path)
}

/// The header of the `.npy` file `path`, read from `file`, which holds
/// `size` bytes in all.
fn parse_header(file: &mut impl Read, size: u64, path: &Path) -> Result<NpyHeader, NpyError> {
    let bad = |reason: &str| NpyError::Format {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut pre = [0u8; 10];
    file.read_exact(&mut pre).map_err(|_| bad("too short"))?;
    if &pre[..6] != MAGIC {
        return Err(bad("bad magic"));
    }
    let (len_bytes, dict_len) = match pre[6] {
        1 => (2u64, u16::from_le_bytes([pre[8], pre[9]]) as u64),
        2 | 3 => {
            let mut more = [0u8; 2];
            file.read_exact(&mut more).map_err(|_| bad("too short"))?;
            (
                4,
                u32::from_le_bytes([pre[8], pre[9], more[0], more[1]]) as u64,
            )
        }
        v => return Err(bad(&format!("unknown version {v}"))),
    };
    let mut dict = vec![0u8; dict_len as usize];
    file.read_exact(&mut dict)
        .map_err(|_| bad("truncated header"))?;
    let dict = String::from_utf8_lossy(&dict);
    if !dict.contains("'descr': '<f4'") {
        return Err(bad("dtype is not little-endian float32"));
    }
    if !dict.contains("'fortran_order': False") {
        return Err(bad("Fortran order"));
    }
    let shape = parse_shape(&dict).ok_or_else(|| bad("no shape"))?;
    let header = NpyHeader {
        shape,
        data_offset: 8 + len_bytes + dict_len,
        crc32: parse_crc(&dict),
        tiles_digest: parse_tiles(&dict),
    };
    if size != header.data_offset + 4 * header.n_values() {
        return Err(bad(&format!(
            "{size} bytes, shape {:?} needs {}",
            header.shape,
            header.data_offset + 4 * header.n_values()
        )));
    }
    Ok(header)
}

/// The CRC-32 after the dict, if the header has one.
fn parse_crc(dict: &str) -> Option<u32> {
    let start = dict.rfind(CRC_TAG)? + CRC_TAG.len();
    let hex = dict.get(start..start + 8)?;
    u32::from_str_radix(hex, 16).ok()
}

/// The source tiles' digest after the CRC-32, if the header has one.
fn parse_tiles(dict: &str) -> Option<u64> {
    let start = dict.rfind(TILES_TAG)? + TILES_TAG.len();
    let hex = dict.get(start..start + 16)?;
    u64::from_str_radix(hex, 16).ok()
}

fn parse_shape(dict: &str) -> Option<Vec<u64>> {
    let start = dict.find("'shape':")? + "'shape':".len();
    let rest = &dict[start..];
    let open = rest.find('(')?;
    let close = rest.find(')')?;
    rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// Read a whole float32 array: (shape, values). When the header carries a
/// CRC-32, the data is checked against it ([`NpyError::Checksum`]).
pub fn read_npy_f32(path: &Path) -> Result<(Vec<u64>, Vec<f32>), NpyError> {
    read_npy(path).map(|(header, values)| (header.shape, values))
}

/// Read a whole float32 array with its header, checking the data against
/// the header's CRC-32 when it has one.
pub fn read_npy(path: &Path) -> Result<(NpyHeader, Vec<f32>), NpyError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let header = parse_header(&mut &bytes[..], bytes.len() as u64, path)?;
    let data = &bytes[header.data_offset as usize..];
    if let Some(stored) = header.crc32 {
        let actual = crc32fast::hash(data);
        if actual != stored {
            return Err(NpyError::Checksum {
                path: path.to_path_buf(),
                actual,
                stored,
            });
        }
    }
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((header, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_64_byte_aligned_and_round_trips() {
        let dir = slidescale_testutil::temp_dir("npy");
        let path = dir.join("a.npy");
        let values: Vec<f32> = (0..24).map(|i| i as f32 * 0.5).collect();
        write_npy_f32(&path, &[2, 3, 4], &values).unwrap();
        let header = read_npy_header(&path).unwrap();
        assert_eq!(header.data_offset % 64, 0);
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(header.crc32, Some(crc32fast::hash(&data)));
        assert_eq!(read_npy_f32(&path).unwrap(), (vec![2, 3, 4], values));
        write_npy_f32(&path, &[5], &[1.0; 5]).unwrap();
        assert_eq!(read_npy_header(&path).unwrap().shape, vec![5]);
    }

    #[test]
    fn truncated_and_unfinished_files_are_rejected() {
        let dir = slidescale_testutil::temp_dir("npy-bad");
        let path = dir.join("a.npy");
        write_npy_f32(&path, &[4, 4], &[0.0; 16]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 4]).unwrap();
        assert!(matches!(
            read_npy_header(&path),
            Err(NpyError::Format { .. })
        ));

        let unfinished = dir.join("b.npy");
        let mut w = NpyWriter::create(&unfinished, &[3]).unwrap();
        w.write(&[1.0]).unwrap();
        assert!(matches!(w.finish(), Err(NpyError::Incomplete { .. })));
        assert!(!unfinished.exists());
    }

    #[test]
    fn every_flipped_data_bit_is_a_checksum_error() {
        let dir = slidescale_testutil::temp_dir("npy-flip");
        let path = dir.join("a.npy");
        let values: Vec<f32> = (0..40).map(|i| i as f32 / 40.0).collect();
        write_npy_f32(&path, &[2, 4, 5], &values).unwrap();
        let good = std::fs::read(&path).unwrap();
        let offset = read_npy_header(&path).unwrap().data_offset as usize;
        for bit in (offset * 8..good.len() * 8).step_by(7) {
            let mut bad = good.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            std::fs::write(&path, &bad).unwrap();
            let err = read_npy_f32(&path).unwrap_err();
            assert!(matches!(err, NpyError::Checksum { .. }), "bit {bit}: {err}");
            assert!(err.to_string().contains("a.npy: damaged"), "{err}");
        }
        // a file without the comment (written by NumPy) is read unchecked
        let plain = dir.join("plain.npy");
        slidescale_testutil::run_python(
            "import numpy as np, sys; np.save(sys.argv[1], np.arange(6, dtype='<f4').reshape(2, 3))",
            &[plain.to_str().unwrap()],
        );
        let (header, v) = read_npy(&plain).unwrap();
        assert_eq!((header.shape, header.crc32, v[5]), (vec![2, 3], None, 5.0));
    }

    #[test]
    fn numpy_reads_what_we_write() {
        let dir = slidescale_testutil::temp_dir("npy-numpy");
        let path = dir.join("x.npy");
        write_npy_f32(&path, &[2, 2], &[1.5, f32::NAN, -2.0, 3.25]).unwrap();
        let out = slidescale_testutil::run_python(
            "import numpy as np, sys, zlib; a = np.load(sys.argv[1]); b = np.load(sys.argv[1], mmap_mode='r'); \
             h = open(sys.argv[1], 'rb').read(128).split(b'crc32=')[1][:8]; \
             ok = int(h, 16) == zlib.crc32(a.tobytes()) and (a.tobytes() == b.tobytes()); \
             print(a.dtype, a.shape, np.isnan(a[0,1]), a[1,1], ok)",
            &[path.to_str().unwrap()],
        );
        assert_eq!(out.trim(), "float32 (2, 2) True 3.25 True");
    }

    #[test]
    fn a_result_records_its_tiles_digest_and_numpy_still_reads_it() {
        let dir = slidescale_testutil::temp_dir("npy-tiles");
        let path = dir.join("r.npy");
        let digest = 0xfedc_ba98_7654_3210;
        write_result_npy(&path, &[3, 1, 1], &[0.25, 0.5, 1.0], Some(digest)).unwrap();
        let header = read_npy_header(&path).unwrap();
        assert_eq!(header.tiles_digest, Some(digest));
        assert_eq!(header.data_offset % 64, 0);
        assert_eq!(read_npy(&path).unwrap().1, vec![0.25, 0.5, 1.0]);
        let out = slidescale_testutil::run_python(
            "import numpy as np, sys; a = np.load(sys.argv[1]); print(a.shape, a[2, 0, 0])",
            &[path.to_str().unwrap()],
        );
        assert_eq!(out.trim(), "(3, 1, 1) 1.0");
        write_npy_f32(&path, &[1], &[1.0]).unwrap();
        assert_eq!(read_npy_header(&path).unwrap().tiles_digest, None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
