//! Exact Euclidean distance to the nearest tumour pixel, thresholded: the
//! `distance_transform_edt(255 - channel0) < threshold` step of the
//! reference's `computeEvaluationMask`.
//!
//! Felzenszwalb & Huttenlocher's squared distance transform on integers: a
//! column pass (distance along the column to the nearest tumour pixel), then
//! per row the lower envelope of parabolas, with the envelope's breakpoints
//! kept as exact rationals so no rounding can pick a wrong parabola. The
//! distance is then `sqrt(d²)` in f64, as scipy computes it.

use crate::raster::Raster;

/// No tumour pixel in the column.
const NONE: u32 = u32::MAX;

/// 1 where the pixel is closer than `threshold` (in pixels) to a pixel of
/// `tumour` equal to 255, else 0.
pub(crate) fn within_distance(tumour: &Raster<u8>, threshold: f64) -> Raster<u8> {
    let (w, h) = (tumour.width, tumour.height);
    let mut out = Raster::filled(w, h, 0u8);
    if !tumour.data.contains(&255) {
        fill_without_tumour(&mut out, threshold);
        return out;
    }
    let column = column_distances(tumour);
    let mut envelope = Envelope::default();
    let mut squared = vec![0u64; w];
    for y in 0..h {
        envelope.squared_distances(&column[y * w..(y + 1) * w], &mut squared);
        for (o, &d2) in out.data[y * w..(y + 1) * w].iter_mut().zip(&squared) {
            *o = u8::from(((d2 as f64).sqrt()) < threshold);
        }
    }
    out
}

/// scipy's `distance_transform_edt` on an input with no zero (a mask without
/// tumour) measures every pixel from the point (row -1, column 0): its
/// feature transform is left at -1 for rows and 0 for columns. The reference
/// therefore grows a phantom lesion in the top-left corner of an empty mask
/// (always an isolated tumour cell, so it never counts); reproduced so that
/// labels equal the reference's.
fn fill_without_tumour(out: &mut Raster<u8>, threshold: f64) {
    for y in 0..out.height {
        for x in 0..out.width {
            let d2 = (y as u64 + 1).pow(2) + (x as u64).pow(2);
            out.set(x, y, u8::from(((d2 as f64).sqrt()) < threshold));
        }
    }
}

/// Per pixel, the number of rows to the nearest tumour pixel of its column
/// (`NONE` when the column has none). Two row-major sweeps, cache friendly.
fn column_distances(tumour: &Raster<u8>) -> Vec<u32> {
    let (w, h) = (tumour.width, tumour.height);
    let mut g = vec![NONE; w * h];
    for y in 0..h {
        for x in 0..w {
            g[y * w + x] = if tumour.data[y * w + x] == 255 {
                0
            } else if y > 0 && g[(y - 1) * w + x] != NONE {
                g[(y - 1) * w + x] + 1
            } else {
                NONE
            };
        }
    }
    for y in (0..h.saturating_sub(1)).rev() {
        for x in 0..w {
            let below = g[(y + 1) * w + x];
            if below != NONE && below + 1 < g[y * w + x] {
                g[y * w + x] = below + 1;
            }
        }
    }
    g
}

/// A rational `num / den` with `den > 0`.
#[derive(Clone, Copy)]
struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    fn le(self, other: Ratio) -> bool {
        self.num * other.den <= other.num * self.den
    }
    fn lt_int(self, x: i128) -> bool {
        self.num < x * self.den
    }
}

/// The lower envelope of one row's parabolas `(x - site)² + g(site)²`,
/// reused between rows to keep allocations out of the loop.
#[derive(Default)]
struct Envelope {
    /// Columns whose parabola is on the envelope, left to right.
    sites: Vec<usize>,
    /// Where each site's parabola becomes the lowest (`starts[0]` unused).
    starts: Vec<Ratio>,
}

impl Envelope {
    /// Squared distance of every pixel of the row to the nearest tumour
    /// pixel, from the row's column distances `g` (at least one finite).
    fn squared_distances(&mut self, g: &[u32], out: &mut [u64]) {
        self.build(g);
        let f = |site: usize| (g[site] as i128).pow(2);
        let mut k = 0;
        for (x, o) in out.iter_mut().enumerate() {
            while k + 1 < self.sites.len() && self.starts[k + 1].lt_int(x as i128) {
                k += 1;
            }
            let dx = x as i128 - self.sites[k] as i128;
            *o = (dx * dx + f(self.sites[k])) as u64;
        }
    }

    fn build(&mut self, g: &[u32]) {
        self.sites.clear();
        self.starts.clear();
        let f = |site: usize| (g[site] as i128).pow(2);
        let intersection = |p: usize, q: usize| Ratio {
            num: (f(q) + (q as i128).pow(2)) - (f(p) + (p as i128).pow(2)),
            den: 2 * (q as i128 - p as i128),
        };
        for q in (0..g.len()).filter(|&q| g[q] != NONE) {
            let mut start = Ratio { num: 0, den: 1 };
            while let Some(&top) = self.sites.last() {
                start = intersection(top, q);
                let n = self.sites.len();
                if n > 1 && start.le(self.starts[n - 1]) {
                    self.sites.pop();
                    self.starts.pop();
                } else {
                    break;
                }
            }
            self.sites.push(q);
            self.starts.push(start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the squared distance to the nearest tumour pixel.
    fn brute(t: &Raster<u8>, threshold: f64) -> Raster<u8> {
        let mut out = Raster::filled(t.width, t.height, 0u8);
        for y in 0..t.height {
            for x in 0..t.width {
                let mut best = u64::MAX;
                for ty in 0..t.height {
                    for tx in 0..t.width {
                        if t.get(tx, ty) == 255 {
                            let d = (x as i64 - tx as i64).pow(2) + (y as i64 - ty as i64).pow(2);
                            best = best.min(d as u64);
                        }
                    }
                }
                out.set(x, y, u8::from(((best as f64).sqrt()) < threshold));
            }
        }
        out
    }

    #[test]
    fn equals_brute_force_on_scattered_tumour() {
        let (w, h) = (37, 23);
        let mut t = Raster::filled(w, h, 0u8);
        let mut state = 12345u64;
        for i in 0..w * h {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if state >> 58 == 0 {
                t.data[i] = 255;
            }
        }
        t.data[5] = 128; // not tumour: only 255 is
        for threshold in [1.0, 2.5, 4.82, 7.0, 30.0] {
            assert_eq!(
                within_distance(&t, threshold),
                brute(&t, threshold),
                "{threshold}"
            );
        }
    }
}
