//! OpenSlide's premultiplied ARGB to RGB on white, bit-for-bit the way the
//! Python baseline does it: openslide-python's `argb2rgba` (integer
//! un-premultiply, truncating) and then `split.rgba_to_rgb_white` (float32
//! blend onto white, `np.rint`). Opaque pixels come out unchanged, transparent
//! ones white.

/// `1/255` as numpy computes it for a float32 array times a Python float.
const INV_255: f32 = 1.0 / 255.0;

/// Convert one premultiplied ARGB pixel (OpenSlide's native-endian `u32`).
#[inline]
pub fn argb_to_rgb_on_white(p: u32) -> [u8; 3] {
    let a = (p >> 24) as u8;
    match a {
        255 => [(p >> 16) as u8, (p >> 8) as u8, p as u8],
        // Fully transparent: the blend gives 255 whatever the colour.
        0 => [255, 255, 255],
        _ => {
            // openslide-python: `uint8_t r = 255 * r / a` (C truncation).
            let unpremultiply = |c: u32| (255 * c / a as u32) as u8;
            let rgb = [
                unpremultiply((p >> 16) & 0xff),
                unpremultiply((p >> 8) & 0xff),
                unpremultiply(p & 0xff),
            ];
            let af = a as f32 * INV_255;
            rgb.map(|c| (c as f32 * af + 255.0 * (1.0 - af)).round_ties_even() as u8)
        }
    }
}

/// Convert a buffer of ARGB pixels into interleaved RGB.
pub fn argb_buffer_to_rgb(src: &[u32], dst: &mut [u8]) {
    debug_assert_eq!(dst.len(), src.len() * 3);
    for (p, out) in src.iter().zip(dst.chunks_exact_mut(3)) {
        out.copy_from_slice(&argb_to_rgb_on_white(*p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_unchanged_transparent_white() {
        assert_eq!(argb_to_rgb_on_white(0xff10_2030), [0x10, 0x20, 0x30]);
        assert_eq!(argb_to_rgb_on_white(0), [255, 255, 255]);
    }

    #[test]
    fn half_alpha_blends_towards_white() {
        // a = 128, premultiplied black: unpremultiplied 0, blend = 255 * (1 - 128/255).
        let expected = (255.0f32 * (1.0 - 128.0 * INV_255)).round_ties_even() as u8;
        assert_eq!(argb_to_rgb_on_white(0x8000_0000), [expected; 3]);
        assert_eq!(expected, 127);
    }
}
