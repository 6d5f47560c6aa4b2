//! Tissue segmentation of whole-slide images (DESIGN §3): which grid cells hold tissue and are worth scoring.
//!
//! 1. [`read_thumbnail`]: the slide at exactly 1/32 scale (best pyramid level,
//!    then an area average), ⌈W/32⌉×⌈H/32⌉;
//! 2. [`pixel_mask`]: RGB→HSV and Otsu thresholds on H and S of the pixels
//!    that are not marker ink ([`pen`]), bit-identical to scikit-image
//!    (`rgb2hsv`, `threshold_otsu`), t_S capped; a pixel is tissue when
//!    H > t_H and S > t_S, its saturation is at least a floor (Otsu on a blank
//!    slide splits noise) and it is not ink. A thumbnail with a dark
//!    background is fluorescence and has its own rule ([`fluorescence`]);
//! 3. [`cell_mask`]: each cell's fraction of tissue pixels (the thumbnail
//!    pixels under it: 7×7 for the paper's 224-px level-0 cells), tissue
//!    when ≥ `min_fraction`, and the bounding box.
//!
//! [`segment_thumbnail`] runs 2 and 3 on a slide's thumbnail, [`segment`]
//! on an image that is wholly inside the slide.

pub mod fluorescence;
pub mod hsv;
pub mod mask;
pub mod otsu;
pub mod pen;
pub mod thumbnail;

pub use mask::{
    brightfield_thresholds, cell_mask, pixel_mask, pixel_mask_inside, CellMask, Modality,
    PixelMask, TissueParams, DEFAULT_MIN_FRACTION, DEFAULT_MIN_SATURATION,
    MAX_SATURATION_THRESHOLD,
};
pub use otsu::threshold_otsu;
pub use thumbnail::{read_reduced, read_thumbnail, thumbnail_size, Thumbnail};

use slidescale_core::{Grid, RgbImage};

/// Version of the tissue rule: raised whenever a change may change which
/// cells are tissue with the same [`TissueParams`], so that a store split
/// under another version can be told apart and split again. 1: Otsu on H
/// and S of every pixel; 2: thresholds without ink, t_S capped
/// ([`MAX_SATURATION_THRESHOLD`]), the dark red ink box, fluorescence.
pub const TISSUE_RULE: u32 = 2;

/// The result of segmenting one slide's thumbnail.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    pub pixels: PixelMask,
    pub cells: CellMask,
}

/// Pixel mask and cell classification of an image wholly inside the slide
/// for `grid`, whose cells are `cell_px` image pixels wide (see [`cell_mask`]).
pub fn segment(image: &RgbImage, grid: Grid, cell_px: f64, params: &TissueParams) -> Segmentation {
    let pixels = pixel_mask(image, params);
    let cells = cell_mask(&pixels, grid, cell_px, params.min_fraction);
    Segmentation { pixels, cells }
}

/// Pixel mask and cell classification of a slide's thumbnail for `grid`,
/// whose cells are `cell_px` thumbnail pixels wide, knowing which pixels
/// are partly padding ([`pixel_mask_inside`]).
pub fn segment_thumbnail(
    thumb: &Thumbnail,
    grid: Grid,
    cell_px: f64,
    params: &TissueParams,
) -> Segmentation {
    let pixels = pixel_mask_inside(&thumb.image, params, thumb.inside);
    let cells = cell_mask(&pixels, grid, cell_px, params.min_fraction);
    Segmentation { pixels, cells }
}

/// Classify a whole image as one cell, the way [`segment`] classifies a
/// cell: its own Otsu thresholds, then tissue when the fraction of tissue
/// pixels is ≥ `min_fraction`. Returns (is tissue, fraction).
pub fn image_is_tissue(image: &RgbImage, params: &TissueParams) -> (bool, f64) {
    let f = pixel_mask(image, params).fraction();
    (f >= params.min_fraction, f)
}
