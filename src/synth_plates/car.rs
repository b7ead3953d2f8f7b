//! The parts of a car around a frame's plate that a localiser meets in a
//! photo and not on a flat block: a grille or bumper mesh, the maker's
//! badge, chrome model lettering, lights, bumper edges and the plate's
//! recess. Some of them read as text (a mesh's crossings as `XXXX`, a
//! model name), so they compete with the plate for a frame's first read.
//!
//! Drawn around the plate, never on it: the caller pastes the plate crop
//! afterwards, over whatever lies in its box.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, Rgb, hex, lerp};
use super::fonts::{FontId, Fonts};
use super::layout::{self, Lettering, Rect};

/// Model names and trims as cars wear them on their tails.
const MODELS: [&str; 16] = [
    "GOLF", "TDI", "CIVIC", "ACCORD", "CAMRY", "XLE", "HYBRID", "LIMITED", "SPORT", "OUTBACK",
    "QUATTRO", "4MATIC", "F-150", "ALTIMA", "COROLLA", "A4",
];
/// Words a frame's background may hold: shop and road signs.
const SIGNS: [&str; 8] = [
    "STOP",
    "EXIT",
    "OPEN",
    "NO PARKING",
    "ONE WAY",
    "BUS ONLY",
    "PHARMACY",
    "SALE",
];
const LETTERING_FONTS: [FontId; 4] = [
    FontId::DejaVuCondensedBold,
    FontId::RobotoCondensedBold,
    FontId::LiberationNarrowBold,
    FontId::BebasBold,
];

/// What was drawn, for tests and for telling frames apart in a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CarParts {
    /// The plate's recess: a darker or lighter panel a little larger.
    pub recess: bool,
    /// Bumper edges across the car (one or two).
    pub bumper: bool,
    pub grille: bool,
    pub badge: bool,
    pub lettering: bool,
    pub lights: bool,
    pub sign: bool,
}

impl CarParts {
    /// Every part's name, in the order [`CarParts::names`] lists them.
    pub const NAMES: [&'static str; 7] = [
        "recess",
        "bumper",
        "grille",
        "badge",
        "lettering",
        "lights",
        "sign",
    ];

    /// The names of the parts drawn.
    pub fn names(&self) -> Vec<&'static str> {
        let drawn = [
            self.recess,
            self.bumper,
            self.grille,
            self.badge,
            self.lettering,
            self.lights,
            self.sign,
        ];
        Self::NAMES
            .into_iter()
            .zip(drawn)
            .filter_map(|(name, drawn)| drawn.then_some(name))
            .collect()
    }
}

/// Draws a car's parts on `c` around a plate at `plate` (x0, y0, x1, y1),
/// on a car body spanning `car`, then softens the car as a camera would:
/// the plate crop comes blurred by its own augmentation, and parts drawn
/// crisp would read surer than any plate.
pub(crate) fn draw(
    c: &mut Canvas,
    fonts: &Fonts,
    rng: &mut Pcg64Mcg,
    car: Rect,
    plate: Rect,
) -> CarParts {
    let mut parts = CarParts::default();
    if rng.random_bool(0.5) {
        parts.recess = true;
        recess(c, rng, plate);
    }
    parts.bumper = bumper_edges(c, rng, car, plate);
    if rng.random_bool(0.6) {
        parts.grille = true;
        let (pw, ph) = (plate[2] - plate[0], plate[3] - plate[1]);
        let cx = (plate[0] + plate[2]) / 2.0;
        let w = pw * rng.random_range(1.2..2.6);
        let h = ph * rng.random_range(0.5..1.4);
        let gap = ph * rng.random_range(0.1..0.5);
        let top = if rng.random_bool(0.5) {
            plate[1] - gap - h
        } else {
            plate[3] + gap
        };
        grille(c, rng, [cx - w / 2.0, top, cx + w / 2.0, top + h]);
    }
    if rng.random_bool(0.6) {
        parts.lights = true;
        lights(c, rng, car, plate);
    }
    if rng.random_bool(0.6) {
        parts.badge = true;
        let ph = plate[3] - plate[1];
        let r = ph * rng.random_range(0.25..0.5);
        let y = plate[1] - ph * rng.random_range(0.6..1.8);
        badge(c, fonts, rng, [(plate[0] + plate[2]) / 2.0, y], r);
    }
    if rng.random_bool(0.5) {
        parts.lettering = true;
        model_name(c, fonts, rng, plate);
    }
    if rng.random_bool(0.25) {
        parts.sign = true;
        sign(c, fonts, rng, car, plate[3] - plate[1]);
    }
    soften(c, car, rng.random_range(1..3));
    parts
}

