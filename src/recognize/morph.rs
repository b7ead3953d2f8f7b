//! Binary morphology and connected components on `0/1` masks (one byte per
//! pixel, row-major), on the CPU: the steps after the integer kernels that
//! turn scattered vertical edges into plate-shaped blobs.

/// Horizontal closing with a line `gap + 1` wide, except at the frame's
/// edge: fills every run of 0s of at most `gap` pixels that has 1s on both
/// sides in its row. Merges the strokes of a plate's characters.
pub fn close_rows(mask: &mut [u8], width: usize, gap: usize) {
    for row in mask.chunks_mut(width.max(1)) {
        let mut last_one: Option<usize> = None;
        for x in 0..row.len() {
            if row[x] != 0 {
                if let Some(l) = last_one
                    && x - l > 1
                    && x - l - 1 <= gap
                {
                    row[l + 1..x].fill(1);
                }
                last_one = Some(x);
            }
        }
    }
}

/// Vertical closing: fills runs of at most `gap` 0s between 1s in a column.
pub fn close_cols(mask: &mut [u8], width: usize, height: usize, gap: usize) {
    for x in 0..width {
        let mut last_one: Option<usize> = None;
        for y in 0..height {
            if mask[y * width + x] != 0 {
                if let Some(l) = last_one
                    && y - l > 1
                    && y - l - 1 <= gap
                {
                    for yy in l + 1..y {
                        mask[yy * width + x] = 1;
                    }
                }
                last_one = Some(y);
            }
        }
    }
}

/// Vertical opening with a line `min_run` tall: clears column runs of 1s
/// shorter than `min_run`, so thin horizontal bridges (bumpers, the closing's
/// own streaks) stop gluing a plate to its surroundings.
pub fn open_cols(mask: &mut [u8], width: usize, height: usize, min_run: usize) {
    for x in 0..width {
        let mut y = 0;
        while y < height {
            if mask[y * width + x] == 0 {
                y += 1;
                continue;
            }
            let start = y;
            while y < height && mask[y * width + x] != 0 {
                y += 1;
            }
            if y - start < min_run {
                for yy in start..y {
                    mask[yy * width + x] = 0;
                }
            }
        }
    }
}

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
/// in `mask`, in scan order.
pub fn components(mask: &[u8], width: usize, height: usize, diagonal: bool) -> Vec<Component> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_fills_short_gaps_between_ones_only() {
        let mut m = vec![0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        close_rows(&mut m, 11, 2);
        assert_eq!(m, [0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn opening_drops_thin_rows() {
        // 2 columns, 3 rows: column 0 all ones, column 1 a single one.
        let mut m = vec![1, 0, 1, 1, 1, 0];
        open_cols(&mut m, 2, 3, 2);
        assert_eq!(m, [1, 0, 1, 0, 1, 0]);
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
}
