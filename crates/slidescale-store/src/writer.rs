//! Writing a store: `NAME.h5.<pid>.partial` first, every group in order, then
//! fsync and rename, so a file named `NAME.h5` is always complete.

use std::path::{Path, PathBuf};

use hdf5_metno as hdf5;
use hdf5_sys::h5p::H5P_DEFAULT;
use slidescale_core::partial::{commit_locked, create_locked_partial};
use slidescale_core::workdir::{group_label, unique_partial_path};
use slidescale_core::RgbImage;

use crate::checksum::{coords_crc32, crc32};
use crate::compression::EncodedTile;
use crate::info::{put_i64, StoreInfo};
use crate::StoreError;

/// A store being written. Dropping it without [`StoreWriter::finish`] removes
/// the `.partial` file; a killed process leaves it, never the final name.
pub struct StoreWriter {
    file: hdf5::File,
    /// Held until the file has its final name: a second writer of the same
    /// store fails instead of truncating this one's file under it.
    lock: PartialLock,
    /// The `tiles` dataset of every group, in order.
    groups: Vec<hdf5::Dataset>,
    /// The `tile_crc32` dataset of every group, filled by `finish`.
    tile_crcs: Vec<hdf5::Dataset>,
    /// CRC-32 of every tile written so far, in storage order.
    crcs: Vec<u32>,
    path: PathBuf,
    partial: PathBuf,
    info: StoreInfo,
    /// Tiles written so far, over the whole slide.
    written: u64,
}

impl StoreWriter {
    /// Start writing the store that will be called `path`: root attributes,
    /// `/thumbnail`, `/tissue_mask` and every group with its coordinates go
    /// in now; `coords` lists the tiles' (col, row) cells in storage order and
    /// must hold `info.n_patches` entries. Tiles follow with
    /// [`StoreWriter::write_tile`].
    pub fn create(
        path: &Path,
        info: &StoreInfo,
        thumbnail: &RgbImage,
        tissue_mask: &[u8],
        coords: &[(i32, i32)],
    ) -> Result<StoreWriter, StoreError> {
        let partial = unique_partial_path(path);
        let invalid = |reason: String| StoreError::Invalid {
            path: partial.clone(),
            reason,
        };
        let (rows, cols) = (info.grid.rows as usize, info.grid.cols as usize);
        if tissue_mask.len() != rows * cols {
            return Err(invalid(format!(
                "tissue mask has {} cells, grid {cols}×{rows}",
                tissue_mask.len()
            )));
        }
        if coords.len() as u64 != info.n_patches
            || info.n_groups != crate::n_groups(info.n_patches, info.group_size)
        {
            return Err(invalid(format!(
                "{} coordinates for {} patches in {} groups of {}",
                coords.len(),
                info.n_patches,
                info.n_groups,
                info.group_size
            )));
        }
        let lock = PartialLock::acquire(&partial)?;
        let err = |e| StoreError::hdf5(&partial, e);
        let file = crate::file_options().create(&partial).map_err(err)?;
        info.write_attrs(&file).map_err(err)?;
        let (w, h) = (thumbnail.width as usize, thumbnail.height as usize);
        file.new_dataset::<u8>()
            .shape([h, w, 3])
            .create("thumbnail")
            .and_then(|d| d.write_raw(&thumbnail.data))
            .map_err(err)?;
        file.new_dataset::<u8>()
            .shape([rows, cols])
            .create("tissue_mask")
            .and_then(|d| d.write_raw(tissue_mask))
            .map_err(err)?;
        put_i64(&file, "thumbnail_crc32", crc32(&thumbnail.data).into()).map_err(err)?;
        put_i64(&file, "tissue_mask_crc32", crc32(tissue_mask).into()).map_err(err)?;
        let parent = file.create_group("groups").map_err(err)?;
        let (groups, tile_crcs) = (1..=info.n_groups)
            .map(|k| {
                let first = info.first_patch_index(k) as usize;
                let n = info.group_len(k) as usize;
                create_group(&parent, info, k, &coords[first..first + n])
            })
            .collect::<hdf5::Result<(Vec<_>, Vec<_>)>>()
            .map_err(err)?;
        Ok(StoreWriter {
            file,
            lock,
            groups,
            tile_crcs,
            crcs: Vec::with_capacity(info.n_patches as usize),
            path: path.to_path_buf(),
            partial,
            info: info.clone(),
            written: 0,
        })
    }

