//! Outlines to a tumour raster at a pyramid level.
//!
//! **The rule** (one function, [`pixel_centre`], places the samples): pixel
//! (x, y) of a level with downsample d is tumour when its centre
//! ((x + 0.5)·d, (y + 0.5)·d) in level-0 coordinates lies strictly inside a
//! [`OutlineClass::Tumour`] polygon and not strictly inside any
//! [`OutlineClass::Exclusion`] polygon. "Inside a polygon" is even-odd over
//! all its rings (exterior and holes together), so a hole is outside and a
//! self-crossing outline alternates, as GEOS (shapely's `contains_xy`)
//! decides it. A centre exactly on a polygon's boundary is not inside it:
//! on a tumour outline it is not tumour (unless inside another tumour
//! polygon), on an exclusion's outline it is not excluded. Tumour polygons
//! are united, not even-odd with each other.
//!
//! ASAP's own rasteriser (and the masks the CAMELYON16 organisers made with
//! it) fills polygons by its own rule and may differ from this one in pixels
//! the boundary passes through; the difference is at most the one-pixel rim.
//!
//! The fill is a scanline one: each edge is met once per row it spans (its
//! crossing at the row's centre y), each row's crossings are sorted and the
//! runs between them filled, so the work is O(perimeter in rows + area).

use crate::annotations::{OutlineClass, Polygon, SlideAnnotations};
use crate::raster::Raster;

/// The value of tumour pixels (as in the challenge's mask TIFFs); others
/// are 0.
pub const TUMOUR: u8 = 255;

/// The tumour raster of a whole level: `width` × `height` pixels of a level
/// whose downsample from level 0 is `downsample`; [`TUMOUR`] inside, 0 out.
/// Panics unless `downsample` is finite and positive.
pub fn tumour_raster(
    annotations: &SlideAnnotations,
    width: usize,
    height: usize,
    downsample: f64,
) -> Raster<u8> {
    tumour_raster_window(annotations, 0, 0, width, height, downsample)
}

/// The same rule for a window of the level: the `width` × `height` pixels
/// whose level coordinates start at (`x0`, `y0`). Equal to the crop of
/// [`tumour_raster`] of a level large enough to hold it, so a mask too large
/// for memory can be made (and written) tile by tile. Panics unless
/// `downsample` is finite and positive.
pub fn tumour_raster_window(
    annotations: &SlideAnnotations,
    x0: usize,
    y0: usize,
    width: usize,
    height: usize,
    downsample: f64,
) -> Raster<u8> {
    assert!(
        downsample.is_finite() && downsample > 0.0,
        "downsample must be finite and positive, not {downsample}"
    );
    let window = Window {
        x0: x0 as i64,
        y0: y0 as i64,
        width: width as i64,
        height: height as i64,
        downsample,
    };
    let mut raster = Raster::filled(width, height, 0u8);
    let of_class = |class: OutlineClass| {
        let wanted = class;
        annotations
            .outlines
            .iter()
            .filter(move |o| o.class == wanted)
    };
    for outline in of_class(OutlineClass::Tumour) {
        paint(&mut raster, &window, &outline.polygon, TUMOUR);
    }
    for outline in of_class(OutlineClass::Exclusion) {
        paint(&mut raster, &window, &outline.polygon, 0);
    }
    raster
}

/// The level-0 coordinate of the centre of pixel `index` (a column or a
/// row) of a level with downsample `d`.
pub fn pixel_centre(index: i64, d: f64) -> f64 {
    (index as f64 + 0.5) * d
}

/// The smallest pixel index whose centre is ≥ `v`.
fn first_centre_at_or_after(v: f64, d: f64) -> i64 {
    let mut i = (v / d - 0.5).ceil() as i64;
    while pixel_centre(i - 1, d) >= v {
        i -= 1;
    }
    while pixel_centre(i, d) < v {
        i += 1;
    }
    i
}

/// The smallest pixel index whose centre is > `v`.
fn first_centre_after(v: f64, d: f64) -> i64 {
    let mut i = first_centre_at_or_after(v, d);
    while pixel_centre(i, d) <= v {
        i += 1;
    }
    i
}

/// The pixels of the level being made, in level pixel coordinates.
struct Window {
    x0: i64,
    y0: i64,
    width: i64,
    height: i64,
    downsample: f64,
}

impl Window {
    /// Pixel columns, clipped to the window, whose centres lie in the open
    /// interval (lo, hi).
    fn columns_open(&self, lo: f64, hi: f64) -> (i64, i64) {
        let d = self.downsample;
        self.clip_columns(first_centre_after(lo, d), first_centre_at_or_after(hi, d))
    }