/// The plate's recess: a darker (or lighter) panel a little larger.
fn recess(c: &mut Canvas, rng: &mut Pcg64Mcg, plate: Rect) {
    let (pw, ph) = (plate[2] - plate[0], plate[3] - plate[1]);
    let k = rng.random_range(0.15..0.35);
    let pad = [
        pw * rng.random_range(0.05..0.2),
        ph * rng.random_range(0.1..0.4),
    ];
    let shade = if rng.random_bool(0.7) {
        [0.0; 3]
    } else {
        [1.0; 3]
    };
    c.fill_rect(
        plate[0] - pad[0],
        plate[1] - pad[1],
        plate[2] + pad[0],
        plate[3] + pad[1],
        shade,
        k,
    );
}

/// None, one or two lines across the car above or below the plate;
/// whether any was drawn.
fn bumper_edges(c: &mut Canvas, rng: &mut Pcg64Mcg, car: Rect, plate: Rect) -> bool {
    let ph = plate[3] - plate[1];
    let edges = rng.random_range(0..3);
    for _ in 0..edges {
        let y = if rng.random_bool(0.5) {
            plate[3] + ph * rng.random_range(0.2..0.9)
        } else {
            plate[1] - ph * rng.random_range(0.3..1.5)
        };
        let t = (ph * rng.random_range(0.04..0.12)).max(1.0);
        let ink = if rng.random_bool(0.5) {
            hex(0x101010)
        } else {
            hex(0xd8d8d8)
        };
        c.fill_rect(car[0], y, car[2], y + t, ink, rng.random_range(0.5..0.9));
    }
    edges > 0
}

/// Red lights at the car's two edges, above the plate.
fn lights(c: &mut Canvas, rng: &mut Pcg64Mcg, car: Rect, plate: Rect) {
    let (pw, ph) = (plate[2] - plate[0], plate[3] - plate[1]);
    let w = pw * rng.random_range(0.2..0.45);
    let h = ph * rng.random_range(0.6..1.4);
    let y = plate[1] - ph * rng.random_range(0.8..2.2);
    let red = lerp(hex(0xb01010), hex(0xff5030), rng.random_range(0.0..1.0));
    c.fill_rect(car[0], y, car[0] + w, y + h, red, 0.95);
    c.fill_rect(car[2] - w, y, car[2], y + h, red, 0.95);
}

/// A model name or trim in chrome or black, left or right of the plate.
fn model_name(c: &mut Canvas, fonts: &Fonts, rng: &mut Pcg64Mcg, plate: Rect) {
    let (pw, ph) = (plate[2] - plate[0], plate[3] - plate[1]);
    let word = MODELS[rng.random_range(0..MODELS.len())];
    let cap = ph * rng.random_range(0.2..0.5);
    let (x0, x1) = if rng.random_bool(0.5) {
        (plate[2] + pw * 0.1, plate[2] + pw * 0.9)
    } else {
        (plate[0] - pw * 0.9, plate[0] - pw * 0.1)
    };
    let y = plate[1] - ph * rng.random_range(-0.2..1.2);
    let ink = if rng.random_bool(0.6) {
        hex(0xe0e0e0)
    } else {
        hex(0x181818)
    };
    words(c, fonts, rng, word, [x0, y, x1, y + cap * 1.25], cap, ink);
}

