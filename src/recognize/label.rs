//! Connected-component labelling of `0/1` masks (one byte per pixel,
//! row-major), on the CPU: the blobs of closed edges (from the `morph`
//! kernel, [`crate::gpu::kernels::morph`]) and of ink become boxes here.
//! Labelling stays on the CPU: it joins runs across the whole frame, which
//! does not split into independent pixels the way the kernels' work does.

/// One 4-connected component: its bounding box (inclusive-exclusive) and
/// pixel count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Component {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub pixels: u32,
}

impl Component {
    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }
}

/// The 4-connected (or, with `diagonal`, 8-connected) components of the 1s
/// in `mask`, in scan order (of each component's first pixel).
///
/// Labelled by runs: each row's runs of 1s are joined (union-find, the
/// smaller index the root) with the runs of the row above that touch them,
/// so the cost follows the runs, not the pixels. A component's root is its
/// first run in scan order, which orders the output.
pub fn components(mask: &[u8], width: usize, height: usize, diagonal: bool) -> Vec<Component> {
    if width == 0 {
        return Vec::new();
    }
    // (y, x0, x1) per run, x1 exclusive.
    let mut runs: Vec<(u32, u32, u32)> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    // Runs touch across rows when they overlap, or meet at a corner.
    let reach = u32::from(diagonal);
    let mut above = 0..0;
    for (y, row) in mask.chunks(width).take(height).enumerate() {
        let first = runs.len();
        let mut x = 0;
        while let Some(p) = first_set(&row[x..]) {
            let x0 = x + p;
            x = x0 + first_clear(&row[x0..]).unwrap_or(width - x0);
            parent.push(runs.len() as u32);
            runs.push((y as u32, x0 as u32, x as u32));
            if x == width {
                break;
            }
        }
        let mut j = above.start;
        for i in first..runs.len() {
            let (_, a0, a1) = runs[i];
            while j < above.end && runs[j].2 + reach <= a0 {
                j += 1;
            }
            let mut k = j;
            while k < above.end && runs[k].1 < a1 + reach {
                union(&mut parent, i as u32, k as u32);
                k += 1;
            }
        }
        above = first..runs.len();
    }
    let mut slot = vec![0u32; runs.len()];
    let mut out: Vec<Component> = Vec::new();
    for (i, &(y, x0, x1)) in runs.iter().enumerate() {
        let root = find(&mut parent, i as u32) as usize;
        if root == i {
            slot[i] = out.len() as u32;
            out.push(Component {
                x0,
                y0: y,
                x1,
                y1: y + 1,
                pixels: x1 - x0,
            });
        } else {
            let c = &mut out[slot[root] as usize];
            c.x0 = c.x0.min(x0);
            c.x1 = c.x1.max(x1);
            c.y1 = c.y1.max(y + 1);
            c.pixels += x1 - x0;
        }
    }
    out
}

/// Bytes a word, for scanning masks eight pixels at a time.
const LANES: usize = 8;

/// The index of the first nonzero byte of `row`, if any.
fn first_set(row: &[u8]) -> Option<usize> {
    // A word's lowest set bit lies in its first nonzero byte.
    first_byte(row, |w| w, |v| v != 0)
}

/// The index of the first zero byte of `row`, if any.
fn first_clear(row: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; LANES]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; LANES]);
    // The high bit of each zero byte (and perhaps of bytes after the first
    // zero, never before it): the lowest flag is exact.
    first_byte(row, |w| w.wrapping_sub(ONES) & !w & HIGHS, |v| v == 0)
}

/// The first byte of `row` that `hit` picks: a word at a time, where
/// `flags` sets a bit in a word's first such byte (and none before it),
/// then the bytes past the last whole word one by one.
#[inline(always)]
fn first_byte(row: &[u8], flags: impl Fn(u64) -> u64, hit: impl Fn(u8) -> bool) -> Option<usize> {
    let mut words = row.chunks_exact(LANES);
    for (i, word) in words.by_ref().enumerate() {
        let found = flags(u64::from_le_bytes(word.try_into().expect("a whole word")));
        if found != 0 {
            return Some(i * LANES + found.trailing_zeros() as usize / 8);
        }
    }
    let done = row.len() - words.remainder().len();
    words
        .remainder()
        .iter()
        .position(|&v| hit(v))
        .map(|p| done + p)
}

