//! 3x3 convolution, stride 1, zero padding 1, plus a bias per output channel
//! and an optional ReLU: the OCR network's feature layers (batch
//! normalisation is folded into the weights when the model is exported).
//! Tensors are `f32`, `[crop][channel][y][x]`; `weights` holds
//! `[cout][cin][3][3]` then the `cout` biases. Shader: `shaders/conv2d.wgsl`.
//!
//! The CPU twin adds every output's terms in the shader's order (input
//! channel, kernel row, kernel column, then the bias), but computes blocks
//! of channels and pixels at once so the sums stay in vector registers; on
//! a CPU with AVX2 and FMA it fuses each multiply-add, as GPUs may, 8 lanes
//! wide, or 16 where the CPU has AVX-512 (the same sums in the same order:
//! the same bits; [`crate::gpu::vectors`] says which runs); without them it
//! multiplies, then adds. See [`super::nn`] for the tolerance.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::Result;
use crate::gpu::job::Slot;
use crate::gpu::kernels::nn::{self, check_len};
use crate::gpu::vectors::{self, Vectors};
use crate::gpu::{Gpu, Kernel, job};

/// Keep in sync with `Params` in shaders/conv2d.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    pub cin: u32,
    pub cout: u32,
    pub crops: u32,
    /// 1: clamp negatives to 0 (ReLU); 0: linear.
    pub relu: u32,
    pub _pad: [u32; 2],
}

impl Params {
    /// A layer from `cin` to `cout` channels over `crops` crops of
    /// `width x height`.
    pub fn new(width: u32, height: u32, cin: u32, cout: u32, crops: u32, relu: bool) -> Params {
        Params {
            width,
            height,
            cin,
            cout,
            crops,
            relu: u32::from(relu),
            _pad: [0; 2],
        }
    }

    fn plane(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Width, height and input channels, as indices.
    fn sizes(&self) -> (usize, usize, usize) {
        (self.width as usize, self.height as usize, self.cin as usize)
    }

    /// Values in `weights`: the kernels, then the biases.
    pub fn weights_len(&self) -> usize {
        self.cout as usize * self.cin as usize * 9 + self.cout as usize
    }

    fn check(&self, input: &[f32], weights: &[f32]) -> Result<()> {
        let per_crop = self.cin as usize * self.plane();
        check_len(
            "conv2d",
            "input",
            input.len(),
            per_crop * self.crops as usize,
        )?;
        check_len("conv2d", "weights", weights.len(), self.weights_len())
    }
}

/// Runs the kernel on the GPU, several crops per submission.
pub fn dispatch(gpu: &Gpu, params: &Params, input: &[f32], weights: &[f32]) -> Result<Vec<f32>> {
    params.check(input, weights)?;
    let in_crop = params.cin as usize * params.plane();
    let out_crop = params.cout as usize * params.plane();
    if in_crop == 0 || out_crop == 0 || params.crops == 0 {
        return Ok(vec![0.0; out_crop * params.crops as usize]);
    }
    let bytes = 4 * (in_crop + out_crop) as u64;
    nn::batched(
        gpu,
        "conv2d",
        params.crops,
        bytes,
        params.cout,
        |first, n| {
            let p = Params {
                crops: n,
                ..*params
            };
            let from = first as usize * in_crop;
            let workgroups = job::workgroups(gpu, p.width, p.height, n * p.cout)?;
            job::run(
                gpu,
                Kernel::Conv2d,
                &[
                    Slot::Params(bytemuck::bytes_of(&p)),
                    Slot::Input(nn::words(&input[from..from + n as usize * in_crop])),
                    Slot::Input(nn::words(weights)),
                    Slot::Output((n as usize * out_crop) as u64),
                ],
                workgroups,
            )
        },
    )
}

/// The CPU twin: for each crop (in parallel) and output channel, the
/// shader's sum for every pixel of the plane at once.
pub fn cpu(params: &Params, input: &[f32], weights: &[f32]) -> Result<Vec<f32>> {
    cpu_with(params, input, weights, Simd::best())
}

/// How [`cpu`] computes: the path of the vectors in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Simd {
    /// Multiply, then add (any CPU).
    Plain,
    /// Fused multiply-adds, 8 lanes (AVX2 and FMA).
    Fused,
    /// Fused multiply-adds, 16 lanes where a block of pixels allows
    /// (AVX-512F as well), 8 for what is left; a layer of whole blocks and
    /// channel groups reads its taps in place ([`crop_direct_512`]).
    Fused512,
}

impl Simd {
    /// Whether this CPU has what the path needs (whatever the limit of
    /// [`vectors`]: the tests run every path the CPU has).
    fn available(self) -> bool {
        match self {
            Simd::Plain => true,
            Simd::Fused => vectors::detected() >= Vectors::Avx2,
            Simd::Fused512 => vectors::detected() >= Vectors::Avx512,
        }
    }

