//! Draws one plate flat and face-on, at a given width:
//!
//! ```text
//! background gradient -> artwork -> state name, slogan -> stickers, emblem,
//!   stacked small characters -> serial (embossed) -> bolts -> dealer frame
//! ```
//!
//! Geometry, lighting and camera effects are left to `geometry` and `augment`.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::{Canvas, Rgb, hex, lerp, luma, scale};
use super::decor;
use super::emblem;
use super::fonts::{FontId, Fonts};
use super::layout::{self, Lettering, Rect};
use super::seal;
use super::strokes::StrokeFont;
use super::styles::{NameFont, Style};
use super::text::{Serial, Token};

/// Share of US serials in the stroke-drawn plate lettering.
const STROKE_SERIALS: f64 = 0.4;
/// Share of US plates with stacked stickers beside the serial.
const SIDE_STICKERS: f64 = 0.2;
/// Share of US plates with a specialty emblem beside the serial.
const EMBLEMS: f64 = 0.25;
/// Share of US plates with a stacked pair of small characters beside the
/// serial (a tenth until the fifty-fourth session; a quarter read 6 dev
/// plates more on three seeds: `models/ocr-v2/RUNS.md`, runs 92-94).
const STACKED_PAIRS: f64 = 0.25;
/// Share of stacked pairs drawn as digits (stacked county or series
/// numbers) rather than letters.
const DIGIT_PAIRS: f64 = 0.25;

/// The clutter a plate carries beyond its design: what a reader must see
/// past to read the serial, and what a training curriculum holds back at
/// first ([`super::PlateSynth::sample_with`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clutter {
    /// The serial in the stroke-drawn US plate lettering.
    pub stroke_serial: bool,
    /// Month and year stickers stacked beside the serial.
    pub side_stickers: bool,
    /// A specialty emblem beside the serial.
    pub emblem: bool,
    /// A stacked pair of small characters beside the serial.
    pub stacked_pair: bool,
    /// Oklahoma's archer.
    pub archer: bool,
}

const DEALERS: [&str; 12] = [
    "HONDA OF DOWNTOWN",
    "CITY TOYOTA",
    "O'HARE HONDA",
    "FORD",
    "CHEVROLET",
    "SUBARU",
    "AUTO NATION",
    "NISSAN OF RIVERSIDE",
    "BMW OF NORTH HILLS",
    "SUN MOTORS 555-0134",
    "I'D RATHER BE FISHING",
    "KIA",
];
const TOWNS: [&str; 8] = [
    "SPRINGFIELD",
    "RIVERSIDE",
    "FAIRVIEW",
    "MADISON",
    "GEORGETOWN",
    "CLINTON",
    "SALEM",
    "FRANKLIN",
];

fn jitter(c: Rgb, rng: &mut Pcg64Mcg, amount: f32) -> Rgb {
    let k = rng.random_range(1.0 - amount..1.0 + amount);
    scale(c, k)
}

fn letter(
    canvas: &mut Canvas,
    fonts: &Fonts,
    font: FontId,
    text: &[Token],
    bx: Rect,
    l: Lettering,
    ink: Rgb,
) -> Vec<[f32; 2]> {
    let (mask, logos) = layout::draw(fonts.get(font), text, bx, l);
    mask.paint(canvas, ink, 1.0, 0, 0);
    logos
}

fn small(canvas: &mut Canvas, fonts: &Fonts, font: FontId, s: &str, bx: Rect, ink: Rgb) {
    let l = Lettering {
        cap: (bx[3] - bx[1]) * 0.8,
        stretch: 1.0,
        spacing: 0.05,
        bold: 0,
    };
    letter(canvas, fonts, font, &layout::words(s), bx, l, ink);
}

