//! Puts a flat plate into a camera's view and cuts the crop a localiser
//! would hand over:
//!
//! ```text
//! plate corners -> tilt, shear, perspective (random quad in image space)
//!   -> bounding box + margins (-4%..+12% a side; 0..35% in 15 crops of 100) -> output size
//!   -> per output pixel: inverse homography -> plate pixel, or the car around it
//! ```
//!
//! One warp does perspective, crop and scale; a box prefilter keeps large
//! reductions from aliasing.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, Rgb, hex, lerp, scale};

/// A 3x3 projective transform, row-major, h[8] = 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Homography([f32; 9]);

impl Homography {
    /// The transform taking each `from[i]` to `to[i]`; `None` when the
    /// points are degenerate.
    pub(crate) fn from_points(from: [[f32; 2]; 4], to: [[f32; 2]; 4]) -> Option<Homography> {
        let mut a = [[0f64; 9]; 8];
        for i in 0..4 {
            let ([x, y], [u, v]) = (from[i].map(f64::from), to[i].map(f64::from));
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        // Gaussian elimination with partial pivoting.
        for col in 0..8 {
            let p = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
            if a[p][col].abs() < 1e-9 {
                return None;
            }
            a.swap(col, p);
            let pivot = a[col];
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / pivot[col];
                    for (v, p) in row.iter_mut().zip(pivot).skip(col) {
                        *v -= f * p;
                    }
                }
            }
        }
        let mut h = [1f32; 9];
        for (i, row) in a.iter().enumerate() {
            h[i] = (row[8] / row[i]) as f32;
        }
        Some(Homography(h))
    }

    #[inline]
    pub(crate) fn apply(&self, x: f32, y: f32) -> [f32; 2] {
        let h = &self.0;
        let d = h[6] * x + h[7] * y + h[8];
        [
            (h[0] * x + h[1] * y + h[2]) / d,
            (h[3] * x + h[4] * y + h[5]) / d,
        ]
    }
}

/// What lies around the plate: the recess it sits in and the car's paint.
struct Surround {
    paint: Rgb,
    recess: Rgb,
    recess_w: f32,
    /// A frame larger than the plate (dealer frames overhang).
    frame: Option<(Rgb, f32)>,
    bumper_y: f32,
}

impl Surround {
    fn random(rng: &mut Pcg64Mcg, h: f32) -> Surround {
        let paints = [
            0x202020, 0xe8e8e8, 0x9a9ea4, 0x5a5e64, 0x7a1a1a, 0x1a2a5a, 0xc8c0b0, 0x2a4a2a,
        ];
        Surround {
            paint: scale(
                hex(paints[rng.random_range(0..paints.len())]),
                rng.random_range(0.7..1.1),
            ),
            recess: hex(0x1a1a1a),
            recess_w: h * rng.random_range(0.0..0.25),
            frame: rng.random_bool(0.3).then(|| {
                (
                    hex([0x101010, 0xa0a0a0, 0x303030][rng.random_range(0..3)]),
                    h * rng.random_range(0.02..0.08),
                )
            }),
            bumper_y: h * rng.random_range(1.1..1.6),
        }
    }

    /// Colour at plate coordinates (x, y) outside the plate.
    fn at(&self, x: f32, y: f32, w: f32, h: f32) -> Rgb {
        let dx = (-x).max(x - w).max(0.0);
        let dy = (-y).max(y - h).max(0.0);
        let d = dx.max(dy);
        if let Some((c, fw)) = self.frame
            && d < fw
        {
            return c;
        }
        if d < self.recess_w {
            return lerp(self.recess, self.paint, d / self.recess_w.max(1.0) * 0.5);
        }
        let shade = 1.0 - 0.25 * (y / h - 0.5).abs().min(1.0);
        let paint = scale(self.paint, shade);
        if (y - self.bumper_y).abs() < h * 0.04 {
            scale(paint, 0.4)
        } else {
            paint
        }
    }
}

/// Share of crops with margins up to 35% a side.
const LOOSE_CROPS: f64 = 0.15;

