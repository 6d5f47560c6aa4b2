//! Properties of labelled regions with scikit-image's `regionprops`
//! definitions (row/column order as skimage: `bbox` is
//! `(min_row, min_col, max_row, max_col)`, max exclusive).
//!
//! Moments are accumulated about the region's centroid in a second pass so
//! that large slides keep full precision (skimage computes them on the
//! region's crop in float64).

use crate::raster::Labels;

pub mod convex;
pub mod intensity;
pub mod label;

/// One region's moment-based properties.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionProps {
    /// The region's label (1-based).
    pub label: u32,
    /// Number of pixels.
    pub area: u64,
    /// `(min_row, min_col, max_row, max_col)`, max exclusive.
    pub bbox: (usize, usize, usize, usize),
    /// `(row, col)` mean of the region's pixel coordinates.
    pub centroid: (f64, f64),
    /// Central moments about the centroid: Σ dr², Σ dr·dc, Σ dc².
    pub mu_rr: f64,
    pub mu_rc: f64,
    pub mu_cc: f64,
}

impl RegionProps {
    /// Eigenvalues of the inertia tensor, largest first, clipped at 0
    /// (skimage `inertia_tensor_eigvals`).
    pub fn inertia_eigvals(&self) -> (f64, f64) {
        let n = self.area as f64;
        // skimage: tensor [[mu02, -mu11], [-mu11, mu20]] / mu00 with mu20
        // along rows; its eigenvalues are those of the covariance.
        let (a, b, c) = (self.mu_cc / n, -self.mu_rc / n, self.mu_rr / n);
        let mean = (a + c) / 2.0;
        let radius = (((a - c) / 2.0).powi(2) + b * b).sqrt();
        ((mean + radius).max(0.0), (mean - radius).max(0.0))
    }

    /// `4 √λ₁`: the length of the major axis of the ellipse with the same
    /// second moments.
    pub fn major_axis_length(&self) -> f64 {
        4.0 * self.inertia_eigvals().0.sqrt()
    }

    /// `4 √λ₂`.
    pub fn minor_axis_length(&self) -> f64 {
        4.0 * self.inertia_eigvals().1.sqrt()
    }

    /// `√(1 − λ₂/λ₁)`, 0 for a single pixel.
    pub fn eccentricity(&self) -> f64 {
        let (l1, l2) = self.inertia_eigvals();
        if l1 == 0.0 {
            0.0
        } else {
            (1.0 - l2 / l1).sqrt()
        }
    }

    /// Area of the bounding box.
    pub fn bbox_area(&self) -> u64 {
        let (r0, c0, r1, c1) = self.bbox;
        ((r1 - r0) * (c1 - c0)) as u64
    }

    /// Area over bounding-box area.
    pub fn extent(&self) -> f64 {
        self.area as f64 / self.bbox_area() as f64
    }
}

/// The properties of every region 1..=max label of `labels`, in label order
/// (labels without pixels are skipped, as skimage does).
pub fn regionprops(labels: &Labels) -> Vec<RegionProps> {
    let n = labels.data.iter().copied().max().unwrap_or(0) as usize;
    let mut area = vec![0u64; n + 1];
    let mut sum_r = vec![0f64; n + 1];
    let mut sum_c = vec![0f64; n + 1];
    let mut bbox = vec![(usize::MAX, usize::MAX, 0usize, 0usize); n + 1];
    for_each_labelled(labels, |l, r, c| {
        area[l] += 1;
        sum_r[l] += r as f64;
        sum_c[l] += c as f64;
        let b = &mut bbox[l];
        *b = (b.0.min(r), b.1.min(c), b.2.max(r + 1), b.3.max(c + 1));
    });
    let centroid: Vec<(f64, f64)> = (0..=n)
        .map(|l| (sum_r[l] / area[l] as f64, sum_c[l] / area[l] as f64))
        .collect();
    let mut mu = vec![(0f64, 0f64, 0f64); n + 1];
    for_each_labelled(labels, |l, r, c| {
        let (dr, dc) = (r as f64 - centroid[l].0, c as f64 - centroid[l].1);
        let m = &mut mu[l];
        *m = (m.0 + dr * dr, m.1 + dr * dc, m.2 + dc * dc);
    });
    (1..=n)
        .filter(|&l| area[l] > 0)
        .map(|l| RegionProps {
            label: l as u32,
            area: area[l],
            bbox: bbox[l],
            centroid: centroid[l],
            mu_rr: mu[l].0,
            mu_rc: mu[l].1,
            mu_cc: mu[l].2,
        })
        .collect()
}

fn for_each_labelled(labels: &Labels, mut f: impl FnMut(usize, usize, usize)) {
    for r in 0..labels.height {
        for (c, &l) in labels.row(r).iter().enumerate() {
            if l != 0 {
                f(l as usize, r, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Raster;

    #[test]
    fn a_horizontal_bar_has_skimage_axes() {
        // 1 × 5 bar: skimage gives major 4*sqrt(2) (variance of 0..4 is 2),
        // minor 0, eccentricity 1, extent 1.
        let mut labels = Raster::filled(7, 3, 0u32);
        for x in 1..6 {
            labels.set(x, 1, 1);
        }
        let p = &regionprops(&labels)[0];
        assert_eq!((p.area, p.bbox), (5, (1, 1, 2, 6)));
        assert!((p.major_axis_length() - 4.0 * 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(p.minor_axis_length(), 0.0);
        assert!((p.eccentricity() - 1.0).abs() < 1e-12);
        assert_eq!(p.centroid, (1.0, 3.0));
    }
}
