//! Specialty-plate emblems: the picture many US plates carry beside the
//! serial (a cause's badge, a bucking horse, an archer, the wheelchair
//! symbol, an awareness ribbon, a state's outline). Drawn from a few random
//! shape families, never copied from a real design; they teach the reader
//! that a picture as tall as the serial is not a character.
//!
//! ```text
//! box beside the serial -> family (badge | figure | wheelchair | ribbon | blob)
//!   -> shapes in 1-3 colours of a palette -> canvas
//! ```

use std::f32::consts::{PI, TAU};

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, Rgb, hex, luma};
use super::layout::Rect;

const PALETTE: [Rgb; 10] = [
    hex(0x1a2a6a),
    hex(0xb02020),
    hex(0x207030),
    hex(0x5a3a1a),
    hex(0xe08020),
    hex(0x101010),
    hex(0xc8a030),
    hex(0x5a2a80),
    hex(0x3070c0),
    hex(0xd05090),
];

fn colour(rng: &mut Pcg64Mcg) -> Rgb {
    PALETTE[rng.random_range(0..PALETTE.len())]
}

/// Draws one emblem inside `bx` on a plate whose background there is `bg`.
pub(crate) fn emblem(c: &mut Canvas, rng: &mut Pcg64Mcg, bx: Rect, bg: Rgb) {
    let [x0, y0, x1, y1] = bx;
    let (w, h) = (x1 - x0, y1 - y0);
    let (cx, cy) = (x0 + w / 2.0, y0 + h / 2.0);
    let r = w.min(h) / 2.0;
    match rng.random_range(0..5) {
        0 => badge(c, rng, [cx, cy], r),
        1 => {
            let ink = colour(rng);
            figure(c, rng, [cx, cy], [w / 2.0, h / 2.0], ink);
        }
        2 => wheelchair(c, rng, bx, bg),
        3 => ribbon(c, rng, [cx, cy], [w / 2.0, h / 2.0]),
        _ => blob(c, rng, [cx, cy], [w / 2.0, h / 2.0]),
    }
}

/// A seal: discs in two colours, a ring of marks where a seal's lettering
/// goes, a star or a blob in the middle.
fn badge(c: &mut Canvas, rng: &mut Pcg64Mcg, [cx, cy]: [f32; 2], r: f32) {
    let (outer, inner) = (colour(rng), colour(rng));
    c.fill_disc(cx, cy, r, outer, 1.0);
    let ri = r * rng.random_range(0.6..0.8);
    c.fill_disc(cx, cy, ri, inner, 1.0);
    let mark = if luma(outer) > 0.45 {
        hex(0x101010)
    } else {
        hex(0xf0f0f0)
    };
    if rng.random_bool(0.7) {
        let n = rng.random_range(12..28);
        let rm = (r + ri) / 2.0;
        for i in 0..n {
            let t = i as f32 / n as f32 * TAU;
            let (x, y) = (cx + rm * t.cos(), cy + rm * t.sin());
            let s = (r - ri) * 0.3;
            c.fill_rect(x - s, y - s, x + s, y + s, mark, 0.9);
        }
    }
    let centre = colour(rng);
    if rng.random_bool(0.5) {
        let points = rng.random_range(5..9);
        let spin = rng.random_range(0.0..TAU);
        let star: Vec<[f32; 2]> = (0..points * 2)
            .map(|i| {
                let t = spin + i as f32 * PI / points as f32;
                let k = if i % 2 == 0 { 0.85 } else { 0.4 };
                [cx + ri * k * t.cos(), cy + ri * k * t.sin()]
            })
            .collect();
        c.fill_polygon(&star, centre, 1.0);
    } else {
        blob(c, rng, [cx, cy], [ri * 0.8, ri * 0.8]);
    }
}

