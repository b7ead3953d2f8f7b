//! Adaptive threshold: 1 where a pixel exceeds the mean of the
//! `(2 radius + 1)^2` box around it (clipped to the frame) by more than
//! `offset`, else 0. Compared without division, `value * n > sum + offset * n`
//! with `n` the box's pixel count, so it is exact. Inputs saturate at
//! [`MAX_VALUE`]; with `radius <= MAX_RADIUS` and `|offset| <= MAX_VALUE` every
//! term fits an `i32`. Two passes (shader `shaders/threshold.wgsl`):
//!
//! ```text
//! values --box_rows--> row_sums (horizontal window sums) --main--> box sum, n -> mask 0/1
//! ```

use rayon::prelude::*;

use crate::gpu::job::{self, Slot};
use crate::gpu::{Gpu, Kernel, Planes};
use crate::{Error, Result};

/// Input values saturate here (12 bits: room for Sobel magnitudes).
pub const MAX_VALUE: u32 = 4095;

/// The largest window radius.
pub const MAX_RADIUS: u32 = 127;

/// Keep in sync with `Params` in shaders/threshold.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub radius: u32,
    pub offset: i32,
    pub _pad: [u32; 3],
}

impl Params {
    /// Parameters for `frames` planes of `width x height`, checked.
    pub fn new(width: u32, height: u32, frames: u32, radius: u32, offset: i32) -> Result<Params> {
        if radius > MAX_RADIUS {
            return Err(Error::bad_input(format!(
                "threshold radius {radius} is over {MAX_RADIUS}"
            )));
        }
        if offset.unsigned_abs() > MAX_VALUE {
            return Err(Error::bad_input(format!(
                "threshold offset {offset} is outside -{MAX_VALUE}..={MAX_VALUE}"
            )));
        }
        Ok(Params {
            width,
            height,
            frames,
            radius,
            offset,
            _pad: [0; 3],
        })
    }
}

/// Runs the kernel on the GPU, several frames per submission.
pub fn dispatch(gpu: &Gpu, values: &Planes, radius: u32, offset: i32) -> Result<Planes> {
    let all = Params::new(
        values.width(),
        values.height(),
        values.count(),
        radius,
        offset,
    )?;
    if values.is_empty() {
        return job::planes(all.width, all.height, all.frames, Vec::new());
    }
    let plane = values.plane_len();
    let data = job::batched(gpu, values.count(), 4 * plane as u64, |first, n| {
        let params = Params { frames: n, ..all };
        let words = (plane * n as usize) as u64;
        let workgroups = job::workgroups(gpu, params.width, params.height, n)?;
        job::run(
            gpu,
            Kernel::Threshold,
            &[
                Slot::Params(bytemuck::bytes_of(&params)),
                Slot::Input(values.planes(first, n)),
                Slot::Scratch(words),
                Slot::Output(words),
            ],
            workgroups,
        )
    })?;
    job::planes(all.width, all.height, all.frames, data)
}

/// The CPU twin: pass `box_rows`, then pass `main`, each the shader's
/// invocation body for every pixel.
pub fn cpu(values: &Planes, radius: u32, offset: i32) -> Result<Planes> {
    let params = Params::new(
        values.width(),
        values.height(),
        values.count(),
        radius,
        offset,
    )?;
    let len = values.data().len();
    let mut row_sums = vec![0u32; len];
    let mut mask = vec![0u32; len];
    if len > 0 {
        let (width, height) = (params.width as usize, params.height as usize);
        row_sums
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(row, out)| {
                let (frame, y) = ((row / height) as u32, (row % height) as u32);
                for (x, v) in out.iter_mut().enumerate() {
                    *v = box_rows(&params, values.data(), x as u32, y, frame);
                }
            });
        mask.par_chunks_mut(width)
            .enumerate()
            .for_each(|(row, out)| {
                let (frame, y) = ((row / height) as u32, (row % height) as u32);
                for (x, v) in out.iter_mut().enumerate() {
                    *v = main(&params, values.data(), &row_sums, x as u32, y, frame);
                }
            });
    }
    Planes::new(params.width, params.height, params.frames, mask)
}

/// The shader's `value_at`.
fn value_at(values: &[u32], i: usize) -> u32 {
    values[i].min(MAX_VALUE)
}

/// The shader's `lo`: first box column (or row) of a window centred on `c`
/// (its `select` is a saturating subtraction).
fn lo(params: &Params, c: u32) -> u32 {
    c.saturating_sub(params.radius)
}