    /// The path of the vectors in use ([`vectors::in_use`]).
    fn best() -> Simd {
        match vectors::in_use() {
            Vectors::Avx512 => Simd::Fused512,
            Vectors::Avx2 => Simd::Fused,
            Vectors::Plain => Simd::Plain,
        }
    }
}

/// [`cpu`] on `simd`, which must be [`Simd::available`].
fn cpu_with(params: &Params, input: &[f32], weights: &[f32], simd: Simd) -> Result<Vec<f32>> {
    assert!(
        simd.available(),
        "{simd:?} needs instructions this CPU lacks"
    );
    params.check(input, weights)?;
    let (cin, cout) = (params.cin as usize, params.cout as usize);
    let plane = params.plane();
    let mut output = vec![0.0f32; cout * plane * params.crops as usize];
    if output.is_empty() {
        return Ok(output);
    }
    output
        .par_chunks_mut(cout * plane)
        .zip(input.par_chunks(cin * plane.max(1)))
        .for_each(|(out, inp)| {
            #[cfg(target_arch = "x86_64")]
            if simd == Simd::Fused512 && direct_fits(params) {
                // SAFETY: `Simd::Fused512` is only taken where the CPU has
                // AVX-512F (`Simd::best`, `Simd::available`).
                unsafe { crop_direct_512(params, inp, weights, out) };
                return;
            }
            #[cfg(target_arch = "x86_64")]
            if simd == Simd::Fused && rows_fit(params) {
                // SAFETY: `Simd::Fused` is only taken where the CPU has AVX2
                // and FMA (`Simd::best`, `Simd::available`).
                unsafe { crop_padded_avx2(params, inp, weights, out) };
                return;
            }
            #[cfg(target_arch = "x86_64")]
            if simd != Simd::Plain {
                TAPS.with_borrow_mut(|taps| {
                    im2col(params, inp, taps);
                    // SAFETY: only available paths are taken (`Simd::best`,
                    // `Simd::available`): a fused one where the CPU has AVX2
                    // and FMA, the 16-lane one where it has AVX-512F too.
                    unsafe { crop_avx2_fma(params, taps, weights, out, simd == Simd::Fused512) };
                });
                return;
            }
            if plain_rows_fit(params) {
                crop_padded_plain(params, inp, weights, out);
            } else {
                crop_by_rows(params, inp, weights, out);
            }
        });
    Ok(output)
}

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// Each thread's [`im2col`] buffer.
    static TAPS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// One crop's output channels with fused multiply-adds, 8 lanes wide, from
/// its 3x3 neighbourhoods laid out as rows of taps by [`im2col`]
/// (`taps[k][pixel]`, `k = (ci * 3 + ky) * 3 + kx`, the shader's order; taps
/// outside the plane are zeros, which change no sum): blocks of 4 channels
/// x 16 pixels keep their sums in registers over all `k`, so every output
/// still adds its terms in the shader's order, as one fused multiply-add
/// each.
///
/// With `wide` (the CPU has AVX-512F) groups of 8 channels
/// go 16 lanes wide first, in blocks of 48 pixels ([`block8_512`]); each
/// output's sum is the same either way.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn crop_avx2_fma(
    params: &Params,
    taps: &[f32],
    weights: &[f32],
    out: &mut [f32],
    wide: bool,
) {
    let (cin, cout) = (params.cin as usize, params.cout as usize);
    let plane = params.plane();
    let k_len = cin * 9;
    // Groups of 8 channels (16 lanes) or 4 (8 lanes); a group's first
    // `wide_done` pixels are done 16 lanes wide.
    let group = if wide { 8 } else { 4 };
    for (g, rows) in out.chunks_mut(group * plane).enumerate() {
        let ws_group = &weights[group * g * k_len..][..rows.len() / plane * k_len];
        let wide_done = if wide && rows.len() == 8 * plane {
            // SAFETY: the caller checked AVX-512F where `wide` is set.
            unsafe { block8_512::<3>(taps, ws_group, k_len, plane, rows) }
        } else {
            0
        };
        for (h, row) in rows.chunks_mut(4 * plane).enumerate() {
            let ws = &ws_group[4 * h * k_len..][..row.len() / plane * k_len];
            let done = if row.len() == 4 * plane {
                block4(taps, ws, k_len, plane, row, wide_done)
            } else {
                0
            };
            // Pixels past the last whole block, and channels past the last 4.
            for (j, out) in row.chunks_mut(plane).enumerate() {
                let w = &ws[j * k_len..][..k_len];
                for (p, o) in out.iter_mut().enumerate().skip(done) {
                    *o = (0..k_len).fold(0.0, |a, k| w[k].mul_add(taps[k * plane + p], a));
                }
            }
        }
    }
    add_biases(params, &weights[cout * k_len..], out);
}

/// Adds each output channel's bias to its plane of sums (the last term, as
/// in the shader), then the ReLU where the layer has one.
fn add_biases(params: &Params, biases: &[f32], out: &mut [f32]) {
    for (acc, &b) in out.chunks_mut(params.plane()).zip(biases) {
        for v in acc.iter_mut() {
            *v += b;
            if params.relu != 0 {
                *v = v.max(0.0);
            }
        }
    }
}

