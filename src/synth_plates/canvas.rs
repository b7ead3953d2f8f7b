//! A small floating-point RGB image (values 0..1, sRGB) that plates are
//! drawn on and augmented in, and the coverage mask text is drawn into.
//! Conversion to `image::RgbImage` happens once, at the end.

use image::RgbImage;

/// An RGB colour, components 0..1.
pub(crate) type Rgb = [f32; 3];

/// An RGB colour from `0xRRGGBB`.
pub(crate) const fn hex(c: u32) -> Rgb {
    [
        ((c >> 16) & 255) as f32 / 255.0,
        ((c >> 8) & 255) as f32 / 255.0,
        (c & 255) as f32 / 255.0,
    ]
}

pub(crate) fn lerp(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

pub(crate) fn scale(a: Rgb, k: f32) -> Rgb {
    [a[0] * k, a[1] * k, a[2] * k]
}

/// Rec. 601 luma.
pub(crate) fn luma(a: Rgb) -> f32 {
    0.299 * a[0] + 0.587 * a[1] + 0.114 * a[2]
}

#[derive(Clone)]
pub(crate) struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<Rgb>,
}

impl Canvas {
    pub(crate) fn new(w: usize, h: usize, fill: Rgb) -> Canvas {
        Canvas {
            w,
            h,
            px: vec![fill; w * h],
        }
    }

    /// Blends `c` over the pixel at (x, y) with opacity `a`; outside is ignored.
    #[inline]
    pub(crate) fn blend(&mut self, x: i64, y: i64, c: Rgb, a: f32) {
        if x < 0 || y < 0 || x >= self.w as i64 || y >= self.h as i64 || a <= 0.0 {
            return;
        }
        let p = &mut self.px[y as usize * self.w + x as usize];
        *p = lerp(*p, c, a.min(1.0));
    }