/// The shader's `hi`: last box column (or row), clipped at `len - 1`.
fn hi(params: &Params, c: u32, len: u32) -> u32 {
    (c + params.radius).min(len - 1)
}

/// The shader's `box_rows` for one pixel.
fn box_rows(params: &Params, values: &[u32], x: u32, y: u32, frame: u32) -> u32 {
    let row = (frame as usize * params.height as usize + y as usize) * params.width as usize;
    let mut sum = 0u32;
    for xx in lo(params, x)..=hi(params, x, params.width) {
        sum += value_at(values, row + xx as usize);
    }
    sum
}

/// The shader's `main` for one pixel.
fn main(params: &Params, values: &[u32], row_sums: &[u32], x: u32, y: u32, frame: u32) -> u32 {
    let width = params.width as usize;
    let plane = frame as usize * params.height as usize * width;
    let y0 = lo(params, y);
    let y1 = hi(params, y, params.height);
    let mut sum = 0u32;
    for yy in y0..=y1 {
        sum += row_sums[plane + yy as usize * width + x as usize];
    }
    let n = ((hi(params, x, params.width) - lo(params, x) + 1) * (y1 - y0 + 1)) as i32;
    let i = plane + y as usize * width + x as usize;
    let v = value_at(values, i) as i32;
    u32::from(v * n > sum as i32 + params.offset * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_zero_compares_a_pixel_with_itself() {
        let p = Planes::single(3, 1, &[0, 5, 9]);
        assert_eq!(cpu(&p, 0, 0).unwrap().data(), &[0, 0, 0]);
        assert_eq!(cpu(&p, 0, -1).unwrap().data(), &[1, 1, 1]);
    }

    #[test]
    fn a_bright_pixel_beats_its_neighbourhood() {
        // 3x3, centre 90, rest 0, radius 1. Centre: box sum 90, n 9, 90 * 9 > 90.
        // Corner (0,0): box {0,0,0,90}, n 4: 0 > 90? no.
        let mut d = [0u32; 9];
        d[4] = 90;
        let p = Planes::single(3, 3, &d);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[0, 0, 0, 0, 1, 0, 0, 0, 0]);
        // Offset 80: 90 * 9 = 810 > 90 + 720 = 810? no.
        assert_eq!(cpu(&p, 1, 80).unwrap().data(), &[0; 9]);
        // Offset 79: 810 > 90 + 711 = 801: yes.
        assert_eq!(cpu(&p, 1, 79).unwrap().data()[4], 1);
    }

    #[test]
    fn windows_clip_at_the_frame_edge() {
        // 4x1 row [10, 0, 0, 0], radius 1: pixel 0's box is {10, 0}, n 2:
        // 10 * 2 = 20 > 10 -> 1; pixel 1's box {10, 0, 0}: 0 > 10 -> 0.
        let p = Planes::single(4, 1, &[10, 0, 0, 0]);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[1, 0, 0, 0]);
    }

    #[test]
    fn inputs_saturate() {
        // 100_000 reads as 4095: 4095 * 2 > 4095 + 0.
        let p = Planes::single(2, 1, &[100_000, 0]);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[1, 0]);
        // Unsaturated, 100_000 * 2 > 104_095 would give 1; saturated it ties.
        let p = Planes::single(2, 1, &[100_000, 4095]);
        assert_eq!(cpu(&p, 1, 0).unwrap().data(), &[0, 0]);
    }

    #[test]
    fn limits_are_checked() {
        let p = Planes::single(1, 1, &[0]);
        assert!(cpu(&p, MAX_RADIUS, MAX_VALUE as i32).is_ok());
        assert!(cpu(&p, MAX_RADIUS, -(MAX_VALUE as i32)).is_ok());
        assert!(matches!(
            cpu(&p, MAX_RADIUS + 1, 0),
            Err(Error::BadInput(_))
        ));
        assert!(matches!(cpu(&p, 1, 4096), Err(Error::BadInput(_))));
    }

    #[test]
    fn extreme_terms_fit_an_i32() {
        // Full-size window over saturated values with the largest offsets.
        let side = 2 * MAX_RADIUS + 1;
        let p = Planes::new(side, side, 1, vec![u32::MAX; (side * side) as usize]).unwrap();
        let low = cpu(&p, MAX_RADIUS, -(MAX_VALUE as i32)).unwrap();
        assert!(low.data().iter().all(|&v| v == 1));
        let high = cpu(&p, MAX_RADIUS, MAX_VALUE as i32).unwrap();
        assert!(high.data().iter().all(|&v| v == 0));
    }
}