    /// Pixel columns, clipped to the window, whose centres lie in the closed
    /// interval [lo, hi].
    fn columns_closed(&self, lo: f64, hi: f64) -> (i64, i64) {
        let d = self.downsample;
        self.clip_columns(first_centre_at_or_after(lo, d), first_centre_after(hi, d))
    }

    fn clip_columns(&self, start: i64, end: i64) -> (i64, i64) {
        let end = end.min(self.x0 + self.width);
        (start.max(self.x0).min(end), end)
    }

    /// Rows of the window whose centres lie in [lo, hi], as a range.
    fn rows_closed(&self, lo: f64, hi: f64) -> std::ops::Range<i64> {
        let d = self.downsample;
        let start = first_centre_at_or_after(lo, d).max(self.y0);
        let end = first_centre_after(hi, d).min(self.y0 + self.height);
        start..end.max(start)
    }
}

/// Where one row's centre line meets an edge: the level-0 x interval
/// `[lo, hi]` on the boundary (a point, or a horizontal edge lying on the
/// line), and whether it counts as a crossing for the even-odd rule.
#[derive(Clone, Copy)]
struct Meet {
    row: i64,
    lo: f64,
    hi: f64,
    crossing: bool,
}

/// Sets the pixels of the window strictly inside `polygon` to `value`.
fn paint(raster: &mut Raster<u8>, window: &Window, polygon: &Polygon, value: u8) {
    let mut meets = edge_meets(window, polygon);
    if meets.is_empty() {
        return;
    }
    meets.sort_by(|a, b| a.row.cmp(&b.row).then(a.lo.total_cmp(&b.lo)));
    for row in meets.chunk_by(|a, b| a.row == b.row) {
        let y = (row[0].row - window.y0) as usize;
        let line = &mut raster.data[y * raster.width..(y + 1) * raster.width];
        for (start, end) in inside_runs(window, row) {
            let (start, end) = ((start - window.x0) as usize, (end - window.x0) as usize);
            line[start..end].fill(value);
        }
    }
}

/// Every meeting of a row centre line of the window with an edge of the
/// polygon's rings.
fn edge_meets(window: &Window, polygon: &Polygon) -> Vec<Meet> {
    let rings = std::iter::once(&polygon.exterior).chain(&polygon.holes);
    let mut meets = Vec::new();
    for ring in rings {
        for (i, &a) in ring.iter().enumerate() {
            let b = ring[(i + 1) % ring.len()];
            edge_meets_of(window, a, b, &mut meets);
        }
    }
    meets
}

/// The meetings of one edge a→b with the window's row centre lines. The
/// crossing rule is half-open in y (`(a.y <= cy) != (b.y <= cy)`), so a
/// vertex on a line is counted once or not at all, as even-odd needs.
fn edge_meets_of(window: &Window, a: [f64; 2], b: [f64; 2], out: &mut Vec<Meet>) {
    let d = window.downsample;
    let [(ax, ay), (bx, by)] = [(a[0], a[1]), (b[0], b[1])];
    for row in window.rows_closed(ay.min(by), ay.max(by)) {
        let cy = pixel_centre(row, d);
        let (lo, hi) = if ay == by {
            (ax.min(bx), ax.max(bx))
        } else {
            let x = if cy == ay {
                ax
            } else if cy == by {
                bx
            } else {
                ax + (cy - ay) * (bx - ax) / (by - ay)
            };
            (x, x)
        };
        out.push(Meet {
            row,
            lo,
            hi,
            crossing: (ay <= cy) != (by <= cy),
        });
    }
}

/// The column runs `[start, end)` of one row strictly inside the polygon:
/// between pairs of crossings (even-odd), less the columns whose centres are
/// on the boundary. `row` holds the row's meetings sorted by `lo`.
fn inside_runs(window: &Window, row: &[Meet]) -> Vec<(i64, i64)> {
    let crossings: Vec<f64> = row.iter().filter(|m| m.crossing).map(|m| m.lo).collect();
    let runs: Vec<(i64, i64)> = crossings
        .chunks_exact(2)
        .map(|pair| window.columns_open(pair[0], pair[1]))
        .filter(|(s, e)| s < e)
        .collect();
    let boundary: Vec<(i64, i64)> = row
        .iter()
        .map(|m| window.columns_closed(m.lo, m.hi))
        .filter(|(s, e)| s < e)
        .collect();
    subtract(&runs, &boundary)
}

/// `runs` (sorted, disjoint) less the `cuts` (sorted by start, may overlap).
fn subtract(runs: &[(i64, i64)], cuts: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::with_capacity(runs.len());
    let mut first = 0;
    for &(mut start, end) in runs {
        while first < cuts.len() && cuts[first].1 <= start {
            first += 1;
        }
        for &(cut_start, cut_end) in cuts[first..].iter().take_while(|c| c.0 < end) {
            if cut_start > start {
                out.push((start, cut_start));
            }
            start = start.max(cut_end);
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}