/// Four output channels (`ws`: four rows of `k_len` weights) over the
/// pixels of `taps` from `start` on in blocks of 16, into `out` (four
/// planes); returns how many pixels are done (the rest are left to the
/// caller).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn block4(
    taps: &[f32],
    ws: &[f32],
    k_len: usize,
    plane: usize,
    out: &mut [f32],
    start: usize,
) -> usize {
    use std::arch::x86_64::{
        __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };
    assert!(taps.len() >= k_len * plane && ws.len() >= 4 * k_len && out.len() >= 4 * plane);
    let mut p0 = start;
    while p0 + 16 <= plane {
        let mut acc: [__m256; 8] = [_mm256_setzero_ps(); 8];
        for k in 0..k_len {
            let t = &taps[k * plane + p0..][..16];
            // SAFETY: `t` holds 16 floats: two unaligned 8-lane loads.
            let (t0, t1) = unsafe {
                (
                    _mm256_loadu_ps(t.as_ptr()),
                    _mm256_loadu_ps(t[8..].as_ptr()),
                )
            };
            for j in 0..4 {
                let w = _mm256_set1_ps(ws[j * k_len + k]);
                acc[2 * j] = _mm256_fmadd_ps(w, t0, acc[2 * j]);
                acc[2 * j + 1] = _mm256_fmadd_ps(w, t1, acc[2 * j + 1]);
            }
        }
        for j in 0..4 {
            let o = &mut out[j * plane + p0..][..16];
            // SAFETY: `o` holds 16 floats: two unaligned 8-lane stores.
            unsafe {
                _mm256_storeu_ps(o.as_mut_ptr(), acc[2 * j]);
                _mm256_storeu_ps(o[8..].as_mut_ptr(), acc[2 * j + 1]);
            }
        }
        p0 += 16;
    }
    p0
}

/// [`block4`] for eight channels (`ws`: eight rows of `k_len` weights), 16
/// lanes wide: blocks of `16 V` pixels from the first on, their `8 V` sums
/// in registers (V = 3 leaves room in AVX-512's 32 for the taps and a
/// weight); returns how many pixels it did. Each output still adds its
/// terms in the shader's order, one fused multiply-add each, so its bits
/// are [`block4`]'s.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn block8_512<const V: usize>(
    taps: &[f32],
    ws: &[f32],
    k_len: usize,
    plane: usize,
    out: &mut [f32],
) -> usize {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
        _mm512_storeu_ps,
    };
    assert!(taps.len() >= k_len * plane && ws.len() >= 8 * k_len && out.len() >= 8 * plane);
    let mut p0 = 0;
    while p0 + 16 * V <= plane {
        let mut acc: [[__m512; V]; 8] = [[_mm512_setzero_ps(); V]; 8];
        for k in 0..k_len {
            let t = &taps[k * plane + p0..][..16 * V];
            // SAFETY: `t` holds 16 V floats: V unaligned 16-lane loads.
            let t: [__m512; V] =
                std::array::from_fn(|v| unsafe { _mm512_loadu_ps(t[16 * v..].as_ptr()) });
            for (j, acc) in acc.iter_mut().enumerate() {
                let w = _mm512_set1_ps(ws[j * k_len + k]);
                for v in 0..V {
                    acc[v] = _mm512_fmadd_ps(w, t[v], acc[v]);
                }
            }
        }
        for (j, acc) in acc.iter().enumerate() {
            let o = &mut out[j * plane + p0..][..16 * V];
            for (v, &a) in acc.iter().enumerate() {
                // SAFETY: `o` holds 16 V floats: V unaligned 16-lane stores.
                unsafe { _mm512_storeu_ps(o[16 * v..].as_mut_ptr(), a) };
            }
        }
        p0 += 16 * V;
    }
    p0
}

/// Pixels per block of [`direct8_512`]: three 16-lane vectors.
#[cfg(target_arch = "x86_64")]
const DIRECT_BLOCK: usize = 48;

/// Whether [`crop_direct_512`] can take a layer: whole blocks of pixels and
/// whole groups of 8 output channels (every layer of the plate reader).
#[cfg(target_arch = "x86_64")]
fn direct_fits(params: &Params) -> bool {
    params.plane().is_multiple_of(DIRECT_BLOCK) && params.cout.is_multiple_of(8)
}

/// One crop's output channels as [`crop_avx2_fma`] computes them with
/// `wide`, the same sums to the bit, but reading each tap straight from
/// the input plane instead of [`im2col`]'s copy (nine times the input,
/// written and read again for every crop): a tap outside the plane is a
/// masked lane, loaded as zero, as `im2col` writes it.
///
/// # Safety
/// The CPU must have AVX-512F; `params` must pass
/// [`direct_fits`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn crop_direct_512(params: &Params, inp: &[f32], weights: &[f32], out: &mut [f32]) {
    let (cin, cout) = (params.cin as usize, params.cout as usize);
    let plane = params.plane();
    let k_len = cin * 9;
    for (g, rows) in out.chunks_mut(8 * plane).enumerate() {
        let ws = &weights[8 * g * k_len..][..8 * k_len];
        // SAFETY: the caller checked AVX-512F and the shape.
        unsafe { direct8_512(params, inp, ws, rows) };
    }
    add_biases(params, &weights[cout * k_len..], out);
}

