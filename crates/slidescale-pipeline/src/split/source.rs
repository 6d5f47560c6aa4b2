//! What is known about a slide file before it is read: its size and
//! modification time, to tell whether an existing store still matches it.

use std::path::Path;
use std::time::UNIX_EPOCH;

use slidescale_store::StoreInfo;

/// Size and modification time of a slide file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceStamp {
    pub size: u64,
    /// Unix seconds, with the file system's sub-second precision.
    pub mtime: f64,
}

impl SourceStamp {
    pub fn of(path: &Path) -> std::io::Result<SourceStamp> {
        let meta = std::fs::metadata(path)?;
        let mtime = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Ok(SourceStamp {
            size: meta.len(),
            mtime,
        })
    }

    /// Whether a store was written from a file with this stamp.
    pub fn matches(&self, info: &StoreInfo) -> bool {
        info.source_size == self.size && info.source_mtime == self.mtime
    }
}