/// A road or shop sign somewhere above the car, its capitals up to a
/// plate's height `ph`.
fn sign(c: &mut Canvas, fonts: &Fonts, rng: &mut Pcg64Mcg, car: Rect, ph: f32) {
    let word = SIGNS[rng.random_range(0..SIGNS.len())];
    let cap = ph * rng.random_range(0.4..1.0);
    let w = cap * (word.len() as f32 * 0.7 + 1.0);
    let x = rng.random_range(0.0..(c.w as f32 - w).max(1.0));
    let y = rng.random_range(0.0..(car[1] - 2.0 * cap).max(1.0));
    let (ground, ink) = if rng.random_bool(0.5) {
        (hex(0xf0f0f0), hex(0x101010))
    } else {
        (hex(0xa01818), hex(0xf0f0f0))
    };
    let bx = [x, y, x + w, y + cap * 1.8];
    c.fill_rect(bx[0], bx[1], bx[2], bx[3], ground, 1.0);
    words(c, fonts, rng, word, bx, cap, ink);
    soften(c, bx, rng.random_range(1..3));
}

/// `passes` rounds of a [1, 2, 1] / 4 blur along rows and columns in `bx`.
fn soften(c: &mut Canvas, bx: Rect, passes: usize) {
    let x0 = bx[0].max(0.0) as usize;
    let y0 = bx[1].max(0.0) as usize;
    let x1 = (bx[2].max(0.0) as usize).min(c.w);
    let y1 = (bx[3].max(0.0) as usize).min(c.h);
    if x1 < x0 + 3 || y1 < y0 + 3 {
        return;
    }
    let mix = |a: Rgb, b: Rgb, d: Rgb| {
        [
            (a[0] + 2.0 * b[0] + d[0]) / 4.0,
            (a[1] + 2.0 * b[1] + d[1]) / 4.0,
            (a[2] + 2.0 * b[2] + d[2]) / 4.0,
        ]
    };
    for _ in 0..passes {
        for y in y0..y1 {
            let row: Vec<Rgb> = c.px[y * c.w + x0..y * c.w + x1].to_vec();
            for x in 1..row.len() - 1 {
                c.px[y * c.w + x0 + x] = mix(row[x - 1], row[x], row[x + 1]);
            }
        }
        for x in x0..x1 {
            let col: Vec<Rgb> = (y0..y1).map(|y| c.px[y * c.w + x]).collect();
            for y in 1..col.len() - 1 {
                c.px[(y0 + y) * c.w + x] = mix(col[y - 1], col[y], col[y + 1]);
            }
        }
    }
}

/// A grille in `bx`: horizontal slats, vertical bars or a diagonal mesh,
/// dark on a darker void or chrome.
fn grille(c: &mut Canvas, rng: &mut Pcg64Mcg, bx: Rect) {
    let void = hex(0x0c0c0c);
    let bar = if rng.random_bool(0.6) {
        hex(0x3a3a3a)
    } else {
        hex(0xc8c8c8)
    };
    c.fill_rect(bx[0], bx[1], bx[2], bx[3], void, 0.95);
    let period = rng.random_range(3.0f32..10.0);
    let r = (period * rng.random_range(0.15..0.3)).max(0.6);
    let (w, h) = (bx[2] - bx[0], bx[3] - bx[1]);
    match rng.random_range(0..3) {
        0 => {
            let mut y = bx[1] + period / 2.0;
            while y < bx[3] {
                c.fill_capsule([bx[0], y], [bx[2], y], r, bar, 1.0);
                y += period;
            }
        }
        1 => {
            let mut x = bx[0] + period / 2.0;
            while x < bx[2] {
                c.fill_capsule([x, bx[1]], [x, bx[3]], r, bar, 1.0);
                x += period;
            }
        }
        _ => {
            // Two families of diagonals clipped to the box: a mesh.
            let mut t = -h;
            while t < w {
                for (a, b) in [
                    ([bx[0] + t, bx[1]], [bx[0] + t + h, bx[3]]),
                    ([bx[0] + t + h, bx[1]], [bx[0] + t, bx[3]]),
                ] {
                    let (a, b) = clip_segment(a, b, bx);
                    c.fill_capsule(a, b, r, bar, 1.0);
                }
                t += period * std::f32::consts::SQRT_2;
            }
        }
    }
}