/// [`block8_512`] reading the input directly: eight output channels (`ws`:
/// eight rows of `cin * 9` weights) over one crop's `inp`, every block of
/// [`DIRECT_BLOCK`] pixels with its 24 sums in registers, the terms in the
/// shader's order (input channel, tap row, tap column), one fused
/// multiply-add each. Tap `(ky, kx)` of pixel `p` is `inp[p + (ky - 1) *
/// width + kx - 1]` where it is inside the plane; a lane whose tap is not is
/// masked off, so the load reads nothing there and gives a zero.
///
/// # Safety
/// The CPU must have AVX-512F; the plane must be whole blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn direct8_512(params: &Params, inp: &[f32], ws: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_maskz_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
        _mm512_storeu_ps,
    };
    const V: usize = DIRECT_BLOCK / 16;
    let (w, h, cin) = params.sizes();
    let plane = w * h;
    let k_len = cin * 9;
    assert!(plane.is_multiple_of(DIRECT_BLOCK));
    assert!(inp.len() >= cin * plane && ws.len() >= 8 * k_len && out.len() >= 8 * plane);
    // Each tap's offset from its pixel.
    let shifts: [isize; 9] =
        std::array::from_fn(|t| ((t / 3) * w + t % 3) as isize - (w + 1) as isize);
    for p0 in (0..plane).step_by(DIRECT_BLOCK) {
        let masks: [[u16; V]; 9] =
            std::array::from_fn(|t| std::array::from_fn(|v| tap_lanes(w, h, p0 + 16 * v, t)));
        let mut acc: [[__m512; V]; 8] = [[_mm512_setzero_ps(); V]; 8];
        for ci in 0..cin {
            let base = inp[ci * plane..].as_ptr().wrapping_add(p0);
            for (t, (&shift, mask)) in shifts.iter().zip(&masks).enumerate() {
                let k = ci * 9 + t;
                let at = base.wrapping_offset(shift);
                // SAFETY: a lane is loaded only where its mask is set, that
                // is where `at + lane` lies inside this input plane.
                let taps: [__m512; V] = std::array::from_fn(|v| unsafe {
                    _mm512_maskz_loadu_ps(mask[v], at.wrapping_add(16 * v))
                });
                for (j, acc) in acc.iter_mut().enumerate() {
                    let wt = _mm512_set1_ps(ws[j * k_len + k]);
                    for v in 0..V {
                        acc[v] = _mm512_fmadd_ps(wt, taps[v], acc[v]);
                    }
                }
            }
        }
        for (j, acc) in acc.iter().enumerate() {
            let o = &mut out[j * plane + p0..][..DIRECT_BLOCK];
            for (v, &a) in acc.iter().enumerate() {
                // SAFETY: `o` holds 48 floats: three unaligned 16-lane stores.
                unsafe { _mm512_storeu_ps(o[16 * v..].as_mut_ptr(), a) };
            }
        }
    }
}

/// Pixels per block of [`padded4_avx2`]: three 8-lane vectors, in one row.
#[cfg(target_arch = "x86_64")]
const ROW_BLOCK: usize = 24;

/// Whether [`crop_padded_avx2`] can take a layer: rows of whole blocks of
/// [`ROW_BLOCK`] pixels and whole groups of 4 output channels (every layer
/// of the plate reader).
#[cfg(target_arch = "x86_64")]
fn rows_fit(params: &Params) -> bool {
    params.width.is_multiple_of(ROW_BLOCK as u32) && params.cout.is_multiple_of(4)
}

thread_local! {
    /// Each thread's copy of a crop's input with a border of zeros
    /// ([`pad_planes`]) and a group's interleaved weights.
    static PADDED: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// One crop's output channels as [`crop_avx2_fma`] computes them without
/// `wide`, the same sums to the bit, from a copy of the input with a border
/// of zeros ([`by_padded_groups`]: the input once, where [`im2col`] writes
/// it nine times), so that a row of taps is one unaligned load.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `params` must pass [`rows_fit`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn crop_padded_avx2(params: &Params, inp: &[f32], weights: &[f32], out: &mut [f32]) {
    // SAFETY: the caller checked AVX2, FMA and the shape.
    by_padded_groups(params, inp, weights, out, |padded, group, rows| unsafe {
        padded4_avx2(params, padded, group, rows)
    });
}

