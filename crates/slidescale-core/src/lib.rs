//! Conventions every slidescale stage shares, so that split, process, stitch
//! and the executors agree to the pixel:
//!
//! * [`geometry`]: the grid of 224×224 target cells, their 448×448 context
//!   tiles and the sliding windows inside them (DESIGN §3);
//! * [`image`]: the plain interleaved RGB buffer passed between crates;
//! * [`workdir`]: where a run keeps its state (DESIGN §2), and atomic writes;
//! * [`partial`]: partial files held by their writers, and removing left-overs;
//! * [`lookup`]: `WORK/lookup.tsv`, global group ids ↔ (slide, group);
//! * [`timing`]: the JSON timing line every task writes.

pub mod geometry;
pub mod image;
pub mod lookup;
pub mod partial;
pub mod timing;
pub mod workdir;

pub use geometry::{Grid, Stride, CONTEXT, MARGIN, THUMB_DOWNSAMPLE, TILE};
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
    /// Transient (I/O error, out of memory, killed): worth retrying
    /// (sysexits' EX_TEMPFAIL).
    pub const TRANSIENT: i32 = 75;
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        assert_eq!(super::fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
