//! Fluorescence slides: telling them from brightfield ones, and the rule
//! that segments them.
//!
//! A brightfield slide is lit from behind: glass is the brightest thing on
//! it and stain darkens it. A fluorescence slide (e.g. an NDPI DAPI/TRITC
//! scan) is dark where nothing glows, and tissue is the bright part. The
//! brightfield rule (Otsu on hue and saturation) has no glass to separate
//! there and splits whatever colours the fluorophores have, so it must not
//! run on such a slide.
//!
//! * **Detection**: the median brightness V = max(R, G, B) of the thumbnail
//!   is below [`FLUORESCENCE_MAX_MEDIAN_V`]. On brightfield images the median
//!   is at least 0.54 even on a crop that is all tumour
//!   (`high-nuclei-score-level0.png`; glass alone is ≈ 0.95, the CMU
//!   thumbnail 0.96); the fluorescence rendering of CMU in
//!   `tests/fluorescence.rs` has a median of 0.
//! * **Rule**: tissue is V > Otsu(V) and V ≥ [`MIN_FLUORESCENCE_V`] (Otsu on
//!   a dark, empty slide splits sensor noise, as it does on white glass).

/// A thumbnail whose median brightness is below this is fluorescence.
pub const FLUORESCENCE_MAX_MEDIAN_V: f64 = 0.3;

/// A pixel dimmer than this (≈ 20/255) is never fluorescent tissue: the
/// background of a fluorescence scan is a few grey levels above black.
pub const MIN_FLUORESCENCE_V: f64 = 0.08;

/// Whether an image with these brightness values (V of HSV) has the dark
/// background of a fluorescence slide. An empty image is not.
pub fn is_fluorescence(v: &[f64]) -> bool {
    median(v).is_some_and(|m| m < FLUORESCENCE_MAX_MEDIAN_V)
}

/// The upper middle value (the exact median does not matter here, only
/// which side of the limit it falls on).
fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut sorted = v.to_vec();
    let mid = sorted.len() / 2;
    let (_, m, _) = sorted.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_images_are_fluorescence_and_bright_ones_are_not() {
        assert!(is_fluorescence(&[0.0, 0.02, 0.9]));
        assert!(!is_fluorescence(&[0.95, 0.6, 0.2]));
        assert!(!is_fluorescence(&[]));
    }
}