/// One crop's output channels as [`crop_by_rows`] computes them, the same
/// sums to the bit (a tap outside the plane adds a zero product, which
/// changes no sum: one that starts at +0 and adds products is never -0),
/// from a copy of the input with a border of zeros ([`by_padded_groups`]),
/// four channels by [`PLAIN_BLOCK`] pixels at a time: written for the
/// compiler to vectorise for any CPU, where `crop_by_rows` reads and writes
/// a whole row of sums for every term. `params` must pass [`plain_rows_fit`].
fn crop_padded_plain(params: &Params, inp: &[f32], weights: &[f32], out: &mut [f32]) {
    by_padded_groups(params, inp, weights, out, |padded, group, rows| {
        padded4_plain(params, padded, group, rows)
    });
}

/// Pads `inp` ([`pad_planes`]), then gives `each` the padded planes, a
/// group of four output channels' weights interleaved (`group[k * 4 + j]`
/// is channel `j`'s weight for term `k`, so a term's four weights lie
/// together) and the group's four output planes; then adds the biases.
fn by_padded_groups(
    params: &Params,
    inp: &[f32],
    weights: &[f32],
    out: &mut [f32],
    mut each: impl FnMut(&[f32], &[f32], &mut [f32]),
) {
    let (cin, cout) = (params.cin as usize, params.cout as usize);
    let plane = params.plane();
    let k_len = cin * 9;
    PADDED.with_borrow_mut(|(padded, group)| {
        pad_planes(params, inp, padded);
        group.resize(4 * k_len, 0.0);
        for (g, rows) in out.chunks_mut(4 * plane).enumerate() {
            let ws = &weights[4 * g * k_len..][..4 * k_len];
            for (k, four) in group.chunks_exact_mut(4).enumerate() {
                for (j, w) in four.iter_mut().enumerate() {
                    *w = ws[j * k_len + k];
                }
            }
            each(padded, group, rows);
        }
    });
    add_biases(params, &weights[cout * k_len..], out);
}

/// Pixels per block of [`padded4_plain`]: two 4-lane vectors (SSE2, NEON).
const PLAIN_BLOCK: usize = 8;

/// Whether [`crop_padded_plain`] can take a layer: rows of whole blocks of
/// [`PLAIN_BLOCK`] pixels and whole groups of 4 output channels (every
/// layer of the plate reader).
fn plain_rows_fit(params: &Params) -> bool {
    params.width.is_multiple_of(PLAIN_BLOCK as u32) && params.cout.is_multiple_of(4)
}

/// The AVX2 path's loop (`padded4_avx2`) without fused multiply-adds or
/// intrinsics: four output channels, [`PLAIN_BLOCK`] pixels of a row at a
/// time, each product added to its sum in the shader's order (input
/// channel, tap row, tap column).
fn padded4_plain(params: &Params, padded: &[f32], group: &[f32], out: &mut [f32]) {
    let (w, h, cin) = params.sizes();
    let (pw, plane) = (w + 2, w * h);
    let padded_plane = pw * (h + 2);
    assert!(w.is_multiple_of(PLAIN_BLOCK), "rows of whole blocks");
    let offsets: [usize; 9] = std::array::from_fn(|t| (t / 3) * pw + t % 3);
    for y in 0..h {
        for x0 in (0..w).step_by(PLAIN_BLOCK) {
            let mut acc = [[0.0f32; PLAIN_BLOCK]; 4];
            for (ci, ws) in group.chunks_exact(36).enumerate().take(cin) {
                let base = ci * padded_plane + y * pw + x0;
                for (&off, ws) in offsets.iter().zip(ws.chunks_exact(4)) {
                    let taps: [f32; PLAIN_BLOCK] = padded[base + off..][..PLAIN_BLOCK]
                        .try_into()
                        .expect("a block of taps");
                    for (acc, &wt) in acc.iter_mut().zip(ws) {
                        for (a, &t) in acc.iter_mut().zip(&taps) {
                            *a += wt * t;
                        }
                    }
                }
            }
            for (j, acc) in acc.iter().enumerate() {
                out[j * plane + y * w + x0..][..PLAIN_BLOCK].copy_from_slice(acc);
            }
        }
    }
}

/// Each of `params.cin` planes of `inp` inside a border of zeros one pixel
/// wide, `(height + 2) x (width + 2)` each, into `padded` (a buffer reused
/// from call to call: every value is written, the zeros too).
fn pad_planes(params: &Params, inp: &[f32], padded: &mut Vec<f32>) {
    let (w, h) = (params.width as usize, params.height as usize);
    let (pw, plane) = (w + 2, params.plane());
    padded.resize(params.cin as usize * pw * (h + 2), 0.0);
    for (pad, src) in padded.chunks_exact_mut(pw * (h + 2)).zip(inp.chunks(plane)) {
        pad[..pw].fill(0.0);
        pad[(h + 1) * pw..].fill(0.0);
        for (row, src) in pad[pw..(h + 1) * pw]
            .chunks_exact_mut(pw)
            .zip(src.chunks(w))
        {
            row[0] = 0.0;
            row[1..=w].copy_from_slice(src);
            row[w + 1] = 0.0;
        }
    }
}

