//! Lays a line of text (serial tokens or plain words) into a box and draws
//! its glyph coverage into a [`Mask`]: centred, condensed or shrunk to fit,
//! with per-call width, spacing and weight, in an embedded font or the
//! stroke-drawn plate lettering (`strokes`), both [`Glyphs`].

use ab_glyph::{Font, ScaleFont, point};

use super::canvas::Mask;
use super::fonts::{Face, scale_for};
use super::text::Token;

/// What draws characters: a font or the stroke lettering.
pub(crate) trait Glyphs {
    /// Advance of `c` in pixels (without the lettering's extra spacing).
    fn advance(&self, c: char, l: &Lettering) -> f32;
    /// Draws `c` with its advance starting at `x` and its baseline at `base`.
    fn draw(&self, c: char, x: f32, base: f32, l: &Lettering, mask: &mut Mask);
}

impl Glyphs for Face {
    fn advance(&self, c: char, l: &Lettering) -> f32 {
        let scaled = self.font.as_scaled(scale_for(self, l.cap, l.stretch));
        scaled.h_advance(self.font.glyph_id(c))
    }

    fn draw(&self, c: char, x: f32, base: f32, l: &Lettering, mask: &mut Mask) {
        let g = self
            .font
            .glyph_id(c)
            .with_scale_and_position(scale_for(self, l.cap, l.stretch), point(x, base));
        if let Some(o) = self.font.outline_glyph(g) {
            let b = o.px_bounds();
            let (ox, oy) = (b.min.x as i64, b.min.y as i64);
            o.draw(|gx, gy, cov| mask.put(ox + gx as i64, oy + gy as i64, cov));
        }
    }
}

/// How a line is lettered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lettering {
    /// Height of the capitals in pixels (before any shrink to fit).
    pub cap: f32,
    /// Width relative to the font's own.
    pub stretch: f32,
    /// Extra space between characters, as a fraction of `cap`.
    pub spacing: f32,
    /// Stroke thickening in pixels.
    pub bold: usize,
}

/// A box: x0, y0, x1, y1.
pub(crate) type Rect = [f32; 4];

/// Tokens of plain text: spaces become gaps.
pub(crate) fn words(s: &str) -> Vec<Token> {
    s.chars()
        .map(|c| if c == ' ' { Token::Gap } else { Token::Char(c) })
        .collect()
}

fn widths(face: &impl Glyphs, tokens: &[Token], l: &Lettering) -> (Vec<f32>, f32) {
    let gap = l.spacing * l.cap;
    let ws: Vec<f32> = tokens
        .iter()
        .map(|t| match *t {
            Token::Char(c) => face.advance(c, l) + gap,
            Token::Gap => 0.4 * l.cap * l.stretch,
            Token::Dash => 0.5 * l.cap * l.stretch,
            Token::Dot => 0.35 * l.cap * l.stretch,
            Token::Logo => 1.0 * l.cap,
        })
        .collect();
    let total = ws.iter().sum::<f32>() - gap.max(0.0);
    (ws, total)
}

/// Draws `tokens` centred in `bx`, condensing (then shrinking) to fit its
/// width. Returns the mask and the centre of each logo token.
pub(crate) fn draw(
    face: &impl Glyphs,
    tokens: &[Token],
    bx: Rect,
    l: Lettering,
) -> (Mask, Vec<[f32; 2]>) {
    let mut l = l;
    let avail = (bx[2] - bx[0]).max(1.0);
    let (_, total) = widths(face, tokens, &l);
    if total > avail {
        let f = avail / total;
        let condense = f.max(0.72);
        l.stretch *= condense;
        l.spacing *= condense;
        if f < 0.72 {
            l.cap *= f / 0.72;
        }
    }
    let (ws, total) = widths(face, tokens, &l);
    let cy = (bx[1] + bx[3]) / 2.0;
    let base = cy + l.cap / 2.0;
    let pad = (l.cap * 0.4) as i64 + l.bold as i64 + 2;
    let (mx0, my0) = (bx[0] as i64 - pad, (cy - l.cap) as i64 - pad);
    let mw = (bx[2] - bx[0]) as usize + 2 * pad as usize;
    let mh = (2.0 * l.cap) as usize + 2 * pad as usize;
    let mut mask = Mask::new(mx0, my0, mw, mh);
    let mut logos = Vec::new();
    let mut x = bx[0] + (avail - total) / 2.0;
    for (t, w) in tokens.iter().zip(ws) {
        match *t {
            Token::Char(c) => face.draw(c, x, base, &l, &mut mask),
            Token::Dash => {
                let half = (l.cap * 0.05).max(0.8);
                for y in (cy - half) as i64..=(cy + half) as i64 {
                    for px in (x + 0.15 * w) as i64..(x + 0.85 * w) as i64 {
                        mask.put(px, y, 1.0);
                    }
                }
            }
            Token::Dot => {
                let r = (l.cap * 0.07).max(1.0);
                let cx = x + w / 2.0;
                for y in (cy - r - 1.0) as i64..=(cy + r + 1.0) as i64 {
                    for px in (cx - r - 1.0) as i64..=(cx + r + 1.0) as i64 {
                        let d =
                            ((px as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                        mask.put(px, y, (r - d + 0.5).clamp(0.0, 1.0));
                    }
                }
            }
            Token::Logo => logos.push([x + w / 2.0, cy]),
            Token::Gap => {}
        }
        x += w;
    }
    mask.dilate(l.bold);
    (mask, logos)
}
