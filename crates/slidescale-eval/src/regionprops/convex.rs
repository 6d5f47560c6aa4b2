//! Convex area and solidity with scikit-image's definitions.
//!
//! skimage (0.26) computes `area_convex` as the pixel count of
//! `convex_hull_image(region.image)`: every region pixel (r, c) contributes
//! the four midpoints of its edges (r ± ½, c) and (r, c ± ½)
//! (`offset_coordinates=True`), the convex hull of those points is built,
//! and a pixel of the region's bounding box is in the hull image when its
//! centre lies inside the hull or on its boundary (`grid_points_in_poly`
//! labels ≥ 1: inside, vertex or edge). The same rule is reproduced here
//! exactly: coordinates are doubled so that every point is an integer, the
//! hull is Andrew's monotone chain, and each row's span of the hull is
//! computed with integer floor/ceiling divisions.

use crate::raster::Labels;
use crate::regionprops::RegionProps;

/// A point in doubled coordinates: `x = 2·col`, `y = 2·row`.
type Point = (i64, i64);

impl RegionProps {
    /// skimage `area_convex`: the number of pixels of the region's convex
    /// hull image (see the module documentation for the rule). `labels` is
    /// the label image the region was measured on.
    pub fn convex_area(&self, labels: &Labels) -> u64 {
        let hull = convex_hull(&edge_midpoints(&row_extremes(labels, self)));
        let (r0, c0, r1, c1) = self.bbox;
        (r0..r1)
            .map(|r| pixels_in_hull_row(&hull, r as i64, c0 as i64, c1 as i64 - 1))
            .sum()
    }

    /// skimage `solidity`: area over convex area.
    pub fn solidity(&self, labels: &Labels) -> f64 {
        self.area as f64 / self.convex_area(labels) as f64
    }
}

/// For each row of the region's bounding box, its first and last pixel of
/// the region, as `(row, first_col, last_col)`: the hull of a pixel set is
/// the hull of its rows' end pixels (skimage's `possible_hull` uses the same
/// reduction).
fn row_extremes(labels: &Labels, region: &RegionProps) -> Vec<(i64, i64, i64)> {
    let (r0, c0, r1, c1) = region.bbox;
    let mut out = Vec::with_capacity(r1 - r0);
    for r in r0..r1 {
        let row = &labels.row(r)[c0..c1];
        let first = row.iter().position(|&l| l == region.label);
        let last = row.iter().rposition(|&l| l == region.label);
        if let (Some(a), Some(b)) = (first, last) {
            out.push((r as i64, (c0 + a) as i64, (c0 + b) as i64));
        }
    }
    out
}

/// The midpoints of the four edges of each end pixel, in doubled
/// coordinates.
fn edge_midpoints(extremes: &[(i64, i64, i64)]) -> Vec<Point> {
    let mut points = Vec::with_capacity(extremes.len() * 8);
    for &(r, a, b) in extremes {
        for c in [a, b] {
            let (x, y) = (2 * c, 2 * r);
            points.extend([(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]);
        }
    }
    points
}

/// The convex hull, counter-clockwise, without collinear points (Andrew's
/// monotone chain, exact in integers).
fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut pts = points.to_vec();
    pts.sort_unstable();
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut hull: Vec<Point> = Vec::with_capacity(2 * pts.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Point>> = if pass == 0 {
            Box::new(pts.iter())
        } else {
            Box::new(pts.iter().rev())
        };
        for &p in iter {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0
            {
                hull.pop();
            }
            hull.push(p);
        }
        // The chain's last point is the next chain's first.
        hull.pop();
    }
    hull
}

/// z of (a − o) × (b − o): positive when o → a → b turns left.
fn cross(o: Point, a: Point, b: Point) -> i64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// How many pixel centres (row, c), `c_min ≤ c ≤ c_max`, lie inside the
/// closed polygon `hull` (convex).
fn pixels_in_hull_row(hull: &[Point], row: i64, c_min: i64, c_max: i64) -> u64 {
    let y = 2 * row;
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for (i, &p) in hull.iter().enumerate() {
        let q = hull[(i + 1) % hull.len()];
        if (p.1 < y && q.1 < y) || (p.1 > y && q.1 > y) {
            continue;
        }
        // Where the edge p–q meets the line at y, as num / den (den > 0);
        // a horizontal edge on the line contributes both ends.
        let crossings = if p.1 == q.1 {
            [(p.0, 1), (q.0, 1)]
        } else {
            let (num, den) = (p.0 * (q.1 - p.1) + (y - p.1) * (q.0 - p.0), q.1 - p.1);
            let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
            [(num, den), (num, den)]
        };
        for (num, den) in crossings {
            // Pixel column c is at doubled x = 2c.
            lo = lo.min(num.div_euclid(2 * den) + i64::from(num.rem_euclid(2 * den) != 0));
            hi = hi.max(num.div_euclid(2 * den));
        }
    }
    let (lo, hi) = (lo.max(c_min), hi.min(c_max));
    if hi < lo {
        0
    } else {
        (hi - lo + 1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Raster;
    use crate::regionprops::regionprops;

    fn labels(rows: &[&str]) -> Labels {
        let data = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| u32::from(b == b'#')))
            .collect();
        Raster::from_vec(rows[0].len(), rows.len(), data)
    }

    #[test]
    fn a_single_pixel_and_a_bar_are_their_own_hull() {
        for img in [vec!["...", ".#.", "..."], vec![".....", ".###.", "....."]] {
            let l = labels(&img);
            let p = &regionprops(&l)[0];
            assert_eq!(p.convex_area(&l), p.area);
            assert_eq!(p.solidity(&l), 1.0);
        }
    }

    #[test]
    fn an_l_shape_fills_its_diagonal() {
        // The hull's long edge runs from (0, ½) to (2, 2½): centre (1, 1) is
        // inside it, (0, 1), (0, 2) and (1, 2) are outside.
        let l = labels(&["#..", "#..", "###"]);
        let p = &regionprops(&l)[0];
        assert_eq!(p.convex_area(&l), 6);
    }
}
