//! Packed RGBA8 frames -> luma (one `u32` per pixel, 0..=255), box-downscaled
//! by 1, 2 or 4. Luma is BT.601 in integers, `(77 R + 150 G + 29 B + 128) >> 8`;
//! an output pixel is the rounded mean luma of its `factor x factor` box,
//! clipped at the frame's edge, so the output is
//! `ceil(width / factor) x ceil(height / factor)`. Shader:
//! `shaders/luma_downscale.wgsl`.

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

/// The CPU twin: the shader's invocation body for every output pixel.
pub fn cpu(frames: &Planes, factor: u32) -> Result<Planes> {
    let params = Params::new(frames.width(), frames.height(), frames.count(), factor)?;
    let (out_width, out_height) = (params.out_width as usize, params.out_height as usize);
    let mut luma = vec![0u32; out_width * out_height * frames.count() as usize];
    if !luma.is_empty() {
        let rgba = frames.data();
        // Rows of all frames in parallel; row r is frame r / out_height.
        luma.par_chunks_mut(out_width)
            .enumerate()
            .for_each(|(row, out)| {
                let (frame, oy) = ((row / out_height) as u32, (row % out_height) as u32);
                for (ox, v) in out.iter_mut().enumerate() {
                    *v = invocation(&params, rgba, ox as u32, oy, frame);
                }
            });
    }
    Planes::new(params.out_width, params.out_height, frames.count(), luma)
}

/// The shader's `luma_of`.
pub fn luma_of(pixel: u32) -> u32 {
    let r = pixel & 0xff;
    let g = (pixel >> 8) & 0xff;
    let b = (pixel >> 16) & 0xff;
    (77 * r + 150 * g + 29 * b + 128) >> 8
}

/// The shader's `main` for one output pixel.
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
    fn bad_factors_are_refused() {
        let frames = Planes::new(1, 1, 1, vec![0]).unwrap();
        assert!(matches!(cpu(&frames, 3), Err(Error::BadInput(_))));
        assert!(matches!(cpu(&frames, 0), Err(Error::BadInput(_))));
    }
}
