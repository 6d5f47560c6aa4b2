//! The local-maximum rule of NCRF (baidu-research/NCRF, `wsi/bin/nms.py`):
//! while the map's maximum is above the threshold, report it and set the
//! square `[row − R, row + R) × [col − R, col + R)` (clipped to the map, the
//! upper bounds exclusive as NCRF's `range` makes them) to 0.
//!
//! Done here in one pass instead of one full-map maximum per detection:
//! pixels above the threshold, taken in NCRF's order, are reported unless an
//! earlier report already zeroed them. NCRF's map is indexed `[x, y]`
//! (column first), so `np.where` lists tied maxima by column, then row: ties
//! here go to the smallest column, then the smallest row. With a threshold ≥ 0 a zeroed pixel can never
//! be picked again, so the two are the same.

use crate::raster::Raster;

/// One local maximum: heatmap row, column and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub row: usize,
    pub col: usize,
    pub value: f32,
}

/// NCRF's peaks of `heatmap` above `threshold` (≥ 0) with suppression
/// half-width `radius` (≥ 1) heatmap pixels; NaN counts as 0.
pub fn peaks(heatmap: &Raster<f32>, threshold: f64, radius: usize) -> Vec<Peak> {
    let (w, h) = (heatmap.width, heatmap.height);
    let mut candidates: Vec<(f32, usize)> = heatmap
        .data
        .iter()
        .enumerate()
        .filter(|&(_, &v)| f64::from(v) > threshold)
        .map(|(i, &v)| (v, i))
        .collect();
    let column_major = |i: usize| (i % w, i / w);
    candidates.sort_unstable_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(column_major(a.1).cmp(&column_major(b.1)))
    });
    let mut zeroed = vec![false; w * h];
    let mut out = Vec::new();
    for (value, i) in candidates {
        if zeroed[i] {
            continue;
        }
        let (row, col) = (i / w, i % w);
        out.push(Peak { row, col, value });
        let rows = row.saturating_sub(radius)..(row + radius).min(h);
        let cols = col.saturating_sub(radius)..(col + radius).min(w);
        for r in rows {
            zeroed[r * w + cols.start..r * w + cols.end].fill(true);
        }
    }
    out
}
