//! A stroke-drawn plate lettering in the manner of the narrow, even-stroked
//! "penitentiary gothic" faces most US issuers stamp, which none of the
//! embedded fonts resembles closely: each character is a few polylines
//! (straight strokes and superellipse arcs) drawn with a round pen.
//!
//! Its shapes vary per plate where issuers' faces differ and where readers
//! confuse them: an `I` with or without serifs, a `1` with or without a
//! base, how deep the middle of `M` and `W` reaches, a splayed or an upright
//! narrow `W`, round or squarish bowls, a narrow `0` beside a wider `O`, a
//! flat- or pointed-topped `A`.
//! Laying glyphs out and painting them stay in `layout` and `render`.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

use super::canvas::Mask;
use super::layout::{Glyphs, Lettering};

/// A point in a glyph's box: `x` from its left (0) to right (1) stroke
/// centre, `y` from the cap line (0) to the baseline (1).
type Pt = [f32; 2];

/// Arc samples per quarter turn.
const ARC_STEPS: usize = 8;

/// One plate's variant of the lettering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrokeFont {
    /// A regular glyph's width over the cap height.
    width: f32,
    /// Pen width over the cap height.
    pen: f32,
    /// Superellipse exponent of bowls: 2 is an ellipse, 4 nearly a box.
    round: f32,
    /// `I` drawn with top and bottom bars (as many issuers do to tell it
    /// from `1`).
    serif_i: bool,
    /// `1` standing on a base bar.
    base_one: bool,
    /// Length of `1`'s flag over the longest drawn (0: a plain bar, as
    /// some issuers stamp it, the same as an `I` without serifs).
    one_flag: f32,
    /// How far down the middle of `M` reaches, over the cap height.
    m_depth: f32,
    /// How far up the middle of `W` reaches, over the cap height.
    w_depth: f32,
    /// How far in the feet of `W`'s outer strokes stand, over its width:
    /// 0.22 splayed, near 0 upright (the narrow `W` of Texas and
    /// Washington, which readers take for `H` or `N`).
    w_splay: f32,
    /// `W`'s width over a regular glyph's.
    w_width: f32,
    /// `A` with a flat top.
    flat_a: bool,
    /// `O`'s width over a regular glyph's (the digit `0` is regular).
    o_width: f32,
}

impl StrokeFont {
    /// A random variant.
    pub(crate) fn random(rng: &mut Pcg64Mcg) -> StrokeFont {
        StrokeFont {
            width: rng.random_range(0.42..0.6),
            pen: rng.random_range(0.1..0.17),
            round: rng.random_range(2.0..4.5),
            serif_i: rng.random_bool(0.6),
            base_one: rng.random_bool(0.4),
            one_flag: if rng.random_bool(0.25) {
                0.0
            } else {
                rng.random_range(0.5..1.0)
            },
            m_depth: rng.random_range(0.35..1.0),
            w_depth: rng.random_range(0.35..1.0),
            w_splay: rng.random_range(0.04..0.22),
            w_width: rng.random_range(1.0..1.35),
            flat_a: rng.random_bool(0.3),
            o_width: rng.random_range(1.0..1.25),
        }
    }

    /// Width of `c`'s box over a regular glyph's.
    fn factor(&self, c: char) -> f32 {
        match c {
            'I' if !self.serif_i => 0.0,
            'I' => 0.6,
            '1' => 0.6,
            'M' => 1.2,
            'W' => self.w_width,
            'O' | 'Q' => self.o_width,
            _ => 1.0,
        }
    }

