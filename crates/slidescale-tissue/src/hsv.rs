//! RGB → HSV exactly as `skimage.color.rgb2hsv` computes it on `uint8`
//! input (float64 arithmetic, same operation order), so that Otsu thresholds
//! computed here equal scikit-image's to the bit.

/// Hue, saturation and value planes of an image, each in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct HsvPlanes {
    pub h: Vec<f64>,
    pub s: Vec<f64>,
    pub v: Vec<f64>,
}

/// Convert interleaved RGB bytes to HSV planes.
pub fn rgb_to_hsv(rgb: &[u8]) -> HsvPlanes {
    let n = rgb.len() / 3;
    let mut out = HsvPlanes {
        h: Vec::with_capacity(n),
        s: Vec::with_capacity(n),
        v: Vec::with_capacity(n),
    };
    for px in rgb.chunks_exact(3) {
        let (h, s, v) = pixel_to_hsv(px[0], px[1], px[2]);
        out.h.push(h);
        out.s.push(s);
        out.v.push(v);
    }
    out
}

/// One pixel. `img_as_float64` scales by multiplying with `1/255` (not by
/// dividing by 255; the two differ in the last bit for some values).
pub fn pixel_to_hsv(r: u8, g: u8, b: u8) -> (f64, f64, f64) {
    const SCALE: f64 = 1.0 / 255.0;
    let (r, g, b) = (r as f64 * SCALE, g as f64 * SCALE, b as f64 * SCALE);
    let v = r.max(g).max(b);
    let delta = v - r.min(g).min(b);
    if delta == 0.0 {
        return (0.0, 0.0, v);
    }
    let s = delta / v;
    // scikit-image assigns red, then green, then blue, each overwriting the
    // previous where that channel is the maximum: blue wins ties, then green.
    let h6 = if b == v {
        4.0 + (r - g) / delta
    } else if g == v {
        2.0 + (b - r) / delta
    } else {
        (g - b) / delta
    };
    (numpy_remainder_1(h6 / 6.0), s, v)
}

/// `numpy.remainder(x, 1.0)`: fmod, shifted into [0, 1) for negative x.
fn numpy_remainder_1(x: f64) -> f64 {
    let m = x % 1.0;
    if m == 0.0 {
        0.0
    } else if m < 0.0 {
        m + 1.0
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_and_greys() {
        assert_eq!(pixel_to_hsv(255, 0, 0), (0.0, 1.0, 1.0));
        assert_eq!(pixel_to_hsv(0, 255, 0).0, 2.0 / 6.0);
        assert_eq!(pixel_to_hsv(0, 0, 255).0, 4.0 / 6.0);
        assert_eq!(
            pixel_to_hsv(128, 128, 128),
            (0.0, 0.0, 128.0 * (1.0 / 255.0))
        );
        // magenta-ish: red is max, g < b gives a negative hue wrapped near 1
        let (h, _, _) = pixel_to_hsv(200, 100, 150);
        assert!(h > 0.9 && h < 1.0, "{h}");
    }
}
