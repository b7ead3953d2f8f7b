//! Camera and lighting effects on a crop, all drawn from the sample's
//! random stream:
//!
//! ```text
//! shadow, glare -> brightness, contrast, gamma, colour cast
//!   -> gaussian or motion blur -> low resolution (down, up) -> noise
//!   -> 8-bit -> JPEG re-compression
//! ```

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, lerp, scale};

/// Applies the whole chain and returns the final 8-bit image.
pub(crate) fn apply(mut c: Canvas, rng: &mut Pcg64Mcg) -> RgbImage {
    if rng.random_bool(0.3) {
        shadow(&mut c, rng);
    }
    if rng.random_bool(0.2) {
        glare(&mut c, rng);
    }
    tone(&mut c, rng);
    // Blur in proportion to size: a small crop is already soft, and
    // blurring it as much as a large one would make it unreadable.
    let size = (c.w as f32 / 250.0).clamp(0.4, 1.0);
    match rng.random_range(0..10) {
        0..6 => {}
        6..9 => blur(&mut c, rng.random_range(0.3..1.4) * size),
        _ => {
            let len = (rng.random_range(2.0..6.0) * size).round() as usize;
            motion_blur(&mut c, len.max(2), rng.random_range(-0.3..0.3));
        }
    }
    if c.w >= 120 && rng.random_bool(0.25) {
        c = low_res(&c, rng.random_range(1.5..(c.w as f32 / 60.0).min(3.5)));
    }
    let sigma = rng.random_range(0.0..0.05f32).powi(2) * 20.0;
    noise(&mut c, rng, sigma);
    let img = c.to_rgb();
    if rng.random_bool(0.6) {
        jpeg(&img, rng.random_range(25..92)).unwrap_or(img)
    } else {
        img
    }
}

/// A soft-edged shadow over one side of a line across the crop.
fn shadow(c: &mut Canvas, rng: &mut Pcg64Mcg) {
    let t = rng.random_range(0.0..std::f32::consts::TAU);
    let (nx, ny) = (t.cos(), t.sin());
    let (w, h) = (c.w as f32, c.h as f32);
    let off = rng.random_range(-0.3..0.3) * w.max(h);
    let soft = rng.random_range(1.0..0.2 * w.max(h));
    let depth = rng.random_range(0.3..0.7);
    for y in 0..c.h {
        for x in 0..c.w {
            let d = (x as f32 - w / 2.0) * nx + (y as f32 - h / 2.0) * ny - off;
            let k = 1.0 - depth * (d / soft + 0.5).clamp(0.0, 1.0);
            let p = &mut c.px[y * c.w + x];
            *p = scale(*p, k);
        }
    }
}

/// A bright, slightly warm spot (sun or headlight on the reflective sheet).
fn glare(c: &mut Canvas, rng: &mut Pcg64Mcg) {
    let (w, h) = (c.w as f32, c.h as f32);
    let (cx, cy) = (rng.random_range(0.0..w), rng.random_range(0.0..h));
    let r = rng.random_range(0.1..0.5) * w;
    let gain = rng.random_range(0.3..0.9);
    let inv = 1.0 / (r * r);
    for y in 0..c.h {
        for x in 0..c.w {
            let d2 = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)) * inv;
            if d2 < 4.0 {
                let g = gain * (-d2).exp();
                let p = &mut c.px[y * c.w + x];
                *p = lerp(*p, [1.0, 0.98, 0.92], g);
            }
        }
    }
}

/// Brightness, contrast, gamma and a colour cast.
fn tone(c: &mut Canvas, rng: &mut Pcg64Mcg) {
    let gain = rng.random_range(0.55..1.25f32);
    let contrast = rng.random_range(0.5..1.2f32);
    let gamma = rng.random_range(0.7..1.5f32);
    let cast = [
        rng.random_range(0.85..1.15f32),
        rng.random_range(0.9..1.1f32),
        rng.random_range(0.85..1.15f32),
    ];
    let lift = rng.random_range(0.0..0.08f32);
    for p in &mut c.px {
        for (i, v) in p.iter_mut().enumerate() {
            let x = ((*v - 0.5) * contrast + 0.5) * gain * cast[i];
            let x = x.clamp(0.0, 1.0);
            // 0 and 1 are their own powers (and -0 gives `lift` either
            // way): a saturated channel skips the costly `powf`.
            let y = if x == 0.0 || x == 1.0 {
                x
            } else {
                x.powf(gamma)
            };
            *v = lift + (1.0 - lift) * y;
        }
    }
}

