//! A 2-D grid of values in row-major order: heatmaps, masks and label
//! images share it.

/// `height` rows of `width` values, row-major (`data[y * width + x]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Raster<T> {
    pub width: usize,
    pub height: usize,
    pub data: Vec<T>,
}

/// A label image: 0 is background, 1..=n the regions.
pub type Labels = Raster<u32>;

impl<T: Clone> Raster<T> {
    /// A `width` × `height` raster filled with `value`.
    pub fn filled(width: usize, height: usize, value: T) -> Raster<T> {
        Raster {
            width,
            height,
            data: vec![value; width * height],
        }
    }
}

impl<T: Copy> Raster<T> {
    /// Wraps `data`; panics when its length is not `width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<T>) -> Raster<T> {
        assert_eq!(data.len(), width * height, "raster data length");
        Raster {
            width,
            height,
            data,
        }
    }

    /// The value at column `x`, row `y`.
    pub fn get(&self, x: usize, y: usize) -> T {
        self.data[y * self.width + x]
    }

    /// Sets the value at column `x`, row `y`.
    pub fn set(&mut self, x: usize, y: usize, value: T) {
        self.data[y * self.width + x] = value;
    }

    /// Row `y` as a slice.
    pub fn row(&self, y: usize) -> &[T] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// A raster of the same size with `f` applied to every value.
    pub fn map<U: Copy>(&self, f: impl Fn(T) -> U) -> Raster<U> {
        Raster {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }
}
