//! Binary morphology on 0/1 masks: the steps that turn scattered vertical
//! edges into plate-shaped blobs. Three passes (shader `shaders/morph.wgsl`):
//!
//! ```text
//! mask --close_rows (gap)--> row gaps of at most `gap` 0s between 1s filled
//!      --close_cols (close)--> the same down the columns
//!      --open_cols (min_run)--> column runs of 1s shorter than `min_run` cleared
//! ```
//!
//! Closing here is not quite the textbook one: a gap is filled only when it
//! has 1s on both sides, so nothing grows past the frame's edge. Any nonzero
//! input counts as 1; outputs are 0 or 1.
//!
//! The shader computes each pixel on its own: a 0 becomes 1 when the nearest
//! 1s on either side are close enough, a 1 survives the opening when its
//! column run is long enough. Each search stops after `gap`, `close` or
//! `min_run` pixels, at most [`MAX_SPAN`], so a pixel costs O(gap). The CPU
//! twin follows runs instead (each row or column scanned once, remembering
//! its last 1, whatever the gap): it is the path the CPU detector takes, so
//! it stays fast, and the tests hold it to a loop-for-loop copy of the
//! shader (`invocation` there) on random masks.

use rayon::prelude::*;

use crate::gpu::job::{self, Slot};
use crate::gpu::{Gpu, Kernel, Planes};
use crate::{Error, Result};

/// The largest `gap`, `close` and `min_run`: the longest search a shader
/// invocation makes.
pub const MAX_SPAN: u32 = 64;

/// Keep in sync with `Params` in shaders/morph.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    /// Row closing: the longest run of 0s filled between two 1s.
    pub gap: u32,
    /// Column closing: the same, down the columns.
    pub close: u32,
    /// Column opening: the shortest column run of 1s kept.
    pub min_run: u32,
    pub _pad: [u32; 2],
}

impl Params {
    /// Parameters for `frames` planes of `width x height`, checked.
    pub fn new(
        width: u32,
        height: u32,
        frames: u32,
        gap: u32,
        close: u32,
        min_run: u32,
    ) -> Result<Params> {
        for (name, value) in [("gap", gap), ("close", close), ("min_run", min_run)] {
            if value > MAX_SPAN {
                return Err(Error::bad_input(format!(
                    "morphology {name} {value} is over {MAX_SPAN}"
                )));
            }
        }
        Ok(Params {
            width,
            height,
            frames,
            gap,
            close,
            min_run,
            _pad: [0; 2],
        })
    }

    /// [`Params::new`] for the planes `mask`.
    fn of(mask: &Planes, gap: u32, close: u32, min_run: u32) -> Result<Params> {
        Params::new(
            mask.width(),
            mask.height(),
            mask.count(),
            gap,
            close,
            min_run,
        )
    }
}

/// Runs the kernel on the GPU, several frames per submission.
pub fn dispatch(gpu: &Gpu, mask: &Planes, gap: u32, close: u32, min_run: u32) -> Result<Planes> {
    let all = Params::of(mask, gap, close, min_run)?;
    if mask.is_empty() {
        return job::planes(all.width, all.height, all.frames, Vec::new());
    }
    let plane = mask.plane_len();
    let data = job::batched(gpu, mask.count(), 4 * plane as u64, |first, n| {
        let params = Params { frames: n, ..all };
        let words = (plane * n as usize) as u64;
        let workgroups = job::workgroups(gpu, params.width, params.height, n)?;
        job::run(
            gpu,
            Kernel::Morph,
            &[
                Slot::Params(bytemuck::bytes_of(&params)),
                Slot::Input(mask.planes(first, n)),
                Slot::Scratch(words),
                Slot::Output(words),
            ],
            workgroups,
        )
    })?;
    job::planes(all.width, all.height, all.frames, data)
}

/// The CPU twin, on planes as [`dispatch`] takes them.
pub fn cpu(mask: &Planes, gap: u32, close: u32, min_run: u32) -> Result<Planes> {
    let params = Params::of(mask, gap, close, min_run)?;
    let mut bytes: Vec<u8> = mask.data().iter().map(|&v| u8::from(v != 0)).collect();
    apply(&params, &mut bytes);
    let words = bytes.into_iter().map(u32::from).collect();
    Planes::new(params.width, params.height, params.frames, words)
}

/// The CPU twin on a 0/1 mask of one byte a pixel (`params.frames` planes of
/// `params.width x params.height`, as the CPU's later stages read them).
pub fn cpu_bytes(mask: &[u8], params: &Params) -> Result<Vec<u8>> {
    let want = params.width as usize * params.height as usize * params.frames as usize;
    if mask.len() != want {
        return Err(Error::bad_input(format!(
            "{} planes of {}x{} need {want} pixels, got {}",
            params.frames,
            params.width,
            params.height,
            mask.len()
        )));
    }
    let mut blobs = mask.to_vec();
    apply(params, &mut blobs);
    Ok(blobs)
}

