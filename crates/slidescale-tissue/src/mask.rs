//! From a thumbnail to tissue cells: the pixel mask (Otsu on H and S plus
//! the guards that stop Otsu from splitting noise or ink, or the
//! fluorescence rule), the fraction of tissue pixels under each grid cell,
//! and the bounding box of tissue cells.

use slidescale_core::{Grid, RgbImage};

use crate::fluorescence::{is_fluorescence, MIN_FLUORESCENCE_V};
use crate::hsv::{rgb_to_hsv, HsvPlanes};
use crate::otsu::threshold_otsu;
use crate::pen::is_pen;

/// Default minimum fraction of tissue pixels for a cell to be tissue.
///
/// Chosen on `shared/data/patches/tissue_tiles` (see `tests/tiles.rs`): every
/// `tissue-*` tile has a tissue fraction of at least 0.379, every
/// `no-tissue*`/`almost-white*` tile at most 0.240 (the red-pen tile, whose
/// pink and mauve edges escape the pen filter); 0.3 sits between the two. The Python
/// baseline's 0.5 would drop five of the six `tissue-*` tiles.
pub const DEFAULT_MIN_FRACTION: f64 = 0.3;

/// Default absolute saturation floor. Otsu always splits something: on an
/// all-white image it splits sensor noise (`almost-white-1.png` gets
/// t_S = 0.004 and 31 % "tissue"). Stain is never that pale: on the tissue
/// tiles Otsu's own t_S is 0.19–0.25, so a floor of 0.1 never binds there.
pub const DEFAULT_MIN_SATURATION: f64 = 0.1;

/// How pixels and cells are classified.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TissueParams {
    /// A cell is tissue when at least this fraction of its thumbnail pixels is.
    pub min_fraction: f64,
    /// A pixel below this saturation is never tissue, whatever Otsu says.
    pub min_saturation: f64,
    /// Drop pixels that look like marker ink (see [`crate::pen`]).
    pub pen_filter: bool,
}

impl Default for TissueParams {
    fn default() -> Self {
        TissueParams {
            min_fraction: DEFAULT_MIN_FRACTION,
            min_saturation: DEFAULT_MIN_SATURATION,
            pen_filter: true,
        }
    }
}

/// Highest saturation threshold used (the Otsu split is lowered to it).
///
/// Where a thumbnail has glass, Otsu's t_S is the glass/stain split: 0.18 on
/// the CMU slide, 0.19–0.25 on the `tissue-*` tiles. A higher split is not
/// between glass and stain but between stain and something more saturated
/// (red ink the boxes miss: a TCGA region a third covered by ink gets 0.57
/// and keeps almost nothing) or inside the stain (a region with little
/// glass). Every stain pixel the glass split keeps is still kept below the
/// cap. 0.24, not lower: the pink and mauve parts of the red stroke of
/// `no-tissue-red-pen.png`, which no box catches, reach 0.257 of that tile
/// at 0.22 (`tests/tiles.rs` wants labelled empty tiles ≥ 0.05 below 0.3);
/// 0.240 at 0.24.
pub const MAX_SATURATION_THRESHOLD: f64 = 0.24;

/// Which rule made a pixel mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Modality {
    /// Otsu on H and S (`otsu_h`, `otsu_s`).
    Brightfield,
    /// A dark-background image (see [`crate::fluorescence`]): tissue is
    /// V > `otsu_v`; `otsu_h` and `otsu_s` are NaN (not used).
    Fluorescence { otsu_v: f64 },
}

impl Modality {
    /// "brightfield" or "fluorescence", as a store or a message names it.
    pub fn name(&self) -> &'static str {
        match self {
            Modality::Brightfield => "brightfield",
            Modality::Fluorescence { .. } => "fluorescence",
        }
    }
}

/// The per-pixel tissue mask of an image and the Otsu thresholds behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelMask {
    pub width: u32,
    pub height: u32,
    pub modality: Modality,
    pub otsu_h: f64,
    pub otsu_s: f64,
    /// Row-major, 1 = tissue.
    pub mask: Vec<u8>,
}

