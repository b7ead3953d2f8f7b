//! What the float kernels of the OCR network ([`conv2d`], [`maxpool`],
//! [`dense`], [`softmax_slots`]) share: tensors travel as `f32` slices in
//! crop-major, channel-major, row-major order (`[crop][channel][y][x]`), as
//! their bits in the `u32` buffers of the job runner; and batching over
//! crops, where each crop takes `z_per_crop` workgroup layers.
//!
//! Unlike the integer image kernels, these compute in floats. A CPU twin adds
//! the same terms in the same order as its shader, so the only differences
//! come from the GPU fusing a multiply and an add, or from its `exp`: the
//! agreement tests allow [`TOLERANCE`] relative to `max(1, |value|)`.
//!
//! [`conv2d`]: super::conv2d
//! [`maxpool`]: super::maxpool
//! [`dense`]: super::dense
//! [`softmax_slots`]: super::softmax_slots

use crate::gpu::Gpu;
use crate::{Error, Result};

/// Largest allowed `|gpu - cpu| / max(1, |cpu|)` in the agreement tests.
pub const TOLERANCE: f32 = 1e-4;

/// `f32`s as the `u32` words the job runner uploads.
pub(crate) fn words(values: &[f32]) -> &[u32] {
    bytemuck::cast_slice(values)
}

/// Runs `f(first, n)` over `crops` crops in runs that fit one submission,
/// each crop needing `bytes_per_crop` of its largest buffer and `z_per_crop`
/// workgroup layers, and concatenates the results as `f32`s.
pub(crate) fn batched(
    gpu: &Gpu,
    what: &str,
    crops: u32,
    bytes_per_crop: u64,
    z_per_crop: u32,
    mut f: impl FnMut(u32, u32) -> Result<Vec<u32>>,
) -> Result<Vec<f32>> {
    let z_limit = gpu.limits().max_compute_workgroups_per_dimension;
    if z_per_crop > z_limit {
        return Err(Error::bad_input(format!(
            "{what}: {z_per_crop} channels per crop is past this GPU's dispatch \
             limit ({z_limit}); use the CPU kernels"
        )));
    }
    let step = gpu
        .frames_per_submit(bytes_per_crop)?
        .min(z_limit / z_per_crop.max(1))
        .max(1);
    let mut out = Vec::new();
    let mut first = 0;
    while first < crops {
        let n = step.min(crops - first);
        out.extend(f(first, n)?.into_iter().map(f32::from_bits));
        first += n;
    }
    Ok(out)
}

/// Checks a tensor's length against its shape, naming the kernel.
pub(crate) fn check_len(what: &str, name: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "{what}: {name} holds {got} values, the shape needs {want}"
        )))
    }
}
