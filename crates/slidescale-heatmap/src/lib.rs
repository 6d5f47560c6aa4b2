//! Heatmap files, with memory bounded by one band of the heatmap rather than
//! the slide:
//!
//! * [`npy`]: NumPy `.npy` (format 1.0, little-endian float32, C order)
//!   reading, validation, and streaming writing through a temporary name;
//! * [`meta`]: the sidecar `NAME.json` that describes a heatmap (stride,
//!   slide size, MPP, model, settings), paired with its `.npy` by CRC-32;
//! * [`stitch`]: lays per-tile score blocks out on the slide grid, row by
//!   row, NaN for background cells;
//! * [`render`]: a colour-mapped PNG of a heatmap over the slide thumbnail;
//! * [`export`]: the heatmap as viewers open it (pyramidal TIFF probability
//!   map and overlay, QuPath GeoJSON tiles).

pub mod export;
pub mod meta;
pub mod npy;
pub mod render;
pub mod stitch;

pub use meta::{
    read_heatmap, read_heatmap_meta, write_heatmap_meta, HeatmapMeta, HeatmapReadError, ModelMeta,
    ScoringMeta, HEATMAP_META_VERSION,
};
pub use npy::{
    read_npy, read_npy_f32, read_npy_header, write_npy_f32, write_result_npy, NpyError, NpyHeader,
    NpyWriter,
};
pub use render::{render_overlay, ColourRange, RenderError};
pub use stitch::{HeatmapSummary, HeatmapWriteError, HeatmapWriter};