/// The three passes, in place, frame by frame (frames in parallel).
fn apply(params: &Params, mask: &mut [u8]) {
    let (w, h) = (params.width as usize, params.height as usize);
    if w * h == 0 {
        return;
    }
    mask.par_chunks_mut(w * h).for_each(|plane| {
        close_rows(plane, w, params.gap as usize);
        close_cols(plane, w, h, params.close as usize);
        open_cols(plane, w, h, params.min_run as usize);
    });
}

/// The shader's `close_rows`: fills every run of 0s of at most `gap`
/// pixels that has 1s on both sides in its row. Each fill lies behind the
/// scan, so later tests read the original pixels, as the shader does.
fn close_rows(mask: &mut [u8], width: usize, gap: usize) {
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

/// The shader's `close_cols`: fills runs of at most `gap` 0s between 1s in
/// a column. Scans row by row (each column remembers its last 1), which
/// keeps the reads in cache order.
fn close_cols(mask: &mut [u8], width: usize, height: usize, gap: usize) {
    let mut last_one = vec![usize::MAX; width];
    for y in 0..height {
        for x in 0..width {
            if mask[y * width + x] == 0 {
                continue;
            }
            let l = last_one[x];
            if l != usize::MAX && y - l > 1 && y - l - 1 <= gap {
                for yy in l + 1..y {
                    mask[yy * width + x] = 1;
                }
            }
            last_one[x] = y;
        }
    }
}

/// The shader's `open_cols`: clears column runs of 1s shorter than
/// `min_run`, so thin horizontal bridges (bumpers, the closing's own
/// streaks) stop gluing a plate to its surroundings. Scans row by row, each
/// column remembering where its current run began.
fn open_cols(mask: &mut [u8], width: usize, height: usize, min_run: usize) {
    let mut start = vec![usize::MAX; width];
    let clear = |mask: &mut [u8], x: usize, from: usize, to: usize| {
        if to - from < min_run {
            for yy in from..to {
                mask[yy * width + x] = 0;
            }
        }
    };
    for y in 0..height {
        for x in 0..width {
            let on = mask[y * width + x] != 0;
            if on && start[x] == usize::MAX {
                start[x] = y;
            } else if !on && start[x] != usize::MAX {
                clear(mask, x, start[x], y);
                start[x] = usize::MAX;
            }
        }
    }
    for (x, &from) in start.iter().enumerate() {
        if from != usize::MAX {
            clear(mask, x, from, height);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which of the shader's entry points [`invocation`] runs.
    #[derive(Clone, Copy)]
    enum Pass {
        CloseRows,
        CloseCols,
        OpenCols,
    }

    /// The shader's entry point `pass` for pixel `(x, y)` of frame `z`,
    /// loop for loop: reads `src` (the pass's input buffer), returns the
    /// value it writes.
    fn invocation(params: &Params, pass: Pass, src: &[u32], x: u32, y: u32, z: u32) -> u32 {
        let (w, h) = (params.width, params.height);
        let i = ((z * h + y) * w + x) as usize;
        match pass {
            Pass::CloseRows | Pass::CloseCols => {
                // Rows step by 1 along x; columns by w along y.
                let (pos, len, stride, span) = match pass {
                    Pass::CloseRows => (x, w, 1, params.gap),
                    _ => (y, h, w as usize, params.close),
                };
                let mut on = src[i] != 0;
                if !on {
                    let mut left = 0;
                    let mut d = 1;
                    while d <= span.min(pos) {
                        if src[i - d as usize * stride] != 0 {
                            left = d;
                            break;
                        }
                        d += 1;
                    }
                    if left != 0 {
                        let mut d = 1;
                        while left + d <= span + 1 && pos + d < len {
                            if src[i + d as usize * stride] != 0 {
                                on = true;
                                break;
                            }
                            d += 1;
                        }
                    }
                }
                u32::from(on)
            }
            Pass::OpenCols => {
                let stride = w as usize;
                let mut run = 0;
                if src[i] != 0 {
                    run = 1;
                    let mut d = 1;
                    while run < params.min_run && d <= y {
                        if src[i - d as usize * stride] == 0 {
                            break;
                        }
                        run += 1;
                        d += 1;
                    }
                    let mut d = 1;
                    while run < params.min_run && y + d < h {
                        if src[i + d as usize * stride] == 0 {
                            break;
                        }
                        run += 1;
                        d += 1;
                    }
                }
                u32::from(run != 0 && run >= params.min_run)
            }
        }
    }

    /// The shader's three passes over every pixel: the reference.
    fn reference(params: &Params, mask: &[u32]) -> Vec<u32> {
        let mut data = mask.to_vec();
        for pass in [Pass::CloseRows, Pass::CloseCols, Pass::OpenCols] {
            let mut out = Vec::with_capacity(data.len());
            for z in 0..params.frames {
                for y in 0..params.height {
                    for x in 0..params.width {
                        out.push(invocation(params, pass, &data, x, y, z));
                    }
                }
            }
            data = out;
        }
        data
    }

    /// `len` pixels, each 1 with `percent`% chance (a seeded LCG).
    fn random_mask(seed: &mut u64, len: usize, percent: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                u8::from((*seed >> 33) % 100 < percent)
            })
            .collect()
    }

    fn planes(w: u32, h: u32, frames: u32, mask: &[u8]) -> Planes {
        Planes::new(w, h, frames, mask.iter().map(|&v| u32::from(v)).collect()).unwrap()
    }

    #[test]
    fn runs_equal_the_per_pixel_shader() {
        let mut seed = 23u64;
        let sizes = [
            (1, 1, 1),
            (1, 1, 3),
            (1, 9, 2),
            (9, 1, 1),
            (19, 23, 2),
            (40, 33, 1),
            (70, 70, 1),
        ];
        let spans = [
            (0, 0, 0),
            (1, 1, 1),
            (2, 2, 3),
            (4, 2, 3),
            (8, 2, 3),
            (3, 5, 7),
            (MAX_SPAN, MAX_SPAN, MAX_SPAN),
        ];
        for (w, h, frames) in sizes {
            for percent in [0, 20, 55, 85, 100] {
                let mask = random_mask(&mut seed, (w * h * frames) as usize, percent);
                let p = planes(w, h, frames, &mask);
                for (gap, close, min_run) in spans {
                    let params = Params::new(w, h, frames, gap, close, min_run).unwrap();
                    assert_eq!(
                        cpu(&p, gap, close, min_run).unwrap().data(),
                        &reference(&params, p.data())[..],
                        "{w}x{h}x{frames} {percent}% gap {gap} close {close} run {min_run}"
                    );
                }
            }
        }
    }

    #[test]
    fn closing_fills_short_gaps_between_ones_only() {
        let mut m = vec![0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        close_rows(&mut m, 11, 2);
        assert_eq!(m, [0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0]);
        // Runs that touch the frame's edge have no 1 beyond it.
        let edge = planes(5, 1, 1, &[0, 0, 1, 0, 0]);
        assert_eq!(cpu(&edge, 8, 0, 0).unwrap(), edge);
        let column = planes(1, 5, 1, &[1, 0, 0, 1, 0]);
        assert_eq!(cpu(&column, 0, 2, 0).unwrap().data(), &[1, 1, 1, 1, 0]);
    }

    #[test]
    fn opening_drops_short_column_runs() {
        // 2 columns, 3 rows: column 0 all ones, column 1 a single one.
        let mut m = vec![1, 0, 1, 1, 1, 0];
        open_cols(&mut m, 2, 3, 2);
        assert_eq!(m, [1, 0, 1, 0, 1, 0]);
        // A run of 3 touching the top edge stays with min_run 3, not with 4.
        let top = planes(1, 5, 1, &[1, 1, 1, 0, 1]);
        assert_eq!(cpu(&top, 0, 0, 3).unwrap().data(), &[1, 1, 1, 0, 0]);
        assert_eq!(cpu(&top, 0, 0, 4).unwrap().data(), &[0; 5]);
    }

    #[test]
    fn full_and_empty_masks() {
        let ones = planes(6, 4, 2, &[1; 48]);
        assert_eq!(cpu(&ones, 4, 2, 4).unwrap(), ones);
        assert_eq!(cpu(&ones, 4, 2, 5).unwrap().data(), &[0; 48]);
        let zeros = planes(6, 4, 2, &[0; 48]);
        assert_eq!(cpu(&zeros, MAX_SPAN, MAX_SPAN, 0).unwrap(), zeros);
        let none = Planes::new(0, 3, 2, vec![]).unwrap();
        assert_eq!(cpu(&none, 1, 1, 1).unwrap(), none);
    }

    #[test]
    fn frames_do_not_touch() {
        // Frame 0's bottom 1 and frame 1's top 1 would close across frames.
        let p = planes(1, 2, 2, &[1, 0, 0, 1]);
        assert_eq!(cpu(&p, 0, 2, 0).unwrap(), p);
        assert_eq!(cpu(&p, 0, 0, 2).unwrap().data(), &[0; 4]);
    }

    #[test]
    fn nonzero_counts_as_one() {
        let p = Planes::single(4, 1, &[7, 0, 0, u32::MAX]);
        assert_eq!(cpu(&p, 2, 0, 1).unwrap().data(), &[1, 1, 1, 1]);
    }

    #[test]
    fn limits_are_checked() {
        let p = Planes::single(1, 1, &[1]);
        assert!(cpu(&p, MAX_SPAN, MAX_SPAN, MAX_SPAN).is_ok());
        for spans in [
            (MAX_SPAN + 1, 0, 0),
            (0, MAX_SPAN + 1, 0),
            (0, 0, MAX_SPAN + 1),
        ] {
            let (gap, close, min_run) = spans;
            assert!(matches!(
                cpu(&p, gap, close, min_run),
                Err(Error::BadInput(_))
            ));
        }
        let params = Params::new(2, 2, 1, 1, 1, 1).unwrap();
        assert!(matches!(
            cpu_bytes(&[0; 3], &params),
            Err(Error::BadInput(_))
        ));
        assert_eq!(cpu_bytes(&[1; 4], &params).unwrap(), [1; 4]);
    }
}
