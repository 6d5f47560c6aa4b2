//! Lesion detections from a heatmap and their files.

/// One detected lesion: a probability and a point in level-0 pixels
/// (integers, as the challenge's CSV stores them, so that what is evaluated
/// in memory is what a CSV round-trip gives).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub prob: f64,
    pub x: i64,
    pub y: i64,
}
