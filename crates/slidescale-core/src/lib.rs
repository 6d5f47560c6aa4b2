//! Conventions every slidescale stage shares, so that split, process, stitch
//! and the executors agree to the pixel:
//!
//! * [`geometry`]: the grid of T×T target cells, their context tiles, the
//!   W×W sliding windows inside them and the analysis resolution (DESIGN §3);
//! * [`image`]: the plain interleaved RGB buffer passed between crates;
//! * [`workdir`]: where a run keeps its state (DESIGN §2), and atomic writes;
//! * [`partial`]: partial files held by their writers, and removing left-overs;
//! * [`lookup`]: `WORK/lookup.tsv`, global group ids ↔ (slide, group);
//! * [`install`]: where slidescale's own run-time libraries are installed;
//! * [`timing`]: the JSON timing line every task writes.

pub mod geometry;
pub mod image;
pub mod install;
pub mod lookup;
pub mod partial;
pub mod timing;
pub mod workdir;

pub use geometry::{Analysis, Grid, Resolution, Stride, TileGeometry, THUMB_DOWNSAMPLE};
pub use image::RgbImage;
pub use workdir::WorkDir;

/// 64-bit FNV-1a hash of `bytes`: the content identity recorded for a
/// model file or a stain target, so results can be tied to what made them.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Process exit statuses shared by every command, so that a scheduler (or a
/// person) can tell a task worth retrying from one that will fail again.
pub mod exit {
    /// Success, or the result already existed and is valid.
    pub const OK: i32 = 0;
    /// Anything not classified below.
    pub const FAILURE: i32 = 1;
    /// Bad input (unreadable slide, wrong model, corrupt store): do not retry
    /// (sysexits' EX_DATAERR).
    pub const BAD_INPUT: i32 = 65;
    /// Transient (I/O error, out of memory, killed, disk full): worth
    /// retrying (sysexits' EX_TEMPFAIL).
    pub const TRANSIENT: i32 = 75;

    /// What a person is told when an error is a full disk.
    pub const DISK_FULL: &str =
        "disk full: free space (or raise the quota), then run again with --resume";

    /// Whether an I/O error is a full file system (ENOSPC) or an exceeded
    /// quota (EDQUOT): nothing wrong with the input, retrying once there is
    /// room will succeed.
    pub fn is_storage_full(err: &std::io::Error) -> bool {
        matches!(
            err.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        )
    }

    /// Whether `err` or any of its sources is an [`std::io::Error`] that
    /// [`is_storage_full`].
    pub fn storage_full(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(err);
        while let Some(e) = next {
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(is_storage_full)
            {
                return true;
            }
            next = e.source();
        }
        false
    }

    /// The one classification of an error's exit status: a full disk is
    /// [`TRANSIENT`] whatever the error, anything else is `otherwise` (the
    /// caller's judgement of its own error).
    pub fn classify(err: &(dyn std::error::Error + 'static), otherwise: i32) -> i32 {
        if storage_full(err) {
            TRANSIENT
        } else {
            otherwise
        }
    }
}

#[cfg(test)]
mod tests {
    use super::exit;

    #[derive(Debug, thiserror::Error)]
    #[error("writing {0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn a_full_disk_is_transient_through_any_error_chain() {
        let full = std::io::Error::from_raw_os_error(28);
        assert!(exit::is_storage_full(&full));
        assert!(exit::is_storage_full(&std::io::Error::from_raw_os_error(
            122
        )));
        let wrapped = Outer("x.npy", full);
        assert_eq!(exit::classify(&wrapped, exit::BAD_INPUT), exit::TRANSIENT);
        let denied = Outer("x.npy", std::io::Error::from_raw_os_error(13));
        assert_eq!(exit::classify(&denied, exit::BAD_INPUT), exit::BAD_INPUT);
        // /dev/full: the real ENOSPC of a write
        use std::io::Write;
        let err = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .and_then(|mut f| f.write_all(b"x").and_then(|_| f.sync_all()))
            .unwrap_err();
        assert!(exit::is_storage_full(&err), "{err}");
    }

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(super::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