/// A silhouette in `ink`: a body, a head and limbs, like the horse, rider,
/// archer or animal of many plates, within `hw` and `hh` of the centre.
pub(crate) fn figure(
    c: &mut Canvas,
    rng: &mut Pcg64Mcg,
    [cx, cy]: [f32; 2],
    [hw, hh]: [f32; 2],
    ink: Rgb,
) {
    // Limbs and head reach up to 0.45 of the shorter half-side past the body.
    let m = hw.min(hh);
    let (bw, bh) = (
        (hw - m * 0.5) * rng.random_range(0.6..1.0),
        (hh - m * 0.5) * rng.random_range(0.4..0.8),
    );
    let tilt = rng.random_range(-0.8..0.8f32);
    let body: Vec<[f32; 2]> = (0..24)
        .map(|i| {
            let t = i as f32 / 24.0 * TAU;
            let (x, y) = (bw * t.cos(), bh * t.sin());
            [
                cx + x * tilt.cos() - y * tilt.sin(),
                cy + x * tilt.sin() + y * tilt.cos(),
            ]
        })
        .collect();
    c.fill_polygon(&body, ink, 1.0);
    let thick = m * rng.random_range(0.08..0.16);
    let head_at = rng.random_range(0.0..PI);
    let (hx, hy) = (
        cx + (bw + m * 0.2) * head_at.cos(),
        cy - (bh + m * 0.2) * head_at.sin(),
    );
    c.fill_capsule([cx, cy], [hx, hy], thick * 1.3, ink, 1.0);
    c.fill_disc(hx, hy, m * rng.random_range(0.15..0.25), ink, 1.0);
    for _ in 0..rng.random_range(2..6) {
        let t = rng.random_range(0.0..TAU);
        let from = [cx + bw * 0.8 * t.cos(), cy + bh * 0.8 * t.sin()];
        let len = m * rng.random_range(0.3..0.6);
        let dir = t + rng.random_range(-0.6..0.6);
        let mid = [
            from[0] + len * 0.5 * dir.cos(),
            from[1] + len * 0.5 * dir.sin(),
        ];
        let bend = dir + rng.random_range(-1.0..1.0);
        let end = [
            mid[0] + len * 0.5 * bend.cos(),
            mid[1] + len * 0.5 * bend.sin(),
        ];
        c.fill_capsule(from, mid, thick, ink, 1.0);
        c.fill_capsule(mid, end, thick * 0.8, ink, 1.0);
    }
}

/// An archer in `ink` inside `bx`: a figure filling most of the box, a
/// bow as tall as most of the box bent on one side of it and an arrow
/// across the bow pointing up, in the spirit of Oklahoma's "Native America"
/// plate. The bow and arrow are strokes as thick as a character's, which a
/// reader must learn are no `2`, `7` or `1`.
pub(crate) fn archer(c: &mut Canvas, rng: &mut Pcg64Mcg, [x0, y0, x1, y1]: Rect, ink: Rgb) {
    let (w, h) = (x1 - x0, y1 - y0);
    let body = [
        x0 + w * rng.random_range(0.4..0.55),
        y0 + h * rng.random_range(0.55..0.65),
    ];
    figure(c, rng, body, [w * 0.42, h * 0.34], ink);
    // The bow: an arc of a flattened ellipse, facing left or right, tilted.
    let face = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    let (bx, by) = (x0 + w * (0.5 + face * 0.1), y0 + h * 0.45);
    let (ra, rb) = (
        w * rng.random_range(0.1..0.2),
        h * rng.random_range(0.3..0.45),
    );
    let tilt = rng.random_range(-0.1..0.1f32);
    let thick = w.min(h) * rng.random_range(0.04..0.08);
    let at = |t: f32| {
        let (x, y) = (face * ra * t.cos(), rb * t.sin());
        [
            bx + x * tilt.cos() - y * tilt.sin(),
            by + x * tilt.sin() + y * tilt.cos(),
        ]
    };
    let n = 16;
    for i in 0..n {
        let t0 = -PI / 2.0 + PI * i as f32 / n as f32;
        let t1 = -PI / 2.0 + PI * (i + 1) as f32 / n as f32;
        c.fill_capsule(at(t0), at(t1), thick, ink, 1.0);
    }
    // The string, thin, and the arrow from the figure's shoulder up past the bow.
    c.fill_capsule(at(-PI / 2.0), at(PI / 2.0), thick * 0.3, ink, 1.0);
    let from = [bx - face * w * 0.2, by + h * 0.1];
    let to = [
        bx + face * w * rng.random_range(0.1..0.3),
        y0 + h * rng.random_range(0.05..0.15),
    ];
    c.fill_capsule(from, to, thick * 0.6, ink, 1.0);
}

