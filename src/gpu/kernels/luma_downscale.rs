//! Packed RGBA8 frames -> luma (one `u32` per pixel, 0..=255), box-downscaled
//! by 1, 2 or 4. Luma is BT.601 in integers, `(77 R + 150 G + 29 B + 128) >> 8`;
//! an output pixel is the rounded mean luma of its `factor x factor` box,
//! clipped at the frame's edge, so the output is
//! `ceil(width / factor) x ceil(height / factor)`. Shader:
//! `shaders/luma_downscale.wgsl`.

use multiversion::multiversion;
use rayon::prelude::*;

use crate::gpu::job::{self, Slot};
use crate::gpu::{Gpu, Kernel, Planes};
use crate::{Error, Result};

/// The downscale factors supported.
pub const FACTORS: [u32; 3] = [1, 2, 4];

/// Keep in sync with `Params` in shaders/luma_downscale.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub in_width: u32,
    pub in_height: u32,
    pub out_width: u32,
    pub out_height: u32,
    pub factor: u32,
    pub frames: u32,
    pub _pad: [u32; 2],
}

impl Params {
    /// Parameters for `frames` frames of `width x height`, checked.
    pub fn new(width: u32, height: u32, frames: u32, factor: u32) -> Result<Params> {
        if !FACTORS.contains(&factor) {
            return Err(Error::bad_input(format!(
                "downscale factor {factor} is not one of {FACTORS:?}"
            )));
        }
        let (out_width, out_height) = output_size(width, height, factor);
        Ok(Params {
            in_width: width,
            in_height: height,
            out_width,
            out_height,
            factor,
            frames,
            _pad: [0; 2],
        })
    }
}

/// The output size for a `width x height` frame: edge boxes are kept.
pub fn output_size(width: u32, height: u32, factor: u32) -> (u32, u32) {
    (width.div_ceil(factor), height.div_ceil(factor))
}

/// Runs the kernel on the GPU, several frames per submission.
pub fn dispatch(gpu: &Gpu, frames: &Planes, factor: u32) -> Result<Planes> {
    let all = Params::new(frames.width(), frames.height(), frames.count(), factor)?;
    let out_len = all.out_width as usize * all.out_height as usize;
    if out_len == 0 || frames.count() == 0 {
        return job::planes(all.out_width, all.out_height, frames.count(), Vec::new());
    }
    let bytes_per_frame = 4 * frames.plane_len() as u64;
    let data = job::batched(gpu, frames.count(), bytes_per_frame, |first, n| {
        let params = Params { frames: n, ..all };
        let workgroups = job::workgroups(gpu, params.out_width, params.out_height, n)?;
        job::run(
            gpu,
            Kernel::LumaDownscale,
            &[
                Slot::Params(bytemuck::bytes_of(&params)),
                Slot::Input(frames.planes(first, n)),
                Slot::Output((out_len * n as usize) as u64),
            ],
            workgroups,
        )
    })?;
    job::planes(all.out_width, all.out_height, frames.count(), data)
}

/// The CPU twin: the shader's invocation for every output pixel, computed a
/// row at a time (`row`, tested equal to the literal `invocation`).
pub fn cpu(frames: &Planes, factor: u32) -> Result<Planes> {
    let params = Params::new(frames.width(), frames.height(), frames.count(), factor)?;
    let (out_width, out_height) = (params.out_width as usize, params.out_height as usize);
    let mut luma = vec![0u32; out_width * out_height * frames.count() as usize];
    if !luma.is_empty() {
        let rgba = frames.data();
        // Rows of all frames in parallel; row r is frame r / out_height.
        luma.par_chunks_mut(out_width)
            .enumerate()
            .for_each(|(r, out)| {
                let (frame, oy) = ((r / out_height) as u32, (r % out_height) as u32);
                row(&params, rgba, oy, frame, out);
            });
    }
    Planes::new(params.out_width, params.out_height, frames.count(), luma)
}

/// `invocation` for a whole output row: the box sums accumulate input row
/// by input row over contiguous slices, and full boxes divide by a shift
/// (their pixel count is `factor^2`, a power of two); only the clipped
/// boxes at the right and bottom edges divide.
#[multiversion(targets("x86_64+avx2"))]
fn row(params: &Params, rgba: &[u32], oy: u32, frame: u32, out: &mut [u32]) {
    let (w, f) = (params.in_width as usize, params.factor as usize);
    let y0 = (oy * params.factor) as usize;
    let y1 = (y0 + f).min(params.in_height as usize);
    let base = frame as usize * w * params.in_height as usize;
    out.fill(0);
    let mut luma = vec![0u32; w];
    for y in y0..y1 {
        let line = &rgba[base + y * w..base + (y + 1) * w];
        for (l, &p) in luma.iter_mut().zip(line) {
            *l = luma_of(p);
        }
        match f {
            1 => add_boxes::<1>(&luma, out),
            2 => add_boxes::<2>(&luma, out),
            _ => add_boxes::<4>(&luma, out),
        }
    }
    let rows = (y1 - y0) as u32;
    let full = w / f;
    if rows == params.factor {
        let shift = (f * f).trailing_zeros();
        let half = (f * f / 2) as u32;
        for sum in &mut out[..full] {
            *sum = (*sum + half) >> shift;
        }
    } else {
        let n = rows * params.factor;
        for sum in &mut out[..full] {
            *sum = (*sum + n / 2) / n;
        }
    }
    if let Some(last) = out.get_mut(full) {
        let n = rows * (w - full * f) as u32;
        *last = (*last + n / 2) / n;
    }
}

