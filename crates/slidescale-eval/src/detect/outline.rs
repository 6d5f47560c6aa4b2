//! A region's outer boundary: the edges of its heatmap pixels, followed
//! with the region on the right; at a corner where two region pixels touch
//! only diagonally the walk turns into the other one, so one ring holds the
//! whole 8-connected region (such a ring touches itself at that corner).
//! Holes are not traced: the outline is for display (QuPath, ASAP).

/// Region pixels in a bounding box with one empty pixel around it.
struct Local {
    col0: i64,
    row0: i64,
    width: i64,
    height: i64,
    set: Vec<bool>,
}

impl Local {
    fn new(runs: &[(usize, usize, usize)]) -> Local {
        let row0 = runs.iter().map(|r| r.0).min().unwrap_or(0) as i64 - 1;
        let row1 = runs.iter().map(|r| r.0).max().unwrap_or(0) as i64 + 2;
        let col0 = runs.iter().map(|r| r.1).min().unwrap_or(0) as i64 - 1;
        let col1 = runs.iter().map(|r| r.2).max().unwrap_or(0) as i64 + 1;
        let (width, height) = (col1 - col0, row1 - row0);
        let mut set = vec![false; (width * height) as usize];
        for &(y, x0, x1) in runs {
            let start = ((y as i64 - row0) * width + x0 as i64 - col0) as usize;
            set[start..start + (x1 - x0)].fill(true);
        }
        Local {
            col0,
            row0,
            width,
            height,
            set,
        }
    }

    /// Whether the pixel at (col, row), in slide heatmap pixels, is in the region.
    fn has(&self, col: i64, row: i64) -> bool {
        let (c, r) = (col - self.col0, row - self.row0);
        (0..self.width).contains(&c)
            && (0..self.height).contains(&r)
            && self.set[(r * self.width + c) as usize]
    }
}

/// Clockwise of a direction on the image (y down).
fn right_of((dx, dy): (i64, i64)) -> (i64, i64) {
    (-dy, dx)
}

/// The pixel whose four corners are `v`, `v + a`, `v + b`, `v + a + b`.
fn pixel_between(v: (i64, i64), a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
    (v.0 + a.0.min(0) + b.0.min(0), v.1 + a.1.min(0) + b.1.min(0))
}

/// The outer ring of the region given by its row runs (heatmap pixels), in
/// level-0 pixels (corner `(col, row)` is `(col·s, row·s)`), closed.
pub fn outer_ring(runs: &[(usize, usize, usize)], stride: u32) -> Vec<[f64; 2]> {
    let local = Local::new(runs);
    let &(row, col, _) = runs.first().expect("a region has a run");
    let start = (col as i64, row as i64);
    let start_dir = (1, 0);
    let (mut v, mut d) = (start, start_dir);
    let s = f64::from(stride);
    let mut ring = vec![[start.0 as f64 * s, start.1 as f64 * s]];
    loop {
        v = (v.0 + d.0, v.1 + d.1);
        let r = right_of(d);
        let l = (-r.0, -r.1);
        let ahead_left = pixel_between(v, d, l);
        let ahead_right = pixel_between(v, d, r);
        let next = if local.has(ahead_left.0, ahead_left.1) {
            l
        } else if local.has(ahead_right.0, ahead_right.1) {
            d
        } else {
            r
        };
        if next != d {
            ring.push([v.0 as f64 * s, v.1 as f64 * s]);
        }
        d = next;
        if v == start && d == start_dir {
            break;
        }
    }
    if ring.first() != ring.last() {
        ring.push(ring[0]);
    }
    ring
}