impl PixelMask {
    /// Fraction of tissue pixels in the whole image.
    pub fn fraction(&self) -> f64 {
        let n = self.mask.iter().filter(|&&m| m != 0).count();
        n as f64 / self.mask.len().max(1) as f64
    }
}

/// Pixel mask of an image that is wholly inside the slide (a tile, a crop):
/// [`pixel_mask_inside`] with every pixel inside.
pub fn pixel_mask(img: &RgbImage, params: &TissueParams) -> PixelMask {
    pixel_mask_inside(img, params, (img.width, img.height))
}

/// Pixel mask of a thumbnail whose pixels x < `inside.0`, y < `inside.1`
/// lie wholly on the slide (the others are partly white padding, see
/// [`crate::thumbnail`]).
///
/// Brightfield (see [`crate::fluorescence`] for the test): H > t_H and
/// S > t_S, with t_H and t_S the Otsu thresholds (exactly as scikit-image
/// computes them) of the pixels that are not ink, t_S at most
/// [`MAX_SATURATION_THRESHOLD`]; and S ≥ the saturation floor and not ink.
/// Ink is left out of the thresholds because it is as saturated as stain or
/// more: counted, it drags Otsu's split up between stain and ink. White
/// padding is background here, as glass is, so `inside` is not used.
///
/// Fluorescence: V > Otsu(V) and V ≥ [`crate::fluorescence::MIN_FLUORESCENCE_V`]
/// over the pixels inside; padding would read as bright signal on a dark
/// slide (a whole row of edge cells), so it is neither counted nor tissue.
pub fn pixel_mask_inside(img: &RgbImage, params: &TissueParams, inside: (u32, u32)) -> PixelMask {
    let hsv = rgb_to_hsv(&img.data);
    if is_fluorescence(&hsv.v) {
        return fluorescence_mask(img, &hsv.v, inside);
    }
    let ink: Vec<bool> = img
        .data
        .chunks_exact(3)
        .map(|px| params.pen_filter && is_pen(px[0], px[1], px[2]))
        .collect();
    let (otsu_h, otsu_s) = brightfield_thresholds(&hsv, &ink);
    let mask = hsv
        .h
        .iter()
        .zip(&hsv.s)
        .zip(&ink)
        .map(|((&h, &s), &ink)| {
            (h > otsu_h && s > otsu_s && s >= params.min_saturation && !ink) as u8
        })
        .collect();
    PixelMask {
        width: img.width,
        height: img.height,
        modality: Modality::Brightfield,
        otsu_h,
        otsu_s,
        mask,
    }
}

/// (t_H, t_S): Otsu of H and of S over the pixels not flagged in `skip`,
/// in image order (as numpy's `H[~ink]`), t_S capped. 0 when every pixel
/// is skipped (then none is tissue anyway).
pub fn brightfield_thresholds(hsv: &HsvPlanes, skip: &[bool]) -> (f64, f64) {
    let kept = |plane: &[f64]| -> Vec<f64> {
        plane
            .iter()
            .zip(skip)
            .filter(|(_, &s)| !s)
            .map(|(&v, _)| v)
            .collect()
    };
    let otsu_h = threshold_otsu(&kept(&hsv.h)).unwrap_or(0.0);
    let otsu_s = threshold_otsu(&kept(&hsv.s))
        .unwrap_or(0.0)
        .min(MAX_SATURATION_THRESHOLD);
    (otsu_h, otsu_s)
}

fn fluorescence_mask(img: &RgbImage, v: &[f64], (iw, ih): (u32, u32)) -> PixelMask {
    let w = img.width as usize;
    let is_inside = |i: usize| ((i % w) as u32) < iw && ((i / w) as u32) < ih;
    let inside: Vec<f64> = (0..v.len())
        .filter(|&i| is_inside(i))
        .map(|i| v[i])
        .collect();
    let otsu_v = threshold_otsu(&inside).unwrap_or(1.0);
    let mask = v
        .iter()
        .enumerate()
        .map(|(i, &v)| (is_inside(i) && v > otsu_v && v >= MIN_FLUORESCENCE_V) as u8)
        .collect();
    PixelMask {
        width: img.width,
        height: img.height,
        modality: Modality::Fluorescence { otsu_v },
        otsu_h: f64::NAN,
        otsu_s: f64::NAN,
        mask,
    }
}

