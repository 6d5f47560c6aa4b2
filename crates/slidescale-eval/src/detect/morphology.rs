//! Binary morphology exactly as OpenCV's `cv2.morphologyEx` does it with
//! `cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))`, the authors'
//! element (DIDSR/DeepLearningCamelyon_II,
//! `dldp/model_eva/froc/FROC_csv_0604.py`, `get_region_props_kernel`).
//!
//! OpenCV's conventions, reproduced here:
//! * the element is OpenCV's own ellipse (`getStructuringElement` in
//!   opencv `modules/imgproc/src/morph.dispatch.cpp`): row `i` holds columns
//!   `[c − dx, c + dx]` with `r = k/2`, `c = k/2`, `dy = i − r`,
//!   `dx = cvRound(c·√((r² − dy²)/r²))`, clipped to the element; for even `k`
//!   it is not symmetric (row 0 is one pixel, row k−1 is wide);
//! * the anchor is the element's centre `(k/2, k/2)`, and both dilation and
//!   erosion read `src(y + i − k/2, x + j − k/2)` for every set element pixel
//!   `(i, j)` (no reflection between the two), so a closing is
//!   `erode(dilate(m))` and an opening `dilate(erode(m))` with the same
//!   offsets;
//! * outside the image counts as 0 for dilation and as 1 for erosion
//!   (`morphologyDefaultBorderValue`), so nothing erodes from the border.
//!
//! Speed: the mask is bit-packed (64 pixels a word). Each element row is a
//! horizontal run, so a dilation (erosion) is, per distinct run, a running
//! OR (AND) along rows by shift-doubling (log₂ k word shifts), then an OR
//! (AND) of k shifted rows down the columns: O(k · pixels / 64) word
//! operations.

use crate::raster::Raster;

/// A structuring element as one horizontal run per row, in offsets from the
/// anchor: row offset `dy`, columns `dx_lo..=dx_hi`.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    runs: Vec<(isize, isize, isize)>,
}

/// OpenCV's `MORPH_ELLIPSE` element of `size` × `size` as a 0/1 raster,
/// pixel for pixel (`size` ≥ 1).
pub fn ellipse_element(size: usize) -> Raster<u8> {
    assert!(size >= 1, "element size must be at least 1");
    let r = (size / 2) as i64;
    let c = (size / 2) as i64;
    let inv_r2 = if r == 0 { 0.0 } else { 1.0 / (r * r) as f64 };
    let mut element = Raster::filled(size, size, 0u8);
    for i in 0..size {
        let dy = i as i64 - r;
        if dy.abs() > r {
            continue;
        }
        // saturate_cast<int>(double) is cvRound: round half to even.
        let dx = (c as f64 * (((r * r - dy * dy) as f64) * inv_r2).sqrt()).round_ties_even() as i64;
        let j1 = (c - dx).max(0) as usize;
        let j2 = ((c + dx + 1) as usize).min(size);
        for j in j1..j2 {
            element.set(j, i, 1);
        }
    }
    element
}

impl Element {
    /// The runs of a 0/1 element with the anchor at its centre
    /// (`(width/2, height/2)`, OpenCV's default anchor).
    pub fn from_raster(element: &Raster<u8>) -> Element {
        let (ax, ay) = ((element.width / 2) as isize, (element.height / 2) as isize);
        let mut runs = Vec::new();
        for i in 0..element.height {
            let set: Vec<isize> = (0..element.width)
                .filter(|&j| element.get(j, i) != 0)
                .map(|j| j as isize)
                .collect();
            if let (Some(&lo), Some(&hi)) = (set.first(), set.last()) {
                assert_eq!(hi - lo + 1, set.len() as isize, "element rows must be runs");
                runs.push((i as isize - ay, lo - ax, hi - ax));
            }
        }
        Element { runs }
    }

    /// OpenCV's ellipse of `size` × `size`.
    pub fn ellipse(size: usize) -> Element {
        Element::from_raster(&ellipse_element(size))
    }
}

/// A bit-packed binary image: each row has one padding word on either side
/// so that shifted reads never leave the row (pixel `x` is bit `x + 64`).
#[derive(Debug, Clone, PartialEq)]
pub struct BitImage {
    pub width: usize,
    pub height: usize,
    words: usize,
    data: Vec<u64>,
}

impl BitImage {
    /// An all-zero image.
    pub fn new(width: usize, height: usize) -> BitImage {
        let words = width.div_ceil(64) + 2;
        BitImage {
            width,
            height,
            words,
            data: vec![0; words * height],
        }
    }

    /// Sets pixel (x, y) to 1.
    pub fn set(&mut self, x: usize, y: usize) {
        let p = x + 64;
        self.data[y * self.words + p / 64] |= 1 << (p % 64);
    }

    /// Whether pixel (x, y) is 1.
    pub fn get(&self, x: usize, y: usize) -> bool {
        let p = x + 64;
        self.data[y * self.words + p / 64] >> (p % 64) & 1 == 1
    }

    /// Row `y`'s words, padding included.
    fn row(&self, y: usize) -> &[u64] {
        &self.data[y * self.words..(y + 1) * self.words]
    }