/// Adds each `F`-pixel box of a luma `line` to its output sum (the last box
/// may be short). `F` is a constant so the loop vectorises.
fn add_boxes<const F: usize>(line: &[u32], out: &mut [u32]) {
    let (boxes, rest) = line.as_chunks::<F>();
    for (sum, pixels) in out.iter_mut().zip(boxes) {
        *sum += pixels.iter().sum::<u32>();
    }
    if let Some(last) = out.get_mut(boxes.len()) {
        *last += rest.iter().sum::<u32>();
    }
}

/// The shader's `luma_of`.
pub fn luma_of(pixel: u32) -> u32 {
    let r = pixel & 0xff;
    let g = (pixel >> 8) & 0xff;
    let b = (pixel >> 16) & 0xff;
    (77 * r + 150 * g + 29 * b + 128) >> 8
}

/// The shader's `main` for one output pixel, literally: the reference that
/// [`row`] is tested against.
#[cfg(test)]
fn invocation(params: &Params, rgba: &[u32], ox: u32, oy: u32, frame: u32) -> u32 {
    let x0 = ox * params.factor;
    let y0 = oy * params.factor;
    let x1 = (x0 + params.factor).min(params.in_width);
    let y1 = (y0 + params.factor).min(params.in_height);
    let base = frame as usize * params.in_width as usize * params.in_height as usize;
    let mut sum = 0u32;
    for y in y0..y1 {
        for x in x0..x1 {
            sum += luma_of(rgba[base + y as usize * params.in_width as usize + x as usize]);
        }
    }
    let n = (x1 - x0) * (y1 - y0);
    (sum + n / 2) / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::planes::pack_rgba;

    #[test]
    fn luma_weights_are_bt601_in_integers() {
        assert_eq!(luma_of(pack_rgba(0, 0, 0, 0)), 0);
        assert_eq!(luma_of(pack_rgba(255, 255, 255, 0)), 255);
        // (77 * 255 + 128) >> 8 = 77, (150 * 255 + 128) >> 8 = 149
        assert_eq!(luma_of(pack_rgba(255, 0, 0, 255)), 77);
        assert_eq!(luma_of(pack_rgba(0, 255, 0, 9)), 149);
        assert_eq!(luma_of(pack_rgba(0, 0, 255, 0)), 29);
    }

    #[test]
    fn factor_one_is_plain_luma() {
        let frames = Planes::new(2, 1, 1, vec![pack_rgba(255, 255, 255, 0), 0]).unwrap();
        assert_eq!(cpu(&frames, 1).unwrap().data(), &[255, 0]);
    }

    #[test]
    fn boxes_average_with_rounding_and_clip_at_edges() {
        // 3x3 grey levels (r = g = b, so luma == level), factor 2:
        // boxes {10,20,40,50} -> 30, {30,60} -> 45, {70,80} -> 75, {90} -> 90.
        let grey = |v: u8| pack_rgba(v, v, v, 255);
        let levels = [10, 20, 30, 40, 50, 60, 70, 80, 90];
        let frames = Planes::new(3, 3, 1, levels.iter().map(|&v| grey(v)).collect()).unwrap();
        let out = cpu(&frames, 2).unwrap();
        assert_eq!((out.width(), out.height()), (2, 2));
        assert_eq!(out.data(), &[30, 45, 75, 90]);
        // Rounding: mean of {0, 1} is 0.5 -> 1.
        let frames = Planes::new(2, 1, 1, vec![grey(0), grey(1)]).unwrap();
        assert_eq!(cpu(&frames, 2).unwrap().data(), &[1]);
    }

    #[test]
    fn frames_are_independent() {
        let grey = |v: u8| pack_rgba(v, v, v, 0);
        let frames = Planes::new(2, 2, 2, [4, 4, 4, 4, 8, 8, 8, 8].map(grey).to_vec()).unwrap();
        assert_eq!(cpu(&frames, 4).unwrap().data(), &[4, 8]);
    }

    #[test]
    fn rows_equal_the_invocation_at_every_size_and_factor() {
        let mut seed = 0x9e37_79b9u32;
        for (w, h) in [(1, 1), (3, 2), (5, 7), (16, 9), (17, 13), (33, 6)] {
            let data: Vec<u32> = (0..w * h * 2)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed
                })
                .collect();
            let frames = Planes::new(w, h, 2, data).unwrap();
            for factor in FACTORS {
                let params = Params::new(w, h, 2, factor).unwrap();
                let got = cpu(&frames, factor).unwrap();
                let (ow, oh) = output_size(w, h, factor);
                let want: Vec<u32> = (0..2)
                    .flat_map(|f| (0..oh).flat_map(move |y| (0..ow).map(move |x| (x, y, f))))
                    .map(|(x, y, f)| invocation(&params, frames.data(), x, y, f))
                    .collect();
                assert_eq!(got.data(), &want[..], "{w}x{h} factor {factor}");
            }
        }
    }

    #[test]
    fn bad_factors_are_refused() {
        let frames = Planes::new(1, 1, 1, vec![0]).unwrap();
        assert!(matches!(cpu(&frames, 3), Err(Error::BadInput(_))));
        assert!(matches!(cpu(&frames, 0), Err(Error::BadInput(_))));
    }
}