/// The localiser's crop of `plate`, `out_w` pixels wide.
pub(crate) fn crop(plate: &Canvas, rng: &mut Pcg64Mcg, out_w: usize) -> Canvas {
    let (w, h) = (plate.w as f32, plate.h as f32);
    let corners = [[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]];
    // Camera view: rotation, shear, and per-corner perspective.
    let angle = rng.random_range(-6.0f32..6.0).to_radians() * rng.random_range(0.0f32..1.0);
    let shear = rng.random_range(-0.15f32..0.15) * rng.random_range(0.0f32..1.0);
    let yaw = rng.random_range(-0.12f32..0.12);
    let pitch = rng.random_range(-0.08f32..0.08);
    let (s, co) = angle.sin_cos();
    let quad = corners.map(|[x, y]| {
        let (cx, cy) = (x - w / 2.0, y - h / 2.0);
        // Perspective: the far side shrinks.
        let k = 1.0 + yaw * cx / w + pitch * cy / h;
        let (px, py) = (cx * k + shear * cy, cy * k);
        [px * co - py * s, px * s + py * co]
    });
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for [x, y] in quad {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let (bw, bh) = (x1 - x0, y1 - y0);
    // Localiser margins: mostly a little loose, sometimes cutting the edge;
    // some as loose as a localiser's box that took in the car around.
    let loose = rng.random_bool(LOOSE_CROPS);
    let mut margin = || {
        if loose {
            rng.random_range(0.0f32..0.35)
        } else {
            rng.random_range(-0.04f32..0.12) * rng.random_range(0.3f32..1.0)
        }
    };
    let (ml, mr, mt, mb) = (margin() * bw, margin() * bw, margin() * bh, margin() * bh);
    let (x0, y0, x1, y1) = (x0 - ml, y0 - mt, x1 + mr, y1 + mb);
    let out_h = ((out_w as f32 * (y1 - y0) / (x1 - x0)).round() as usize).max(4);
    let step = (x1 - x0) / out_w as f32;
    let Some(to_plate) = Homography::from_points(quad, corners) else {
        return Canvas::new(out_w, out_h, hex(0x808080));
    };
    // Prefilter: sample a reduced plate when each output pixel covers many.
    let k = (step.floor() as usize).clamp(1, 8);
    let shrunk;
    let src = if k > 1 {
        shrunk = plate.shrink(k);
        &shrunk
    } else {
        plate
    };
    let kf = k as f32;
    let surround = Surround::random(rng, h);
    let radius = h * 0.05;
    let mut out = Canvas::new(out_w, out_h, [0.0; 3]);
    for v in 0..out_h {
        for u in 0..out_w {
            let ix = x0 + (u as f32 + 0.5) * step;
            let iy = y0 + (v as f32 + 0.5) * step;
            let [px, py] = to_plate.apply(ix, iy);
            // Coverage of the plate at this pixel, with rounded corners.
            let cxr = (px - px.clamp(radius, w - radius)).abs();
            let cyr = (py - py.clamp(radius, h - radius)).abs();
            let corner = if cxr > 0.0 && cyr > 0.0 {
                radius - (cxr * cxr + cyr * cyr).sqrt()
            } else {
                f32::MAX
            };
            let inside = px.min(w - px).min(py).min(h - py).min(corner);
            let a = (inside / (step * 1.0) + 0.5).clamp(0.0, 1.0);
            let p = if a > 0.0 {
                src.sample(px / kf, py / kf)
            } else {
                [0.0; 3]
            };
            out.px[v * out_w + u] = if a >= 1.0 {
                p
            } else {
                lerp(surround.at(px, py, w, h), p, a)
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_maps_its_points() {
        let from = [[0.0, 0.0], [10.0, 1.0], [11.0, 6.0], [-1.0, 5.0]];
        let to = [[0.0, 0.0], [100.0, 0.0], [100.0, 50.0], [0.0, 50.0]];
        let hm = Homography::from_points(from, to).unwrap();
        for i in 0..4 {
            let [x, y] = hm.apply(from[i][0], from[i][1]);
            assert!((x - to[i][0]).abs() < 1e-2 && (y - to[i][1]).abs() < 1e-2);
        }
        assert!(Homography::from_points([[0.0, 0.0]; 4], to).is_none());
    }
}
