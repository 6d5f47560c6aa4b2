//! Grid, context-tile and window geometry (DESIGN §3), in its general form:
//! window W (the model's input side), target T (a grid cell's side; T = W by
//! default), margin m = ⌊W/2⌋, context C = T + 2m. All of it is in pixels of
//! the analysis resolution ([`Analysis`]), which maps back to level 0 by one
//! factor. The paper's case is [`TileGeometry::PAPER`]: W = T = 224, C = 448,
//! level 0.
//!
//! Grid cell (c, r) covers analysis pixels x ∈ [Tc, Tc+T), y ∈ [Tr, Tr+T). Its
//! context tile starts m px up and left of the cell and is C×C; pixels outside
//! the slide are white. Window (i, j) of a tile, for stride s (s divides T),
//! starts at context coordinates (⌊s/2⌋ + j·s, ⌊s/2⌋ + i·s) and is W×W.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Nominal downsample of the thumbnail used for tissue segmentation.
pub const THUMB_DOWNSAMPLE: u32 = 32;

/// Smallest and largest model window slidescale scores with.
pub const MIN_WINDOW: u32 = 32;
pub const MAX_WINDOW: u32 = 1024;

/// Window and target sizes; everything else about a tile follows from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TileGeometry {
    /// W: side of the window the model scores (its input size).
    pub window: u32,
    /// T: side of a grid cell (target patch).
    pub tile: u32,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum GeometryError {
    #[error("window {0} px is outside {MIN_WINDOW}–{MAX_WINDOW}")]
    Window(u32),
    #[error("tile {0} px is outside 1–{MAX_WINDOW}")]
    Tile(u32),
}

impl TileGeometry {
    /// The paper's geometry: a 224-px window scoring 224-px cells.
    pub const PAPER: TileGeometry = TileGeometry {
        window: 224,
        tile: 224,
    };

    /// W×W windows on T×T cells (`tile: None`: T = W).
    pub fn new(window: u32, tile: Option<u32>) -> Result<TileGeometry, GeometryError> {
        if !(MIN_WINDOW..=MAX_WINDOW).contains(&window) {
            return Err(GeometryError::Window(window));
        }
        let tile = tile.unwrap_or(window);
        if !(1..=MAX_WINDOW).contains(&tile) {
            return Err(GeometryError::Tile(tile));
        }
        Ok(TileGeometry { window, tile })
    }

    /// m = ⌊W/2⌋: context added on each side of a cell.
    pub const fn margin(&self) -> u32 {
        self.window / 2
    }

    /// C = T + 2m: side of a context tile.
    pub const fn context(&self) -> u32 {
        self.tile + 2 * self.margin()
    }

    /// Bytes of one RGB context tile (C·C·3).
    pub const fn context_bytes(&self) -> u64 {
        let c = self.context() as u64;
        c * c * 3
    }

    /// Floats of one preprocessed window (3·W·W).
    pub const fn window_floats(&self) -> usize {
        3 * (self.window as usize).pow(2)
    }

    /// The grid covering an analysis image of `width`×`height` pixels. Edge
    /// cells only partly inside the slide are part of it.
    pub fn grid(&self, width: u64, height: u64) -> Grid {
        Grid {
            cols: width.div_ceil(self.tile as u64) as u32,
            rows: height.div_ceil(self.tile as u64) as u32,
        }
    }

    /// Analysis-pixel origin of the context tile of cell (col, row); may be
    /// negative.
    pub fn context_origin(&self, col: u32, row: u32) -> (i64, i64) {
        let (t, m) = (self.tile as i64, self.margin() as i64);
        (col as i64 * t - m, row as i64 * t - m)
    }

    /// `stride` if it divides T, so every tile yields a square block of
    /// (T/s)² windows and the blocks tile the heatmap exactly.
    pub fn check_stride(&self, stride: Stride) -> Result<Stride, BadStride> {
        if self.tile.is_multiple_of(stride.get()) {
            Ok(stride)
        } else {
            Err(BadStride {
                stride: stride.get(),
                tile: self.tile,
            })
        }
    }

    /// Windows per axis of one tile: T / s.
    pub fn windows_per_axis(&self, stride: Stride) -> u32 {
        self.tile / stride.get()
    }

    /// Windows per tile: (T / s)².
    pub fn windows_per_tile(&self, stride: Stride) -> u32 {
        self.windows_per_axis(stride).pow(2)
    }
}

impl std::fmt::Display for TileGeometry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "window {} px, tile {} px, context {} px",
            self.window,
            self.tile,
            self.context()
        )
    }
}

/// The grid of target cells laid over a slide's analysis image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub cols: u32,
    pub rows: u32,
}

