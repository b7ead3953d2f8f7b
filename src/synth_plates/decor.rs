//! Plate artwork and hardware: background scenes behind the text, the EU
//! band, registration stickers, bolts and the plate's embossed border. The
//! dealer frame is in `render`, since it carries text.

use std::f32::consts::PI;

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, Rgb, hex, lerp};
use super::emblem;
use super::styles::Decor;

/// Fills the region under the curve `top(x)` (in pixels) down to the bottom.
fn fill_below(c: &mut Canvas, colour: Rgb, a: f32, top: impl Fn(f32) -> f32) {
    for x in 0..c.w {
        let t = top(x as f32 + 0.5);
        let y0 = t.max(0.0) as usize;
        if y0 < c.h {
            c.blend(x as i64, y0 as i64, colour, a * (1.0 - t.fract()));
            c.fill_rect(
                x as f32,
                y0 as f32 + 1.0,
                x as f32 + 1.0,
                c.h as f32,
                colour,
                a,
            );
        }
    }
}

/// Paints the artwork of a design (the EU band excepted); returns how far
/// from the left edge the serial must start to leave the artwork clear (0
/// where it may run over it), and whether it drew Oklahoma's archer (as
/// often as `clutter` (0-1) times its usual share).
pub(crate) fn art(c: &mut Canvas, decor: Decor, rng: &mut Pcg64Mcg, clutter: f64) -> (f32, bool) {
    let (w, h) = (c.w as f32, c.h as f32);
    match decor {
        // Newer plates carry the archer, older ones the plain design.
        Decor::Archer(col) if rng.random_bool(0.7 * clutter) => {
            let x0 = w * rng.random_range(0.02..0.05);
            let x1 = x0 + w * rng.random_range(0.18..0.27);
            let y = [
                h * rng.random_range(0.08..0.2),
                h * rng.random_range(0.9..0.98),
            ];
            let ink = lerp(col, hex(0xf0f0f0), rng.random_range(0.0..0.6));
            emblem::archer(c, rng, [x0, y[0], x1, y[1]], ink);
            return (x1 + w * rng.random_range(0.0..0.03), true);
        }
        Decor::Plain | Decor::EuBand | Decor::Archer(_) => {}
        Decor::Mountains(col) => {
            let base = h * rng.random_range(0.62..0.8);
            let peaks: Vec<(f32, f32)> = (0..rng.random_range(3..7))
                .map(|_| (rng.random_range(0.0..w), h * rng.random_range(0.08..0.3)))
                .collect();
            let a = rng.random_range(0.45..0.85);
            fill_below(c, col, a, |x| {
                let lift = peaks
                    .iter()
                    .map(|&(px, ph)| ph - (x - px).abs() * ph / (0.18 * w))
                    .fold(0.0f32, f32::max);
                base - lift
            });
        }
        Decor::Hills(col) => {
            let (f, p) = (rng.random_range(1.0..3.0), rng.random_range(0.0..PI));
            let base = h * rng.random_range(0.7..0.85);
            fill_below(c, col, rng.random_range(0.3..0.6), |x| {
                base - h * 0.06 * (x / w * f * PI + p).sin()
            });
        }
        Decor::TopBand(col) => c.fill_rect(0.0, 0.0, w, h * rng.random_range(0.2..0.26), col, 1.0),
        Decor::BottomBand(col) => c.fill_rect(0.0, h * 0.84, w, h, col, 1.0),
        Decor::Flag(a, b) => {
            c.fill_rect(0.0, 0.0, w, h * 0.06, a, 1.0);
            c.fill_rect(0.0, h * 0.92, w, h, b, 0.9);
        }
        Decor::Sun(col) => {
            let (cx, cy) = (
                w * rng.random_range(0.3..0.7),
                h * rng.random_range(0.4..0.6),
            );
            c.fill_disc(cx, cy, h * rng.random_range(0.2..0.35), col, 0.35);
        }
        Decor::Waves(col) => {
            for i in 0..rng.random_range(2..5) {
                let y0 = h * (0.72 + 0.06 * i as f32);
                let (f, p) = (rng.random_range(2.0..6.0), rng.random_range(0.0..PI));
                let t = (h * 0.02).max(1.0);
                fill_band(
                    c,
                    col,
                    0.6,
                    |x| y0 + h * 0.03 * (x / w * f * PI + p).sin(),
                    t,
                );
            }
        }
        Decor::Trees(col) => {
            let base = h * rng.random_range(0.8..0.9);
            let n = rng.random_range(8..20);
            let tw = w / n as f32;
            let heights: Vec<f32> = (0..=n).map(|_| h * rng.random_range(0.08..0.2)).collect();
            fill_below(c, col, 0.85, |x| {
                let i = (x / tw) as usize;
                let d = (x - (i as f32 + 0.5) * tw).abs() / (tw / 2.0);
                base - heights[i.min(n)] * (1.0 - d)
            });
        }
        Decor::Rainbow => {
            let colours = [0xe04040, 0xf0a030, 0xf0e040, 0x40b060, 0x4070d0].map(hex);
            let (cx, cy) = (w * 0.5, h * 1.1);
            for y in 0..c.h {
                for x in 0..c.w {
                    let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() / h;
                    let band = ((d - 0.55) / 0.08) as i64;
                    if (0..5).contains(&band) {
                        c.blend(x as i64, y as i64, colours[band as usize], 0.35);
                    }
                }
            }
        }
        Decor::Bird(col) => {
            let (cx, cy) = (
                w * rng.random_range(0.08..0.2),
                h * rng.random_range(0.35..0.6),
            );
            c.fill_disc(cx, cy, h * 0.1, col, 0.8);
            c.fill_disc(cx + h * 0.1, cy - h * 0.06, h * 0.06, col, 0.8);
        }
    }
    (0.0, false)
}

