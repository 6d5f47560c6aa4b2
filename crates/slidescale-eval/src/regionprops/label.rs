//! Connected regions as skimage's `measure.label` finds them with its
//! default (full) connectivity in 2-D: 8-connected regions numbered 1..=n in
//! raster order of each region's first pixel.
//!
//! The foreground is a predicate on the pixel index rather than a binary
//! image, and the label image is the caller's buffer, so that thresholding a
//! slide-sized heatmap needs no binary copy and repeated labelling reuses one
//! `u32` image.

use crate::raster::Labels;

/// Labels the pixels `i` (row-major index) of a `width` × `height` grid for
/// which `foreground(i)` holds, by 8-connectivity, into `labels` (resized to
/// the grid; its previous contents are overwritten). Returns the number of
/// regions n; regions are 1..=n in raster order of their first pixel, as
/// skimage numbers them.
///
/// Two passes with union–find over provisional labels. Memory beyond the
/// label image: one `u32` per provisional label.
pub fn label_8_connected_where(
    width: usize,
    height: usize,
    foreground: impl Fn(usize) -> bool,
    labels: &mut Labels,
) -> u32 {
    labels.width = width;
    labels.height = height;
    labels.data.clear();
    labels.data.resize(width * height, 0);
    let mut parent = provisional_labels(width, height, foreground, &mut labels.data);
    let n = number_regions_in_raster_order(&mut parent);
    for l in labels.data.iter_mut().filter(|l| **l != 0) {
        *l = parent[*l as usize];
    }
    n
}

/// First pass: every foreground pixel gets a provisional label joined (by
/// union–find, the smaller label the root) with those of its already visited
/// 8-neighbours W, NW, N, NE. Returns the parent array (`parent[0]` is the
/// background).
fn provisional_labels(
    width: usize,
    height: usize,
    foreground: impl Fn(usize) -> bool,
    data: &mut [u32],
) -> Vec<u32> {
    let mut parent: Vec<u32> = vec![0];
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            if !foreground(i) {
                continue;
            }
            let mut root = 0u32;
            if x > 0 {
                root = join(&mut parent, root, data[i - 1]);
            }
            if y > 0 {
                let up = i - width;
                if x > 0 {
                    root = join(&mut parent, root, data[up - 1]);
                }
                root = join(&mut parent, root, data[up]);
                if x + 1 < width {
                    root = join(&mut parent, root, data[up + 1]);
                }
            }
            if root == 0 {
                root = parent.len() as u32;
                parent.push(root);
            }
            data[i] = root;
        }
    }
    parent
}

/// Turns the parent array into the final number of each provisional label,
/// in place; returns the number of regions.
///
/// A region's root is its smallest provisional label, which is the label of
/// its first pixel in raster order (that pixel has no visited neighbour in
/// the region, and labels are handed out in raster order). So numbering the
/// roots in increasing order numbers regions by their first pixel. Parents
/// are always smaller than their children, so each parent is already
/// renumbered when its child is reached.
fn number_regions_in_raster_order(parent: &mut [u32]) -> u32 {
    let mut next = 0u32;
    for l in 1..parent.len() {
        let p = parent[l] as usize;
        parent[l] = if p == l {
            next += 1;
            next
        } else {
            parent[p]
        };
    }
    next
}

/// Joins the region of provisional label `l` (0: none) with `root`
/// (0: none yet); returns the joint root.
fn join(parent: &mut [u32], root: u32, l: u32) -> u32 {
    if l == 0 {
        return root;
    }
    let r = find(parent, l);
    if root == 0 || root == r {
        return r;
    }
    let (lo, hi) = (root.min(r), root.max(r));
    parent[hi as usize] = lo;
    lo
}

/// The root of `l`, halving the path on the way.
fn find(parent: &mut [u32], mut l: u32) -> u32 {
    while parent[l as usize] != l {
        let grand = parent[parent[l as usize] as usize];
        parent[l as usize] = grand;
        l = grand;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Raster;

    fn grid(rows: &[&str]) -> (usize, usize, Vec<bool>) {
        let data = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| b == b'#'))
            .collect();
        (rows[0].len(), rows.len(), data)
    }

    #[test]
    fn diagonal_neighbours_join_and_regions_are_numbered_by_first_pixel() {
        // The 'V' touches only diagonally; the 'U' joins late (its two arms
        // start as separate provisional labels).
        let (w, h, on) = grid(&[
            "#...#.#.#.#",
            ".#.#....#.#",
            "..#.....###",
            "...........",
            "#..........",
        ]);
        let mut labels = Raster::filled(1, 1, 7u32);
        let n = label_8_connected_where(w, h, |i| on[i], &mut labels);
        assert_eq!(n, 4);
        assert_eq!((labels.width, labels.height), (w, h));
        assert_eq!(
            [labels.get(0, 0), labels.get(4, 0), labels.get(2, 2)],
            [1; 3]
        );
        assert_eq!(labels.get(6, 0), 2);
        assert_eq!(
            [labels.get(8, 0), labels.get(10, 0), labels.get(9, 2)],
            [3; 3]
        );
        assert_eq!(labels.get(0, 4), 4);
        assert_eq!(labels.get(1, 0), 0);
    }
}
