//! Heatmap files, with memory bounded by one band of the heatmap rather than
//! the slide:
//!
//! * [`npy`]: NumPy `.npy` (format 1.0, little-endian float32, C order)
//!   reading, validation, and streaming writing through a temporary name;
//! * [`stitch`]: lays per-tile score blocks out on the slide grid, row by
//!   row, NaN for background cells;
//! * [`render`]: a colour-mapped PNG of a heatmap over the slide thumbnail.

pub mod npy;
pub mod render;
pub mod stitch;

pub use npy::{
    read_npy, read_npy_f32, read_npy_header, write_npy_f32, write_result_npy, NpyError, NpyHeader,
    NpyWriter,
};
pub use render::{render_overlay, ColourRange, RenderError};
pub use stitch::{HeatmapSummary, HeatmapWriteError, HeatmapWriter};