/// The root of run `i`, halving the path on the way.
fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let up = parent[parent[i as usize] as usize];
        parent[i as usize] = up;
        i = up;
    }
    i
}

/// Joins the sets of runs `a` and `b` under the smaller root.
fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb) as usize] = ra.min(rb);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flood fill that `components` replaced: the reference it is
    /// tested against.
    fn flood(mask: &[u8], width: usize, height: usize, diagonal: bool) -> Vec<Component> {
        let mut seen = vec![false; mask.len()];
        // Pixels carry their coordinates: no division per visited pixel.
        let mut stack: Vec<(usize, usize, usize)> = Vec::new();
        let mut out = Vec::new();
        for start in 0..mask.len() {
            if mask[start] == 0 || seen[start] {
                continue;
            }
            seen[start] = true;
            let (sx, sy) = (start % width, start / width);
            stack.push((start, sx, sy));
            let (sx, sy) = (sx as u32, sy as u32);
            let mut c = Component {
                x0: sx,
                y0: sy,
                x1: sx + 1,
                y1: sy + 1,
                pixels: 0,
            };
            while let Some((i, x, y)) = stack.pop() {
                c.pixels += 1;
                c.x0 = c.x0.min(x as u32);
                c.x1 = c.x1.max(x as u32 + 1);
                c.y0 = c.y0.min(y as u32);
                c.y1 = c.y1.max(y as u32 + 1);
                let mut visit = |j: usize, jx: usize, jy: usize| {
                    if mask[j] != 0 && !seen[j] {
                        seen[j] = true;
                        stack.push((j, jx, jy));
                    }
                };
                if x > 0 {
                    visit(i - 1, x - 1, y);
                }
                if x + 1 < width {
                    visit(i + 1, x + 1, y);
                }
                if y > 0 {
                    visit(i - width, x, y - 1);
                }
                if y + 1 < height {
                    visit(i + width, x, y + 1);
                }
                if diagonal {
                    if x > 0 && y > 0 {
                        visit(i - width - 1, x - 1, y - 1);
                    }
                    if x + 1 < width && y > 0 {
                        visit(i - width + 1, x + 1, y - 1);
                    }
                    if x > 0 && y + 1 < height {
                        visit(i + width - 1, x - 1, y + 1);
                    }
                    if x + 1 < width && y + 1 < height {
                        visit(i + width + 1, x + 1, y + 1);
                    }
                }
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn runs_label_like_the_flood_fill() {
        let mut seed = 7u64;
        for (w, h, density) in [
            (1, 1, 50),
            (9, 1, 50),
            (1, 9, 50),
            (23, 17, 45),
            (64, 40, 60),
        ] {
            for round in 0..20 {
                let mask = crate::gpu::kernels::morph::random_mask(&mut seed, w * h, density);
                for diagonal in [false, true] {
                    assert_eq!(
                        components(&mask, w, h, diagonal),
                        flood(&mask, w, h, diagonal),
                        "{w}x{h} round {round} diagonal {diagonal}"
                    );
                }
            }
        }
    }

    #[test]
    fn components_are_four_connected() {
        let m = [1, 1, 0, 0, 0, 1, 0, 1, 1];
        let c = components(&m, 3, 3, false);
        assert_eq!(components(&m, 3, 3, true).len(), 1);
        assert_eq!(c.len(), 2);
        // Rows [1 1 0], [0 0 1], [0 1 1]: a pair on top, an L below.
        assert_eq!((c[0].width(), c[0].height(), c[0].pixels), (2, 1, 2));
        assert_eq!((c[1].x0, c[1].y0, c[1].width(), c[1].pixels), (1, 1, 2, 3));
    }

    #[test]
    fn word_scans_find_what_a_byte_scan_finds() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(52);
        for len in 0..40 {
            for _ in 0..50 {
                // Sparse and dense rows, any byte value standing for a 1.
                let density = rng.random_range(0.0..1.0);
                let row: Vec<u8> = (0..len)
                    .map(|_| {
                        if rng.random_bool(density) {
                            rng.random_range(1..=255)
                        } else {
                            0
                        }
                    })
                    .collect();
                assert_eq!(first_set(&row), row.iter().position(|&v| v != 0), "{row:?}");
                assert_eq!(
                    first_clear(&row),
                    row.iter().position(|&v| v == 0),
                    "{row:?}"
                );
            }
        }
    }
}
