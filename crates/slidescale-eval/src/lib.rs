//! Evaluation of slidescale heatmaps the way the paper (Li, Mikailov & Chen,
//! IEEE TAI 2023, §IV-B) and the CAMELYON16 challenge do it:
//!
//! * [`annotations`]: pathologists' outlines in (ASAP XML, NCRF JSON,
//!   QuPath GeoJSON), as polygons in level-0 pixels;
//! * [`mask`]: CAMELYON16 evaluation masks (rasterised outlines minus
//!   exclusions, 75 µm growth, holes filled, 8-connected lesions, isolated
//!   tumour cells listed), written and read as pyramidal TIFF;
//! * [`detect`]: lesion detections from a heatmap, and their files (the
//!   challenge's CSV, GeoJSON, ASAP XML);
//! * [`froc`]: lesion-level FROC with per-lesion detail;
//! * [`regionprops`] and [`features`]: slide-level heatmap features;
//! * [`forest`] and [`roc`]: a random forest, ROC AUC and its confidence
//!   interval (DeLong, Mann–Whitney);
//! * [`heatmap`], [`labels`] and [`strides`]: heatmaps with their sidecars,
//!   `labels.csv`, and heatmaps downsampled to coarser strides;
//! * [`report`]: the stride trade-off tables (Markdown, CSV, JSON) and
//!   curves (PNG).
//!
//! Everything returns data, except [`report`], whose job is the report's
//! files; rendering on the terminal is the caller's.

pub mod annotations;
pub mod detect;
pub mod evaluate;
pub mod features;
pub mod forest;
pub mod froc;
/// GeoJSON features as QuPath writes them; shared with the heatmap exports.
pub use slidescale_viewer::geojson;
pub mod heatmap;
pub mod labels;
pub mod mask;
pub mod raster;
pub mod regionprops;
pub mod report;
pub mod roc;
pub mod strides;