    /// `c`'s polylines in its unit box.
    fn glyph(&self, c: char) -> Vec<Vec<Pt>> {
        let n = self.round;
        let bowl = |cx, cy, rx, ry, a0, a1| arc([cx, cy], [rx, ry], a0, a1, n);
        let join = |mut a: Vec<Pt>, b: Vec<Pt>| {
            a.extend(b);
            a
        };
        match c {
            '0' | 'O' => vec![bowl(0.5, 0.5, 0.5, 0.5, 0.0, 360.0)],
            'Q' => {
                let mut v = self.glyph('O');
                v.push(vec![[0.62, 0.72], [1.0, 1.05]]);
                v
            }
            '1' => {
                let f = self.one_flag;
                let mut v = vec![vec![[0.55 - 0.45 * f, 0.22 * f], [0.55, 0.0], [0.55, 1.0]]];
                if self.base_one {
                    v.push(vec![[0.05, 1.0], [1.0, 1.0]]);
                }
                v
            }
            '2' => vec![join(
                bowl(0.5, 0.28, 0.5, 0.28, 165.0, -30.0),
                vec![[0.0, 1.0], [1.0, 1.0]],
            )],
            '3' => vec![join(
                bowl(0.5, 0.25, 0.46, 0.25, 160.0, -90.0),
                bowl(0.5, 0.73, 0.5, 0.27, 90.0, -160.0),
            )],
            '4' => vec![vec![[0.75, 1.0], [0.75, 0.0], [0.0, 0.7], [1.0, 0.7]]],
            '5' => vec![join(
                vec![[0.95, 0.0], [0.08, 0.0], [0.03, 0.45]],
                bowl(0.5, 0.68, 0.5, 0.32, 130.0, -160.0),
            )],
            '6' => vec![
                bowl(0.5, 0.68, 0.5, 0.32, 0.0, 360.0),
                join(
                    vec![[0.0, 0.68], [0.0, 0.35]],
                    bowl(0.5, 0.35, 0.5, 0.35, 180.0, 35.0),
                ),
            ],
            '7' => vec![vec![[0.0, 0.0], [1.0, 0.0], [0.35, 1.0]]],
            '8' => vec![
                bowl(0.5, 0.25, 0.43, 0.25, 0.0, 360.0),
                bowl(0.5, 0.73, 0.5, 0.27, 0.0, 360.0),
            ],
            '9' => vec![
                bowl(0.5, 0.32, 0.5, 0.32, 0.0, 360.0),
                join(
                    vec![[1.0, 0.32], [1.0, 0.65]],
                    bowl(0.5, 0.65, 0.5, 0.35, 0.0, -145.0),
                ),
            ],
            'A' => {
                let apex = if self.flat_a {
                    vec![[0.0, 1.0], [0.38, 0.0], [0.62, 0.0], [1.0, 1.0]]
                } else {
                    vec![[0.0, 1.0], [0.5, 0.0], [1.0, 1.0]]
                };
                vec![apex, vec![[0.2, 0.64], [0.8, 0.64]]]
            }
            'B' => vec![join(
                join(
                    vec![[0.0, 0.48], [0.0, 0.0], [0.62, 0.0]],
                    bowl(0.62, 0.24, 0.34, 0.24, 90.0, -90.0),
                ),
                join(
                    vec![[0.0, 0.48], [0.66, 0.48]],
                    join(
                        bowl(0.66, 0.74, 0.34, 0.26, 90.0, -90.0),
                        vec![[0.0, 1.0], [0.0, 0.48]],
                    ),
                ),
            )],
            'C' => vec![bowl(0.5, 0.5, 0.5, 0.5, 40.0, 320.0)],
            'D' => vec![join(
                vec![[0.45, 1.0], [0.0, 1.0], [0.0, 0.0], [0.45, 0.0]],
                bowl(0.45, 0.5, 0.55, 0.5, 90.0, -90.0),
            )],
            'E' => vec![
                vec![[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                vec![[0.0, 0.5], [0.8, 0.5]],
            ],
            'F' => vec![
                vec![[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]],
                vec![[0.0, 0.5], [0.8, 0.5]],
            ],
            'G' => vec![join(
                bowl(0.5, 0.5, 0.5, 0.5, 40.0, 330.0),
                vec![[1.0, 0.56], [0.55, 0.56]],
            )],
            'H' => vec![
                vec![[0.0, 0.0], [0.0, 1.0]],
                vec![[1.0, 0.0], [1.0, 1.0]],
                vec![[0.0, 0.5], [1.0, 0.5]],
            ],
            'I' => {
                let mut v = vec![vec![[0.5, 0.0], [0.5, 1.0]]];
                if self.serif_i {
                    v.push(vec![[0.0, 0.0], [1.0, 0.0]]);
                    v.push(vec![[0.0, 1.0], [1.0, 1.0]]);
                }
                v
            }
            'J' => vec![join(
                vec![[1.0, 0.0], [1.0, 0.68]],
                bowl(0.5, 0.68, 0.5, 0.32, 0.0, -170.0),
            )],
            'K' => vec![
                vec![[0.0, 0.0], [0.0, 1.0]],
                vec![[1.0, 0.0], [0.0, 0.62]],
                vec![[0.32, 0.42], [1.0, 1.0]],
            ],
            'L' => vec![vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]],
            'M' => vec![vec![
                [0.0, 1.0],
                [0.0, 0.0],
                [0.5, self.m_depth],
                [1.0, 0.0],
                [1.0, 1.0],
            ]],
            'N' => vec![vec![[0.0, 1.0], [0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]],
            'P' => vec![join(
                vec![[0.0, 1.0], [0.0, 0.0], [0.64, 0.0]],
                join(bowl(0.64, 0.27, 0.36, 0.27, 90.0, -90.0), vec![[0.0, 0.54]]),
            )],
            'R' => {
                let mut v = self.glyph('P');
                v.push(vec![[0.5, 0.54], [1.0, 1.0]]);
                v
            }
            'S' => vec![join(
                bowl(0.5, 0.26, 0.48, 0.26, 25.0, 270.0),
                bowl(0.5, 0.76, 0.5, 0.24, 90.0, -155.0),
            )],
            'T' => vec![vec![[0.0, 0.0], [1.0, 0.0]], vec![[0.5, 0.0], [0.5, 1.0]]],
            'U' => vec![join(
                join(vec![[0.0, 0.0]], bowl(0.5, 0.62, 0.5, 0.38, 180.0, 360.0)),
                vec![[1.0, 0.0]],
            )],
            'V' => vec![vec![[0.0, 0.0], [0.5, 1.0], [1.0, 0.0]]],
            'W' => vec![vec![
                [0.0, 0.0],
                [self.w_splay, 1.0],
                [0.5, 1.0 - self.w_depth],
                [1.0 - self.w_splay, 1.0],
                [1.0, 0.0],
            ]],
            'X' => vec![vec![[0.0, 0.0], [1.0, 1.0]], vec![[1.0, 0.0], [0.0, 1.0]]],
            'Y' => vec![
                vec![[0.0, 0.0], [0.5, 0.5], [1.0, 0.0]],
                vec![[0.5, 0.5], [0.5, 1.0]],
            ],
            'Z' => vec![vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]],
            _ => Vec::new(),
        }
    }
}

impl Glyphs for StrokeFont {
    fn advance(&self, c: char, l: &Lettering) -> f32 {
        let pen = self.pen * l.cap;
        self.factor(c) * self.width * l.cap * l.stretch + pen + 0.12 * l.cap
    }

