//! The kernels, one file each, named like their shader in `shaders/`. Each has
//! a `#[repr(C)] Params` mirrored by the shader's `Params` struct, a
//! `dispatch(&Gpu, ...)` that runs it on the GPU in batches of frames, and a
//! `cpu(...)` twin written loop for loop like the shader: the fallback when
//! there is no GPU, and the reference the agreement tests hold `dispatch` to.
//! Where a twin is on a hot CPU path it may compute the same integers another
//! way (`threshold` streams its sums, `morph` follows runs of pixels); its
//! module says how, and its unit tests hold it to a per-pixel reference.
//!
//! The first building blocks of plate localisation, chained like this:
//!
//! ```text
//! RGBA8 frames --luma_downscale (1, 2, 4)--> luma 0..=255
//!              --sobel (Vertical)----------> edge strength 0..=1020  (plates are rich in vertical edges)
//!              --threshold (radius, offset)-> 1 where a pixel beats its local mean, else 0
//!              --morph (gap, close, min_run)-> blobs: gaps closed along rows, then
//!                                              columns; short column runs opened away
//! ```
//!
//! Integers only, so the GPU and the CPU agree exactly.
//!
//! The OCR network's layers compute in floats ([`nn`] says how they agree):
//!
//! ```text
//! crops [n][1][32][96] --(conv2d + ReLU -> maxpool 2x2 or 2x1) x 5--> [n][64][2][24]
//!   --regrouped by column--> [n * 24][128] --dense--> logits [n][24][37]
//!   --softmax_slots (one slot per column)--> probabilities
//! ```

pub mod conv2d;
pub mod dense;
pub mod luma_downscale;
pub mod maxpool;
pub mod morph;
pub mod nn;
pub mod sobel;
pub mod softmax_slots;
pub mod threshold;
