//! Reading a store: its attributes, one whole group at a time, the thumbnail
//! and the tissue mask, and a consistency check. Every read that returns
//! tiles, coordinates, the thumbnail or the mask checks them against their
//! stored CRC-32 first: damaged data is a [`StoreError::Corrupt`], never
//! returned.

use std::path::{Path, PathBuf};

use hdf5_metno as hdf5;
use slidescale_core::workdir::group_label;
use slidescale_core::RgbImage;

use crate::checksum::{coords_crc32, crc32};
use crate::info::{AttrReader, StoreInfo};
use crate::verify::{DamagedPart, StoreDamage};
use crate::StoreError;

/// One group's tiles and where they belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupData {
    /// `[N, 448, 448, 3]` row-major RGB.
    pub tiles: Vec<u8>,
    /// (col, row) grid cell of each tile.
    pub coords: Vec<(i32, i32)>,
    /// Index over the whole slide of the group's first tile.
    pub first_patch_index: u64,
}

impl GroupData {
    pub fn len(&self) -> usize {
        self.coords.len()
    }
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }
}

/// An open, read-only store.
pub struct Store {
    file: hdf5::File,
    path: PathBuf,
    info: StoreInfo,
}

impl Store {
    /// Open `path` and read its root attributes. Any HDF5 file that is not a
    /// schema-2 or -3 slidescale store is refused with a reason.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let file = crate::file_options()
            .open(path)
            .map_err(|e| StoreError::hdf5(path, e))?;
        let info = StoreInfo::read_attrs(&file, path)?;
        Ok(Store {
            file,
            path: path.to_path_buf(),
            info,
        })
    }

    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: hdf5::Error) -> StoreError {
        StoreError::hdf5(&self.path, e)
    }

    pub(crate) fn corrupt(&self, part: DamagedPart, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            damage: StoreDamage { part, reason },
        }
    }

    pub(crate) fn group_handle(&self, k: u32) -> Result<hdf5::Group, StoreError> {
        if k == 0 || k > self.info.n_groups {
            return Err(StoreError::NoSuchGroup {
                path: self.path.clone(),
                group: k,
                n_groups: self.info.n_groups,
            });
        }
        self.file
            .group(&format!("groups/{}", group_label(k)))
            .map_err(|e| self.err(e))
    }

    /// Group `k`'s (1-based) coordinates only: cheap, no tile is read.
    pub fn group_coords(&self, k: u32) -> Result<Vec<(i32, i32)>, StoreError> {
        self.coords_of(k, &self.group_handle(k)?)
    }

    /// Group `k`'s coordinates, checked against its `coords_crc32`.
    pub(crate) fn coords_of(&self, k: u32, g: &hdf5::Group) -> Result<Vec<(i32, i32)>, StoreError> {
        let flat = g
            .dataset("coords")
            .and_then(|d| d.read_raw::<i32>())
            .map_err(|e| self.err(e))?;
        let coords: Vec<(i32, i32)> = flat.chunks_exact(2).map(|p| (p[0], p[1])).collect();
        let stored = AttrReader {
            loc: g,
            path: &self.path,
        }
        .u32("coords_crc32")?;
        let actual = coords_crc32(&coords);
        if actual != stored || flat.len() % 2 != 0 {
            return Err(self.corrupt(DamagedPart::Coords { group: k }, mismatch(actual, stored)));
        }
        Ok(coords)
    }

    /// The stored CRC-32 of tiles `range` of group `g`.
    pub(crate) fn tile_crcs(
        &self,
        g: &hdf5::Group,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<u32>, StoreError> {
        let crcs = g
            .dataset("tile_crc32")
            .and_then(|d| d.read_slice_1d::<u32, _>(range.clone()))
            .map_err(|e| self.err(e))?;
        Ok(crcs.to_vec())
    }

    /// The digest of group `k`'s stored checksums: FNV-1a 64 over its
    /// `tile_crc32` values (little-endian) and then its `coords_crc32`. A
    /// result records the digest of the group it was computed from; a store
    /// split again from the same slide has the same digests, a changed slide
    /// other ones. Reads only the checksums, never a tile.
    pub fn group_digest(&self, k: u32) -> Result<u64, StoreError> {
        let g = self.group_handle(k)?;
        let crcs = g
            .dataset("tile_crc32")
            .and_then(|d| d.read_raw::<u32>())
            .map_err(|e| self.err(e))?;
        let coords = AttrReader {
            loc: &g,
            path: &self.path,
        }
        .u32("coords_crc32")?;
        let bytes: Vec<u8> = crcs
            .iter()
            .chain(std::iter::once(&coords))
            .flat_map(|c| c.to_le_bytes())
            .collect();
        Ok(slidescale_core::fnv1a64(&bytes))
    }

    /// Tiles `range` of group `k` as stored, not yet checked. A chunk that
    /// does not decode is located and reported as that tile's damage.
    pub(crate) fn read_tile_bytes(
        &self,
        k: u32,
        tiles: &hdf5::Dataset,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<u8>, StoreError> {
        let read = |r: std::ops::Range<usize>| {
            tiles
                .read_slice::<u8, _, ndarray::IxDyn>((r, .., .., ..))
                .map(|a| a.into_raw_vec_and_offset().0)
        };
        let raw = match read(range.clone()) {
            Ok(raw) => raw,
            Err(e) => {
                let bad = range
                    .clone()
                    .find_map(|i| read(i..i + 1).err().map(|e| (i, e)));
                return Err(match bad {
                    Some((tile, e)) => self.corrupt(
                        DamagedPart::Tile { group: k, tile },
                        format!("does not decode ({e})"),
                    ),
                    None => self.err(e),
                });
            }
        };
        let tile_bytes = self.info.geometry.context_bytes() as usize;
        if raw.len() != range.len() * tile_bytes {
            return Err(StoreError::Invalid {
                path: self.path.clone(),
                reason: format!(
                    "group {k}: tiles {range:?} came back as {} bytes",
                    raw.len()
                ),
            });
        }
        Ok(raw)
    }

    /// Check tiles (`first`, `first + 1`, … of group `k`) against `crcs`.
    pub(crate) fn check_tiles(
        &self,
        k: u32,
        first: usize,
        raw: &[u8],
        crcs: &[u32],
    ) -> Result<(), StoreError> {
        let tile_bytes = self.info.geometry.context_bytes() as usize;
        for (i, (tile, &stored)) in raw.chunks_exact(tile_bytes).zip(crcs).enumerate() {
            let actual = crc32(tile);
            if actual != stored {
                return Err(self.corrupt(
                    DamagedPart::Tile {
                        group: k,
                        tile: first + i,
                    },
                    mismatch(actual, stored),
                ));
            }
        }
        Ok(())
    }

    /// Tiles `range` of group `k`, each checked against its CRC-32.
    fn read_checked(
        &self,
        k: u32,
        g: &hdf5::Group,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<u8>, StoreError> {
        let crcs = self.tile_crcs(g, range.clone())?;
        let tiles = g.dataset("tiles").map_err(|e| self.err(e))?;
        let raw = self.read_tile_bytes(k, &tiles, range.clone())?;
        self.check_tiles(k, range.start, &raw, &crcs)?;
        Ok(raw)
    }

    /// Check a root dataset's bytes against the root attribute `attr`.
    fn check_root(&self, part: DamagedPart, attr: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let stored = AttrReader {
            loc: &self.file,
            path: &self.path,
        }
        .u32(attr)?;
        let actual = crc32(bytes);
        if actual != stored {
            return Err(self.corrupt(part, mismatch(actual, stored)));
        }
        Ok(())
    }

    /// Group `k` (1-based), all its tiles read at once.
    pub fn read_group(&self, k: u32) -> Result<GroupData, StoreError> {
        let g = self.group_handle(k)?;
        let coords = self.coords_of(k, &g)?;
        let tiles = self.read_checked(k, &g, 0..coords.len())?;
        Ok(GroupData {
            tiles,
            coords,
            first_patch_index: self.info.first_patch_index(k),
        })
    }

    /// Tiles `range` (indices within group `k`, 0-based) of group `k`, as
    /// `[range.len(), 448, 448, 3]` bytes, each tile checked against its
    /// CRC-32: lets a task read its group in pieces while earlier pieces are
    /// being scored.
    pub fn read_tiles(&self, k: u32, range: std::ops::Range<usize>) -> Result<Vec<u8>, StoreError> {
        let n = self.info.group_len(k) as usize;
        if range.start > range.end || range.end > n {
            return Err(StoreError::Invalid {
                path: self.path.clone(),
                reason: format!("group {k} has {n} tiles, not {range:?}"),
            });
        }
        if range.is_empty() {
            return Ok(Vec::new());
        }
        self.read_checked(k, &self.group_handle(k)?, range)
    }

    /// The ≈1/32 thumbnail tissue was segmented on.
    pub fn thumbnail(&self) -> Result<RgbImage, StoreError> {
        let d = self.file.dataset("thumbnail").map_err(|e| self.err(e))?;
        let shape = d.shape();
        if shape.len() != 3 || shape[2] != 3 {
            return Err(StoreError::Invalid {
                path: self.path.clone(),
                reason: format!("thumbnail has shape {shape:?}"),
            });
        }
        let data = d.read_raw::<u8>().map_err(|e| self.err(e))?;
        self.check_root(DamagedPart::Thumbnail, "thumbnail_crc32", &data)?;
        Ok(RgbImage::from_raw(shape[1] as u32, shape[0] as u32, data))
    }

    /// Row-major `[grid_rows, grid_cols]`, 1 = tissue.
    pub fn tissue_mask(&self) -> Result<Vec<u8>, StoreError> {
        let mask = self
            .file
            .dataset("tissue_mask")
            .and_then(|d| d.read_raw::<u8>())
            .map_err(|e| self.err(e))?;
        self.check_root(DamagedPart::TissueMask, "tissue_mask_crc32", &mask)?;
        Ok(mask)
    }

    /// Check the structure against the attributes: every group present with
    /// the right number of tiles, tile checksums and coordinates, chunked one
    /// tile per chunk, no tile outside the grid, the mask the size of the
    /// grid, the coordinates and mask matching their checksums. Reads no
    /// tile: [`Store::verify`] does.
    pub fn validate(&self) -> Result<(), StoreError> {
        let info = &self.info;
        let bad = |reason: String| StoreError::Invalid {
            path: self.path.clone(),
            reason,
        };
        if self.tissue_mask()?.len() as u64 != info.grid.n_cells() {
            return Err(bad("tissue mask does not match the grid".into()));
        }
        let present = self
            .file
            .group("groups")
            .and_then(|g| g.member_names())
            .map_err(|e| self.err(e))?;
        if present.len() != info.n_groups as usize {
            return Err(bad(format!(
                "{} groups, attributes say {}",
                present.len(),
                info.n_groups
            )));
        }
        let side = info.geometry.context() as usize;
        for k in 1..=info.n_groups {
            let g = self.group_handle(k)?;
            let n = info.group_len(k) as usize;
            let r = AttrReader {
                loc: &g,
                path: &self.path,
            };
            if r.i64("n")? as usize != n {
                return Err(bad(format!("group {k}: attribute n is not {n}")));
            }
            let tiles = g.dataset("tiles").map_err(|e| self.err(e))?;
            if tiles.shape() != [n, side, side, 3] || tiles.chunk() != Some(vec![1, side, side, 3])
            {
                return Err(bad(format!("group {k}: tiles shape {:?}", tiles.shape())));
            }
            let crcs = g.dataset("tile_crc32").map_err(|e| self.err(e))?;
            if crcs.shape() != [n] {
                return Err(bad(format!(
                    "group {k}: tile_crc32 shape {:?}",
                    crcs.shape()
                )));
            }
            let coords = self.coords_of(k, &g)?;
            let outside = coords.iter().any(|&(c, r)| {
                c < 0 || r < 0 || c as u32 >= info.grid.cols || r as u32 >= info.grid.rows
            });
            if coords.len() != n || outside {
                return Err(bad(format!("group {k}: coordinates do not fit the grid")));
            }
        }
        Ok(())
    }
}

fn mismatch(actual: u32, stored: u32) -> String {
    format!("CRC-32 {actual:08x}, stored {stored:08x}")
}

/// Whether `path` is a complete, consistent store.
pub fn is_complete(path: &Path) -> bool {
    Store::open(path).and_then(|s| s.validate()).is_ok()
}
