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
//! twin computes the same tests for whole rows at once, as ANDs and ORs of
//! shifted rows (bytes, so they vectorise): it is the path the CPU detector
//! takes, and the tests hold it to a loop-for-loop copy of the shader
//! (`invocation` there) on random masks.

use multiversion::multiversion;
use rayon::prelude::*;

use crate::gpu::job;
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
    job::per_pixel(gpu, Kernel::Morph, mask, true, |n| Params {
        frames: n,
        ..all
    })
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
    let mut blobs: Vec<u8> = mask.iter().map(|&v| u8::from(v != 0)).collect();
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

/// The shader's `close_rows` on every row: a 0 becomes 1 when there is a 1
/// `a` pixels to its left and another `b` to its right with `a + b <=
/// gap + 1` (then the nearest pair qualifies too, which is the shader's
/// test). Computed as byte-wise ORs and ANDs of shifted copies of the row,
/// which vectorise: for `k = 1..=gap`, `near` gathers the 1s up to `k` to
/// the right, and the 1s exactly `gap + 1 - k` to the left pair with them.
/// Reads come from the copy, so fills never feed later tests.
fn close_rows(mask: &mut [u8], width: usize, gap: usize) {
    if gap == 0 || width == 0 {
        return;
    }
    let mut padded = vec![0u8; width + 2 * gap];
    let mut near = vec![0u8; width];
    for row in mask.chunks_exact_mut(width) {
        padded[gap..gap + width].copy_from_slice(row);
        near.fill(0);
        for k in 1..=gap {
            let ahead = &padded[gap + k..][..width];
            let behind = &padded[gap - (gap + 1 - k)..][..width];
            pair_step(row, &mut near, ahead, behind);
        }
    }
}

/// The shader's `close_cols`: [`close_rows`] down the columns, whole rows at
/// a time (`near` gathers the rows below, the rows above pair with them).
fn close_cols(mask: &mut [u8], width: usize, height: usize, gap: usize) {
    if gap == 0 || width == 0 {
        return;
    }
    let src = mask.to_vec();
    let zeros = vec![0u8; width];
    let row = |y: usize| &src[y * width..(y + 1) * width];
    let mut near = vec![0u8; width];
    for (y, out) in mask.chunks_exact_mut(width).enumerate() {
        near.fill(0);
        for k in 1..=gap {
            let ahead = if y + k < height { row(y + k) } else { &zeros };
            let a = gap + 1 - k;
            let behind = if y >= a { row(y - a) } else { &zeros };
            pair_step(out, &mut near, ahead, behind);
        }
    }
}

/// One step of the closings: `near |= ahead; out |= behind & near`.
#[multiversion(targets("x86_64+avx2"))]
fn pair_step(out: &mut [u8], near: &mut [u8], ahead: &[u8], behind: &[u8]) {
    let n = out.len();
    let (near, ahead, behind) = (&mut near[..n], &ahead[..n], &behind[..n]);
    for x in 0..n {
        near[x] |= ahead[x];
        out[x] |= behind[x] & near[x];
    }
}

/// The shader's `open_cols`: a 1 stays when some `min_run` consecutive rows
/// of its column, itself among them, are all 1s. `starts[y]` marks the
/// windows beginning at row `y`; a pixel keeps its 1 when one of the
/// `min_run` windows covering it is full. Whole rows at a time.
fn open_cols(mask: &mut [u8], width: usize, height: usize, min_run: usize) {
    if min_run <= 1 || width == 0 {
        return;
    }
    let mut starts = mask.to_vec();
    for (y, out) in starts.chunks_exact_mut(width).enumerate() {
        if y + min_run > height {
            out.fill(0);
            continue;
        }
        for t in 1..min_run {
            and_into(out, &mask[(y + t) * width..(y + t + 1) * width]);
        }
    }
    for (y, out) in mask.chunks_exact_mut(width).enumerate() {
        out.copy_from_slice(&starts[y * width..(y + 1) * width]);
        for s in 1..min_run.min(y + 1) {
            or_into(out, &starts[(y - s) * width..(y - s + 1) * width]);
        }
    }
}

#[multiversion(targets("x86_64+avx2"))]
fn and_into(out: &mut [u8], other: &[u8]) {
    for (o, &v) in out.iter_mut().zip(other) {
        *o &= v;
    }
}

#[multiversion(targets("x86_64+avx2"))]
fn or_into(out: &mut [u8], other: &[u8]) {
    for (o, &v) in out.iter_mut().zip(other) {
        *o |= v;
    }
}

/// `len` pixels, each 1 with `percent`% chance (a seeded LCG): test masks
/// for this kernel and for the labelling after it.
#[cfg(test)]
pub(crate) fn random_mask(seed: &mut u64, len: usize, percent: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            u8::from((*seed >> 33) % 100 < percent)
        })
        .collect()
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
