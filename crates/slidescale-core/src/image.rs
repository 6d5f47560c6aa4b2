//! A plain interleaved 8-bit RGB image: the one pixel type passed between the
//! slide readers, tissue segmentation, the store and stain normalisation.

/// Row-major interleaved RGB, `data.len() == width * height * 3`.
#[derive(Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

impl RgbImage {
    /// An all-white image: the colour of everything outside a slide.
    pub fn white(width: u32, height: u32) -> RgbImage {
        RgbImage {
            width,
            height,
            data: vec![255; width as usize * height as usize * 3],
        }
    }

    pub fn from_raw(width: u32, height: u32, data: Vec<u8>) -> RgbImage {
        assert_eq!(data.len(), width as usize * height as usize * 3);
        RgbImage {
            width,
            height,
            data,
        }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    pub fn row(&self, y: u32) -> &[u8] {
        let w = self.width as usize * 3;
        &self.data[y as usize * w..(y as usize + 1) * w]
    }

    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let w = self.width as usize * 3;
        &mut self.data[y as usize * w..(y as usize + 1) * w]
    }

    /// Copy `src` into this image with its top-left at (x, y); parts that
    /// fall outside are clipped.
    pub fn blit(&mut self, src: &RgbImage, x: i64, y: i64) {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + src.width as i64).min(self.width as i64);
        let y1 = (y + src.height as i64).min(self.height as i64);
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let n = (x1 - x0) as usize * 3;
        for dy in y0..y1 {
            let sx = (x0 - x) as usize * 3;
            let srow = &src.row((dy - y) as u32)[sx..sx + n];
            let dx = x0 as usize * 3;
            self.row_mut(dy as u32)[dx..dx + n].copy_from_slice(srow);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blit_clips_at_every_edge() {
        let mut dst = RgbImage::white(4, 4);
        let src = RgbImage::from_raw(3, 3, vec![0; 27]);
        dst.blit(&src, -1, 2);
        assert_eq!(dst.pixel(0, 2), [0, 0, 0]);
        assert_eq!(dst.pixel(1, 3), [0, 0, 0]);
        assert_eq!(dst.pixel(2, 2), [255, 255, 255]);
        assert_eq!(dst.pixel(0, 1), [255, 255, 255]);
        dst.blit(&src, 10, 10); // entirely outside: no panic
    }
}
