//! skimage's `measure.label(image, connectivity=2)`: 8-connected regions
//! numbered 1..=n in raster order of each region's first pixel.

use crate::raster::{Labels, Raster};

/// Labels the non-zero pixels of `binary` by 8-connectivity.
///
/// Two passes with union–find over provisional labels; the second pass
/// numbers each region when its first pixel is met, which is skimage's order.
pub(crate) fn label_8_connected(binary: &Raster<u8>) -> Labels {
    let (w, h) = (binary.width, binary.height);
    let mut labels = Raster::filled(w, h, 0u32);
    // parent[0] is the background; provisional labels start at 1.
    let mut parent: Vec<u32> = vec![0];
    for y in 0..h {
        for x in 0..w {
            if binary.data[y * w + x] == 0 {
                continue;
            }
            let mut root = 0u32;
            for (nx, ny) in earlier_neighbours(x, y, w) {
                let l = labels.data[ny * w + nx];
                if l != 0 {
                    let r = find(&mut parent, l);
                    root = if root == 0 {
                        r
                    } else {
                        union(&mut parent, root, r)
                    };
                }
            }
            if root == 0 {
                root = parent.len() as u32;
                parent.push(root);
            }
            labels.data[y * w + x] = root;
        }
    }
    let mut number = vec![0u32; parent.len()];
    let mut next = 0u32;
    for l in &mut labels.data {
        if *l != 0 {
            let r = find(&mut parent, *l) as usize;
            if number[r] == 0 {
                next += 1;
                number[r] = next;
            }
            *l = number[r];
        }
    }
    labels
}

/// The 8-neighbours of (x, y) already visited in raster order: W, NW, N, NE.
fn earlier_neighbours(x: usize, y: usize, w: usize) -> impl Iterator<Item = (usize, usize)> {
    let west = (x > 0).then(|| (x - 1, y));
    let north = (y > 0).then(|| {
        let row = y - 1;
        (x.saturating_sub(1)..(x + 2).min(w)).map(move |nx| (nx, row))
    });
    west.into_iter().chain(north.into_iter().flatten())
}

fn find(parent: &mut [u32], mut l: u32) -> u32 {
    while parent[l as usize] != l {
        let grand = parent[parent[l as usize] as usize];
        parent[l as usize] = grand;
        l = grand;
    }
    l
}

/// Joins two roots under the smaller; returns it.
fn union(parent: &mut [u32], a: u32, b: u32) -> u32 {
    let (lo, hi) = (a.min(b), a.max(b));
    parent[hi as usize] = lo;
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagonal_pixels_join_and_order_is_by_first_pixel() {
        // A 'V' whose pixels touch only diagonally is one region; regions
        // are numbered by their first pixel in raster order.
        let rows = ["#...#.#", ".#.#...", "..#....", ".......", "#......"];
        let data = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| u8::from(b == b'#')))
            .collect();
        let labels = label_8_connected(&Raster::from_vec(7, 5, data));
        assert_eq!(labels.get(0, 0), 1);
        assert_eq!(labels.get(4, 0), 1);
        assert_eq!(labels.get(2, 2), 1);
        assert_eq!(labels.get(6, 0), 2);
        assert_eq!(labels.get(0, 4), 3);
        assert_eq!(labels.data.iter().max(), Some(&3));
    }
}