    /// The runs of 1s of row `y` as `(x0, x1)`, `x1` exclusive, left to right
    /// (the padding must be 0, as every operation here leaves it).
    pub fn row_runs(&self, y: usize) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut start: Option<usize> = None;
        let data = &self.row(y)[1..self.words - 1];
        for (wi, &word) in data.iter().enumerate() {
            let (base, mut bits, mut b) = (wi * 64, word, 0u32);
            loop {
                match start {
                    None if bits == 0 => break,
                    None => {
                        let zeros = bits.trailing_zeros();
                        b += zeros;
                        bits >>= zeros;
                        start = Some(base + b as usize);
                    }
                    Some(s) => {
                        // Shifted-in zeros bound the count of ones by 64 − b.
                        let ones = (!bits).trailing_zeros();
                        if b + ones >= 64 {
                            break; // the run goes on into the next word
                        }
                        b += ones;
                        bits >>= ones;
                        runs.push((s, base + b as usize));
                        start = None;
                    }
                }
            }
        }
        if let Some(s) = start {
            runs.push((s, self.width));
        }
        runs
    }

    /// Sets everything outside the image (padding words and the bits past
    /// `width`) to `fill`, the border value of the next operation.
    fn set_outside(&mut self, fill: bool) {
        let fill_word = if fill { u64::MAX } else { 0 };
        // Pixel width − 1 is bit width + 63: the last data word and the
        // bits of it past the image.
        let tail = self.width % 64;
        let last_data = self.width.div_ceil(64);
        for y in 0..self.height {
            let row = &mut self.data[y * self.words..(y + 1) * self.words];
            row[0] = fill_word;
            row[self.words - 1] = fill_word;
            if tail != 0 {
                let keep = (1u64 << tail) - 1;
                let w = &mut row[last_data];
                *w = (*w & keep) | (fill_word & !keep);
            }
        }
    }
}

/// `out(p) = src(p + d)` along a padded row, `fill` past its ends.
fn shift_row(src: &[u64], d: isize, fill: u64, out: &mut [u64]) {
    let n = src.len() as isize;
    let (q, r) = (d.div_euclid(64), d.rem_euclid(64) as u32);
    let word = |i: isize| {
        if (0..n).contains(&i) {
            src[i as usize]
        } else {
            fill
        }
    };
    for (w, o) in out.iter_mut().enumerate() {
        let w = w as isize;
        let lo = word(w + q);
        *o = if r == 0 {
            lo
        } else {
            (lo >> r) | (word(w + q + 1) << (64 - r))
        };
    }
}

/// Whether an operation is a dilation (max, outside = 0) or an erosion
/// (min, outside = 1).
#[derive(Clone, Copy, PartialEq)]
enum Op {
    Dilate,
    Erode,
}

impl Op {
    fn fill(self) -> u64 {
        match self {
            Op::Dilate => 0,
            Op::Erode => u64::MAX,
        }
    }
    fn combine(self, a: u64, b: u64) -> u64 {
        match self {
            Op::Dilate => a | b,
            Op::Erode => a & b,
        }
    }
}

/// `out(p) = OP over d in lo..=hi of row(p + d)`, by shift-doubling.
fn window_row(row: &[u64], lo: isize, hi: isize, op: Op, tmp: &mut [u64], out: &mut [u64]) {
    let len = (hi - lo + 1) as usize;
    shift_row(row, lo, op.fill(), out);
    let mut covered = 1usize;
    while covered < len {
        let step = covered.min(len - covered);
        shift_row(out, step as isize, op.fill(), tmp);
        for (o, &t) in out.iter_mut().zip(tmp.iter()) {
            *o = op.combine(*o, t);
        }
        covered += step;
    }
}

/// One dilation or erosion of `src` by `element`, OpenCV's way.
fn apply(src: &mut BitImage, element: &Element, op: Op) -> BitImage {
    src.set_outside(op == Op::Erode);
    let mut out = BitImage::new(src.width, src.height);
    out.data.fill(op.fill());
    let mut distinct: Vec<(isize, isize)> =
        element.runs.iter().map(|&(_, lo, hi)| (lo, hi)).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let words = src.words;
    let mut horizontal = vec![0u64; src.data.len()];
    let mut tmp = vec![0u64; words];
    for &(lo, hi) in &distinct {
        for y in 0..src.height {
            let dst = &mut horizontal[y * words..(y + 1) * words];
            window_row(src.row(y), lo, hi, op, &mut tmp, dst);
        }
        for &(dy, _, _) in element.runs.iter().filter(|r| (r.1, r.2) == (lo, hi)) {
            combine_rows(&mut out, &horizontal, dy, op);
        }
    }
    out.set_outside(false);
    out
}

/// `out(y) = OP(out(y), horizontal(y + dy))` for rows inside the image (rows
/// outside are the neutral border value).
fn combine_rows(out: &mut BitImage, horizontal: &[u64], dy: isize, op: Op) {
    let words = out.words;
    for y in 0..out.height {
        let sy = y as isize + dy;
        if sy < 0 || sy >= out.height as isize {
            continue;
        }
        let sy = sy as usize;
        let src = &horizontal[sy * words..(sy + 1) * words];
        let dst = &mut out.data[y * words..(y + 1) * words];
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = op.combine(*d, s);
        }
    }
}

/// `cv2.morphologyEx(m, MORPH_CLOSE, e)` then `MORPH_OPEN` with the same
/// element: dilate, erode, erode, dilate.
pub fn close_then_open(mask: BitImage, element: &Element) -> BitImage {
    let mut m = mask;
    for op in [Op::Dilate, Op::Erode, Op::Erode, Op::Dilate] {
        m = apply(&mut m, element, op);
    }
    m
}
