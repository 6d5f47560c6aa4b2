//! scipy's `binary_fill_holes` with its default structure: background that
//! is not 4-connected to the image border becomes foreground.

use std::collections::VecDeque;

use crate::raster::Raster;

const BACKGROUND: u8 = 0;
const OUTSIDE: u8 = 2;

/// Fills the holes of the 0/1 raster `binary` in place.
///
/// A breadth-first flood from the border background marks the "outside";
/// everything else is foreground. The queue holds the flood's front, which
/// for mask shapes stays near the border's length, not the image's area.
pub(crate) fn fill_holes(binary: &mut Raster<u8>) {
    let (w, h) = (binary.width, binary.height);
    let mut queue = VecDeque::new();
    let reach = |data: &mut [u8], i: usize, queue: &mut VecDeque<usize>| {
        if data[i] == BACKGROUND {
            data[i] = OUTSIDE;
            queue.push_back(i);
        }
    };
    for x in 0..w {
        reach(&mut binary.data, x, &mut queue);
        reach(&mut binary.data, (h - 1) * w + x, &mut queue);
    }
    for y in 0..h {
        reach(&mut binary.data, y * w, &mut queue);
        reach(&mut binary.data, y * w + w - 1, &mut queue);
    }
    while let Some(i) = queue.pop_front() {
        let (x, y) = (i % w, i / w);
        if x > 0 {
            reach(&mut binary.data, i - 1, &mut queue);
        }
        if x + 1 < w {
            reach(&mut binary.data, i + 1, &mut queue);
        }
        if y > 0 {
            reach(&mut binary.data, i - w, &mut queue);
        }
        if y + 1 < h {
            reach(&mut binary.data, i + w, &mut queue);
        }
    }
    for v in &mut binary.data {
        *v = u8::from(*v != OUTSIDE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raster(rows: &[&str]) -> Raster<u8> {
        let data = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| u8::from(b == b'#')))
            .collect();
        Raster::from_vec(rows[0].len(), rows.len(), data)
    }

    #[test]
    fn fills_holes_including_one_in_a_diagonally_closed_ring() {
        let mut r = raster(&[
            "......", ".###..", ".#.#..", ".###..", "....#.", "...#.#", "....#.",
        ]);
        fill_holes(&mut r);
        // Both holes fill, including (4, 5), whose ring touches only
        // diagonally: the background flood is 4-connected and cannot leak
        // between diagonal neighbours.
        assert_eq!(
            r,
            raster(&["......", ".###..", ".###..", ".###..", "....#.", "...###", "....#."])
        );
    }
}
