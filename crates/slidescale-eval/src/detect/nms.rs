//! The local-maximum rule of NCRF (baidu-research/NCRF, `wsi/bin/nms.py`):
//! while the map's maximum is above the threshold, report it and set the
//! square `[row − R, row + R) × [col − R, col + R)` (clipped to the map, the
//! upper bounds exclusive as NCRF's `range` makes them) to 0.
//!
//! Done here in one pass instead of one full-map maximum per detection:
//! pixels above the threshold, taken in NCRF's order (value descending, ties
//! in raster order as `np.where` lists them), are reported unless an earlier
//! report already zeroed them. With a threshold ≥ 0 a zeroed pixel can never
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
    candidates.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
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
