//! Whole-slide image reading behind one interface, [`Slide`], with one small
//! driver per way of reading:
//!
//! * [`openslide`]: a thin hand-written FFI to OpenSlide (3.4 or 4, loaded
//!   at run time: [`openslide::library`]), for every format it supports. Its pixels equal
//!   openslide-python's `read_region` composited onto white by the Python
//!   baseline, bit for bit ([`composite`]).
//! * [`native`]: a pure-Rust reader for tiled TIFF (JPEG, also deflate or
//!   uncompressed; classic or BigTIFF) and Aperio SVS (JPEG) with a shared
//!   tile cache, ~6-7x faster than OpenSlide on 448² context reads. JPEG
//!   pixels agree with OpenSlide's within a few grey levels (see
//!   `tests/native_parity.rs` for the measured tolerances). Corrupt tile data
//!   (bad JPEG entropy-coded data, offsets past the end of the file, a wrong
//!   frame size) is a read error naming the tile, never pixels.
//!
//! [`open`] picks a driver; `ReaderKind::Auto` prefers the native one when the
//! file qualifies and falls back to OpenSlide otherwise.
//!
//! Geometry: `read_region` takes a level-0 origin, as OpenSlide does. Pixels
//! outside the slide are white.

pub mod analysis;
pub mod composite;
pub mod native;
pub mod openslide;
pub mod reduce;

use std::path::{Path, PathBuf};

use slidescale_core::RgbImage;
use thiserror::Error;

pub use crate::analysis::{read_analysis_region, resolve};
pub use crate::native::NativeSlide;
pub use crate::openslide::OpenSlide;

/// One pyramid level.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub width: u64,
    pub height: u64,
    /// Level-0 pixels per pixel of this level.
    pub downsample: f64,
}

/// What a slide says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideProperties {
    /// Level 0 first.
    pub levels: Vec<Level>,
    pub mpp_x: Option<f64>,
    pub mpp_y: Option<f64>,
    /// The format as OpenSlide names it: "aperio", "generic-tiff", …
    pub vendor: String,
}

impl SlideProperties {
    pub fn width(&self) -> u64 {
        self.levels[0].width
    }
    pub fn height(&self) -> u64 {
        self.levels[0].height
    }

    /// The level to read for a target downsample: the most downsampled level
    /// whose downsample does not exceed it (OpenSlide's
    /// `get_best_level_for_downsample`).
    pub fn best_level_for_downsample(&self, downsample: f64) -> usize {
        let mut best = 0;
        for (i, level) in self.levels.iter().enumerate() {
            if level.downsample <= downsample + 1e-9 {
                best = i;
            }
        }
        best
    }
}

/// Which driver reads a slide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReaderKind {
    /// Native when the file qualifies, else OpenSlide.
    #[default]
    Auto,
    OpenSlide,
    Native,
}

impl std::str::FromStr for ReaderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ReaderKind::Auto),
            "openslide" => Ok(ReaderKind::OpenSlide),
            "native" => Ok(ReaderKind::Native),
            other => Err(format!(
                "unknown reader {other:?} (expected auto, openslide or native)"
            )),
        }
    }
}

impl std::fmt::Display for ReaderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReaderKind::Auto => "auto",
            ReaderKind::OpenSlide => "openslide",
            ReaderKind::Native => "native",
        })
    }
}

#[derive(Debug, Error)]
pub enum SlideError {
    #[error("{path}: cannot open: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path}: cannot read region at ({x}, {y}) level {level}: {reason}")]
    Read {
        path: PathBuf,
        x: i64,
        y: i64,
        level: usize,
        reason: String,
    },
    #[error("{path}: not supported by the native reader: {reason}")]
    NotNative { path: PathBuf, reason: String },
    /// The OpenSlide library cannot be used (missing, not loadable, lacking
    /// a function): `path` is the library, not a slide.
    #[error("OpenSlide library {path}: {reason}")]
    Library { path: PathBuf, reason: String },
}

/// A whole-slide image open for reading. Implementations are safe to share
/// between threads.
pub trait Slide: Send + Sync {
    fn properties(&self) -> &SlideProperties;

    /// The driver's name, for logs: "openslide" or "native".
    fn driver(&self) -> &'static str;

    /// Read a `width`×`height` RGB region of `level` whose top-left corner is
    /// at level-0 coordinates (`x`, `y`) (may be negative). Pixels outside the
    /// slide are white; transparent pixels are composited onto white.
    fn read_region(
        &self,
        x: i64,
        y: i64,
        level: usize,
        width: u32,
        height: u32,
    ) -> Result<RgbImage, SlideError>;
}

/// Open `path` with the driver `kind` asks for.
///
/// `Auto` tries the native driver and falls back to OpenSlide for anything the
/// native driver declines (`NotNative`) or cannot open; the error reported
/// then is OpenSlide's, which knows every format.
pub fn open(path: &Path, kind: ReaderKind) -> Result<Box<dyn Slide>, SlideError> {
    match kind {
        ReaderKind::OpenSlide => Ok(Box::new(OpenSlide::open(path)?)),
        ReaderKind::Native => Ok(Box::new(NativeSlide::open(path)?)),
        ReaderKind::Auto => match NativeSlide::open(path) {
            Ok(slide) => Ok(Box::new(slide)),
            Err(_) => Ok(Box::new(OpenSlide::open(path)?)),
        },
    }
}