/// A plate of `style` showing `serial`, `w` pixels wide, with each kind
/// of clutter at `clutter` (0-1) times its usual share; what it carries.
pub(crate) fn plate(
    fonts: &Fonts,
    style: &Style,
    serial: &Serial,
    rng: &mut Pcg64Mcg,
    w: usize,
    clutter: f64,
) -> (Canvas, Clutter) {
    let mut drawn = Clutter::default();
    let aspect = style.aspect * rng.random_range(0.95..1.05);
    let h = ((w as f32 / aspect) as usize).max(8);
    let (wf, hf) = (w as f32, h as f32);
    // Age: backgrounds yellow and fade a little, never the same twice.
    let age = rng.random_range(0.0..0.25f32).powi(2);
    let fade = |c: Rgb| lerp(c, hex(0xd8d0a8), age);
    let (top, bottom) = (
        fade(jitter(style.top, rng, 0.05)),
        fade(jitter(style.bottom, rng, 0.05)),
    );
    let mut c = Canvas::new(w, h, top);
    for y in 0..h {
        let row = lerp(top, bottom, y as f32 / hf);
        c.px[y * w..(y + 1) * w].fill(row);
    }
    let (art_end, archer) = decor::art(&mut c, style.decor, rng, clutter);
    drawn.archer = archer;

    let mut x0 = (wf * 0.05).max(art_end);
    let mut x1 = wf * 0.95;
    let eu = style.is_eu();
    if eu {
        let bw = decor::eu_band(&mut c);
        let code_box = [0.0, hf * 0.62, bw, hf * 0.9];
        small(
            &mut c,
            fonts,
            FontId::Din,
            style.name,
            code_box,
            hex(0xf8f8f8),
        );
        x0 = bw + wf * 0.02;
    } else if rng.random_bool(0.35) {
        decor::rim(&mut c, style.ink, hf * 0.03, (hf * 0.015).max(1.0));
    }

    // State name and slogan.
    if !eu {
        let name_y = if style.name_below {
            [0.8, 0.96]
        } else {
            [0.04, 0.24]
        };
        let slogan_y = if style.name_below {
            [0.05, 0.16]
        } else {
            [0.84, 0.95]
        };
        let font = match style.name_font {
            NameFont::Script => FontId::LiberationSerifBoldItalic,
            NameFont::Block => FontId::NationalParkHeavy,
            NameFont::Sans => [
                FontId::DejaVuCondensedBold,
                FontId::RobotoCondensedBold,
                FontId::LiberationNarrowBold,
                FontId::BebasBold,
            ][rng.random_range(0..4)],
        };
        let l = Lettering {
            cap: hf * (name_y[1] - name_y[0]) * rng.random_range(0.6..0.9),
            stretch: rng.random_range(0.9..1.3),
            spacing: rng.random_range(0.0..0.15),
            bold: 0,
        };
        let name_box = [wf * 0.22, hf * name_y[0], wf * 0.78, hf * name_y[1]];
        letter(
            &mut c,
            fonts,
            font,
            &layout::words(style.name),
            name_box,
            l,
            style.name_ink,
        );
        if !style.slogans.is_empty() {
            let s = style.slogans[rng.random_range(0..style.slogans.len())];
            let font = [
                FontId::RobotoCondensedRegular,
                FontId::LiberationSerifBoldItalic,
            ][rng.random_range(0..2)];
            let bx = [wf * 0.2, hf * slogan_y[0], wf * 0.8, hf * slogan_y[1]];
            small(&mut c, fonts, font, s, bx, style.slogan_ink);
        }
    }

    for (text, bx, ink) in decor::stickers(&mut c, rng) {
        small(&mut c, fonts, FontId::RobotoCondensedBold, &text, bx, ink);
    }
    // Month and year stickers stacked beside the serial, as many issuers
    // place them: bold digits the reader must leave out.
    if !eu && rng.random_bool(SIDE_STICKERS * clutter) {
        drawn.side_stickers = true;
        let sw = wf * rng.random_range(0.08..0.12);
        let left = rng.random_bool(0.4);
        let sx = if left { x0 } else { x1 - sw };
        let stickers = decor::sticker_stack(&mut c, rng, sx, sw);
        for (text, bx, ink) in stickers {
            let font =
                [FontId::RobotoCondensedBold, FontId::DejaVuCondensedBold][rng.random_range(0..2)];
            small(&mut c, fonts, font, &text, bx, ink);
        }
        if left {
            x0 += sw + wf * 0.01;
        } else {
            x1 -= sw + wf * 0.01;
        }
    }

    // A specialty plate's picture beside the serial, mostly on the left.
    if !eu && rng.random_bool(EMBLEMS * clutter) {
        drawn.emblem = true;
        let ew = wf * rng.random_range(0.13..0.28);
        let ey = [
            hf * rng.random_range(0.1..0.3),
            hf * rng.random_range(0.72..0.95),
        ];
        let left = rng.random_bool(0.8);
        let ex = if left { x0 } else { x1 - ew };
        let bg = lerp(top, bottom, (ey[0] + ey[1]) / 2.0 / hf);
        emblem::emblem(&mut c, rng, [ex, ey[0], ex + ew, ey[1]], bg);
        if left {
            x0 += ew + wf * 0.02;
        } else {
            x1 -= ew + wf * 0.02;
        }
    }

    // Stacked small characters beside the serial (not part of the label),
    // on either side: from a pair about the middle third of the serial's
    // height up to one as tall as the serial, close beside it, in the
    // serial's lettering or a plain bold one (specialty serials such as
    // Massachusetts' `CI 38KH` or North Carolina's `VF 5219`).
    if !eu && rng.random_bool(STACKED_PAIRS * clutter) {
        drawn.stacked_pair = true;
        let (first, count) = if rng.random_bool(DIGIT_PAIRS) {
            (b'0', 10u8)
        } else {
            (b'A', 26u8)
        };
        let pair: String = (0..2)
            .map(|_| (first + rng.random_range(0..count)) as char)
            .collect();
        let span = hf * 0.52 * rng.random_range(0.6..1.0);
        let lh = span / 2.0;
        let cw = lh * rng.random_range(0.7..0.95);
        let gap = cw * rng.random_range(0.1..0.5);
        let font = if rng.random_bool(0.5) {
            style.fonts[rng.random_range(0..style.fonts.len())]
        } else {
            FontId::RobotoCondensedBold
        };
        let right = rng.random_bool(0.5);
        let sx = if right { x1 - cw } else { x0 };
        let top = hf * rng.random_range(0.51..0.55) - span / 2.0;
        for (i, ch) in pair.chars().enumerate() {
            let y = top + lh * i as f32;
            small(
                &mut c,
                fonts,
                font,
                &ch.to_string(),
                [sx, y, sx + cw, y + lh],
                style.ink,
            );
        }
        if right {
            x1 -= cw + gap;
        } else {
            x0 += cw + gap;
        }
    }

    drawn.stroke_serial = draw_serial(&mut c, fonts, style, serial, rng, [x0, x1], clutter);
    if !eu {
        let four = rng.random_bool(0.3);
        decor::bolts(&mut c, rng, four);
    }
    if rng.random_bool(0.35) {
        frame(&mut c, fonts, rng);
    }
    (c, drawn)
}

