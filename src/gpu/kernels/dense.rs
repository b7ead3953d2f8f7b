//! Fully connected layer: `out[n][o] = sum_i in[n][i] * w[i][o] + b[o]`,
//! optionally through a ReLU. `weights` holds `w` input-major
//! (`[inputs][outputs]`), then the `outputs` biases. Shader:
//! `shaders/dense.wgsl`.
//!
//! The CPU twin adds each output's terms in the shader's order (inputs in
//! order, then the bias) but walks the weights row by row, so all outputs
//! advance together and the inner loop vectorises.

use rayon::prelude::*;

use crate::Result;
use crate::gpu::job::Slot;
use crate::gpu::kernels::nn::{self, check_len};
use crate::gpu::{Gpu, Kernel, job};

/// Keep in sync with `Params` in shaders/dense.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub inputs: u32,
    pub outputs: u32,
    pub crops: u32,
    /// 1: clamp negatives to 0 (ReLU); 0: linear.
    pub relu: u32,
}

impl Params {
    /// A layer from `inputs` to `outputs` values for `crops` crops.
    pub fn new(inputs: u32, outputs: u32, crops: u32, relu: bool) -> Params {
        Params {
            inputs,
            outputs,
            crops,
            relu: u32::from(relu),
        }
    }

    /// Values in `weights`: the matrix, then the biases.
    pub fn weights_len(&self) -> usize {
        (self.inputs as usize + 1) * self.outputs as usize
    }

    fn check(&self, input: &[f32], weights: &[f32]) -> Result<()> {
        let want = self.inputs as usize * self.crops as usize;
        check_len("dense", "input", input.len(), want)?;
        check_len("dense", "weights", weights.len(), self.weights_len())
    }
}

/// Runs the kernel on the GPU, several crops per submission.
pub fn dispatch(gpu: &Gpu, params: &Params, input: &[f32], weights: &[f32]) -> Result<Vec<f32>> {
    params.check(input, weights)?;
    let (ni, no) = (params.inputs as usize, params.outputs as usize);
    if no == 0 || params.crops == 0 {
        return Ok(Vec::new());
    }
    let bytes = 4 * (ni + no) as u64;
    // Submissions hold at most the z limit of crops (see nn::batched), so
    // their workgroup rows (8 crops each) stay within the y limit.
    nn::batched(gpu, "dense", params.crops, bytes, 1, |first, n| {
        let p = Params {
            crops: n,
            ..*params
        };
        let from = first as usize * ni;
        let workgroups = job::workgroups(gpu, p.outputs, n, 1)?;
        job::run(
            gpu,
            Kernel::Dense,
            &[
                Slot::Params(bytemuck::bytes_of(&p)),
                Slot::Input(nn::words(&input[from..from + n as usize * ni])),
                Slot::Input(nn::words(weights)),
                Slot::Output((n as usize * no) as u64),
            ],
            workgroups,
        )
    })
}

/// The CPU twin: for each crop (in parallel), every output's sum, the terms
/// in the shader's order.
pub fn cpu(params: &Params, input: &[f32], weights: &[f32]) -> Result<Vec<f32>> {
    params.check(input, weights)?;
    let (ni, no) = (params.inputs as usize, params.outputs as usize);
    let mut output = vec![0.0f32; no * params.crops as usize];
    if output.is_empty() {
        return Ok(output);
    }
    let relu = params.relu != 0;
    output.par_chunks_mut(no).enumerate().for_each(|(n, acc)| {
        let row = &input[n * ni..(n + 1) * ni];
        #[cfg(target_arch = "x86_64")]
        if crate::gpu::vectors::avx2() {
            // SAFETY: the CPU has AVX2 (`vectors::avx2`, just above).
            unsafe { row_avx2(row, weights, acc, relu) };
            return;
        }
        one_row(row, weights, acc, relu);
    });
    Ok(output)
}

/// One row's outputs into `acc` (zeros): each output's terms in the
/// shader's order, every output advancing together so the loop vectorises.
#[inline(always)]
fn one_row(row: &[f32], weights: &[f32], acc: &mut [f32], relu: bool) {
    let no = acc.len();
    for (&v, w) in row.iter().zip(weights.chunks_exact(no)) {
        for (a, &wt) in acc.iter_mut().zip(w) {
            *a += v * wt;
        }
    }
    let biases = &weights[row.len() * no..];
    for (a, &b) in acc.iter_mut().zip(biases) {
        *a += b;
        if relu {
            *a = a.max(0.0);
        }
    }
}

/// [`one_row`] compiled for AVX2: the same multiplies and adds, 8 lanes wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_avx2(row: &[f32], weights: &[f32], acc: &mut [f32], relu: bool) {
    one_row(row, weights, acc, relu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplies_adds_the_bias_and_clamps() {
        // 2 inputs -> 3 outputs; w input-major.
        let weights = [
            1.0, 0.0, -1.0, // input 0
            2.0, 1.0, 0.0, // input 1
            0.5, 0.5, 0.5, // biases
        ];
        let p = Params::new(2, 3, 2, false);
        let got = cpu(&p, &[1.0, 2.0, -1.0, 0.0], &weights).unwrap();
        assert_eq!(got, vec![5.5, 2.5, -0.5, -0.5, 0.5, 1.5]);
        let p = Params::new(2, 3, 2, true);
        let got = cpu(&p, &[1.0, 2.0, -1.0, 0.0], &weights).unwrap();
        assert_eq!(got, vec![5.5, 2.5, 0.0, 0.0, 0.5, 1.5]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_path_adds_the_plain_sums_to_the_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: only the plain path runs here");
            return;
        }
        // The reader's shape (128 -> 37: vectors and a tail) and a small one.
        for (ni, no) in [(128, 37), (3, 5)] {
            let row: Vec<f32> = (0..ni)
                .map(|i| ((i * 31 % 17) as f32 - 8.0) / 3.0)
                .collect();
            let weights: Vec<f32> = (0..(ni + 1) * no)
                .map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0)
                .collect();
            for relu in [false, true] {
                let (mut plain, mut wide) = (vec![0.0; no], vec![0.0; no]);
                one_row(&row, &weights, &mut plain, relu);
                // SAFETY: the CPU has AVX2, checked above.
                unsafe { row_avx2(&row, &weights, &mut wide, relu) };
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&plain), bits(&wide), "{ni} -> {no}");
            }
        }
    }
}
