//! Files that slide viewers open, shared by every output that needs them
//! (heatmap exports, evaluation masks, lesion detections):
//!
//! * [`tiff`]: one tiled, pyramidal BigTIFF writer (u8 grey, f32 grey,
//!   RGB, RGBA), with resolution tags, laid out as OpenSlide's generic-tiff
//!   reader, tifffile and libvips read it;
//! * [`geojson`]: GeoJSON features the way QuPath writes and imports them.

pub mod geojson;
pub mod tiff;