    fn draw(&self, c: char, x: f32, base: f32, l: &Lettering, mask: &mut Mask) {
        let pen = self.pen * l.cap;
        let half = pen / 2.0;
        // Stroke centres run inside the box so that the ink fills it.
        let (x0, y0) = (x + 0.06 * l.cap + half, base - l.cap + half);
        let (bw, bh) = (self.factor(c) * self.width * l.cap * l.stretch, l.cap - pen);
        let lines: Vec<Vec<Pt>> = self
            .glyph(c)
            .into_iter()
            .map(|line| {
                line.into_iter()
                    .map(|[u, v]| [x0 + u * bw, y0 + v * bh])
                    .collect()
            })
            .collect();
        stroke(mask, &lines, half);
    }
}

/// A superellipse arc (`|x/rx|^n + |y/ry|^n = 1`) about `c` from angle `a0`
/// to `a1` in degrees, counter-clockwise as on paper (y points down here).
fn arc(c: Pt, r: Pt, a0: f32, a1: f32, n: f32) -> Vec<Pt> {
    let steps = (((a1 - a0).abs() / 90.0) * ARC_STEPS as f32)
        .ceil()
        .max(1.0) as usize;
    let e = 2.0 / n;
    (0..=steps)
        .map(|i| {
            let t = (a0 + (a1 - a0) * i as f32 / steps as f32).to_radians();
            let (s, k) = t.sin_cos();
            [
                c[0] + r[0] * k.signum() * k.abs().powf(e),
                c[1] - r[1] * s.signum() * s.abs().powf(e),
            ]
        })
        .collect()
}

/// Draws polylines (pixel coordinates) with a round pen of radius `half`,
/// anti-aliased by distance.
fn stroke(mask: &mut Mask, lines: &[Vec<Pt>], half: f32) {
    let segments: Vec<(Pt, Pt)> = lines
        .iter()
        .flat_map(|l| l.windows(2).map(|p| (p[0], p[1])))
        .collect();
    if segments.is_empty() {
        return;
    }
    let bounds = lines.iter().flatten().fold(
        [
            f32::INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ],
        |m, p| {
            [
                m[0].min(p[0]),
                m[1].min(p[1]),
                m[2].max(p[0]),
                m[3].max(p[1]),
            ]
        },
    );
    let pad = half + 1.0;
    let mut near = Vec::with_capacity(segments.len());
    for y in (bounds[1] - pad).floor() as i64..=(bounds[3] + pad).ceil() as i64 {
        // Only segments within the pen's reach of this row can ink it: a
        // farther one is farther from every pixel of the row, so leaving it
        // out changes no covered pixel's nearest distance.
        let py = y as f32 + 0.5;
        near.clear();
        near.extend(
            segments
                .iter()
                .filter(|(a, b)| py - a[1].max(b[1]) < pad && a[1].min(b[1]) - py < pad),
        );
        if near.is_empty() {
            continue;
        }
        for x in (bounds[0] - pad).floor() as i64..=(bounds[2] + pad).ceil() as i64 {
            let p = [x as f32 + 0.5, py];
            // The square root is monotonic and correctly rounded, so the
            // root of the least square is the least root.
            let d = near
                .iter()
                .map(|&(a, b)| distance2(p, a, b))
                .fold(f32::INFINITY, f32::min)
                .sqrt();
            let cover = (half + 0.5 - d).clamp(0.0, 1.0);
            if cover > 0.0 {
                mask.put(x, y, cover);
            }
        }
    }
}

/// Squared distance from `p` to the segment `a`-`b`.
fn distance2(p: Pt, a: Pt, b: Pt) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::synth_plates::fonts::ALPHABET;

