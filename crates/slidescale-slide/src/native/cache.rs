//! A bounded tile cache shared by every thread reading one slide.
//!
//! Context windows (448²) overlap their neighbours by half, so the same
//! decoded tile is wanted by up to ~9 reads; decoding it once is most of the
//! native driver's speed-up. The cache is split into shards, each behind its
//! own mutex, so threads reading different tiles rarely contend. Each entry is
//! a slot with its own lock: the first thread to want a tile decodes it while
//! later ones wait for that result instead of decoding it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A decoded tile: interleaved RGB, `tile_width * tile_height * 3` bytes.
pub type TileData = Arc<[u8]>;

/// (level, tile index in that level).
pub type TileKey = (usize, u64);

const SHARDS: usize = 32;

/// Default capacity: room for ~1300 256² tiles, several rows of tiles of even a
/// 100k-pixel-wide slide, which is what a row-major sweep of context windows
/// revisits.
pub const DEFAULT_CAPACITY_BYTES: usize = 256 << 20;

#[derive(Default)]
struct Slot {
    tile: Mutex<Option<TileData>>,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<TileKey, (Arc<Slot>, u64)>,
    bytes: usize,
    clock: u64,
}

pub struct TileCache {
    shards: Vec<Mutex<Shard>>,
    shard_capacity: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a cache lock leaves only a cache entry behind:
    // the data is still consistent, so keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl TileCache {
    pub fn new(capacity_bytes: usize) -> TileCache {
        TileCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_capacity: capacity_bytes / SHARDS,
        }
    }

    fn shard(&self, key: TileKey) -> &Mutex<Shard> {
        // Neighbouring tiles of a row go to different shards.
        let h = key
            .1
            .wrapping_add((key.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        &self.shards[(h % SHARDS as u64) as usize]
    }

    /// The tile `key`, decoded by `decode` if no thread has it yet. With
    /// `keep == false` a missing tile is decoded but not stored (big one-off
    /// reads such as a whole low level should not flush the working set).
    pub fn get_or_decode<E>(
        &self,
        key: TileKey,
        tile_bytes: usize,
        keep: bool,
        decode: impl FnOnce() -> Result<TileData, E>,
    ) -> Result<TileData, E> {
        let slot = {
            let mut shard = lock(self.shard(key));
            shard.clock += 1;
            let now = shard.clock;
            match shard.entries.get_mut(&key) {
                Some((slot, used)) => {
                    *used = now;
                    slot.clone()
                }
                None if !keep || tile_bytes > self.shard_capacity => return decode(),
                None => {
                    let slot = Arc::new(Slot::default());
                    shard.entries.insert(key, (slot.clone(), now));
                    shard.bytes += tile_bytes;
                    evict(&mut shard, self.shard_capacity, tile_bytes);
                    slot
                }
            }
        };
        let mut tile = lock(&slot.tile);
        if let Some(t) = tile.as_ref() {
            return Ok(t.clone());
        }
        // On error the slot stays empty and the next reader tries again.
        let t = decode()?;
        *tile = Some(t.clone());
        Ok(t)
    }

    /// Number of tiles held (for tests).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }
}

/// Drop least-recently-used entries until the shard fits. Shards hold tens of
/// entries, so a linear scan is cheaper than keeping an ordered list.
fn evict(shard: &mut Shard, capacity: usize, tile_bytes: usize) {
    while shard.bytes > capacity {
        let Some(oldest) = shard
            .entries
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(k, _)| *k)
        else {
            break;
        };
        shard.entries.remove(&oldest);
        shard.bytes -= tile_bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn tile(v: u8) -> Result<TileData, ()> {
        Ok(Arc::from(vec![v; 4]))
    }

    #[test]
    fn decodes_once_and_evicts_when_full() {
        let cache = TileCache::new(SHARDS * 8); // two 4-byte tiles per shard
        let calls = AtomicUsize::new(0);
        let get = |k: u64| {
            cache
                .get_or_decode((0, k), 4, true, || {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tile(k as u8)
                })
                .unwrap()
        };
        assert_eq!(get(1)[0], 1);
        assert_eq!(get(1)[0], 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Three keys in one shard: the least recently used one goes.
        let same_shard = [1, 1 + SHARDS as u64, 1 + 2 * SHARDS as u64];
        for k in same_shard {
            get(k);
        }
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn errors_are_not_cached_and_unkept_tiles_not_stored() {
        let cache = TileCache::new(1 << 20);
        let r: Result<TileData, &str> = cache.get_or_decode((0, 0), 4, true, || Err("bad"));
        assert!(r.is_err());
        assert_eq!(
            cache.get_or_decode((0, 0), 4, true, || tile(7)).unwrap()[0],
            7
        );
        cache.get_or_decode((1, 0), 4, false, || tile(8)).unwrap();
        assert_eq!(cache.len(), 1);
    }
}
