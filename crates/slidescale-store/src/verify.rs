//! Checking a whole store against its checksums (`slidescale status
//! --verify`): every tile of every group, the coordinates, the thumbnail and
//! the tissue mask, listing everything damaged rather than stopping at the
//! first.

use crate::reader::Store;
use crate::StoreError;

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
            for (i, crc) in crcs.iter().enumerate() {
                let checked = self
                    .read_tile_bytes(k, &tiles, i..i + 1)
                    .and_then(|raw| self.check_tiles(k, i, &raw, std::slice::from_ref(crc)));
                collect(&mut found.damage, checked)?;
                found.tiles += 1;
            }
        }
        Ok(found)
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