    const CAP_40: Lettering = Lettering {
        cap: 40.0,
        stretch: 1.0,
        spacing: 0.0,
        bold: 0,
    };

    /// Ink of `c` drawn 40 pixels high, as a 0/1 grid.
    fn ink(font: &StrokeFont, c: char) -> Vec<bool> {
        let mut mask = Mask::new(0, 0, 60, 50);
        font.draw(c, 2.0, 45.0, &CAP_40, &mut mask);
        mask.a.iter().map(|&a| a > 0.5).collect()
    }

    #[test]
    fn every_character_draws_distinct_ink_inside_its_advance() {
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        for _ in 0..4 {
            let font = StrokeFont::random(&mut rng);
            let mut seen: Vec<(char, Vec<bool>)> = Vec::new();
            for c in ALPHABET.chars() {
                let grid = ink(&font, c);
                let count = grid.iter().filter(|&&b| b).count();
                assert!(count > 40, "{c} draws only {count} pixels");
                let right = (0..60)
                    .rev()
                    .find(|&x| (0..50).any(|y| grid[y * 60 + x]))
                    .unwrap();
                let advance = 2.0 + font.advance(c, &CAP_40);
                assert!((right as f32) < advance, "{c} inks past its advance");
                let top = (0..50)
                    .find(|&y| (0..60).any(|x| grid[y * 60 + x]))
                    .unwrap();
                assert!((4..=7).contains(&top), "{c}'s top at row {top}");
                // 0 and O share a shape and may share a width.
                if let Some((d, _)) = seen.iter().find(|(d, g)| *g == grid && *d != '0') {
                    panic!("{c} and {d} draw the same pixels");
                }
                seen.push((c, grid));
            }
        }
    }