/// The International Symbol of Access, on its own blue square or in the
/// plate's ink.
fn wheelchair(c: &mut Canvas, rng: &mut Pcg64Mcg, [x0, y0, x1, y1]: Rect, bg: Rgb) {
    let side = (x1 - x0).min(y1 - y0);
    let (sx, sy) = ((x0 + x1 - side) / 2.0, (y0 + y1 - side) / 2.0);
    let (ink, under) = if rng.random_bool(0.5) {
        c.fill_rect(sx, sy, sx + side, sy + side, hex(0x1a4aa0), 1.0);
        (hex(0xf4f4f4), hex(0x1a4aa0))
    } else {
        (colour(rng), bg)
    };
    let p = |fx: f32, fy: f32| [sx + side * fx, sy + side * fy];
    let t = side * rng.random_range(0.05..0.08);
    let [wx, wy] = p(0.42, 0.66);
    let wr = side * 0.27;
    c.fill_disc(wx, wy, wr, ink, 1.0);
    c.fill_disc(wx, wy, wr - t * 1.2, under, 1.0);
    c.fill_disc(sx + side * 0.42, sy + side * 0.14, side * 0.09, ink, 1.0);
    c.fill_capsule(p(0.4, 0.28), p(0.38, 0.58), t, ink, 1.0);
    c.fill_capsule(p(0.39, 0.42), p(0.6, 0.42), t * 0.8, ink, 1.0);
    c.fill_capsule(p(0.38, 0.58), p(0.66, 0.58), t, ink, 1.0);
    c.fill_capsule(p(0.66, 0.58), p(0.78, 0.86), t, ink, 1.0);
}

/// A looped band crossing itself at the bottom (the awareness ribbon), or
/// a swoosh.
fn ribbon(c: &mut Canvas, rng: &mut Pcg64Mcg, [cx, cy]: [f32; 2], [hw, hh]: [f32; 2]) {
    let ink = colour(rng);
    let t = hw.min(hh) * rng.random_range(0.12..0.22);
    let loop_ = rng.random_bool(0.6);
    let (a, b) = (
        (hw - t) * rng.random_range(0.6..1.0),
        (hh - t) * rng.random_range(0.7..1.0),
    );
    let phase = rng.random_range(0.0..TAU);
    let point = |s: f32| {
        if loop_ {
            // A teardrop loop at the top, two tails below.
            let u = s * 1.6 * PI - 0.3 * PI;
            [cx + a * 0.6 * (2.0 * u).sin(), cy - b * u.cos()]
        } else {
            [
                cx + a * (2.0 * s - 1.0),
                cy + b * 0.5 * (s * PI * 1.5 + phase).sin(),
            ]
        }
    };
    let n = 24;
    for i in 0..n {
        let (s0, s1) = (i as f32 / n as f32, (i + 1) as f32 / n as f32);
        c.fill_capsule(point(s0), point(s1), t, ink, 1.0);
    }
}

/// A lumpy star-shaped outline (a state's shape, a leaf, a splash), with a
/// second colour inside half the time.
fn blob(c: &mut Canvas, rng: &mut Pcg64Mcg, [cx, cy]: [f32; 2], [hw, hh]: [f32; 2]) {
    let n = rng.random_range(10..30);
    let mut radii: Vec<f32> = (0..n).map(|_| rng.random_range(0.45..1.0)).collect();
    // Smooth once so the outline is lumpy rather than spiky.
    radii = (0..n)
        .map(|i| (radii[(i + n - 1) % n] + 2.0 * radii[i] + radii[(i + 1) % n]) / 4.0)
        .collect();
    let outline = |k: f32| -> Vec<[f32; 2]> {
        radii
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let t = i as f32 / n as f32 * TAU;
                [cx + hw * k * r * t.cos(), cy + hh * k * r * t.sin()]
            })
            .collect()
    };
    c.fill_polygon(&outline(1.0), colour(rng), 1.0);
    if rng.random_bool(0.5) {
        c.fill_polygon(&outline(rng.random_range(0.3..0.6)), colour(rng), 1.0);
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// Every family paints inside its box and leaves the rest of the plate
    /// alone.
    #[test]
    fn emblems_paint_their_box_and_nothing_else() {
        let white = hex(0xffffff);
        for seed in 0..40 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let mut c = Canvas::new(200, 100, white);
            let bx = [20.0, 20.0, 70.0, 80.0];
            emblem(&mut c, &mut rng, bx, white);
            let mut inside = 0;
            for y in 0..100 {
                for x in 0..200 {
                    let changed = c.px[y * 200 + x] != white;
                    let (xf, yf) = (x as f32, y as f32);
                    let near = xf >= bx[0] - 2.0
                        && xf < bx[2] + 2.0
                        && yf >= bx[1] - 2.0
                        && yf < bx[3] + 2.0;
                    assert!(!changed || near, "seed {seed}: ({x}, {y}) painted");
                    inside += changed as usize;
                }
            }
            assert!(inside > 200, "seed {seed}: only {inside} pixels painted");
        }
    }
}
