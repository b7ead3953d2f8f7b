//! Max pooling over 2x2 blocks (stride 2: each plane of `width x height`
//! becomes `width / 2 x height / 2`) or over pairs of rows (2x1: it becomes
//! `width x height / 2`); an odd last row or column is dropped. Tensors are
//! `f32` planes one after another. Exact: the GPU and the CPU agree bit for
//! bit. Shader: `shaders/maxpool.wgsl`.

use rayon::prelude::*;

use crate::Result;
use crate::gpu::job::Slot;
use crate::gpu::kernels::nn::{self, check_len};
use crate::gpu::{Gpu, Kernel, job};

/// Keep in sync with `Params` in shaders/maxpool.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    /// Planes in all: crops times channels.
    pub planes: u32,
    /// Columns per block: 2 (2x2 blocks) or 1 (pairs of rows).
    pub block_width: u32,
}

impl Params {
    /// 2x2 pooling of `planes` planes of `width x height`.
    pub fn new(width: u32, height: u32, planes: u32) -> Params {
        Params {
            width,
            height,
            planes,
            block_width: 2,
        }
    }

    /// Pooling pairs of rows (2x1 blocks): the width stays.
    pub fn rows(width: u32, height: u32, planes: u32) -> Params {
        Params {
            block_width: 1,
            ..Params::new(width, height, planes)
        }
    }

    /// The output plane's width and height.
    pub fn out_size(&self) -> (u32, u32) {
        (self.width / self.block_width.max(1), self.height / 2)
    }

    fn in_plane(&self) -> usize {
        self.width as usize * self.height as usize
    }

    fn out_plane(&self) -> usize {
        let (w, h) = self.out_size();
        w as usize * h as usize
    }
}

impl Params {
    /// Checks `input`'s length against the shape.
    fn check(&self, input: &[f32]) -> Result<()> {
        if !matches!(self.block_width, 1 | 2) {
            return Err(crate::Error::bad_input(format!(
                "maxpool: blocks {} wide, only 1 or 2 are supported",
                self.block_width
            )));
        }
        let want = self.in_plane() * self.planes as usize;
        check_len("maxpool", "input", input.len(), want)
    }
}

/// Runs the kernel on the GPU, several planes per submission.
pub fn dispatch(gpu: &Gpu, params: &Params, input: &[f32]) -> Result<Vec<f32>> {
    let (in_plane, out_plane) = (params.in_plane(), params.out_plane());
    params.check(input)?;
    if out_plane == 0 || params.planes == 0 {
        return Ok(Vec::new());
    }
    let (ow, oh) = params.out_size();
    let bytes = 4 * (in_plane + out_plane) as u64;
    nn::batched(gpu, "maxpool", params.planes, bytes, 1, |first, n| {
        let p = Params {
            planes: n,
            ..*params
        };
        let from = first as usize * in_plane;
        let workgroups = job::workgroups(gpu, ow, oh, n)?;
        job::run(
            gpu,
            Kernel::Maxpool,
            &[
                Slot::Params(bytemuck::bytes_of(&p)),
                Slot::Input(nn::words(&input[from..from + n as usize * in_plane])),
                Slot::Output((n as usize * out_plane) as u64),
            ],
            workgroups,
        )
    })
}

/// The CPU twin: every output value as the shader computes it.
pub fn cpu(params: &Params, input: &[f32]) -> Result<Vec<f32>> {
    let (in_plane, out_plane) = (params.in_plane(), params.out_plane());
    params.check(input)?;
    let mut output = vec![0.0f32; out_plane * params.planes as usize];
    if output.is_empty() {
        return Ok(output);
    }
    let w = params.width as usize;
    let bw = params.block_width as usize;
    let (ow, _) = params.out_size();
    let ow = ow as usize;
    output
        .par_chunks_mut(out_plane)
        .zip(input.par_chunks(in_plane))
        .for_each(|(out, inp)| {
            #[cfg(target_arch = "x86_64")]
            if crate::gpu::vectors::avx2() {
                // SAFETY: the CPU has AVX2 (`vectors::avx2`, just above).
                unsafe { pool_plane_avx2(out, inp, w, bw, ow) };
                return;
            }
            pool_plane(out, inp, w, bw, ow);
        });
    Ok(output)
}

/// One plane's maxima, row by row so the loops vectorise: the same maxima,
/// taken in the shader's order.
#[inline(always)]
fn pool_plane(out: &mut [f32], inp: &[f32], w: usize, bw: usize, ow: usize) {
    for (y, out) in out.chunks_mut(ow).enumerate() {
        let (top, below) = (&inp[2 * y * w..][..w], &inp[(2 * y + 1) * w..][..w]);
        if bw == 2 {
            for ((o, t), b) in out
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(below.chunks_exact(2))
            {
                *o = t[0].max(b[0]).max(t[1]).max(b[1]);
            }
        } else {
            for ((o, a), b) in out.iter_mut().zip(top).zip(below) {
                *o = a.max(*b);
            }
        }
    }
}

/// [`pool_plane`] compiled for AVX2: the same operations, 8 lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pool_plane_avx2(out: &mut [f32], inp: &[f32], w: usize, bw: usize, ow: usize) {
    pool_plane(out, inp, w, bw, ow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_largest_of_each_block_and_drops_odd_edges() {
        // 5x3: the last column and the last row are dropped.
        let input = [
            1.0, 2.0, 3.0, 9.0, 7.0, //
            -4.0, 0.5, -1.0, 4.0, 7.0, //
            8.0, 8.0, 8.0, 8.0, 8.0,
        ];
        let p = Params::new(5, 3, 1);
        assert_eq!(cpu(&p, &input).unwrap(), vec![2.0, 9.0]);
        // Pairs of rows: every column stays, the odd last row goes.
        let p = Params::rows(5, 3, 1);
        assert_eq!(p.out_size(), (5, 1));
        assert_eq!(cpu(&p, &input).unwrap(), vec![1.0, 2.0, 3.0, 9.0, 7.0]);
        let p = Params {
            block_width: 3,
            ..p
        };
        assert!(cpu(&p, &input).is_err());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_path_takes_the_plain_maxima_to_the_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: only the plain path runs here");
            return;
        }
        // Ties, zeros of both signs and negatives, over rows longer and
        // shorter than a vector, odd widths included.
        let values = [0.0, -0.0, 1.5, -2.0, 1.5, 0.25, -0.0, 3.0, 0.0];
        for (w, h) in [(37, 4), (16, 2), (5, 3), (96, 6)] {
            let inp: Vec<f32> = (0..w * h).map(|i| values[i * 7 % values.len()]).collect();
            for bw in [1, 2] {
                let ow = w / bw;
                let (mut plain, mut wide) = (vec![0.0; ow * (h / 2)], vec![0.0; ow * (h / 2)]);
                pool_plane(&mut plain, &inp, w, bw, ow);
                // SAFETY: the CPU has AVX2, checked above.
                unsafe { pool_plane_avx2(&mut wide, &inp, w, bw, ow) };
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&plain), bits(&wide), "{w}x{h}, blocks {bw} wide");
            }
        }
    }
}
