//! Plate candidates from rows of character-like blobs: the second generator
//! beside the edge blobs of [`detect`](mod@super::detect). Characters are found
//! in a dark-on-light (and a light-on-dark) mask from the adaptive threshold
//! kernel; neighbours of similar height on one baseline are chained; a chain
//! of three or more is a plate's text line, and the plate is drawn around it.
//!
//! ```text
//! luma (or 255 - luma) --threshold kernel--> ink mask --8-connected components-->
//!   character-shaped blobs --chain: similar height, aligned, close--> text rows
//!   --> plate box around the row (2:1 or 4.7:1 by the row's length), score
//! ```

use crate::recognize::label::{self, Component};

/// A text row: its characters' bounding box (working pixels), how many
/// characters, their median height, and a 0..=1 score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub chars: u32,
    pub char_height: u32,
    pub score: f32,
    /// The text line's slope (rows per column, y down): the least-squares
    /// line through the glyphs' centres.
    pub slope: f32,
}

/// Character-shaped components of `ink` (1 = ink), `width x height`.
pub fn characters(ink: &[u8], width: usize, height: usize) -> Vec<Component> {
    let max_h = (height / 4).max(8) as u32;
    label::components(ink, width, height, true)
        .into_iter()
        .filter(|c| {
            let (w, h) = (c.width(), c.height());
            let fill = c.pixels as f32 / (w * h) as f32;
            (6..=max_h).contains(&h)
                // Up to 1.6 wide: at low resolution two glyphs often touch.
                && w * 10 <= h * 16
                && w * 12 >= h
                && (0.15..=0.95).contains(&fill)
                // Not touching the frame's edge: a cut-off blob is no glyph.
                && c.x0 > 0
                && c.y0 > 0
                && (c.x1 as usize) < width
                && (c.y1 as usize) < height
        })
        .collect()
}

/// Gaps (in glyph heights) a chain may bridge. A second, wider gap (2.5)
/// for split serials was tried and lost recall: the wide chains outrank
/// plates; split serials are joined from two pieces in [`rows_linked`].
const LINK_GAPS: [f32; 1] = [1.2];

/// Chains characters into rows of at least three, at every `LINK_GAPS`
/// entry; the same row found twice is given once.
pub fn rows(chars: Vec<Component>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for link_gap in LINK_GAPS {
        for row in rows_linked(chars.clone(), link_gap) {
            let same = |r: &Row| (r.x0, r.y0, r.x1, r.y1) == (row.x0, row.y0, row.x1, row.y1);
            if !out.iter().any(same) {
                out.push(row);
            }
        }
    }
    out
}

/// Chains characters whose gap is at most `link_gap` glyph heights.
fn rows_linked(mut chars: Vec<Component>, link_gap: f32) -> Vec<Row> {
    chars.sort_by_key(|c| (c.x0, c.y0));
    let n = chars.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..n {
        let a = chars[i];
        let ha = a.height() as f32;
        let cya = (a.y0 + a.y1) as f32 / 2.0;
        // The nearest compatible neighbour to the right only: chains, not
        // cliques, so one row does not swallow another text line.
        let mut best: Option<(f32, usize)> = None;
        for (j, b) in chars.iter().enumerate().skip(i + 1) {
            if b.x0 as f32 > a.x1 as f32 + link_gap * ha {
                break;
            }
            let hb = b.height() as f32;
            let cyb = (b.y0 + b.y1) as f32 / 2.0;
            let (lo, hi) = (ha.min(hb), ha.max(hb));
            let gap = b.x0 as f32 - a.x1 as f32;
            if hi > 1.35 * lo || (cya - cyb).abs() > 0.3 * hi || gap < -0.15 * lo {
                continue;
            }
            if best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, j));
            }
        }
        if let Some((_, j)) = best {
            let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
            parent[ri.max(rj)] = ri.min(rj);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<Component>> = Default::default();
    for (i, c) in chars.iter().enumerate() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(*c);
    }
    let groups: Vec<Vec<Component>> = groups.into_values().filter(|g| g.len() >= 2).collect();
    let mut out: Vec<Row> = groups
        .iter()
        .filter(|g| g.len() >= 3)
        .map(|g| row_of(g))
        .collect();
    // Plates often split their serial with a gap, a dash or an emblem
    // (`ABC 1234`, `FK2 <heart> XZ2`): two aligned pieces with a short gap
    // also make a row.
    let spans: Vec<Row> = groups.iter().map(|g| row_of(g)).collect();
    for (i, a) in spans.iter().enumerate() {
        for (j, b) in spans.iter().enumerate() {
            if i == j || b.x0 < a.x1 {
                continue;
            }
            let (lo, hi) = (
                a.char_height.min(b.char_height) as f32,
                a.char_height.max(b.char_height) as f32,
            );
            let cya = (a.y0 + a.y1) as f32 / 2.0;
            let cyb = (b.y0 + b.y1) as f32 / 2.0;
            let gap = (b.x0 - a.x1) as f32;
            if hi <= 1.3 * lo && (cya - cyb).abs() <= 0.3 * hi && gap <= 2.5 * hi {
                let mut g = groups[i].clone();
                g.extend_from_slice(&groups[j]);
                if g.len() >= 4 {
                    out.push(row_of(&g));
                }
            }
        }
    }
    out
}