/// Four output channels over one crop, [`ROW_BLOCK`] pixels of a row at a
/// time with their 12 sums in registers, reading the taps from `padded`
/// ([`pad_planes`]) and the weights from `group` (`group[k * 4 + j]` is
/// channel `j`'s weight for term `k`): the terms in the shader's order
/// (input channel, tap row, tap column), one fused multiply-add each, the
/// taps outside the plane being the border's zeros, as [`im2col`] writes
/// them.
///
/// # Safety
/// The CPU must have AVX2 and FMA; the rows must be whole blocks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn padded4_avx2(params: &Params, padded: &[f32], group: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::{
        __m256, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };
    const V: usize = ROW_BLOCK / 8;
    let (w, h, cin) = params.sizes();
    let (pw, plane) = (w + 2, w * h);
    let padded_plane = pw * (h + 2);
    assert!(w.is_multiple_of(ROW_BLOCK));
    assert!(padded.len() >= cin * padded_plane && group.len() >= 4 * cin * 9);
    assert!(out.len() >= 4 * plane);
    for y in 0..h {
        for x0 in (0..w).step_by(ROW_BLOCK) {
            let mut acc: [[__m256; V]; 4] = [[_mm256_setzero_ps(); V]; 4];
            let mut wt = group.as_ptr();
            for ci in 0..cin {
                // Pixel (y, x0)'s tap (0, 0) is padded pixel (y, x0).
                let base = padded[ci * padded_plane + y * pw + x0..].as_ptr();
                for ky in 0..3 {
                    for kx in 0..3 {
                        // SAFETY: the block's taps run from padded pixel
                        // (y + ky, x0 + kx) for 24 floats, inside the padded
                        // plane: y + ky <= h + 1 and x0 + kx + 24 <= w + 2.
                        let taps: [__m256; V] = std::array::from_fn(|v| unsafe {
                            _mm256_loadu_ps(base.add(ky * pw + kx + 8 * v))
                        });
                        for (j, acc) in acc.iter_mut().enumerate() {
                            // SAFETY: `wt` walks `group`'s 4 * cin * 9 weights,
                            // four a term (the assert above).
                            let b = unsafe { _mm256_broadcast_ss(&*wt.add(j)) };
                            for v in 0..V {
                                acc[v] = _mm256_fmadd_ps(b, taps[v], acc[v]);
                            }
                        }
                        wt = wt.wrapping_add(4);
                    }
                }
            }
            for (j, acc) in acc.iter().enumerate() {
                let o = &mut out[j * plane + y * w + x0..][..ROW_BLOCK];
                for (v, &a) in acc.iter().enumerate() {
                    // SAFETY: `o` holds 24 floats: three unaligned 8-lane stores.
                    unsafe { _mm256_storeu_ps(o[8 * v..].as_mut_ptr(), a) };
                }
            }
        }
    }
}

/// The lanes of the 16 pixels from `first` (of a `w x h` plane) whose tap
/// `t` (`ky * 3 + kx`) is inside the plane: not above the first row or
/// below the last, not left of the first column or right of the last.
#[cfg(target_arch = "x86_64")]
fn tap_lanes(w: usize, h: usize, first: usize, t: usize) -> u16 {
    // Lanes whose pixel is before `end` (from 0 to all 16).
    let before = |end: usize| match end.saturating_sub(first) {
        n if n >= 16 => u16::MAX,
        n => (1u16 << n) - 1,
    };
    // Lanes whose pixel is in column `col`.
    let column = |col: usize| {
        let mut lanes = 0u16;
        let mut lane = (col + w - first % w) % w;
        while lane < 16 {
            lanes |= 1 << lane;
            lane += w;
        }
        lanes
    };
    let (ky, kx) = (t / 3, t % 3);
    let mut outside = 0u16;
    match ky {
        0 => outside |= before(w),
        2 => outside |= !before(w * h - w),
        _ => {}
    }
    match kx {
        0 => outside |= column(0),
        2 => outside |= column(w - 1),
        _ => {}
    }
    !outside
}

/// The 3x3 neighbourhood of every pixel of one crop, as `cin * 9` rows of
/// `width * height` taps, zero where a tap falls outside the plane, written
/// into `taps` (a buffer reused from call to call: every value is written,
/// the zeros too, so nothing is cleared first and a crop's taps stay in the
/// core's cache).
#[cfg(target_arch = "x86_64")]
fn im2col(params: &Params, inp: &[f32], taps: &mut Vec<f32>) {
    let (w, h) = (params.width as usize, params.height as usize);
    let plane = params.plane();
    taps.resize(params.cin as usize * 9 * plane, 0.0);
    for (k, row) in taps.chunks_mut(plane.max(1)).enumerate() {
        let (ci, ky, kx) = (k / 9, k / 3 % 3, k % 3);
        let src = &inp[ci * plane..(ci + 1) * plane];
        // Output pixels whose tap (y + ky - 1, x + kx - 1) is inside.
        let (y0, y1) = (usize::from(ky == 0), if ky == 2 { h - 1 } else { h });
        let (x0, x1) = (usize::from(kx == 0), if kx == 2 { w - 1 } else { w });
        if x0 >= x1 || y0 >= y1 {
            row.fill(0.0);
            continue;
        }
        row[..y0 * w].fill(0.0);
        row[y1 * w..].fill(0.0);
        for y in y0..y1 {
            let out = &mut row[y * w..(y + 1) * w];
            out[..x0].fill(0.0);
            out[x1..].fill(0.0);
            out[x0..x1].copy_from_slice(&src[(y + ky - 1) * w + x0 + kx - 1..][..x1 - x0]);
        }
    }
}