/// Tissue cells of the grid, half-open bounding box `[c0, r0, c1, r1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellMask {
    pub grid: Grid,
    /// Row-major `[rows, cols]` fraction of tissue pixels per cell.
    pub fraction: Vec<f64>,
    /// Row-major `[rows, cols]`, 1 = tissue.
    pub mask: Vec<u8>,
    /// `Some([c0, r0, c1, r1])`: tissue cells have c0 ≤ c < c1, r0 ≤ r < r1.
    pub bbox: Option<[u32; 4]>,
}

impl CellMask {
    /// Tissue cells as (col, row), row-major: the order tiles are stored in.
    pub fn tissue_cells(&self) -> Vec<(u32, u32)> {
        let cols = self.grid.cols as usize;
        self.mask
            .iter()
            .enumerate()
            .filter(|(_, &m)| m != 0)
            .map(|(i, _)| ((i % cols) as u32, (i / cols) as u32))
            .collect()
    }

    pub fn n_tissue(&self) -> usize {
        self.mask.iter().filter(|&&m| m != 0).count()
    }
}

/// Classify every cell of `grid` from the pixel mask of its thumbnail, whose
/// pixels are `cell_px` to a cell side (thumbnail pixels per cell: T × the
/// analysis downsample / 32; 224 / 32 = 7 in the paper).
///
/// Cell c takes the thumbnail pixels whose centres lie in [c·k, (c+1)·k)
/// (k = `cell_px`): for k = 7, exactly pixels [7c, 7c+7). A cell smaller than
/// a pixel that holds no centre takes the pixel under its own centre. The
/// right and bottom edge cells are cut where the thumbnail ends and their
/// fraction is taken over the pixels that exist.
pub fn cell_mask(pixels: &PixelMask, grid: Grid, cell_px: f64, min_fraction: f64) -> CellMask {
    let cols: Vec<(u32, u32)> = (0..grid.cols)
        .map(|c| cell_span(c, cell_px, pixels.width))
        .collect();
    let rows: Vec<(u32, u32)> = (0..grid.rows)
        .map(|r| cell_span(r, cell_px, pixels.height))
        .collect();
    let mut fraction = Vec::with_capacity(grid.n_cells() as usize);
    for &ys in &rows {
        for &xs in &cols {
            fraction.push(cell_fraction(pixels, xs, ys));
        }
    }
    let mask: Vec<u8> = fraction
        .iter()
        .map(|&f| (f >= min_fraction) as u8)
        .collect();
    let bbox = bounding_box(&mask, grid);
    CellMask {
        grid,
        fraction,
        mask,
        bbox,
    }
}

/// Thumbnail pixels [start, end) of cell `i` along an axis of `n` pixels.
fn cell_span(i: u32, k: f64, n: u32) -> (u32, u32) {
    let first_centre = |v: f64| (v - 0.5).ceil().max(0.0) as u32;
    let (a, b) = (first_centre(i as f64 * k), first_centre((i + 1) as f64 * k));
    let (a, b) = if b > a {
        (a, b)
    } else {
        let p = ((i as f64 + 0.5) * k).floor() as u32;
        (p, p + 1)
    };
    (a.min(n), b.min(n))
}

