//! Writing a store: `NAME.h5.partial` first, every group in order, then fsync
//! and rename, so a file named `NAME.h5` is always complete.

use std::path::{Path, PathBuf};

use hdf5_metno as hdf5;
use hdf5_sys::h5p::H5P_DEFAULT;
use slidescale_core::workdir::{commit_partial, group_label, partial_path};
use slidescale_core::{RgbImage, CONTEXT};

use crate::compression::EncodedTile;
use crate::info::{put_i64, StoreInfo};
use crate::StoreError;

/// A store being written. Dropping it without [`StoreWriter::finish`] leaves
/// only the `.partial` file behind, never the final name.
pub struct StoreWriter {
    file: hdf5::File,
    groups: hdf5::Group,
    path: PathBuf,
    partial: PathBuf,
    info: StoreInfo,
    next_group: u32,
}

impl StoreWriter {
    /// Start writing the store that will be called `path`: root attributes,
    /// `/thumbnail` and `/tissue_mask` go in now.
    pub fn create(
        path: &Path,
        info: &StoreInfo,
        thumbnail: &RgbImage,
        tissue_mask: &[u8],
    ) -> Result<StoreWriter, StoreError> {
        let partial = partial_path(path);
        let err = |e| StoreError::hdf5(&partial, e);
        let file = crate::file_options().create(&partial).map_err(err)?;
        info.write_attrs(&file).map_err(err)?;
        let (w, h) = (thumbnail.width as usize, thumbnail.height as usize);
        file.new_dataset::<u8>()
            .shape([h, w, 3])
            .create("thumbnail")
            .and_then(|d| d.write_raw(&thumbnail.data))
            .map_err(err)?;
        let (rows, cols) = (info.grid.rows as usize, info.grid.cols as usize);
        if tissue_mask.len() != rows * cols {
            return Err(StoreError::Invalid {
                path: partial,
                reason: format!(
                    "tissue mask has {} cells, grid {cols}×{rows}",
                    tissue_mask.len()
                ),
            });
        }
        file.new_dataset::<u8>()
            .shape([rows, cols])
            .create("tissue_mask")
            .and_then(|d| d.write_raw(tissue_mask))
            .map_err(err)?;
        let groups = file.create_group("groups").map_err(err)?;
        Ok(StoreWriter {
            file,
            groups,
            path: path.to_path_buf(),
            partial,
            info: info.clone(),
            next_group: 1,
        })
    }

    /// Start group `k` (groups are written in order, 1, 2, …) holding the
    /// tiles of `coords` (col, row), in that order.
    pub fn group(&mut self, k: u32, coords: &[(i32, i32)]) -> Result<GroupWriter<'_>, StoreError> {
        let expected = self.info.group_len(k);
        if k != self.next_group || coords.len() as u64 != expected {
            return Err(StoreError::Invalid {
                path: self.partial.clone(),
                reason: format!(
                    "group {k} with {} tiles written after group {}; expected group {} with {expected}",
                    coords.len(),
                    self.next_group - 1,
                    self.next_group
                ),
            });
        }
        let err = |e| StoreError::hdf5(&self.partial, e);
        let g = self.groups.create_group(&group_label(k)).map_err(err)?;
        put_i64(&g, "n", coords.len() as i64).map_err(err)?;
        put_i64(
            &g,
            "first_patch_index",
            self.info.first_patch_index(k) as i64,
        )
        .map_err(err)?;
        let flat: Vec<i32> = coords.iter().flat_map(|&(c, r)| [c, r]).collect();
        g.new_dataset::<i32>()
            .shape([coords.len(), 2])
            .create("coords")
            .and_then(|d| d.write_raw(&flat))
            .map_err(err)?;
        let side = CONTEXT as usize;
        let tiles = self
            .info
            .compression
            .configure(g.new_dataset::<u8>().shape([coords.len(), side, side, 3]))
            .chunk([1, side, side, 3])
            .create("tiles")
            .map_err(err)?;
        self.next_group += 1;
        Ok(GroupWriter {
            tiles,
            partial: &self.partial,
            n: coords.len(),
            next: 0,
        })
    }

    /// Close the file, fsync it and give it its final name. Returns its size.
    pub fn finish(self) -> Result<u64, StoreError> {
        if self.next_group != self.info.n_groups + 1 {
            return Err(StoreError::Invalid {
                path: self.partial.clone(),
                reason: format!(
                    "finished after {} of {} groups",
                    self.next_group - 1,
                    self.info.n_groups
                ),
            });
        }
        let StoreWriter {
            file,
            groups,
            path,
            partial,
            ..
        } = self;
        drop(groups);
        file.close().map_err(|e| StoreError::hdf5(&partial, e))?;
        commit_partial(&partial, &path).map_err(|e| StoreError::io(&path, e))?;
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|e| StoreError::io(&path, e))
    }
}

/// The tiles of one group, written in order with direct chunk writes.
pub struct GroupWriter<'a> {
    tiles: hdf5::Dataset,
    partial: &'a Path,
    n: usize,
    next: usize,
}

impl GroupWriter<'_> {
    /// Write the next tile's chunk, already encoded by
    /// [`crate::encode_tile`] with the store's compression.
    pub fn write(&mut self, tile: &EncodedTile) -> Result<(), StoreError> {
        if self.next >= self.n {
            return Err(StoreError::Invalid {
                path: self.partial.to_path_buf(),
                reason: format!("more than {} tiles written to a group", self.n),
            });
        }
        let offset: [u64; 4] = [self.next as u64, 0, 0, 0];
        let id = self.tiles.id();
        // SAFETY: `offset` has one entry per dataset dimension and `bytes` is
        // valid for its length; the HDF5 lock is held for the call.
        let status = hdf5::sync::sync(|| unsafe {
            hdf5_sys::h5d::H5Dwrite_chunk(
                id,
                H5P_DEFAULT,
                tile.filter_mask,
                offset.as_ptr(),
                tile.bytes.len(),
                tile.bytes.as_ptr().cast(),
            )
        });
        if status < 0 {
            return Err(StoreError::Invalid {
                path: self.partial.to_path_buf(),
                reason: format!("H5Dwrite_chunk failed for tile {}", self.next),
            });
        }
        self.next += 1;
        Ok(())
    }

    /// Check that every tile was written.
    pub fn finish(self) -> Result<(), StoreError> {
        if self.next != self.n {
            return Err(StoreError::Invalid {
                path: self.partial.to_path_buf(),
                reason: format!("group closed after {} of {} tiles", self.next, self.n),
            });
        }
        Ok(())
    }
}
