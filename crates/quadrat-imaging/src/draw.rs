//! A tiny rasteriser for our own placeholders and default logos: a picture is a function from a
//! point to a colour, sampled 3x3 per pixel so edges are smooth. Shapes and a 5x7 bitmap font
//! are written here (no font files, nothing fetched).

use image::{Rgb, RgbImage};

pub(crate) type Colour = [u8; 3];

/// Renders `width` x `height` pixels; `shade(x, y)` gives the colour at a point in pixel units.
pub(crate) fn render(width: u32, height: u32, shade: impl Fn(f32, f32) -> Colour) -> RgbImage {
    const S: u32 = 3;
    RgbImage::from_fn(width, height, |x, y| {
        let mut sum = [0u32; 3];
        for sy in 0..S {
            for sx in 0..S {
                let px = x as f32 + (sx as f32 + 0.5) / S as f32;
                let py = y as f32 + (sy as f32 + 0.5) / S as f32;
                let c = shade(px, py);
                for (acc, v) in sum.iter_mut().zip(c) {
                    *acc += u32::from(v);
                }
            }
        }
        let n = S * S;
        Rgb(sum.map(|v| ((v + n / 2) / n) as u8))
    })
}

pub(crate) fn in_circle(x: f32, y: f32, cx: f32, cy: f32, r: f32) -> bool {
    let (dx, dy) = (x - cx, y - cy);
    dx * dx + dy * dy <= r * r
}

/// A rectangle with corners rounded by `r`.
pub(crate) fn in_round_rect(x: f32, y: f32, rect: [f32; 4], r: f32) -> bool {
    let [x0, y0, x1, y1] = rect;
    if x < x0 || x > x1 || y < y0 || y > y1 {
        return false;
    }
    let cx = x.clamp(x0 + r, x1 - r);
    let cy = y.clamp(y0 + r, y1 - r);
    in_circle(x, y, cx, cy, r)
}

pub(crate) fn in_triangle(x: f32, y: f32, [a, b, c]: [(f32, f32); 3]) -> bool {
    let side = |p: (f32, f32), q: (f32, f32)| (q.0 - p.0) * (y - p.1) - (q.1 - p.1) * (x - p.0);
    let (d1, d2, d3) = (side(a, b), side(b, c), side(c, a));
    let neg = d1 < 0.0 || d2 < 0.0 || d3 < 0.0;
    let pos = d1 > 0.0 || d2 > 0.0 || d3 > 0.0;
    !(neg && pos)
}

/// A line of text in the 5x7 font, placed by its centre, each font cell `cell` pixels.
pub(crate) struct Text {
    glyphs: Vec<[u8; 7]>,
    left: f32,
    top: f32,
    cell: f32,
}

impl Text {
    pub(crate) fn centred(text: &str, cx: f32, cy: f32, cell: f32) -> Text {
        let glyphs: Vec<[u8; 7]> = text.chars().map(glyph).collect();
        // Five columns a glyph, one between glyphs.
        let columns = (glyphs.len() * 6).saturating_sub(1) as f32;
        Text {
            left: cx - columns * cell / 2.0,
            top: cy - 3.5 * cell,
            glyphs,
            cell,
        }
    }

    pub(crate) fn covers(&self, x: f32, y: f32) -> bool {
        let col = ((x - self.left) / self.cell).floor();
        let row = ((y - self.top) / self.cell).floor();
        if col < 0.0 || !(0.0..7.0).contains(&row) {
            return false;
        }
        let (col, row) = (col as usize, row as usize);
        let (index, bit) = (col / 6, col % 6);
        bit < 5
            && self
                .glyphs
                .get(index)
                .is_some_and(|g| g[row] & (0x10 >> bit) != 0)
    }
}

/// Rows of a 5x7 glyph, the top row first, bit 4 the leftmost column. Unknown characters are
/// drawn as `?`.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ' ' => [0; 7],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        _ => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
    }
}

/// A colour from hue (degrees), saturation and lightness (0–1).
pub(crate) fn hsl(hue: f32, s: f32, l: f32) -> Colour {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h = hue / 60.0;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    [r, g, b].map(|v| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}
