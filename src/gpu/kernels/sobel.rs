//! 3x3 Sobel over luma planes: `|gx| + |gy|` ([`SobelMode::Magnitude`]) or
//! `|gx|` alone ([`SobelMode::Vertical`], the strength of vertical edges, which
//! plate characters are full of). Reads past the frame clamp to its edge;
//! inputs saturate at 255, so outputs are at most 2040. Shader:
//! `shaders/sobel.wgsl`.

use multiversion::multiversion;
use rayon::prelude::*;

use crate::Result;
use crate::gpu::job;
use crate::gpu::{Gpu, Kernel, Planes};

/// Which edge measure to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum SobelMode {
    /// `|gx| + |gy|`.
    Magnitude = 0,
    /// `|gx|`: vertical edges only.
    Vertical = 1,
}

/// Input values saturate here (8-bit luma).
pub const MAX_IN: u32 = 255;

/// Keep in sync with `Params` in shaders/sobel.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    /// A [`SobelMode`] as `u32`.
    pub mode: u32,
}

impl Params {
    /// Parameters for `frames` planes of `width x height`.
    pub fn new(width: u32, height: u32, frames: u32, mode: SobelMode) -> Params {
        Params {
            width,
            height,
            frames,
            mode: mode as u32,
        }
    }
}

/// Runs the kernel on the GPU, several frames per submission.
pub fn dispatch(gpu: &Gpu, luma: &Planes, mode: SobelMode) -> Result<Planes> {
    let all = Params::new(luma.width(), luma.height(), luma.count(), mode);
    job::per_pixel(gpu, Kernel::Sobel, luma, false, |n| Params {
        frames: n,
        ..all
    })
}

/// The CPU twin: the shader's invocation body for every pixel. Rows whose
/// 3x3 neighbourhoods lie inside the frame take `interior_row` between
/// their first and last pixel: the same sums without the clamps (which
/// cannot bite there), over whole rows so they vectorise.
pub fn cpu(luma: &Planes, mode: SobelMode) -> Planes {
    let params = Params::new(luma.width(), luma.height(), luma.count(), mode);
    let mut edges = vec![0u32; luma.data().len()];
    if !edges.is_empty() {
        let (width, height) = (params.width as usize, params.height as usize);
        let data = luma.data();
        edges
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(row, out)| {
                let (frame, y) = ((row / height) as u32, (row % height) as u32);
                if y >= 1 && (y as usize) + 1 < height && width >= 3 {
                    let line = |r: usize| &data[r * width..(r + 1) * width];
                    let rows = [line(row - 1), line(row), line(row + 1)];
                    interior_row(&params, rows, &mut out[1..width - 1]);
                    for x in [0, width - 1] {
                        out[x] = invocation(&params, data, x as u32, y, frame);
                    }
                } else {
                    for (x, v) in out.iter_mut().enumerate() {
                        *v = invocation(&params, data, x as u32, y, frame);
                    }
                }
            });
    }
    Planes::new(params.width, params.height, params.frames, edges).expect("same shape as the input")
}

/// `invocation` for pixels 1..width-1 of a row whose rows above and below
/// exist (`[above, row, below]`): the same integer sums, read directly.
#[multiversion(targets("x86_64+avx2"))]
fn interior_row(params: &Params, [a, r, b]: [&[u32]; 3], out: &mut [u32]) {
    let p = |v: u32| v.min(MAX_IN) as i32;
    let magnitude = params.mode == SobelMode::Magnitude as u32;
    // Exact lengths up front let the compiler drop the bounds checks.
    let n = out.len();
    let (a, r, b) = (&a[..n + 2], &r[..n + 2], &b[..n + 2]);
    for (x, v) in out.iter_mut().enumerate() {
        // Centre pixel x + 1; columns x (left) and x + 2 (right).
        let (l, c, rt) = (x, x + 1, x + 2);
        let gx = p(a[rt]) + 2 * p(r[rt]) + p(b[rt]) - p(a[l]) - 2 * p(r[l]) - p(b[l]);
        let mut e = gx.abs();
        if magnitude {
            let gy = p(b[l]) + 2 * p(b[c]) + p(b[rt]) - p(a[l]) - 2 * p(a[c]) - p(a[rt]);
            e += gy.abs();
        }
        *v = e as u32;
    }
}