    /// [`stroke`] as first written: every segment for every pixel, a root each.
    fn stroke_every_segment(mask: &mut Mask, lines: &[Vec<Pt>], half: f32) {
        let segments: Vec<(Pt, Pt)> = lines
            .iter()
            .flat_map(|l| l.windows(2).map(|p| (p[0], p[1])))
            .collect();
        for y in 0..mask.h as i64 {
            for x in 0..mask.w as i64 {
                let p = [x as f32 + 0.5, y as f32 + 0.5];
                let d = segments
                    .iter()
                    .map(|&(a, b)| distance2(p, a, b).sqrt())
                    .fold(f32::INFINITY, f32::min);
                let cover = (half + 0.5 - d).clamp(0.0, 1.0);
                if cover > 0.0 {
                    mask.put(x, y, cover);
                }
            }
        }
    }

    #[test]
    fn culled_rows_and_one_root_ink_to_the_bit_what_every_segment_inks() {
        // The generator's plates, and so the shipped weights, depend on it.
        let mut rng = Pcg64Mcg::seed_from_u64(9);
        for (cap, pen) in [(11.0f32, 0.09f32), (23.5, 0.14), (40.0, 0.18)] {
            let font = StrokeFont::random(&mut rng);
            let half = pen * cap / 2.0;
            for c in ALPHABET.chars() {
                let lines: Vec<Vec<Pt>> = font
                    .glyph(c)
                    .into_iter()
                    .map(|l| {
                        l.into_iter()
                            .map(|[u, v]| [3.3 + u * cap * 0.6, 2.7 + v * cap])
                            .collect()
                    })
                    .collect();
                let (mut fast, mut slow) = (Mask::new(0, 0, 40, 50), Mask::new(0, 0, 40, 50));
                stroke(&mut fast, &lines, half);
                stroke_every_segment(&mut slow, &lines, half);
                let bits = |m: &Mask| m.a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&slow), "{c} at cap {cap}");
            }
        }
    }

    #[test]
    fn serifs_tell_i_from_one_and_from_t() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mut font = StrokeFont::random(&mut rng);
        font.serif_i = true;
        let bottom_row = |g: &[bool]| (0..60).filter(|&x| g[44 * 60 + x]).count();
        let (i, t) = (ink(&font, 'I'), ink(&font, 'T'));
        assert!(bottom_row(&i) > 2 * bottom_row(&t));
    }

    #[test]
    fn a_one_without_flag_or_base_is_a_plain_bar() {
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let mut font = StrokeFont::random(&mut rng);
        font.base_one = false;
        let columns = |font: &StrokeFont| {
            let g = ink(font, '1');
            (0..60).filter(|&x| (0..50).any(|y| g[y * 60 + x])).count()
        };
        font.one_flag = 0.0;
        let bar = columns(&font);
        font.one_flag = 1.0;
        let flagged = columns(&font);
        // A pen 4-7 pixels wide at a 40-pixel cap; the flag reaches 0.45
        // of the glyph's box further left.
        assert!(bar <= 8, "plain bar {bar} columns wide");
        assert!(flagged >= bar + 5, "flagged {flagged} vs plain {bar}");
    }

    #[test]
    fn an_upright_w_stands_on_its_corners_and_a_splayed_one_does_not() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut font = StrokeFont::random(&mut rng);
        // Ink in the bottom-left corner: the first columns of the glyph's
        // box (from x = 2) just above the baseline (y = 45).
        let corner = |font: &StrokeFont| {
            let g = ink(font, 'W');
            (2..6)
                .flat_map(|x| (38..44).map(move |y| (x, y)))
                .filter(|&(x, y)| g[y * 60 + x])
                .count()
        };
        font.w_splay = 0.04;
        font.w_width = 1.0;
        let upright = corner(&font);
        font.w_splay = 0.22;
        font.w_width = 1.35;
        let splayed = corner(&font);
        assert!(upright >= 3, "upright W: {upright} corner pixels");
        assert_eq!(splayed, 0, "splayed W: {splayed} corner pixels");
    }
}
