//! Grid, context-tile and window geometry (DESIGN §3).
//!
//! Grid cell (c, r) covers level-0 pixels x ∈ [224c, 224c+224),
//! y ∈ [224r, 224r+224). Its context tile starts 112 px up and left of the
//! cell and is 448×448; pixels outside the slide are white. Window (i, j) of a
//! tile, for stride s, starts at context coordinates (s/2 + j·s, s/2 + i·s).

use thiserror::Error;

/// Side of a target patch (grid cell) in level-0 pixels.
pub const TILE: u32 = 224;
/// Margin added on each side of a target patch to form its context tile.
pub const MARGIN: u32 = TILE / 2;
/// Side of a context tile: the target patch plus a margin on each side.
pub const CONTEXT: u32 = TILE + 2 * MARGIN;
/// Nominal downsample of the thumbnail used for tissue segmentation.
pub const THUMB_DOWNSAMPLE: u32 = 32;
/// Bytes of one RGB context tile.
pub const CONTEXT_TILE_BYTES: u64 = (CONTEXT as u64) * (CONTEXT as u64) * 3;

/// The grid of target cells laid over a slide's level-0 image. Edge cells that
/// are only partly inside the slide are part of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub cols: u32,
    pub rows: u32,
}

impl Grid {
    /// The grid covering a level-0 image of `width`×`height` pixels.
    pub fn for_slide(width: u64, height: u64) -> Grid {
        Grid {
            cols: width.div_ceil(TILE as u64) as u32,
            rows: height.div_ceil(TILE as u64) as u32,
        }
    }

    /// Level-0 origin of the context tile of cell (col, row); may be negative.
    pub fn context_origin(col: u32, row: u32) -> (i64, i64) {
        (
            col as i64 * TILE as i64 - MARGIN as i64,
            row as i64 * TILE as i64 - MARGIN as i64,
        )
    }

    pub fn n_cells(&self) -> u64 {
        self.cols as u64 * self.rows as u64
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "stride {0} does not divide {TILE}; use one of 1, 2, 4, 7, 8, 14, 16, 28, 32, 56, 112, 224"
)]
pub struct BadStride(pub u32);

/// A sliding-window stride that divides the tile size, so every tile yields a
/// square block of (224/s)² windows and blocks tile the heatmap exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stride(u32);

impl Stride {
    pub fn new(stride: u32) -> Result<Stride, BadStride> {
        if stride == 0 || !TILE.is_multiple_of(stride) {
            return Err(BadStride(stride));
        }
        Ok(Stride(stride))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// Windows per axis of one tile: 224 / s.
    pub fn windows_per_axis(self) -> u32 {
        TILE / self.0
    }

    /// Windows per tile: (224 / s)².
    pub fn windows_per_tile(self) -> u32 {
        self.windows_per_axis() * self.windows_per_axis()
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
        Stride::new(n).map_err(|e| e.to_string())
    }
}

impl std::fmt::Display for Stride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_keeps_partial_edge_cells() {
        assert_eq!(Grid::for_slide(2220, 2967), Grid { cols: 10, rows: 14 });
        assert_eq!(Grid::for_slide(224, 448), Grid { cols: 1, rows: 2 });
        assert_eq!(Grid::for_slide(225, 1), Grid { cols: 2, rows: 1 });
    }

    #[test]
    fn context_origin_is_centred_on_the_cell() {
        assert_eq!(Grid::context_origin(0, 0), (-112, -112));
        assert_eq!(Grid::context_origin(3, 2), (560, 336));
    }

    #[test]
    fn stride_224_is_the_target_patch() {
        let s = Stride::new(224).unwrap();
        assert_eq!(s.windows_per_axis(), 1);
        assert_eq!(s.window_offset(0), MARGIN);
    }

    #[test]
    fn stride_16_windows_cover_the_target_symmetrically() {
        let s = Stride::new(16).unwrap();
        assert_eq!(s.windows_per_axis(), 14);
        assert_eq!(s.window_offset(0), 8);
        assert_eq!(s.window_offset(13), 216);
        // the last window ends inside the context tile
        assert!(s.window_offset(13) + TILE <= CONTEXT);
    }

    #[test]
    fn strides_that_do_not_divide_224_are_refused() {
        assert_eq!(Stride::new(64), Err(BadStride(64)));
        assert!(Stride::new(0).is_err());
        assert!("abc".parse::<Stride>().is_err());
        assert_eq!("32".parse::<Stride>().unwrap().get(), 32);
    }
}