    /// Write the next tile (storage order), already encoded by
    /// [`crate::encode_tile`] with the store's compression.
    pub fn write_tile(&mut self, tile: &EncodedTile) -> Result<(), StoreError> {
        if self.written >= self.info.n_patches {
            return Err(StoreError::Invalid {
                path: self.partial.clone(),
                reason: format!("more than {} tiles written", self.info.n_patches),
            });
        }
        let size = self.info.group_size as u64;
        let dataset = &self.groups[(self.written / size) as usize];
        let offset: [u64; 4] = [self.written % size, 0, 0, 0];
        let id = dataset.id();
        // SAFETY: `offset` has one entry per dataset dimension and `bytes` is
        // valid for its length; the HDF5 lock is held for the call.
        let written = hdf5::sync::sync(|| {
            let status = unsafe {
                hdf5_sys::h5d::H5Dwrite_chunk(
                    id,
                    H5P_DEFAULT,
                    tile.filter_mask,
                    offset.as_ptr(),
                    tile.bytes.len(),
                    tile.bytes.as_ptr().cast(),
                )
            };
            // The library's error stack says why (a full disk shows there as
            // the file driver's errno); read it before the next call clears it.
            if status < 0 {
                Err(hdf5::Error::query().unwrap_or_else(|e| e))
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            return Err(StoreError::hdf5(&self.partial, e));
        }
        self.crcs.push(tile.crc32);
        self.written += 1;
        Ok(())
    }

    /// Tiles written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Close the file, fsync it and give it its final name. Returns its size.
    pub fn finish(self) -> Result<u64, StoreError> {
        if self.written != self.info.n_patches {
            return Err(StoreError::Invalid {
                path: self.partial.clone(),
                reason: format!(
                    "finished after {} of {} tiles",
                    self.written, self.info.n_patches
                ),
            });
        }
        self.write_tile_crcs()?;
        let StoreWriter {
            file,
            mut lock,
            groups,
            tile_crcs,
            path,
            partial,
            ..
        } = self;
        drop((groups, tile_crcs));
        file.close().map_err(|e| StoreError::hdf5(&partial, e))?;
        // Still holding the lock: the sweep of a concurrent run sees a live
        // writer, and the rename publishes this writer's own file only.
        commit_locked(&lock.file, &partial, &path).map_err(|e| StoreError::io(&path, e))?;
        lock.committed = true;
        std::fs::metadata(&path)
            .map(|m| m.len())
            .map_err(|e| StoreError::io(&path, e))
    }
}

impl StoreWriter {
    /// Every group's `tile_crc32`, once all tiles are written.
    fn write_tile_crcs(&self) -> Result<(), StoreError> {
        for (k, dataset) in (1..=self.info.n_groups).zip(&self.tile_crcs) {
            let first = self.info.first_patch_index(k) as usize;
            let n = self.info.group_len(k) as usize;
            dataset
                .write_raw(&self.crcs[first..first + n])
                .map_err(|e| StoreError::hdf5(&self.partial, e))?;
        }
        Ok(())
    }
}

/// `/groups/NNNNNN` with its attributes and coordinates (and their
/// CRC-32), its empty `tiles` dataset (chunks are allocated as tiles are
/// written) and its `tile_crc32` dataset (written by `finish`).
fn create_group(
    parent: &hdf5::Group,
    info: &StoreInfo,
    k: u32,
    coords: &[(i32, i32)],
) -> hdf5::Result<(hdf5::Dataset, hdf5::Dataset)> {
    let g = parent.create_group(&group_label(k))?;
    put_i64(&g, "n", coords.len() as i64)?;
    put_i64(&g, "first_patch_index", info.first_patch_index(k) as i64)?;
    put_i64(&g, "coords_crc32", coords_crc32(coords).into())?;
    let tile_crcs = g
        .new_dataset::<u32>()
        .shape([coords.len()])
        .create("tile_crc32")?;
    let flat: Vec<i32> = coords.iter().flat_map(|&(c, r)| [c, r]).collect();
    g.new_dataset::<i32>()
        .shape([coords.len(), 2])
        .create("coords")?
        .write_raw(&flat)?;
    let side = info.geometry.context() as usize;
    let tiles = info
        .compression
        .configure(g.new_dataset::<u8>().shape([coords.len(), side, side, 3]))
        .chunk([1, side, side, 3])
        .create("tiles")?;
    Ok((tiles, tile_crcs))
}

/// An exclusive `flock` on this writer's `NAME.h5.<pid>.partial`, taken
/// before HDF5 truncates the file and held until after the rename, so no
/// other writer or sweep ever touches it (`slidescale_core::partial`).
/// Dropped before the rename, it deletes the partial file (still holding the
/// lock, so it never deletes another writer's).
struct PartialLock {
    file: std::fs::File,
    path: PathBuf,
    committed: bool,
}

impl Drop for PartialLock {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
        let _ = &self.file; // the lock goes with the descriptor
    }
}

impl PartialLock {
    fn acquire(partial: &Path) -> Result<PartialLock, StoreError> {
        let file = create_locked_partial(partial).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => StoreError::Busy(partial.to_path_buf()),
            _ => StoreError::io(partial, e),
        })?;
        Ok(PartialLock {
            file,
            path: partial.to_path_buf(),
            committed: false,
        })
    }
}
