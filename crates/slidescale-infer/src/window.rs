//! Window extraction: from a u8 context tile straight into the model's float
//! input, through a 256-entry lookup table per channel (no float copy of the
//! whole tile, no per-pixel arithmetic).

use crate::config::Layout;

/// Turns windows of context tiles into model input.
pub(crate) struct Preprocessor {
    pub lut: [[f32; 256]; 3],
    pub layout: Layout,
    /// `Some(scale)` when the config has no mean/std: values are then
    /// `v · scale`, computed directly (bit-identical to the table).
    pub plain_scale: Option<f32>,
    /// W: side of a window.
    pub window: usize,
    /// C: side of the context tiles windows are cut from.
    pub context: usize,
}

impl Preprocessor {
    /// Floats of one preprocessed window (3·W·W).
    pub fn window_floats(&self) -> usize {
        3 * self.window * self.window
    }

    /// Write the W×W window whose top-left is (`ox`, `oy`) in `tile`
    /// (C×C×3) into `dst` (exactly 3·W·W floats).
    pub fn window(&self, tile: &[u8], ox: usize, oy: usize, dst: &mut [f32]) {
        debug_assert_eq!(dst.len(), self.window_floats());
        self.region(tile, ox, oy, self.window, self.window, dst);
    }

    /// Write the `w`×`h` region whose top-left is (`ox`, `oy`) in `tile`
    /// (C×C×3) into `dst` (exactly 3·w·h floats): a window, or the larger
    /// image a dense pass scores (same values pixel for pixel).
    pub fn region(&self, tile: &[u8], ox: usize, oy: usize, w: usize, h: usize, dst: &mut [f32]) {
        debug_assert_eq!(tile.len(), self.context * self.context * 3);
        debug_assert_eq!(dst.len(), 3 * w * h);
        let c = self.context;
        match self.layout {
            Layout::Nchw => {
                let (r, rest) = dst.split_at_mut(w * h);
                let (g, b) = rest.split_at_mut(w * h);
                let [lr, lg, lb] = &self.lut;
                for y in 0..h {
                    let start = ((oy + y) * c + ox) * 3;
                    let row = &tile[start..start + w * 3];
                    let o = y * w;
                    let (rr, gr, br) = (&mut r[o..o + w], &mut g[o..o + w], &mut b[o..o + w]);
                    if let Some(s) = self.plain_scale {
                        scale_row(row, s, rr, gr, br);
                    } else {
                        for (x, px) in row.chunks_exact(3).enumerate() {
                            rr[x] = lr[px[0] as usize];
                            gr[x] = lg[px[1] as usize];
                            br[x] = lb[px[2] as usize];
                        }
                    }
                }
            }
            Layout::Nhwc => {
                for y in 0..h {
                    let start = ((oy + y) * c + ox) * 3;
                    let row = &tile[start..start + w * 3];
                    let out = &mut dst[y * w * 3..(y + 1) * w * 3];
                    for (o, px) in out.chunks_exact_mut(3).zip(row.chunks_exact(3)) {
                        o[0] = self.lut[0][px[0] as usize];
                        o[1] = self.lut[1][px[1] as usize];
                        o[2] = self.lut[2][px[2] as usize];
                    }
                }
            }
        }
    }
}

/// One window row without mean/std: `v · scale` per channel (the table's
/// own formula, so bit-identical to it), in a loop the compiler vectorises;
/// with AVX2 when the CPU has it (u8→f32 and f32 multiply are exact IEEE
/// operations, so the instruction set does not change a bit of the result).
fn scale_row(row: &[u8], s: f32, r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { scale_row_avx2(row, s, r, g, b) };
        return;
    }
    scale_row_generic(row, s, r, g, b);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scale_row_avx2(row: &[u8], s: f32, r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
    scale_row_generic(row, s, r, g, b);
}

#[inline(always)]
fn scale_row_generic(row: &[u8], s: f32, r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
    for (((px, rv), gv), bv) in row
        .chunks_exact(3)
        .zip(r.iter_mut())
        .zip(g.iter_mut())
        .zip(b.iter_mut())
    {
        *rv = px[0] as f32 * s;
        *gv = px[1] as f32 * s;
        *bv = px[2] as f32 * s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 224;
    const C: usize = 448;
    const WINDOW_FLOATS: usize = 3 * W * W;

    fn ramp_tile() -> Vec<u8> {
        (0..C * C * 3).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn nchw_and_nhwc_pick_the_same_pixels() {
        let mut lut = [[0f32; 256]; 3];
        for (c, t) in lut.iter_mut().enumerate() {
            for (v, x) in t.iter_mut().enumerate() {
                *x = (v * 10 + c) as f32;
            }
        }
        let tile = ramp_tile();
        let (ox, oy) = (8, 216);
        let mut a = vec![0f32; WINDOW_FLOATS];
        let mut b = vec![0f32; WINDOW_FLOATS];
        let p = |layout| Preprocessor {
            lut,
            layout,
            plain_scale: None,
            window: W,
            context: C,
        };
        p(Layout::Nchw).window(&tile, ox, oy, &mut a);
        p(Layout::Nhwc).window(&tile, ox, oy, &mut b);
        let t = W;
        for (y, x, c) in [(0, 0, 0), (5, 7, 1), (223, 223, 2), (100, 3, 0)] {
            let src = tile[((oy + y) * C + ox + x) * 3 + c];
            let want = (src as usize * 10 + c) as f32;
            assert_eq!(a[c * t * t + y * t + x], want);
            assert_eq!(b[(y * t + x) * 3 + c], want);
        }
    }

    #[test]
    fn direct_scaling_is_bit_identical_to_the_table() {
        let cfg = crate::ModelConfig::default();
        let tile = ramp_tile();
        let table = Preprocessor {
            lut: cfg.lookup_table(),
            layout: Layout::Nchw,
            plain_scale: None,
            window: W,
            context: C,
        };
        let direct = Preprocessor {
            plain_scale: Some(cfg.scale),
            ..table
        };
        let mut a = vec![0f32; WINDOW_FLOATS];
        let mut b = vec![1f32; WINDOW_FLOATS];
        table.window(&tile, 24, 40, &mut a);
        direct.window(&tile, 24, 40, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
