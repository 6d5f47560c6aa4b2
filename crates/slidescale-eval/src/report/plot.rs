//! The report's two figures, every stride's curve on one set of axes: FROC
//! (x: average false positives per slide, log scale 1/8 … 8; y:
//! sensitivity) and ROC (x: false-positive rate, y: true-positive rate).
//!
//! Drawn with embedded-graphics into an RGB buffer with its built-in bitmap
//! font, so no system font is needed, and encoded as PNG. Curves are drawn
//! in the exact colours of [`STRIDE_COLOURS`] (no anti-aliasing), text in
//! black, grid lines in light grey.

use embedded_graphics::mono_font::ascii::{FONT_6X10, FONT_8X13};
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Line, PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};

use super::TradeOff;

/// Colours of the strides' curves, in the order of the results
/// (matplotlib's `tab10`); more strides than colours reuse them.
pub const STRIDE_COLOURS: [[u8; 3]; 8] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [23, 190, 207],
];

const BACKGROUND: Rgb888 = Rgb888::WHITE;
const INK: Rgb888 = Rgb888::BLACK;
const GRID: Rgb888 = Rgb888::new(221, 221, 221);
const CHANCE: Rgb888 = Rgb888::new(150, 150, 150);

/// Size of a figure in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotSize {
    pub width: u32,
    pub height: u32,
}

impl Default for PlotSize {
    fn default() -> PlotSize {
        PlotSize {
            width: 800,
            height: 600,
        }
    }
}

/// The FROC curves of every stride, as PNG bytes.
pub fn froc_png(t: &TradeOff, size: PlotSize) -> Result<Vec<u8>, String> {
    let ticks: Vec<(f64, String)> = [-3, -2, -1, 0, 1, 2, 3]
        .iter()
        .map(|&e| (2f64.powi(e), fps_label(e)))
        .collect();
    let axes = Axes::new(size, Scale::Log2(0.125, 8.0), ticks, probability_ticks());
    let mut canvas = Canvas::new(size);
    axes.draw_frame(
        &mut canvas,
        &format!("Lesion FROC by stride (coarser strides: {})", t.downsample),
        "average false positives per slide (log scale)",
        "sensitivity",
    );
    let legend: Vec<String> = t
        .results
        .iter()
        .map(|r| format!("stride {} (FROC {:.3})", r.stride, r.froc_score))
        .collect();
    for (i, r) in t.results.iter().enumerate() {
        axes.draw_curve(&mut canvas, &r.froc_curve, colour(i));
    }
    axes.draw_legend(&mut canvas, &legend);
    canvas.encode()
}

/// The ROC curves of every stride, as PNG bytes.
pub fn roc_png(t: &TradeOff, size: PlotSize) -> Result<Vec<u8>, String> {
    let axes = Axes::new(
        size,
        Scale::Linear(0.0, 1.0),
        probability_ticks(),
        probability_ticks(),
    );
    let mut canvas = Canvas::new(size);
    axes.draw_frame(
        &mut canvas,
        &format!("Slide ROC by stride (coarser strides: {})", t.downsample),
        "false-positive rate (1 - specificity)",
        "true-positive rate (sensitivity)",
    );
    axes.draw_curve(&mut canvas, &[(0.0, 0.0), (1.0, 1.0)], CHANCE);
    let legend: Vec<String> = t
        .results
        .iter()
        .map(|r| format!("stride {} (AUC {:.3})", r.stride, r.auc))
        .collect();
    for (i, r) in t.results.iter().enumerate() {
        axes.draw_curve(&mut canvas, &r.roc_curve, colour(i));
    }
    axes.draw_legend(&mut canvas, &legend);
    canvas.encode()
}

/// "1/8" for 2^-3, "4" for 2^2.
fn fps_label(exponent: i32) -> String {
    if exponent < 0 {
        format!("1/{}", 1 << -exponent)
    } else {
        (1 << exponent).to_string()
    }
}

fn probability_ticks() -> Vec<(f64, String)> {
    (0..=5)
        .map(|i| (i as f64 / 5.0, format!("{:.1}", i as f64 / 5.0)))
        .collect()
}

fn colour(i: usize) -> Rgb888 {
    let [r, g, b] = STRIDE_COLOURS[i % STRIDE_COLOURS.len()];
    Rgb888::new(r, g, b)
}

/// How data values map onto an axis.
#[derive(Debug, Clone, Copy)]
enum Scale {
    Linear(f64, f64),
    Log2(f64, f64),
}

impl Scale {
    /// Where `v` lies between the axis ends, 0..=1; values outside the
    /// axis (and 0 on a log axis) are clamped to its ends.
    fn fraction(self, v: f64) -> f64 {
        let f = match self {
            Scale::Linear(lo, hi) => (v - lo) / (hi - lo),
            Scale::Log2(lo, hi) => (v.max(lo).log2() - lo.log2()) / (hi.log2() - lo.log2()),
        };
        f.clamp(0.0, 1.0)
    }
}

/// A plot area inside the figure and its two scales.
struct Axes {
    size: PlotSize,
    area: Rectangle,
    x: Scale,
    y: Scale,
    x_ticks: Vec<(f64, String)>,
    y_ticks: Vec<(f64, String)>,
}

impl Axes {
    fn new(
        size: PlotSize,
        x: Scale,
        x_ticks: Vec<(f64, String)>,
        y_ticks: Vec<(f64, String)>,
    ) -> Axes {
        let (left, top, right, bottom) = (70, 50, 30, 60);
        let area = Rectangle::new(
            Point::new(left, top),
            Size::new(
                size.width - left as u32 - right,
                size.height - top as u32 - bottom,
            ),
        );
        Axes {
            size,
            area,
            x,
            y: Scale::Linear(0.0, 1.0),
            x_ticks,
            y_ticks,
        }
    }