fn row_of(g: &[Component]) -> Row {
    let mut heights: Vec<u32> = g.iter().map(|c| c.height()).collect();
    heights.sort_unstable();
    let char_height = heights[heights.len() / 2];
    let x0 = g.iter().map(|c| c.x0).min().unwrap_or(0);
    let x1 = g.iter().map(|c| c.x1).max().unwrap_or(0);
    let y0 = g.iter().map(|c| c.y0).min().unwrap_or(0);
    let y1 = g.iter().map(|c| c.y1).max().unwrap_or(0);
    let n = g.len() as f32;
    // Plates hold 4-8 characters; 3 happens (a split serial), long rows
    // are usually grilles, fences or signs.
    let s_count = match g.len() {
        3 => 0.55,
        4..=9 => 1.0,
        10..=12 => 0.6,
        _ => 0.3,
    };
    // Same heights and one baseline.
    let spread = (heights[heights.len() - 1] - heights[0]) as f32 / char_height as f32;
    let s_height = (1.0 - spread).clamp(0.0, 1.0);
    let s_straight = (char_height as f32 / (y1 - y0) as f32).clamp(0.0, 1.0);
    // Glyphs are not all thin bars (grilles, fences).
    let wide = g
        .iter()
        .filter(|c| c.width() * 10 >= c.height() * 3)
        .count() as f32
        / n;
    // Spacing: a plate's characters nearly touch; widely spaced rows are
    // unrelated blobs.
    let width_sum: u32 = g.iter().map(|c| c.width()).sum();
    let coverage = (width_sum as f32 / (x1 - x0) as f32).clamp(0.0, 1.0);
    let score = 0.3 * s_count + 0.1 * s_height + 0.15 * s_straight + 0.3 * wide + 0.15 * coverage;
    Row {
        x0,
        y0,
        x1,
        y1,
        chars: g.len() as u32,
        char_height,
        score,
        slope: slope(g),
    }
}

/// The least-squares slope of the glyphs' centres (0 when they share one
/// column).
fn slope(g: &[Component]) -> f32 {
    let n = g.len() as f32;
    let centre = |c: &Component| ((c.x0 + c.x1) as f32 / 2.0, (c.y0 + c.y1) as f32 / 2.0);
    let (sx, sy) = g
        .iter()
        .map(centre)
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = g.iter().map(centre).fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(x0: u32, y0: u32, w: u32, h: u32) -> Component {
        Component {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
            pixels: w * h / 2,
        }
    }

    #[test]
    fn a_row_knows_its_slope() {
        // Five glyphs, 10 apart, each 2 rows lower than the last: slope 0.2.
        let glyphs: Vec<Component> = (0..5)
            .map(|i| comp(10 + 10 * i, 20 + 2 * i, 8, 16))
            .collect();
        let rows = rows(glyphs);
        assert_eq!(rows.len(), 1);
        assert!((rows[0].slope - 0.2).abs() < 1e-6, "{}", rows[0].slope);
        let level: Vec<Component> = (0..5).map(|i| comp(10 + 10 * i, 20, 8, 16)).collect();
        assert_eq!(super::rows(level)[0].slope, 0.0);
    }

    #[test]
    fn aligned_glyphs_make_one_row_and_strays_none() {
        let mut chars: Vec<Component> = (0..6).map(|i| comp(10 + 12 * i, 20, 8, 16)).collect();
        chars.push(comp(200, 100, 8, 16));
        chars.push(comp(40, 60, 8, 30));
        let r = rows(chars);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].x0, r[0].x1, r[0].chars), (10, 78, 6));
    }
}
