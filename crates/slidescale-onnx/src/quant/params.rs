//! Scales, zero points and quantized values, computed as
//! `onnxruntime.quantization.quant_utils` computes them (`compute_scale_zp`,
//! `quantize_nparray`, `quantize_bias_static_impl`): the range in f64, the
//! scale rounded to f32 once, weights divided in f32, ties rounded to even
//! (numpy's `round`). Bit-for-bit agreement with the oracle depends on it.

/// Scale and uint8 zero point of an activation calibrated to
/// [`min`, `max`]: the range widened to hold 0, 256 levels.
pub fn activation_params(min: f32, max: f32) -> (f32, u8) {
    let (lo, hi) = (min.min(0.0), max.max(0.0));
    let scale = (hi as f64 - lo as f64) / 255.0;
    if scale < f32::MIN_POSITIVE as f64 {
        return (1.0, 0);
    }
    let zero = (0.0 - lo as f64 / scale).round_ties_even();
    (scale as f32, zero.clamp(0.0, 255.0) as u8)
}

/// The symmetric int8 scale of one output channel's weights: max|w| / 127
/// (1 for an all-zero channel, as the oracle does).
pub fn weight_scale(channel: &[f32]) -> f32 {
    let (lo, hi) = channel
        .iter()
        .fold((0f32, 0f32), |(lo, hi), &w| (lo.min(w), hi.max(w)));
    let absmax = lo.abs().max(hi.abs());
    let scale = 2.0 * absmax as f64 / 254.0;
    if scale < f32::MIN_POSITIVE as f64 {
        1.0
    } else {
        scale as f32
    }
}

/// Per-channel scales (axis 0 of a weight of `channels` rows) and the
/// weights quantized with them.
pub fn quantize_weights(w: &[f32], channels: usize) -> (Vec<f32>, Vec<i8>) {
    let per = w.len() / channels.max(1);
    let mut scales = Vec::with_capacity(channels);
    let mut q = Vec::with_capacity(w.len());
    for row in w.chunks(per.max(1)) {
        let s = weight_scale(row);
        scales.push(s);
        q.extend(
            row.iter()
                .map(|&v| (v / s).round_ties_even().clamp(-128.0, 127.0) as i8),
        );
    }
    (scales, q)
}

/// The bias scales: input scale × each channel's weight scale (in f32).
pub fn bias_scale(input_scale: f32, weight_scales: &[f32]) -> Vec<f32> {
    weight_scales.iter().map(|&w| input_scale * w).collect()
}

/// The bias as int32 in units of `scales` (clipped to the int32 range).
pub fn quantize_bias(bias: &[f32], scales: &[f32]) -> Vec<i32> {
    bias.iter()
        .zip(scales)
        .map(|(&b, &s)| {
            (b as f64 / s as f64)
                .round_ties_even()
                .clamp(i32::MIN as f64, i32::MAX as f64) as i32
        })
        .collect()
}
