//! 8-connected regions of a bit-packed mask, as `skimage.measure.label`
//! numbers them (connectivity 2, the default the authors used; labels in
//! the raster order of each region's first pixel), with the properties the
//! detections need, accumulated over row runs so that no label image of the
//! slide's size is made.

use super::morphology::BitImage;
use crate::raster::Raster;

/// One region's area, centroid and mean heatmap value.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Pixels in the region.
    pub area: u64,
    /// `(row, col)` mean of the region's pixel coordinates (skimage
    /// `centroid`).
    pub centroid: (f64, f64),
    /// Mean over the region's pixels of the heatmap, NaN counted as 0
    /// (skimage `intensity_mean` on the heatmap with NaN set to 0).
    pub mean: f64,
    /// The region's row runs `(row, x0, x1)`, `x1` exclusive, in raster order.
    pub runs: Vec<(usize, usize, usize)>,
}

/// A row run of the mask: row, first column, one past the last.
type Run = (usize, usize, usize);

/// Union–find root with path halving.
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Joins the sets of `a` and `b`, keeping the smaller index (the earlier
/// run in raster order) as the root.
fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    let (lo, hi) = (ra.min(rb), ra.max(rb));
    parent[hi] = lo;
}

/// Every row run of `mask` and, for each, its 8-connected component's root
/// (the index of the component's first run).
fn connected_runs(mask: &BitImage) -> (Vec<Run>, Vec<usize>) {
    let mut runs: Vec<Run> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut previous = 0..0;
    for y in 0..mask.height {
        let first = runs.len();
        let mut p = previous.start;
        for (x0, x1) in mask.row_runs(y) {
            let id = runs.len();
            runs.push((y, x0, x1));
            parent.push(id);
            // 8-connected: rows touch when [x0-1, x1] overlaps [a0, a1).
            while p < previous.end && runs[p].2 < x0 {
                p += 1;
            }
            let mut q = p;
            while q < previous.end && runs[q].1 <= x1 {
                union(&mut parent, id, q);
                q += 1;
            }
        }
        previous = first..runs.len();
    }
    for i in 0..parent.len() {
        parent[i] = find(&mut parent, i);
    }
    (runs, parent)
}

/// The 8-connected regions of `mask` in skimage's label order, with the
/// mean of `heatmap` (NaN as 0) over each.
pub fn regions(mask: &BitImage, heatmap: &Raster<f32>) -> Vec<Region> {
    let (runs, root) = connected_runs(mask);
    let mut index_of_root = vec![usize::MAX; runs.len()];
    let mut out: Vec<(Region, f64, f64, f64)> = Vec::new();
    for (i, &(y, x0, x1)) in runs.iter().enumerate() {
        let r = root[i];
        if index_of_root[r] == usize::MAX {
            index_of_root[r] = out.len();
            let empty = Region {
                area: 0,
                centroid: (0.0, 0.0),
                mean: 0.0,
                runs: Vec::new(),
            };
            out.push((empty, 0.0, 0.0, 0.0));
        }
        let (region, sum_r, sum_c, sum_v) = &mut out[index_of_root[r]];
        let n = (x1 - x0) as u64;
        region.area += n;
        region.runs.push((y, x0, x1));
        *sum_r += (y as u64 * n) as f64;
        // Σ x for x in x0..x1, exact in integers.
        *sum_c += ((x0 + x1 - 1) as u64 * n / 2) as f64;
        *sum_v += heatmap.row(y)[x0..x1]
            .iter()
            .map(|&v| if v.is_nan() { 0.0 } else { f64::from(v) })
            .sum::<f64>();
    }
    out.into_iter()
        .map(|(mut region, sum_r, sum_c, sum_v)| {
            let n = region.area as f64;
            region.centroid = (sum_r / n, sum_c / n);
            region.mean = sum_v / n;
            region
        })
        .collect()
}
