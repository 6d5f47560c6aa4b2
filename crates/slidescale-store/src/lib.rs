//! The patch store: one HDF5 file per slide holding its tissue tiles in
//! groups, the unit of work of every later stage (DESIGN §4, schema 2).
//!
//! ```text
//! /                      root attributes (StoreInfo)
//! /tissue_mask           u8 [grid_rows, grid_cols]
//! /thumbnail             u8 [h, w, 3]
//! /groups/000001/tiles   u8 [N, 448, 448, 3], chunk (1, 448, 448, 3)
//! /groups/000001/coords  i32 [N, 2] (col, row)
//! /groups/000001/tile_crc32  u32 [N], CRC-32 of each decoded tile
//! /groups/000001         attrs: n, first_patch_index, coords_crc32
//! ```
//!
//! [`StoreWriter`] writes `NAME.h5.partial` and renames it when complete;
//! tiles are compressed by [`encode_tile`] in the caller's threads and
//! stored with direct chunk writes. [`Store`] reads a whole group at once
//! and checks every tile's CRC-32 (and the coordinates') on every read;
//! [`Store::verify`] checks a whole store.

mod checksum;
mod compression;
mod groups;
mod info;
mod reader;
mod verify;
mod writer;

use std::path::{Path, PathBuf};

use hdf5_metno as hdf5;
use thiserror::Error;

pub use compression::{encode_tile, Compression, EncodedTile};
pub use groups::{group_size_for_memory, n_groups, parse_memory, DEFAULT_TASK_MEMORY};
pub use info::{StoreInfo, SCHEMA};
pub use reader::{is_complete, GroupData, Store};
pub use verify::{DamagedPart, StoreDamage, StoreVerification};
pub use writer::StoreWriter;

/// What can go wrong with a store; every variant names the file.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0}: no such store")]
    Missing(PathBuf),
    #[error("{path}: HDF5: {source}")]
    Hdf5 {
        path: PathBuf,
        #[source]
        source: hdf5::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid slidescale store: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{0}: another process is writing this store")]
    Busy(PathBuf),
    /// Data that does not match its checksum, or does not decode: the
    /// store is damaged (bad input, never worth a retry).
    #[error(
        "{path}: damaged store: {damage}; split the slide again (slidescale split SLIDE --force)"
    )]
    Corrupt { path: PathBuf, damage: StoreDamage },
    #[error("{path}: no group {group} (the store has {n_groups})")]
    NoSuchGroup {
        path: PathBuf,
        group: u32,
        n_groups: u32,
    },
}

/// The errno behind an HDF5 error, which the library's file driver only
/// gives as text in its error stack ("…, errno = 28, error message = 'No
/// space left on device', …").
fn os_errno(e: &hdf5::Error) -> Option<i32> {
    let text = e.to_string();
    let rest = &text[text.find("errno = ")? + "errno = ".len()..];
    let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    digits.parse().ok().filter(|&n| n > 0)
}

/// How every store file is opened. HDF5's own file locking is off: a store
/// is written once under a private `.partial` name and never modified after
/// its rename, so the lock protects nothing, while HDF5 takes it with
/// `flock` on a descriptor without close-on-exec — any child process forked
/// while a store is open inherits the lock, and opens elsewhere then fail
/// with EAGAIN until that child exits.
pub(crate) fn file_options() -> hdf5::FileBuilder {
    let mut b = hdf5::File::with_options();
    b.with_fapl(|p| p.file_locking(false));
    b
}

impl StoreError {
    /// An HDF5 failure; one whose cause is the operating system's (a full
    /// disk, an I/O error) becomes [`StoreError::Io`] with that errno, so it
    /// reads as one and is classified as one.
    pub(crate) fn hdf5(path: &Path, source: hdf5::Error) -> StoreError {
        match os_errno(&source) {
            Some(errno) => StoreError::io(path, std::io::Error::from_raw_os_error(errno)),
            None => StoreError::Hdf5 {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