fn cell_fraction(pixels: &PixelMask, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> f64 {
    let total = (x1 - x0) as usize * (y1 - y0) as usize;
    if total == 0 {
        return 0.0;
    }
    let w = pixels.width as usize;
    let on: usize = (y0..y1)
        .map(|y| {
            let row = &pixels.mask[y as usize * w..(y as usize + 1) * w];
            row[x0 as usize..x1 as usize]
                .iter()
                .filter(|&&m| m != 0)
                .count()
        })
        .sum();
    on as f64 / total as f64
}

fn bounding_box(mask: &[u8], grid: Grid) -> Option<[u32; 4]> {
    let cols = grid.cols as usize;
    let mut bbox: Option<[u32; 4]> = None;
    for (i, _) in mask.iter().enumerate().filter(|(_, &m)| m != 0) {
        let (c, r) = ((i % cols) as u32, (i / cols) as u32);
        bbox = Some(match bbox {
            None => [c, r, c + 1, r + 1],
            Some([c0, r0, c1, r1]) => [c0.min(c), r0.min(r), c1.max(c + 1), r1.max(r + 1)],
        });
    }
    bbox
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_from(width: u32, height: u32, on: &[(u32, u32)]) -> PixelMask {
        let mut mask = vec![0; (width * height) as usize];
        for &(x, y) in on {
            mask[(y * width + x) as usize] = 1;
        }
        PixelMask {
            width,
            height,
            modality: Modality::Brightfield,
            otsu_h: 0.0,
            otsu_s: 0.0,
            mask,
        }
    }

    #[test]
    fn cells_map_to_7x7_pixel_blocks_and_edges_are_cut() {
        // slide 300×224 → grid 2×1, thumbnail 10×7: cell 1 has 3×7 pixels
        let grid = slidescale_core::TileGeometry::PAPER.grid(300, 224);
        let on: Vec<_> = (7..10).flat_map(|x| (0..7).map(move |y| (x, y))).collect();
        let px = mask_from(10, 7, &on);
        let cells = cell_mask(&px, grid, 7.0, 0.5);
        assert_eq!(cells.fraction, vec![0.0, 1.0]);
        assert_eq!(cells.mask, vec![0, 1]);
        assert_eq!(cells.bbox, Some([1, 0, 2, 1]));
        assert_eq!(cells.tissue_cells(), vec![(1, 0)]);
    }

    #[test]
    fn fraction_threshold_is_inclusive_and_empty_has_no_box() {
        let grid = Grid { cols: 1, rows: 1 };
        let on: Vec<_> = (0..7).map(|x| (x, 0)).collect(); // 7 of 49
        let px = mask_from(7, 7, &on);
        assert_eq!(cell_mask(&px, grid, 7.0, 1.0 / 7.0).n_tissue(), 1);
        let none = cell_mask(&px, grid, 7.0, 0.2);
        assert_eq!(none.n_tissue(), 0);
        assert_eq!(none.bbox, None);
    }

    #[test]
    fn white_image_has_no_tissue_even_though_otsu_splits_noise() {
        let mut img = RgbImage::white(20, 20);
        for (i, b) in img.data.iter_mut().enumerate() {
            *b = 250 + (i * 7 % 5) as u8; // faint noise
        }
        let m = pixel_mask(&img, &TissueParams::default());
        assert_eq!(m.fraction(), 0.0);
    }

    #[test]
    fn a_dark_empty_slide_is_fluorescence_without_tissue() {
        // Otsu splits the noise of a black background; the floor refuses it
        let mut img = RgbImage::white(20, 20);
        for (i, b) in img.data.iter_mut().enumerate() {
            *b = (i * 7 % 9) as u8;
        }
        let m = pixel_mask(&img, &TissueParams::default());
        assert!(matches!(m.modality, Modality::Fluorescence { .. }));
        assert_eq!(m.fraction(), 0.0);
    }

    #[test]
    fn ink_is_left_out_of_the_thresholds() {
        // glass and stain, then the same with a saturated stroke over a
        // third: the thresholds do not move
        let glass = [235u8, 232, 236];
        let stain = [190u8, 120, 170];
        let ink = [40u8, 160, 130];
        let pixels = |n_ink: usize| -> RgbImage {
            let data = (0..300)
                .flat_map(|i| match i {
                    _ if i < n_ink => ink,
                    _ if i % 2 == 0 => glass,
                    _ => stain,
                })
                .collect();
            RgbImage::from_raw(300, 1, data)
        };
        let clean = pixel_mask(&pixels(0), &TissueParams::default());
        let inked = pixel_mask(&pixels(100), &TissueParams::default());
        assert_eq!((clean.otsu_h, clean.otsu_s), (inked.otsu_h, inked.otsu_s));
        assert_eq!(clean.mask[100..], inked.mask[100..]);
        assert!(inked.mask[..100].iter().all(|&m| m == 0));
    }
}
