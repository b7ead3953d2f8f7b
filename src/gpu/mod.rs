//! GPU compute: the device, the shader registry and its pipelines, pooled
//! buffers, and the kernels with their CPU twins. It knows nothing of plates,
//! frames' origins or Parquet; `recognize` chains the image kernels into
//! plate localisation and `ocr` the network kernels into plate reading, each
//! picking the GPU or the CPU twins.
//!
//! ```text
//! Gpu::new(mode) --adapter, device--> registry: shaders/*.wgsl -> pipelines (built once)
//!
//! kernels::X::dispatch(&gpu, &Planes) --frames per submission--> job:
//!     pooled buffers -> upload -> compute passes -> copy -> map, read back -> Planes
//! kernels::X::cpu(&Planes)  -- the shader's loops on the CPU -------------> Planes
//! ```
//!
//! The image kernels (luma, Sobel, threshold, morph) compute in integers
//! only, so `dispatch` and `cpu` agree bit for bit; the network kernels
//! (conv2d, maxpool, dense, softmax_slots) compute in `f32` and agree within
//! a stated tolerance (see `kernels/nn.rs`). `cpu` is the fallback when
//! [`Gpu::new`] returns `None` and the reference in the agreement tests.
//! Images travel as [`Planes`]: a stack of same-sized frames, one `u32` per
//! pixel, so a batch of frames costs one submission.
//!
//! On a machine whose only adapter is a CPU rasteriser (Mesa's lavapipe),
//! [`GpuMode::Auto`] prefers the CPU twins: lavapipe is slower than them and is
//! there for correctness tests, not speed. Which vector instructions the
//! twins use (AVX-512, AVX2 and FMA, or none) is found at run time
//! ([`vectors`]); benches can narrow it to time an older CPU's paths.

pub mod buffers;
pub mod device;
mod job;
pub mod kernels;
mod planes;
pub mod registry;
pub mod vectors;

pub use device::{Gpu, GpuMode};
pub use planes::{Planes, pack_rgba};
pub use registry::Kernel;