fn convolve(c: &mut Canvas, kernel: &[f32], horizontal: bool) {
    let r = (kernel.len() / 2) as i64;
    let src = c.px.clone();
    let (w, h) = (c.w as i64, c.h as i64);
    for y in 0..h {
        for x in 0..w {
            let mut s = [0.0f32; 3];
            for (i, &k) in kernel.iter().enumerate() {
                let o = i as i64 - r;
                let (sx, sy) = if horizontal {
                    ((x + o).clamp(0, w - 1), y)
                } else {
                    (x, (y + o).clamp(0, h - 1))
                };
                let p = src[(sy * w + sx) as usize];
                s = [s[0] + k * p[0], s[1] + k * p[1], s[2] + k * p[2]];
            }
            c.px[(y * w + x) as usize] = s;
        }
    }
}

/// Separable gaussian blur.
fn blur(c: &mut Canvas, sigma: f32) {
    let r = (sigma * 2.5).ceil() as i64;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    convolve(c, &k, true);
    convolve(c, &k, false);
}

/// Motion blur along a line of `len` pixels, mostly horizontal (`slope`
/// pixels down per pixel across).
fn motion_blur(c: &mut Canvas, len: usize, slope: f32) {
    let src = c.px.clone();
    let (w, h) = (c.w as i64, c.h as i64);
    let n = len as f32;
    // Each tap's offset, the same for every pixel.
    let taps: Vec<(i64, i64)> = (0..len)
        .map(|i| {
            let o = i as f32 - (n - 1.0) / 2.0;
            (o.round() as i64, (o * slope).round() as i64)
        })
        .collect();
    for y in 0..h {
        for x in 0..w {
            let mut s = [0.0f32; 3];
            for &(ox, oy) in &taps {
                let sx = (x + ox).clamp(0, w - 1);
                let sy = (y + oy).clamp(0, h - 1);
                let p = src[(sy * w + sx) as usize];
                s = [s[0] + p[0], s[1] + p[1], s[2] + p[2]];
            }
            c.px[(y * w + x) as usize] = scale(s, 1.0 / n);
        }
    }
}

/// Down by `f` (box average) then back up (bilinear): a distant plate.
fn low_res(c: &Canvas, f: f32) -> Canvas {
    let k = (f.round() as usize).max(2);
    if c.w / k < 8 || c.h / k < 4 {
        return c.clone();
    }
    let small = c.shrink(k);
    let mut out = Canvas::new(c.w, c.h, [0.0; 3]);
    let (sx, sy) = (small.w as f32 / c.w as f32, small.h as f32 / c.h as f32);
    for y in 0..c.h {
        for x in 0..c.w {
            out.px[y * c.w + x] = small.sample((x as f32 + 0.5) * sx, (y as f32 + 0.5) * sy);
        }
    }
    out
}

/// Sensor noise: luma noise plus a little chroma, triangular distribution
/// (cheap, close enough to gaussian at this size).
fn noise(c: &mut Canvas, rng: &mut Pcg64Mcg, sigma: f32) {
    if sigma < 0.002 {
        return;
    }
    let tri = |bits: u64| ((bits & 0xffff) as f32 + ((bits >> 16) & 0xffff) as f32) / 65535.0 - 1.0;
    for p in &mut c.px {
        let r: u64 = rng.random();
        let l = tri(r) * sigma * 1.7;
        let ch = tri(r >> 32) * sigma * 0.6;
        p[0] += l + ch;
        p[1] += l;
        p[2] += l - ch;
    }
}

/// Encodes and decodes at JPEG `quality`; `None` if either step fails.
fn jpeg(img: &RgbImage, quality: u8) -> Option<RgbImage> {
    let mut buf = Vec::with_capacity(img.len() / 4);
    JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(img)
        .ok()?;
    let decoded = image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg).ok()?;
    Some(decoded.into_rgb8())
}