    fn point(&self, (x, y): (f64, f64)) -> Point {
        let w = self.area.size.width as f64 - 1.0;
        let h = self.area.size.height as f64 - 1.0;
        Point::new(
            self.area.top_left.x + (self.x.fraction(x) * w).round() as i32,
            self.area.top_left.y + ((1.0 - self.y.fraction(y)) * h).round() as i32,
        )
    }

    /// Title, grid, frame, ticks and axis labels.
    fn draw_frame(&self, canvas: &mut Canvas, title: &str, x_label: &str, y_label: &str) {
        let title_font = MonoTextStyle::new(&FONT_8X13, INK);
        let font = MonoTextStyle::new(&FONT_6X10, INK);
        let centre_x = self.size.width as i32 / 2;
        text(
            canvas,
            title,
            Point::new(centre_x, 18),
            title_font,
            Alignment::Center,
        );
        text(canvas, y_label, Point::new(10, 38), font, Alignment::Left);
        let bottom = self.area.top_left.y + self.area.size.height as i32;
        let label_y = self.size.height as i32 - 18;
        text(
            canvas,
            x_label,
            Point::new(centre_x, label_y),
            font,
            Alignment::Center,
        );
        for (v, label) in &self.x_ticks {
            let p = self.point((*v, 0.0));
            line(canvas, Point::new(p.x, self.area.top_left.y), p, GRID, 1);
            line(canvas, p, Point::new(p.x, bottom + 4), INK, 1);
            text(
                canvas,
                label,
                Point::new(p.x, bottom + 14),
                font,
                Alignment::Center,
            );
        }
        for (v, label) in &self.y_ticks {
            let p = self.point((0.0, *v));
            let right = self.area.top_left.x + self.area.size.width as i32 - 1;
            line(canvas, p, Point::new(right, p.y), GRID, 1);
            line(canvas, Point::new(p.x - 4, p.y), p, INK, 1);
            text(
                canvas,
                label,
                Point::new(p.x - 7, p.y),
                font,
                Alignment::Right,
            );
        }
        let _ = self
            .area
            .into_styled(PrimitiveStyle::with_stroke(INK, 1))
            .draw(canvas);
    }

    /// The polyline through `points` (data coordinates).
    fn draw_curve(&self, canvas: &mut Canvas, points: &[(f64, f64)], colour: Rgb888) {
        for pair in points.windows(2) {
            line(canvas, self.point(pair[0]), self.point(pair[1]), colour, 2);
        }
        if let [only] = points {
            let p = self.point(*only);
            line(canvas, p, p, colour, 3);
        }
    }

    /// A box in the lower right corner: a line of each curve's colour and
    /// its label.
    fn draw_legend(&self, canvas: &mut Canvas, labels: &[String]) {
        let font = MonoTextStyle::new(&FONT_6X10, INK);
        let longest = labels.iter().map(|l| l.len()).max().unwrap_or(0) as u32;
        let size = Size::new(longest * 6 + 44, labels.len() as u32 * 16 + 8);
        let corner = self.area.top_left + self.area.size - size - Size::new(10, 10);
        let _ = Rectangle::new(corner, size)
            .into_styled(PrimitiveStyle::with_fill(BACKGROUND))
            .draw(canvas);
        let _ = Rectangle::new(corner, size)
            .into_styled(PrimitiveStyle::with_stroke(INK, 1))
            .draw(canvas);
        for (i, label) in labels.iter().enumerate() {
            let y = corner.y + 12 + 16 * i as i32;
            line(
                canvas,
                Point::new(corner.x + 8, y),
                Point::new(corner.x + 30, y),
                colour(i),
                3,
            );
            text(
                canvas,
                label,
                Point::new(corner.x + 36, y),
                font,
                Alignment::Left,
            );
        }
    }
}

fn line(canvas: &mut Canvas, from: Point, to: Point, colour: Rgb888, width: u32) {
    let _ = Line::new(from, to)
        .into_styled(PrimitiveStyle::with_stroke(colour, width))
        .draw(canvas);
}

fn text(
    canvas: &mut Canvas,
    s: &str,
    at: Point,
    font: MonoTextStyle<Rgb888>,
    alignment: Alignment,
) {
    let style = TextStyleBuilder::new()
        .alignment(alignment)
        .baseline(Baseline::Middle)
        .build();
    let _ = Text::with_text_style(s, at, font, style).draw(canvas);
}

/// An RGB image embedded-graphics draws into.
struct Canvas {
    size: PlotSize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(size: PlotSize) -> Canvas {
        let [r, g, b] = [BACKGROUND.r(), BACKGROUND.g(), BACKGROUND.b()];
        Canvas {
            size,
            rgb: [r, g, b].repeat((size.width * size.height) as usize),
        }
    }

    fn encode(&self) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, self.size.width, self.size.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&self.rgb)
            .map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}

impl OriginDimensions for Canvas {
    fn size(&self) -> Size {
        Size::new(self.size.width, self.size.height)
    }
}

impl DrawTarget for Canvas {
    type Color = Rgb888;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Rgb888>>,
    {
        let (w, h) = (self.size.width as i32, self.size.height as i32);
        for Pixel(p, c) in pixels {
            if (0..w).contains(&p.x) && (0..h).contains(&p.y) {
                let i = (p.y * w + p.x) as usize * 3;
                self.rgb[i..i + 3].copy_from_slice(&[c.r(), c.g(), c.b()]);
            }
        }
        Ok(())
    }
}