/// The segment `a`-`b` clipped to `bx` along x (its ends' y follow).
fn clip_segment(a: [f32; 2], b: [f32; 2], bx: Rect) -> ([f32; 2], [f32; 2]) {
    let at = |x: f32| {
        let t = if (b[0] - a[0]).abs() < 1e-6 {
            0.0
        } else {
            (x - a[0]) / (b[0] - a[0])
        };
        [x, a[1] + t * (b[1] - a[1])]
    };
    let clip = |p: [f32; 2]| {
        if p[0] < bx[0] {
            at(bx[0])
        } else if p[0] > bx[2] {
            at(bx[2])
        } else {
            p
        }
    };
    (clip(a), clip(b))
}

/// The maker's badge: a chrome ring, sometimes with a letter inside.
fn badge(c: &mut Canvas, fonts: &Fonts, rng: &mut Pcg64Mcg, [x, y]: [f32; 2], r: f32) {
    let chrome = hex(0xd0d0d0);
    let squash = rng.random_range(0.55..1.0);
    let t = (r * 0.15).max(1.0);
    let steps = 48;
    for k in 0..steps {
        let a0 = k as f32 / steps as f32 * std::f32::consts::TAU;
        let a1 = (k + 1) as f32 / steps as f32 * std::f32::consts::TAU;
        c.fill_capsule(
            [x + r * a0.cos(), y + r * squash * a0.sin()],
            [x + r * a1.cos(), y + r * squash * a1.sin()],
            t / 2.0,
            chrome,
            1.0,
        );
    }
    if rng.random_bool(0.6) {
        let letter = ["V", "H", "T", "W", "M", "S", "L"][rng.random_range(0..7)];
        let cap = r * squash * 1.1;
        words(
            c,
            fonts,
            rng,
            letter,
            [x - r, y - cap, x + r, y + cap],
            cap,
            chrome,
        );
    }
}

/// `s` drawn centred in `bx` with capitals `cap` tall.
fn words(c: &mut Canvas, fonts: &Fonts, rng: &mut Pcg64Mcg, s: &str, bx: Rect, cap: f32, ink: Rgb) {
    let font = LETTERING_FONTS[rng.random_range(0..LETTERING_FONTS.len())];
    let l = Lettering {
        cap,
        stretch: rng.random_range(0.9..1.3),
        spacing: rng.random_range(0.05..0.3),
        bold: 0,
    };
    let (mask, _) = layout::draw(fonts.get(font), &layout::words(s), bx, l);
    mask.paint(c, ink, 1.0, 0, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_named_in_a_fixed_order() {
        let parts = CarParts {
            sign: true,
            grille: true,
            ..CarParts::default()
        };
        assert_eq!(parts.names(), ["grille", "sign"]);
        assert!(CarParts::default().names().is_empty());
    }

    #[test]
    fn softening_blurs_an_edge_inside_its_box_only() {
        let mut c = Canvas::new(20, 10, [0.0; 3]);
        c.fill_rect(10.0, 0.0, 20.0, 10.0, [1.0; 3], 1.0);
        let before = c.px.clone();
        soften(&mut c, [0.0, 0.0, 20.0, 5.0], 1);
        // The edge's neighbours mix within the box's rows ...
        assert_eq!(c.px[2 * 20 + 9], [0.25; 3]);
        assert_eq!(c.px[2 * 20 + 10], [0.75; 3]);
        // ... flat ground stays flat, and rows below the box are untouched.
        assert_eq!(c.px[2 * 20 + 3], [0.0; 3]);
        assert_eq!(c.px[5 * 20..], before[5 * 20..]);
    }

    #[test]
    fn a_segment_is_clipped_to_the_box_along_its_line() {
        let (a, b) = clip_segment([-10.0, 0.0], [10.0, 20.0], [0.0, 0.0, 5.0, 20.0]);
        assert_eq!(a, [0.0, 10.0]);
        assert_eq!(b, [5.0, 15.0]);
    }
}