fn fill_band(c: &mut Canvas, colour: Rgb, a: f32, mid: impl Fn(f32) -> f32, half: f32) {
    for x in 0..c.w {
        let m = mid(x as f32 + 0.5);
        c.fill_rect(x as f32, m - half, x as f32 + 1.0, m + half, colour, a);
    }
}

/// The blue EU band at the left with its ring of stars; returns its width.
pub(crate) fn eu_band(c: &mut Canvas) -> f32 {
    let (w, h) = (c.w as f32, c.h as f32);
    let bw = (h * 0.42).min(w * 0.12);
    c.fill_rect(0.0, 0.0, bw, h, hex(0x1a3a9a), 1.0);
    let (cx, cy, r) = (bw / 2.0, h * 0.33, h * 0.17);
    for i in 0..12 {
        let t = i as f32 * PI / 6.0;
        c.fill_disc(
            cx + r * t.cos(),
            cy + r * t.sin(),
            (h * 0.025).max(0.7),
            hex(0xf0d020),
            1.0,
        );
    }
    bw
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const STICKER_COLOURS: [Rgb; 7] = [
    hex(0xe03030),
    hex(0xf0d020),
    hex(0x3070d0),
    hex(0x30a050),
    hex(0xf08020),
    hex(0xf0f0f0),
    hex(0xd050a0),
];

/// Dark ink on light stickers, light on dark ones.
fn sticker_ink(bg: Rgb) -> Rgb {
    if bg[0] + bg[1] + bg[2] > 1.6 {
        hex(0x101010)
    } else {
        hex(0xf8f8f8)
    }
}

/// Registration stickers in the top (sometimes bottom) corners; returns the
/// month/year texts and boxes for the caller to letter.
pub(crate) fn stickers(c: &mut Canvas, rng: &mut Pcg64Mcg) -> Vec<(String, [f32; 4], Rgb)> {
    let (w, h) = (c.w as f32, c.h as f32);
    let mut out = Vec::new();
    let corners = [(0.03, 0.05), (0.81, 0.05), (0.03, 0.74), (0.81, 0.74)];
    for (i, &(fx, fy)) in corners.iter().enumerate() {
        let p = if i < 2 { 0.45 } else { 0.12 };
        if !rng.random_bool(p) {
            continue;
        }
        let (sw, sh) = (
            w * rng.random_range(0.1..0.17),
            h * rng.random_range(0.13..0.2),
        );
        let (x0, y0) = (w * fx + rng.random_range(0.0..0.03) * w, h * fy);
        let bg = STICKER_COLOURS[rng.random_range(0..STICKER_COLOURS.len())];
        c.fill_rect(x0, y0, x0 + sw, y0 + sh, bg, 1.0);
        let text = if rng.random_bool(0.5) {
            MONTHS[rng.random_range(0..12)].to_string()
        } else {
            format!("{:02}", rng.random_range(0..30))
        };
        out.push((text, [x0, y0, x0 + sw, y0 + sh], sticker_ink(bg)));
    }
    out
}

/// Two or three stickers stacked from the top of a column `w` wide at `x`
/// (a month, a year or another number each); returns their texts and boxes
/// for the caller to letter.
pub(crate) fn sticker_stack(
    c: &mut Canvas,
    rng: &mut Pcg64Mcg,
    x: f32,
    w: f32,
) -> Vec<(String, [f32; 4], Rgb)> {
    let h = c.h as f32;
    let mut y = h * rng.random_range(0.06..0.2);
    let mut out = Vec::new();
    for _ in 0..rng.random_range(2..4) {
        let sh = h * rng.random_range(0.18..0.26);
        if y + sh > h * 0.95 {
            break;
        }
        let bg = STICKER_COLOURS[rng.random_range(0..STICKER_COLOURS.len())];
        c.fill_rect(x, y, x + w, y + sh, bg, 1.0);
        let text = match rng.random_range(0..4) {
            0 => MONTHS[rng.random_range(0..12)].to_string(),
            1 => format!("{}", rng.random_range(1..13)),
            _ => format!("{:02}", rng.random_range(0..40)),
        };
        out.push((text, [x, y, x + w, y + sh], sticker_ink(bg)));
        y += sh + h * rng.random_range(0.0..0.04);
    }
    out
}

/// Bolts or empty slots at the standard US hole positions.
pub(crate) fn bolts(c: &mut Canvas, rng: &mut Pcg64Mcg, four: bool) {
    let (w, h) = (c.w as f32, c.h as f32);
    let r = h * rng.random_range(0.025..0.045);
    let metal = lerp(hex(0x909090), hex(0xd8d8d0), rng.random_range(0.0..1.0));
    let ys: &[f32] = if four { &[0.1, 0.9] } else { &[0.1] };
    for &fy in ys {
        for fx in [0.21, 0.79] {
            let (x, y) = (w * fx, h * fy);
            c.fill_disc(x + r * 0.3, y + r * 0.3, r * 1.1, hex(0x202020), 0.5);
            c.fill_disc(x, y, r, metal, 1.0);
            c.fill_disc(x - r * 0.3, y - r * 0.3, r * 0.35, hex(0xffffff), 0.5);
        }
    }
}

/// A thin rectangle inset from the plate's edge (the embossed rim).
pub(crate) fn rim(c: &mut Canvas, colour: Rgb, inset: f32, t: f32) {
    let (w, h) = (c.w as f32, c.h as f32);
    c.fill_rect(inset, inset, w - inset, inset + t, colour, 1.0);
    c.fill_rect(inset, h - inset - t, w - inset, h - inset, colour, 1.0);
    c.fill_rect(inset, inset, inset + t, h - inset, colour, 1.0);
    c.fill_rect(w - inset - t, inset, w - inset, h - inset, colour, 1.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn an_archer_keeps_left_of_where_the_serial_may_start() {
        let bg = hex(0xf4f4f0);
        let (mut drawn, mut plain) = (0, 0);
        for seed in 0..40 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let mut c = Canvas::new(200, 100, bg);
            let (end, archer) = art(&mut c, Decor::Archer(hex(0x3a4a68)), &mut rng, 1.0);
            assert_eq!(
                archer,
                end > 0.0,
                "seed {seed}: the archer is reported as drawn"
            );
            let painted: Vec<usize> = (0..c.px.len())
                .filter(|&i| c.px[i] != bg)
                .map(|i| i % c.w)
                .collect();
            if end == 0.0 {
                assert!(painted.is_empty(), "seed {seed}: art without room for it");
                plain += 1;
                continue;
            }
            drawn += 1;
            assert!(
                (40.0..70.0).contains(&end),
                "seed {seed}: serial from x {end}"
            );
            assert!(painted.len() > 300, "seed {seed}: {} pixels", painted.len());
            assert!(painted.iter().all(|&x| (x as f32) < end), "seed {seed}");
        }
        // Seven plates in ten carry it.
        assert!(drawn > 20 && plain > 4, "{drawn} archers, {plain} without");
    }

    #[test]
    fn other_artwork_leaves_the_serial_its_whole_width() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for decor in [Decor::Plain, Decor::Bird(hex(0x304060)), Decor::Rainbow] {
            let mut c = Canvas::new(200, 100, hex(0xf4f4f0));
            assert_eq!(art(&mut c, decor, &mut rng, 1.0), (0.0, false), "{decor:?}");
        }
    }
}
