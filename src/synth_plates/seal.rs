//! What a plate prints in the gap of its serial (`|` in a format): Florida's
//! orange, Wyoming's bucking horse, a German plate's round seals (the
//! inspection sticker above the district's seal), a Slovak plate's coat of
//! arms. Shapes in the spirit of
//! each, not copies; they teach the reader that a mark as tall as the
//! characters between two groups is no character, so a localiser's box on
//! the whole serial reads as surely as one on a group.
//!
//! ```text
//! logo centre, cap height --style's Logo--> disc and leaf | silhouette |
//!   two stacked discs with rings | shield with a double cross on hills
//!   --> canvas
//! ```

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, Rgb, hex};
use super::emblem;

/// What a style draws for `|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Logo {
    /// A disc of this colour with a leaf: Florida's orange.
    Fruit(Rgb),
    /// A silhouette in this colour, limbs reaching up to about the
    /// characters' height, like Wyoming's bucking horse and rider
    /// (`emblem`'s figure family).
    Rider(Rgb),
    /// German seals: one or two discs stacked in the gap.
    Seals,
    /// A shield with a double cross on three hills (Slovakia).
    Crest,
}

/// Inspection-sticker colours (they change with the year).
const STICKER: [Rgb; 6] = [
    hex(0xe8a0b0),
    hex(0x3a8ad0),
    hex(0xe8d020),
    hex(0xa06a3a),
    hex(0xe07030),
    hex(0x40a050),
];

/// Draws `logo` centred on `[x, y]` among characters `cap` pixels tall.
pub(crate) fn draw(c: &mut Canvas, rng: &mut Pcg64Mcg, logo: Logo, [x, y]: [f32; 2], cap: f32) {
    match logo {
        Logo::Fruit(ink) => {
            c.fill_disc(x, y, cap * 0.28, ink, 1.0);
            c.fill_disc(x + cap * 0.1, y - cap * 0.3, cap * 0.1, hex(0x2a7a3a), 1.0);
        }
        Logo::Rider(ink) => {
            emblem::figure(c, rng, [x, y - cap * 0.05], [cap * 0.5, cap * 0.62], ink);
        }
        Logo::Seals => seals(c, rng, [x, y], cap),
        Logo::Crest => crest(c, rng, [x, y], cap),
    }
}

/// A disc of `fill` inside a ring of `ring`, with a few marks on the ring
/// where a seal's lettering goes.
fn seal(c: &mut Canvas, rng: &mut Pcg64Mcg, [x, y]: [f32; 2], r: f32, ring: Rgb, fill: Rgb) {
    c.fill_disc(x, y, r, ring, 1.0);
    c.fill_disc(x, y, r * rng.random_range(0.72..0.85), fill, 1.0);
    let marks = rng.random_range(0..10);
    for i in 0..marks {
        let t = i as f32 / marks as f32 * std::f32::consts::TAU;
        let (mx, my) = (x + r * 0.88 * t.cos(), y + r * 0.88 * t.sin());
        c.fill_disc(mx, my, (r * 0.07).max(0.5), hex(0xf0f0f0), 0.8);
    }
}

/// The rear plate's sticker above the district's seal; front plates (a
/// third) carry the seal alone.
fn seals(c: &mut Canvas, rng: &mut Pcg64Mcg, [x, y]: [f32; 2], cap: f32) {
    let r = cap * rng.random_range(0.2..0.26);
    let grey = hex(0xb8b8b0);
    let arms = [hex(0x2a2a2a), hex(0xc02020), hex(0x2050a0), hex(0x207030)];
    let district = arms[rng.random_range(0..arms.len())];
    if rng.random_bool(1.0 / 3.0) {
        seal(c, rng, [x, y + cap * 0.15], r, grey, district);
        return;
    }
    let sticker = STICKER[rng.random_range(0..STICKER.len())];
    seal(c, rng, [x, y - r * 1.05], r, sticker, sticker);
    // The sticker's sectors: a dark wedge marks the month.
    let t = rng.random_range(0.0..std::f32::consts::TAU);
    c.fill_capsule(
        [x, y - r * 1.05],
        [x + r * 0.8 * t.cos(), y - r * 1.05 + r * 0.8 * t.sin()],
        r * 0.12,
        hex(0x202020),
        0.9,
    );
    seal(c, rng, [x, y + r * 1.05], r, grey, district);
}

/// A shield (flat top, sides curving to a point) in red with a white double
/// cross standing on three blue hills, in a thin outline.
fn crest(c: &mut Canvas, rng: &mut Pcg64Mcg, [x, y]: [f32; 2], cap: f32) {
    let hw = cap * rng.random_range(0.26..0.34);
    let (top, bottom) = (y - cap * 0.42, y + cap * 0.45);
    let shield = |inset: f32| -> Vec<[f32; 2]> {
        let (w, t, b) = (hw - inset, top + inset, bottom - inset * 1.4);
        let mut pts = vec![[x - w, t], [x + w, t]];
        for i in 0..=8 {
            // Right side down to the point, then left side back up.
            let k = i as f32 / 8.0;
            pts.push([x + w * (1.0 - k * k), t + (b - t) * (0.45 + 0.55 * k)]);
        }
        for i in (0..8).rev() {
            let k = i as f32 / 8.0;
            pts.push([x - w * (1.0 - k * k), t + (b - t) * (0.45 + 0.55 * k)]);
        }
        pts
    };
    let edge = (cap * 0.04).max(0.6);
    c.fill_polygon(&shield(0.0), hex(0xf0f0f0), 1.0);
    c.fill_polygon(&shield(edge), hex(0xc01a20), 1.0);
    let blue = hex(0x1a3a9a);
    let hill = cap * 0.13;
    let base = bottom - cap * 0.22;
    c.fill_disc(x, base, hill, blue, 1.0);
    c.fill_disc(x - hill * 1.2, base + hill * 0.4, hill * 0.8, blue, 1.0);
    c.fill_disc(x + hill * 1.2, base + hill * 0.4, hill * 0.8, blue, 1.0);
    let white = hex(0xf4f4f4);
    let bar = (cap * 0.035).max(0.5);
    c.fill_capsule([x, base - hill], [x, top + cap * 0.12], bar, white, 1.0);
    for (dy, half) in [(0.26, 0.13), (0.45, 0.18)] {
        let yy = top + cap * dy;
        c.fill_capsule([x - cap * half, yy], [x + cap * half, yy], bar, white, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_logo_stays_in_the_gap_and_draws_something() {
        let bg = hex(0xf4f4f0);
        let logos = [
            Logo::Fruit(hex(0xf08a20)),
            Logo::Rider(hex(0x1a1a3a)),
            Logo::Seals,
            Logo::Crest,
        ];
        for logo in logos {
            for seed in 0..20 {
                let mut rng = Pcg64Mcg::seed_from_u64(seed);
                let mut c = Canvas::new(120, 60, bg);
                draw(&mut c, &mut rng, logo, [60.0, 30.0], 40.0);
                let painted: Vec<(usize, usize)> = (0..c.px.len())
                    .filter(|&i| c.px[i] != bg)
                    .map(|i| (i % c.w, i / c.w))
                    .collect();
                assert!(painted.len() > 100, "{logo:?} seed {seed}");
                // The gap is one cap wide; the logo keeps within the line's
                // height (a little over for Florida's leaf).
                for (x, y) in painted {
                    assert!((40..80).contains(&x), "{logo:?} seed {seed}: x {x}");
                    assert!((6..54).contains(&y), "{logo:?} seed {seed}: y {y}");
                }
            }
        }
    }
}