/// The shader's `px`: a clamp-to-edge read, saturated at [`MAX_IN`].
fn px(params: &Params, luma: &[u32], base: usize, x: i32, y: i32) -> i32 {
    let cx = x.clamp(0, params.width as i32 - 1) as usize;
    let cy = y.clamp(0, params.height as i32 - 1) as usize;
    luma[base + cy * params.width as usize + cx].min(MAX_IN) as i32
}

/// The shader's `main` for one pixel.
fn invocation(params: &Params, luma: &[u32], x: u32, y: u32, frame: u32) -> u32 {
    let base = frame as usize * params.width as usize * params.height as usize;
    let p = |dx: i32, dy: i32| px(params, luma, base, x as i32 + dx, y as i32 + dy);
    let gx = p(1, -1) + 2 * p(1, 0) + p(1, 1) - p(-1, -1) - 2 * p(-1, 0) - p(-1, 1);
    let mut v = gx.abs();
    if params.mode == SobelMode::Magnitude as u32 {
        let gy = p(-1, 1) + 2 * p(0, 1) + p(1, 1) - p(-1, -1) - 2 * p(0, -1) - p(1, -1);
        v += gy.abs();
    }
    v as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interior_shortcut_equals_the_clamped_invocation() {
        let mut seed = 99u64;
        let data: Vec<u32> = (0..23 * 17 * 2)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                (seed >> 40) as u32 % 300
            })
            .collect();
        let planes = Planes::new(23, 17, 2, data).unwrap();
        for mode in [SobelMode::Vertical, SobelMode::Magnitude] {
            let params = Params::new(23, 17, 2, mode);
            let all: Vec<u32> = (0..2)
                .flat_map(|f| (0..17).flat_map(move |y| (0..23).map(move |x| (x, y, f))))
                .map(|(x, y, f)| invocation(&params, planes.data(), x, y, f))
                .collect();
            assert_eq!(cpu(&planes, mode).data(), &all[..]);
        }
    }

    #[test]
    fn flat_planes_have_no_edges() {
        let flat = Planes::single(3, 2, &[7; 6]);
        assert_eq!(cpu(&flat, SobelMode::Magnitude).data(), &[0; 6]);
    }

    #[test]
    fn a_vertical_step_is_a_vertical_edge() {
        // Columns 0 | 0 | 100 | 100 in every row (clamped at the edges):
        // gx at x = 1 is 4 * (100 - 0) = 400, at x = 2 also 400; gy = 0.
        let step = Planes::single(4, 3, &[0, 0, 100, 100, 0, 0, 100, 100, 0, 0, 100, 100]);
        let expected = [0, 400, 400, 0, 0, 400, 400, 0, 0, 400, 400, 0];
        assert_eq!(cpu(&step, SobelMode::Vertical).data(), &expected);
        assert_eq!(cpu(&step, SobelMode::Magnitude).data(), &expected);
    }

    #[test]
    fn a_horizontal_step_counts_only_in_magnitude() {
        let step = Planes::single(2, 3, &[0, 0, 0, 0, 50, 50]);
        assert_eq!(cpu(&step, SobelMode::Vertical).data(), &[0; 6]);
        // Row 1: gy = 4 * (50 - 0) = 200; row 2 (clamped): 4 * (50 - 0) = 200.
        assert_eq!(
            cpu(&step, SobelMode::Magnitude).data(),
            &[0, 0, 200, 200, 200, 200]
        );
    }

    #[test]
    fn inputs_saturate_at_255() {
        let wide = Planes::single(2, 1, &[0, 100_000]);
        // Clamped neighbours: gx = 4 * (255 - 0) = 1020 at both pixels.
        assert_eq!(cpu(&wide, SobelMode::Vertical).data(), &[1020, 1020]);
    }

    #[test]
    fn a_single_pixel_has_no_gradient() {
        assert_eq!(
            cpu(&Planes::single(1, 1, &[200]), SobelMode::Magnitude).data(),
            &[0]
        );
    }
}