impl Grid {
    pub fn n_cells(&self) -> u64 {
        self.cols as u64 * self.rows as u64
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("stride {stride} does not divide the tile size {tile}; use one of {}", divisors(*.tile))]
pub struct BadStride {
    pub stride: u32,
    pub tile: u32,
}

fn divisors(n: u32) -> String {
    let d: Vec<String> = (1..=n)
        .filter(|d| n.is_multiple_of(*d))
        .map(|d| d.to_string())
        .collect();
    d.join(", ")
}

/// A sliding-window stride in analysis pixels (≥ 1). Whether it divides the
/// tile size is the geometry's question ([`TileGeometry::check_stride`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stride(u32);

impl Stride {
    pub fn new(stride: u32) -> Result<Stride, String> {
        if stride == 0 || stride > MAX_WINDOW {
            return Err(format!("stride {stride} is outside 1–{MAX_WINDOW}"));
        }
        Ok(Stride(stride))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// Offset inside the context tile of the k-th window along an axis.
    pub fn window_offset(self, k: u32) -> u32 {
        self.0 / 2 + k * self.0
    }
}

impl std::str::FromStr for Stride {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: u32 = s.parse().map_err(|_| format!("not a number: {s}"))?;
        Stride::new(n)
    }
}

impl std::fmt::Display for Stride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The resolution a run asks to analyse slides at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// A pyramid level as it is stored (level 0, the default, is the
    /// paper's case).
    Level(u32),
    /// Micrometres per pixel; read from the closest level not coarser, then
    /// area-resampled when no level is within [`LEVEL_TOLERANCE`].
    Mpp(f64),
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution::Level(0)
    }
}

/// A pyramid level whose µm/px is within this fraction of the requested one
/// is read as it is, without resampling.
pub const LEVEL_TOLERANCE: f64 = 0.02;

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolution::Level(n) => write!(f, "level {n}"),
            Resolution::Mpp(m) => write!(f, "{m} µm/px"),
        }
    }
}

/// Where a slide's analysis pixels come from, resolved for one slide: read
/// `level`, then reduce by `resample` (level pixels per analysis pixel; 1.0:
/// read as is). Analysis pixel x is level-0 pixel x · [`Analysis::downsample`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub level: u32,
    /// The level's downsample (level-0 pixels per level pixel).
    pub level_downsample: f64,
    /// Level pixels per analysis pixel; exactly 1.0 when no resampling.
    pub resample: f64,
    /// µm per analysis pixel, when the slide's MPP is known.
    pub mpp: Option<f64>,
    /// Size of the analysis image (⌈level-0 size / downsample⌉).
    pub width: u64,
    pub height: u64,
}

impl Analysis {
    /// Level 0 as stored: the paper's case.
    pub fn level0(width: u64, height: u64, mpp: Option<f64>) -> Analysis {
        Analysis {
            level: 0,
            level_downsample: 1.0,
            resample: 1.0,
            mpp,
            width,
            height,
        }
    }

    /// Level-0 pixels per analysis pixel.
    pub fn downsample(&self) -> f64 {
        self.level_downsample * self.resample
    }

    pub fn is_level0(&self) -> bool {
        self.level == 0 && self.resample == 1.0 && self.level_downsample == 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: TileGeometry = TileGeometry::PAPER;

    #[test]
    fn paper_geometry() {
        assert_eq!(
            (P.margin(), P.context(), P.context_bytes()),
            (112, 448, 448 * 448 * 3)
        );
    }

    #[test]
    fn grid_keeps_partial_edge_cells() {
        assert_eq!(P.grid(2220, 2967), Grid { cols: 10, rows: 14 });
        assert_eq!(P.grid(224, 448), Grid { cols: 1, rows: 2 });
        assert_eq!(P.grid(225, 1), Grid { cols: 2, rows: 1 });
    }

    #[test]
    fn context_origin_is_centred_on_the_cell() {
        assert_eq!(P.context_origin(0, 0), (-112, -112));
        assert_eq!(P.context_origin(3, 2), (560, 336));
        let g = TileGeometry::new(299, None).unwrap();
        assert_eq!((g.margin(), g.context()), (149, 597));
        assert_eq!(g.context_origin(1, 0), (150, -149));
    }

    #[test]
    fn stride_equal_to_the_tile_is_the_target_patch() {
        let s = P.check_stride(Stride::new(224).unwrap()).unwrap();
        assert_eq!(P.windows_per_axis(s), 1);
        assert_eq!(s.window_offset(0), P.margin());
        let g = TileGeometry::new(96, None).unwrap();
        assert_eq!(Stride::new(96).unwrap().window_offset(0), g.margin());
    }

    #[test]
    fn stride_16_windows_cover_the_target_symmetrically() {
        let s = Stride::new(16).unwrap();
        assert_eq!(P.windows_per_axis(s), 14);
        assert_eq!(s.window_offset(0), 8);
        assert_eq!(s.window_offset(13), 216);
        // the last window ends inside the context tile
        assert!(s.window_offset(13) + P.window <= P.context());
    }

    #[test]
    fn strides_that_do_not_divide_the_tile_are_refused() {
        let e = P.check_stride(Stride::new(64).unwrap()).unwrap_err();
        assert_eq!(e.to_string(), "stride 64 does not divide the tile size 224; use one of 1, 2, 4, 7, 8, 14, 16, 28, 32, 56, 112, 224");
        let g = TileGeometry::new(256, None).unwrap();
        assert!(g.check_stride(Stride::new(64).unwrap()).is_ok());
        assert!(Stride::new(0).is_err());
        assert!("abc".parse::<Stride>().is_err());
        assert_eq!("32".parse::<Stride>().unwrap().get(), 32);
    }

    #[test]
    fn windows_outside_the_supported_range_are_refused() {
        assert_eq!(TileGeometry::new(31, None), Err(GeometryError::Window(31)));
        assert!(TileGeometry::new(1025, None).is_err());
        assert!(TileGeometry::new(1024, Some(512)).is_ok());
    }
}