/// One crop's output channels, a whole output row per weight (the
/// unfused path: the compiler vectorises the row loop for any x86-64).
fn crop_by_rows(params: &Params, inp: &[f32], weights: &[f32], out: &mut [f32]) {
    let (w, h) = (params.width as usize, params.height as usize);
    let (cin, cout) = (params.cin as usize, params.cout as usize);
    let plane = params.plane();
    let biases = &weights[cout * cin * 9..];
    for (co, acc) in out.chunks_mut(plane).enumerate() {
        for ci in 0..cin {
            let src = &inp[ci * plane..(ci + 1) * plane];
            let wbase = (co * cin + ci) * 9;
            for ky in 0..3 {
                // Output rows whose tap row y + ky - 1 is inside.
                let y0 = usize::from(ky == 0);
                let y1 = if ky == 2 { h - 1 } else { h };
                for kx in 0..3 {
                    let wt = weights[wbase + ky * 3 + kx];
                    let x0 = usize::from(kx == 0);
                    let x1 = if kx == 2 { w - 1 } else { w };
                    if x0 >= x1 {
                        continue;
                    }
                    for y in y0..y1 {
                        let row = &src[(y + ky - 1) * w..][..w];
                        let dst = &mut acc[y * w..][..w];
                        for (d, s) in dst[x0..x1].iter_mut().zip(&row[x0 + kx - 1..]) {
                            *d += wt * *s;
                        }
                    }
                }
            }
        }
        let b = biases[co];
        for v in acc.iter_mut() {
            *v += b;
            if params.relu != 0 {
                *v = v.max(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shader's sum for one output value, written plainly.
    fn reference(
        fused: bool,
        p: &Params,
        input: &[f32],
        weights: &[f32],
        (crop, co, y, x): (usize, usize, usize, usize),
    ) -> f32 {
        let (w, h, cin) = (p.width as i64, p.height as i64, p.cin as usize);
        let mut acc = 0.0f32;
        for ci in 0..cin {
            for ky in 0..3i64 {
                for kx in 0..3i64 {
                    let (yy, xx) = (y as i64 + ky - 1, x as i64 + kx - 1);
                    if yy < 0 || yy >= h || xx < 0 || xx >= w {
                        continue;
                    }
                    let wt = weights[(co * cin + ci) * 9 + (ky * 3 + kx) as usize];
                    let i = ((crop * cin + ci) as i64 * h + yy) * w + xx;
                    acc = if fused {
                        wt.mul_add(input[i as usize], acc)
                    } else {
                        acc + wt * input[i as usize]
                    };
                }
            }
        }
        acc += weights[p.cout as usize * cin * 9 + co];
        if p.relu != 0 { acc.max(0.0) } else { acc }
    }

    #[test]
    fn matches_the_plain_sum_exactly() {
        // Planes up and down in size: each thread's taps buffer is reused,
        // so a large plane's taps must not leak into a smaller one's zeros.
        for (w, h, cin, cout, crops) in [
            (1, 1, 1, 1, 1),
            (2, 3, 2, 3, 2),
            (20, 6, 3, 8, 2),
            (7, 5, 3, 4, 3),
            (9, 4, 2, 6, 2),
            (20, 6, 3, 8, 2),
            (17, 3, 2, 4, 2),
            // 8 + 4 + 1 channels over 48 + 2 pixels: every block size.
            (10, 5, 2, 13, 2),
            // Whole blocks of 48 pixels and groups of 8 channels (or rows of
            // 24 and groups of 4), read without im2col: one row (its taps
            // above and below all outside), rows shorter than a vector, one
            // column, and a plane of two blocks.
            (48, 1, 2, 8, 2),
            (24, 2, 3, 16, 2),
            (12, 4, 2, 8, 1),
            (5, 48, 1, 8, 1),
            (1, 48, 2, 8, 2),
            (16, 6, 2, 8, 2),
            // Rows of 24 and 48 pixels in groups of 4 channels (a plane of
            // 72 is not whole 48-pixel blocks), one row and one group.
            (24, 3, 2, 12, 2),
            (48, 2, 1, 4, 1),
            (24, 1, 3, 4, 1),
        ] {
            let p = Params::new(w, h, cin, cout, crops, true);
            #[cfg(target_arch = "x86_64")]
            assert_eq!(direct_fits(&p), w * h % 48 == 0 && cout % 8 == 0);
            #[cfg(target_arch = "x86_64")]
            assert_eq!(rows_fit(&p), w % 24 == 0 && cout % 4 == 0);
            let n = (w * h * cin * crops) as usize;
            let input: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0).collect();
            let weights: Vec<f32> = (0..p.weights_len())
                .map(|i| ((i * 13 % 7) as f32 - 3.0) / 5.0)
                .collect();
            // Every path this CPU has; the fused ones fuse in the
            // reference too (`mul_add` is the correctly rounded fma).
            let paths = [Simd::Plain, Simd::Fused, Simd::Fused512];
            for path in paths.into_iter().filter(|p| p.available()) {
                let fused = path != Simd::Plain;
                let got = cpu_with(&p, &input, &weights, path).unwrap();
                let mut i = 0;
                for crop in 0..crops as usize {
                    for co in 0..cout as usize {
                        for y in 0..h as usize {
                            for x in 0..w as usize {
                                let want = reference(fused, &p, &input, &weights, (crop, co, y, x));
                                assert_eq!(got[i], want, "{path:?}");
                                i += 1;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Compares `path`'s bits with the im2col path's (16 lanes wide with
    /// `wide`) on each shape `(w, h, cin, cout)`, inputs with exact zeros
    /// and both signs, as ReLU outputs and weights have. The CPU must have
    /// what both paths need.
    #[cfg(target_arch = "x86_64")]
    fn assert_im2cols_bits(
        shapes: &[(u32, u32, u32, u32)],
        wide: bool,
        path: unsafe fn(&Params, &[f32], &[f32], &mut [f32]),
    ) {
        for &(w, h, cin, cout) in shapes {
            let p = Params::new(w, h, cin, cout, 1, true);
            let input: Vec<f32> = (0..(w * h * cin) as usize)
                .map(|i| ((i * 29 % 13) as f32 - 6.0).max(0.0) / 7.0 * [1.0, -1.0][i % 2])
                .collect();
            let weights: Vec<f32> = (0..p.weights_len())
                .map(|i| ((i * 17 % 11) as f32 - 5.0) / 9.0)
                .collect();
            let n = (w * h * cout) as usize;
            let (mut got, mut taps, mut via_taps) = (vec![0.0; n], Vec::new(), vec![0.0; n]);
            im2col(&p, &input, &mut taps);
            // SAFETY: the caller checked the CPU, the shapes each path's test.
            unsafe {
                path(&p, &input, &weights, &mut got);
                crop_avx2_fma(&p, &taps, &weights, &mut via_taps, wide);
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&via_taps), "{w}x{h}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn reading_taps_in_place_gives_im2cols_bits() {
        if !Simd::Fused512.available() {
            eprintln!("no AVX-512F on this CPU: the in-place path is not run here");
            return;
        }
        let shapes = [(24, 8, 4, 16), (96, 32, 1, 8), (12, 4, 3, 8)];
        assert!(
            shapes
                .iter()
                .all(|&(w, h, cin, cout)| { direct_fits(&Params::new(w, h, cin, cout, 1, true)) })
        );
        assert_im2cols_bits(&shapes, true, crop_direct_512);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn reading_taps_from_a_padded_copy_gives_im2cols_bits() {
        if !Simd::Fused.available() {
            eprintln!("no AVX2 and FMA on this CPU: the padded path is not run here");
            return;
        }
        // The buffers reused from a larger plane to smaller ones.
        let shapes = [
            (96, 32, 1, 16),
            (24, 8, 4, 16),
            (48, 1, 3, 8),
            (24, 2, 2, 4),
        ];
        assert!(
            shapes
                .iter()
                .all(|&(w, h, cin, cout)| { rows_fit(&Params::new(w, h, cin, cout, 1, true)) })
        );
        assert_im2cols_bits(&shapes, false, crop_padded_avx2);
    }

    #[test]
    fn an_identity_kernel_copies_and_relu_clamps() {
        let p = Params::new(3, 2, 1, 1, 1, true);
        let mut weights = vec![0.0; 10];
        weights[4] = 1.0; // centre tap
        weights[9] = 0.5; // bias
        let input = [1.0, -2.0, 3.0, -4.0, 5.0, -6.0];
        let got = cpu(&p, &input, &weights).unwrap();
        assert_eq!(got, vec![1.5, 0.0, 3.5, 0.0, 5.5, 0.0]);
    }

    #[test]
    fn wrong_lengths_are_bad_input() {
        let p = Params::new(3, 2, 1, 1, 1, false);
        assert!(matches!(
            cpu(&p, &[0.0; 5], &[0.0; 10]),
            Err(crate::Error::BadInput(_))
        ));
        assert!(matches!(
            cpu(&p, &[0.0; 6], &[0.0; 9]),
            Err(crate::Error::BadInput(_))
        ));
    }
}
