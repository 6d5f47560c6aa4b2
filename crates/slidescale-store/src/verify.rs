//! Checking a whole store against its checksums (`slidescale status
//! --verify`): every tile of every group, the coordinates, the thumbnail and
//! the tissue mask, listing everything damaged rather than stopping at the
//! first.

use std::os::unix::fs::FileExt;

use hdf5_metno as hdf5;

use crate::reader::Store;
use crate::{Compression, StoreError};

/// Which part of a store is damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamagedPart {
    /// Tile `tile` (0-based, within the group) of group `group` (1-based).
    Tile {
        group: u32,
        tile: usize,
    },
    /// Group `group`'s coordinates.
    Coords {
        group: u32,
    },
    Thumbnail,
    TissueMask,
}

/// One damaged part of a store and how it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDamage {
    pub part: DamagedPart,
    /// "CRC-32 …, stored …" or "does not decode (…)".
    pub reason: String,
}

impl std::fmt::Display for DamagedPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DamagedPart::Tile { group, tile } => write!(f, "group {group} tile {tile}"),
            DamagedPart::Coords { group } => write!(f, "group {group} coordinates"),
            DamagedPart::Thumbnail => f.write_str("thumbnail"),
            DamagedPart::TissueMask => f.write_str("tissue mask"),
        }
    }
}

impl std::fmt::Display for StoreDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.part, self.reason)
    }
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreVerification {
    /// Tiles checked (every tile of every group).
    pub tiles: u64,
    pub damage: Vec<StoreDamage>,
}

impl Store {
    /// Read and check every tile, every group's coordinates, the thumbnail
    /// and the tissue mask; one tile is read at a time. Damage is listed;
    /// an error that is not damage (a missing dataset) is returned.
    pub fn verify(&self) -> Result<StoreVerification, StoreError> {
        let mut found = StoreVerification::default();
        collect(&mut found.damage, self.thumbnail().map(drop))?;
        collect(&mut found.damage, self.tissue_mask().map(drop))?;
        for k in 1..=self.info().n_groups {
            let g = self.group_handle(k)?;
            collect(&mut found.damage, self.coords_of(k, &g).map(drop))?;
            let n = self.info().group_len(k) as usize;
            let crcs = self.tile_crcs(&g, 0..n)?;
            let tiles = g
                .dataset("tiles")
                .map_err(|e| StoreError::hdf5(self.path(), e))?;
            let headers = self.blosc_header_damage(k, &tiles)?;
            for (i, crc) in crcs.iter().enumerate() {
                let checked = self
                    .read_tile_bytes(k, &tiles, i..i + 1)
                    .and_then(|raw| self.check_tiles(k, i, &raw, std::slice::from_ref(crc)));
                let before = found.damage.len();
                collect(&mut found.damage, checked)?;
                if found.damage.len() == before {
                    let part = DamagedPart::Tile { group: k, tile: i };
                    found
                        .damage
                        .extend(headers.iter().filter(|d| d.part == part).cloned());
                }
                found.tiles += 1;
            }
        }
        Ok(found)
    }
}

impl Store {
    /// Fields of blosc chunk headers that the decoder ignores for our
    /// chunks (shuffle flags, typesize, compressed size), so a flipped bit
    /// there changes no decoded byte and no CRC; checked here so that
    /// `verify` still reports it. Tiles stored raw have no header.
    fn blosc_header_damage(
        &self,
        k: u32,
        tiles: &hdf5::Dataset,
    ) -> Result<Vec<StoreDamage>, StoreError> {
        if self.info().compression != Compression::BloscLz4 {
            return Ok(Vec::new());
        }
        let file = std::fs::File::open(self.path()).map_err(|e| StoreError::io(self.path(), e))?;
        let mut damage = Vec::new();
        for index in 0..tiles.num_chunks().unwrap_or(0) {
            let Some(c) = tiles.chunk_info(index) else {
                continue;
            };
            if c.filter_mask & 1 != 0 {
                continue;
            }
            let mut h = [0u8; 16];
            file.read_exact_at(&mut h, c.addr)
                .map_err(|e| StoreError::io(self.path(), e))?;
            let le =
                |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]) as u64;
            let ok = h[2] & 0x05 == 0
                && h[3] == 1
                && le(4) == self.info().geometry.context_bytes()
                && le(12) == c.size;
            if !ok {
                damage.push(StoreDamage {
                    part: DamagedPart::Tile {
                        group: k,
                        tile: c.offset[0] as usize,
                    },
                    reason: format!("blosc header {h:02x?} does not fit the chunk"),
                });
            }
        }
        Ok(damage)
    }
}

/// Note a `Corrupt` outcome as damage; pass any other error on.
fn collect(
    damage: &mut Vec<StoreDamage>,
    outcome: Result<(), StoreError>,
) -> Result<(), StoreError> {
    match outcome {
        Err(StoreError::Corrupt { damage: d, .. }) => {
            damage.push(d);
            Ok(())
        }
        other => other,
    }
}