/// Draws the serial between `xs`; whether in the stroke lettering.
fn draw_serial(
    c: &mut Canvas,
    fonts: &Fonts,
    style: &Style,
    serial: &Serial,
    rng: &mut Pcg64Mcg,
    xs: [f32; 2],
    clutter: f64,
) -> bool {
    let hf = c.h as f32;
    let font = style.fonts[rng.random_range(0..style.fonts.len())];
    let (cap, cy) = if style.is_eu() {
        (
            hf * rng.random_range(0.6..0.72),
            hf * rng.random_range(0.48..0.52),
        )
    } else {
        (
            hf * rng.random_range(0.44..0.54),
            hf * rng.random_range(0.5..0.56),
        )
    };
    let l = Lettering {
        cap,
        stretch: rng.random_range(0.8..1.15),
        spacing: rng.random_range(-0.02..0.14),
        bold: match rng.random_range(0..10) {
            0..8 => 0,
            _ => 1,
        } * (c.h / 90).max(1),
    };
    let bx = [xs[0], cy - cap / 2.0, xs[1], cy + cap / 2.0];
    // Most US issuers stamp a narrow gothic none of the fonts matches well.
    let stroke = !style.is_eu() && rng.random_bool(STROKE_SERIALS * clutter);
    let (mask, logos) = if stroke {
        layout::draw(&StrokeFont::random(rng), &serial.tokens, bx, l)
    } else {
        layout::draw(fonts.get(font), &serial.tokens, bx, l)
    };
    let ink = lerp(style.ink, hex(0x000000), rng.random_range(0.0..0.3));
    if rng.random_bool(0.6) {
        // Embossed characters: a shadow below right, a highlight above left.
        let d = (c.h as i64 / 60).max(1);
        let shade = if luma(ink) > 0.5 {
            hex(0x000000)
        } else {
            scale(ink, 0.3)
        };
        mask.paint(c, shade, 0.45, d, d);
        mask.paint(c, hex(0xffffff), 0.35, -d, -d);
    }
    mask.paint(c, ink, 1.0, 0, 0);
    for centre in logos {
        seal::draw(c, rng, style.logo, centre, cap);
    }
    stroke
}

/// A dealer or novelty frame over the plate's edges, often with text.
fn frame(c: &mut Canvas, fonts: &Fonts, rng: &mut Pcg64Mcg) {
    let (w, h) = (c.w as f32, c.h as f32);
    let colour = match rng.random_range(0..10) {
        0..6 => hex(0x111111),
        6..8 => hex(0xb8b8b8),
        8 => hex(0xc0a040),
        _ => hex(0x8a1010),
    };
    let top = h * rng.random_range(0.02..0.14);
    let bottom = h * rng.random_range(0.04..0.2);
    let side = w * rng.random_range(0.01..0.04);
    c.fill_rect(0.0, 0.0, w, top, colour, 1.0);
    c.fill_rect(0.0, h - bottom, w, h, colour, 1.0);
    c.fill_rect(0.0, 0.0, side, h, colour, 1.0);
    c.fill_rect(w - side, 0.0, w, h, colour, 1.0);
    let text_ink = if luma(colour) > 0.5 {
        hex(0x101010)
    } else {
        hex(0xf0f0f0)
    };
    if bottom > h * 0.09 && rng.random_bool(0.7) {
        let s = if rng.random_bool(0.5) {
            DEALERS[rng.random_range(0..DEALERS.len())]
        } else {
            TOWNS[rng.random_range(0..TOWNS.len())]
        };
        let bx = [w * 0.1, h - bottom * 0.9, w * 0.9, h - bottom * 0.1];
        small(c, fonts, FontId::RobotoCondensedBold, s, bx, text_ink);
    }
    if top > h * 0.09 && rng.random_bool(0.6) {
        let s = DEALERS[rng.random_range(0..DEALERS.len())];
        let bx = [w * 0.15, top * 0.1, w * 0.85, top * 0.9];
        small(c, fonts, FontId::DejaVuCondensedBold, s, bx, text_ink);
    }
}