    /// Fills the axis-aligned rectangle [x0, x1) x [y0, y1) (clipped).
    pub(crate) fn fill_rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: Rgb, a: f32) {
        let (xa, xb) = (x0.max(0.0) as usize, (x1.max(0.0) as usize).min(self.w));
        let (ya, yb) = (y0.max(0.0) as usize, (y1.max(0.0) as usize).min(self.h));
        for y in ya..yb {
            for p in &mut self.px[y * self.w + xa..y * self.w + xb.max(xa)] {
                *p = lerp(*p, c, a);
            }
        }
    }

    /// Fills a disc, antialiased at its edge.
    pub(crate) fn fill_disc(&mut self, cx: f32, cy: f32, r: f32, c: Rgb, a: f32) {
        let (x0, x1) = ((cx - r - 1.0).floor() as i64, (cx + r + 1.0).ceil() as i64);
        let (y0, y1) = ((cy - r - 1.0).floor() as i64, (cy + r + 1.0).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                self.blend(x, y, c, a * (r - d + 0.5).clamp(0.0, 1.0));
            }
        }
    }

    /// Fills the points within `r` of the segment `a`-`b` (a thick line with
    /// round ends), antialiased at its edge.
    pub(crate) fn fill_capsule(&mut self, a: [f32; 2], b: [f32; 2], r: f32, c: Rgb, alpha: f32) {
        let (x0, x1) = (a[0].min(b[0]) - r - 1.0, a[0].max(b[0]) + r + 1.0);
        let (y0, y1) = (a[1].min(b[1]) - r - 1.0, a[1].max(b[1]) + r + 1.0);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len2 = (dx * dx + dy * dy).max(1e-6);
        for y in y0.floor() as i64..=y1.ceil() as i64 {
            for x in x0.floor() as i64..=x1.ceil() as i64 {
                let (px, py) = (x as f32 + 0.5 - a[0], y as f32 + 0.5 - a[1]);
                let t = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
                let d = ((px - t * dx).powi(2) + (py - t * dy).powi(2)).sqrt();
                self.blend(x, y, c, alpha * (r - d + 0.5).clamp(0.0, 1.0));
            }
        }
    }

    /// Fills a closed polygon (even-odd rule), 2x2 samples a pixel.
    pub(crate) fn fill_polygon(&mut self, pts: &[[f32; 2]], c: Rgb, alpha: f32) {
        if pts.len() < 3 {
            return;
        }
        let fold =
            |f: fn(f32, f32) -> f32, i: usize, init: f32| pts.iter().map(|p| p[i]).fold(init, f);
        let (x0, x1) = (fold(f32::min, 0, f32::MAX), fold(f32::max, 0, f32::MIN));
        let (y0, y1) = (fold(f32::min, 1, f32::MAX), fold(f32::max, 1, f32::MIN));
        let inside = |x: f32, y: f32| {
            let mut odd = false;
            let mut j = pts.len() - 1;
            for i in 0..pts.len() {
                let ([xi, yi], [xj, yj]) = (pts[i], pts[j]);
                if (yi > y) != (yj > y) && x < xi + (y - yi) * (xj - xi) / (yj - yi) {
                    odd = !odd;
                }
                j = i;
            }
            odd
        };
        for y in y0.floor().max(0.0) as i64..=(y1.ceil() as i64).min(self.h as i64 - 1) {
            for x in x0.floor().max(0.0) as i64..=(x1.ceil() as i64).min(self.w as i64 - 1) {
                let hits = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]
                    .iter()
                    .filter(|(sx, sy)| inside(x as f32 + sx, y as f32 + sy))
                    .count();
                self.blend(x, y, c, alpha * hits as f32 / 4.0);
            }
        }
    }

    /// Bilinear sample at continuous coordinates (pixel centres at +0.5),
    /// clamped to the edge.
    #[inline]
    pub(crate) fn sample(&self, x: f32, y: f32) -> Rgb {
        let fx = (x - 0.5).clamp(0.0, (self.w - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (self.h - 1) as f32);
        let (x0, y0) = (fx as usize, fy as usize);
        let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let top = lerp(self.px[y0 * self.w + x0], self.px[y0 * self.w + x1], tx);
        let bottom = lerp(self.px[y1 * self.w + x0], self.px[y1 * self.w + x1], tx);
        lerp(top, bottom, ty)
    }

    /// Box-filtered reduction by an integer factor (an anti-aliasing
    /// prefilter before a large downscale).
    pub(crate) fn shrink(&self, k: usize) -> Canvas {
        let (w, h) = ((self.w / k).max(1), (self.h / k).max(1));
        let mut out = Canvas::new(w, h, [0.0; 3]);
        let norm = 1.0 / (k * k) as f32;
        for y in 0..h {
            for x in 0..w {
                let mut s = [0.0f32; 3];
                for yy in y * k..((y + 1) * k).min(self.h) {
                    for p in &self.px[yy * self.w + x * k..yy * self.w + ((x + 1) * k).min(self.w)]
                    {
                        s = [s[0] + p[0], s[1] + p[1], s[2] + p[2]];
                    }
                }
                out.px[y * w + x] = scale(s, norm);
            }
        }
        out
    }

    /// An 8-bit image as a canvas (0..1).
    pub(crate) fn from_rgb(image: &RgbImage) -> Canvas {
        Canvas {
            w: image.width() as usize,
            h: image.height() as usize,
            px: image
                .pixels()
                .map(|p| p.0.map(|v| v as f32 / 255.0))
                .collect(),
        }
    }

    pub(crate) fn to_rgb(&self) -> RgbImage {
        let raw: Vec<u8> = self
            .px
            .iter()
            .flatten()
            .map(|c| (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
            .collect();
        RgbImage::from_raw(self.w as u32, self.h as u32, raw)
            .unwrap_or_else(|| RgbImage::new(self.w as u32, self.h as u32))
    }
}

/// Coverage (0..1) over a window of a canvas: text is drawn here first so
/// that it can be thickened, shadowed and composited in one colour.
pub(crate) struct Mask {
    pub x0: i64,
    pub y0: i64,
    pub w: usize,
    pub h: usize,
    pub a: Vec<f32>,
}

impl Mask {
    pub(crate) fn new(x0: i64, y0: i64, w: usize, h: usize) -> Mask {
        Mask {
            x0,
            y0,
            w,
            h,
            a: vec![0.0; w * h],
        }
    }

    /// Raises coverage at canvas coordinates (x, y) to at least `c`.
    #[inline]
    pub(crate) fn put(&mut self, x: i64, y: i64, c: f32) {
        let (mx, my) = (x - self.x0, y - self.y0);
        if mx < 0 || my < 0 || mx >= self.w as i64 || my >= self.h as i64 {
            return;
        }
        let p = &mut self.a[my as usize * self.w + mx as usize];
        *p = p.max(c.min(1.0));
    }

    /// Thickens strokes by `r` pixels (a running max over x, then y).
    pub(crate) fn dilate(&mut self, r: usize) {
        if r == 0 {
            return;
        }
        let src = self.a.clone();
        for y in 0..self.h {
            for x in 0..self.w {
                let row = &src[y * self.w..(y + 1) * self.w];
                let m = row[x.saturating_sub(r)..(x + r + 1).min(self.w)]
                    .iter()
                    .fold(0.0f32, |m, &v| m.max(v));
                self.a[y * self.w + x] = m;
            }
        }
        let src = self.a.clone();
        let ry = r.div_ceil(2);
        for y in 0..self.h {
            for x in 0..self.w {
                let mut m = 0.0f32;
                for yy in y.saturating_sub(ry)..(y + ry + 1).min(self.h) {
                    m = m.max(src[yy * self.w + x]);
                }
                self.a[y * self.w + x] = m;
            }
        }
    }

    /// Paints colour `c` through the mask, shifted by (dx, dy).
    pub(crate) fn paint(&self, canvas: &mut Canvas, c: Rgb, opacity: f32, dx: i64, dy: i64) {
        for my in 0..self.h {
            for mx in 0..self.w {
                let a = self.a[my * self.w + mx];
                if a > 0.0 {
                    canvas.blend(
                        self.x0 + mx as i64 + dx,
                        self.y0 + my as i64 + dy,
                        c,
                        a * opacity,
                    );
                }
            }
        }
    }
}
