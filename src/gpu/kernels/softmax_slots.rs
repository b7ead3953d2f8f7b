//! Softmax per slot: logits `[crop][slot][class]` become probabilities,
//! each slot's classes summing to 1 (the OCR network's slots are its
//! columns, each a distribution over the characters and the blank). Shader: `shaders/softmax_slots.wgsl`; the GPU's `exp` may
//! differ from Rust's in the last bits (see [`super::nn`]).

use rayon::prelude::*;

use crate::Result;
use crate::gpu::job::Slot;
use crate::gpu::kernels::nn::{self, check_len};
use crate::gpu::{Gpu, Kernel, job};

/// Keep in sync with `Params` in shaders/softmax_slots.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub slots: u32,
    pub classes: u32,
    pub crops: u32,
    pub _pad: u32,
}

impl Params {
    /// `crops` crops of `slots` slots of `classes` classes.
    pub fn new(slots: u32, classes: u32, crops: u32) -> Params {
        Params {
            slots,
            classes,
            crops,
            _pad: 0,
        }
    }

    fn len(&self) -> usize {
        self.slots as usize * self.classes as usize * self.crops as usize
    }
}

/// Runs the kernel on the GPU, several crops per submission.
pub fn dispatch(gpu: &Gpu, params: &Params, logits: &[f32]) -> Result<Vec<f32>> {
    check_len("softmax_slots", "logits", logits.len(), params.len())?;
    let per_crop = params.slots as usize * params.classes as usize;
    if per_crop == 0 || params.crops == 0 {
        return Ok(Vec::new());
    }
    // As in dense: at most the z limit of crops per submission.
    nn::batched(
        gpu,
        "softmax_slots",
        params.crops,
        8 * per_crop as u64,
        1,
        |first, n| {
            let p = Params {
                crops: n,
                ..*params
            };
            let from = first as usize * per_crop;
            let workgroups = job::workgroups(gpu, p.slots, n, 1)?;
            job::run(
                gpu,
                Kernel::SoftmaxSlots,
                &[
                    Slot::Params(bytemuck::bytes_of(&p)),
                    Slot::Input(nn::words(&logits[from..from + n as usize * per_crop])),
                    Slot::Output((n as usize * per_crop) as u64),
                ],
                workgroups,
            )
        },
    )
}

/// The CPU twin: the shader's invocation body for every slot.
pub fn cpu(params: &Params, logits: &[f32]) -> Result<Vec<f32>> {
    check_len("softmax_slots", "logits", logits.len(), params.len())?;
    let mut probs = vec![0.0f32; logits.len()];
    let classes = params.classes as usize;
    if classes == 0 || probs.is_empty() {
        return Ok(probs);
    }
    probs
        .par_chunks_mut(classes)
        .zip(logits.par_chunks(classes))
        .for_each(|(out, l)| {
            let mut m = l[0];
            for &v in &l[1..] {
                m = m.max(v);
            }
            let mut sum = 0.0f32;
            for &v in l {
                sum += (v - m).exp();
            }
            for (o, &v) in out.iter_mut().zip(l) {
                *o = (v - m).exp() / sum;
            }
        });
    Ok(probs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slot_sums_to_one_and_keeps_the_order() {
        let p = Params::new(2, 3, 1);
        let got = cpu(&p, &[1.0, 2.0, 3.0, 1000.0, 0.0, -1000.0]).unwrap();
        assert!((got[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(got[0] < got[1] && got[1] < got[2]);
        // Huge logits do not overflow.
        assert_eq!(&got[3..], &[1.0, 0.0, 0.0]);
    }
}
