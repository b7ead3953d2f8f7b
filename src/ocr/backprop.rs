//! The reader's training pass written out by hand (feature `train`): the
//! forward pass with batch statistics, the backward pass and an AdamW step,
//! on flat `f32` buffers, with every matrix product in the `gemm` crate
//! that candle itself calls.
//!
//! Why not candle: on this network candle spends under a tenth of a step in
//! its matrix products and most of the rest allocating, zeroing and
//! walking strided element-wise ops over tensors of a few megabytes (perf,
//! fourteenth session). Here each layer's buffers are computed once, in the
//! layout the next product wants. [`crate::ocr::train`] keeps candle as the
//! engine the chain's runs used (`--engine candle`, `models/ocr-v2/RUNS.md`) and checks this one
//! against it: the same loss, and the same weights after AdamW steps.
//!
//! Activations are channel-first (`[C][B][H][W]`, as in the candle engine),
//! so a convolution is one product of its weights `[cout][cin * 9]` with the
//! input's nine shifted copies `[cin * 9][B * H * W]` (im2col).
//!
//! A step runs on the current rayon pool: the products in gemm's blocks,
//! the rest a channel (or a slice of a weight buffer) a task, each task
//! summing in the order one thread would, so every thread count gives the
//! same weights to the bit (`a_step_does_not_depend_on_the_thread_count`).
//!
//! ```text
//! forward, per layer:  x --im2col--> cols --W x cols--> y --batch norm--> xhat
//!   --gamma, beta, ReLU--> r --max pool (argmax kept)--> next x
//! columns [B*24][C*2] --dense--> logits --log-softmax, CTC--> dlogits
//! backward, per layer: d(next x) --scatter to argmax--> dr --ReLU--> dz
//!   --batch norm--> dy --dy x cols^T--> dW;  W^T x dy --col2im--> dx
//! AdamW (decoupled decay, as candle-nn's) on every weight, gamma and beta
//! ```
//!
//! Two deliberate differences, both in candle 0.11's max-pool backward,
//! which multiplies the gradient by the window's mean of its "is a maximum"
//! mask: a unique maximum gets 1/(window size) of the gradient, and each of
//! several equal maxima gets (their count)/(window size). Here the first
//! maximum gets all of it, as PyTorch does. The first is a constant scale
//! per layer, which AdamW's per-parameter normalisation cancels. The second
//! is not: plates' flat backgrounds give equal maxima often in the first two
//! layers, where candle weighs a tied window up to 16 times a textured one
//! (measured on 8 generated plates: the first layer's gradients point
//! differently, cosine 0.32; the layers after the second pool agree to
//! rounding). So the engines train the first layers differently, and the
//! agreement test compares them on inputs without ties.

use gemm::Parallelism;
use rayon::prelude::*;

use crate::ocr::model::{BLANK, CLASSES, COLUMNS, FEATURES, HEIGHT, LAYERS, Model, Pool, WIDTH};
use crate::ocr::{ctc, decode};

/// Batch-norm momentum of the running statistics, and its epsilon (the
/// candle engine's).
pub(crate) const BN_MOMENTUM: f32 = 0.1;
pub(crate) const BN_EPS: f32 = 1e-5;
/// AdamW's constants (candle-nn's defaults) and the weight decay `train-ocr`
/// uses.
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;
pub(crate) const WEIGHT_DECAY: f64 = 1e-4;
/// Parameters an AdamW task updates: element-wise, so any split gives
/// the same weights.
const ADAM_CHUNK: usize = 8192;

/// `c = a * b` (or `c += a * b`), `a` `m x k`, `b` `k x n`, `c` `m x n`,
/// all row-major; `a_t` / `b_t` say the slice holds the transpose instead
/// (`k x m`, `n x k`). On the current rayon pool's threads: gemm splits
/// `c` into blocks and sums each element's products in one order, the same
/// for any number of threads, so the weights a run ends with do not depend
/// on the machine's thread count (tested).
///
/// Nor on its cache: gemm cuts a long depth into blocks sized from the L1
/// data cache it reads off the CPU, and each block's sum is added to `c`
/// on its own, so two machines would round differently (runs 82-85 in
/// `models/ocr-v2/RUNS.md`: a 32 KiB 8-way L1 and a 48 KiB 12-way one gave
/// different weights from one command). Where gemm would block by the
/// cache ([`blocks_by_cache`]), the depth is cut here instead, into the
/// blocks gemm cuts on a 32 KiB 8-way L1 ([`depth_block`]); each piece is
/// at most [`DEPTH_BLOCK`] deep, which gemm never cuts further on any
/// machine (`products_sum_in_blocks_of_the_32k_cache`).
fn matmul(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    (m, n, k): (usize, usize, usize),
    a_t: bool,
    b_t: bool,
    accumulate: bool,
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let (a_rs, a_cs) = if a_t { (1, m) } else { (k, 1) };
    let (b_rs, b_cs) = if b_t { (1, k) } else { (n, 1) };
    let block = if blocks_by_cache(m, n, k, a_cs, b_rs) {
        depth_block(k)
    } else {
        k
    };
    for start in (0..k).step_by(block) {
        let depth = block.min(k - start);
        // SAFETY: the assertion above keeps every index the strides reach,
        // (m - 1, k - 1) of `a`, (k - 1, n - 1) of `b` and (m - 1, n - 1) of
        // `c`, inside its slice, and a piece's offsets (`start` along the
        // depth, below `k`) and depth stay within those; `c` is borrowed
        // mutably, so it aliases neither input.
        unsafe {
            gemm::gemm(
                m,
                n,
                depth,
                c.as_mut_ptr(),
                1,
                n as isize,
                accumulate || start > 0,
                a.as_ptr().add(start * a_cs),
                a_cs as isize,
                a_rs as isize,
                b.as_ptr().add(start * b_rs),
                b_cs as isize,
                b_rs as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                Parallelism::Rayon(rayon::current_num_threads()),
            );
        }
    }
}

/// The deepest block gemm 0.19 sums in one go on any machine: its
/// `kernel_params` never picks less, whatever the cache.
const DEPTH_BLOCK: usize = 512;

/// Whether gemm 0.19 (`gemm-common`'s `gemm_basic_generic`, f32) may cut
/// a product of these shapes and strides into depth blocks sized by the
/// machine's cache, so that [`matmul`] cuts it instead. Two kinds it sums
/// in blocks fixed whatever the cache are left to it, so that their sums
/// stay what they have always been: at most 256 outputs with both inputs
/// contiguous along the depth (its horizontal kernels, blocks of 1,024:
/// the first convolution's weight gradient), and both sides at most 64
/// (blocks of 512). No product here is a row or a column, gemm's other
/// fixed path.
fn blocks_by_cache(m: usize, n: usize, k: usize, a_cs: usize, b_rs: usize) -> bool {
    let horizontal = m * n <= 256 && a_cs == 1 && b_rs == 1;
    k > DEPTH_BLOCK && !horizontal && !(m <= 64 && n <= 64)
}

/// The depth of gemm's blocks for a depth of `k` on a 32 KiB 8-way L1
/// data cache (`gemm_common::cache::kernel_params` with the f32 FMA
/// kernel's 16 x 6 tile): as few blocks of at most [`DEPTH_BLOCK`] as
/// cover `k`, balanced (576 -> 288 + 288, 768 -> 384 + 384).
fn depth_block(k: usize) -> usize {
    k.div_ceil(k.div_ceil(DEPTH_BLOCK))
}

/// A `[c][b][h][w]` tensor's nine shifted copies, zero-padded:
/// `[c * 9][b * h * w]`, row `ci * 9 + ky * 3 + kx` holding input pixel
/// `(y + ky - 1, x + kx - 1)` at column `(b, y, x)`. Written into `cols`
/// (`c * 9 * b * h * w` values), every value of it, padding included, so
/// its old contents do not matter.
fn im2col(x: &[f32], (c, b, h, w): (usize, usize, usize, usize), mut cols: Vec<f32>) -> Vec<f32> {
    let n = b * h * w;
    assert_eq!(cols.len(), c * 9 * n);
    cols.par_chunks_mut(9 * n)
        .enumerate()
        .for_each(|(ci, taps)| {
            for ky in 0..3 {
                for kx in 0..3 {
                    let row = &mut taps[(ky * 3 + kx) * n..][..n];
                    for bi in 0..b {
                        let plane = &x[(ci * b + bi) * h * w..][..h * w];
                        for y in 0..h {
                            let sy = y + ky;
                            let dst = &mut row[(bi * h + y) * w..][..w];
                            if sy < 1 || sy > h {
                                dst.fill(0.0);
                                continue;
                            }
                            let src = &plane[(sy - 1) * w..][..w];
                            // dst[x] = src[x + kx - 1] where that is inside.
                            match kx {
                                0 => {
                                    dst[0] = 0.0;
                                    dst[1..].copy_from_slice(&src[..w - 1]);
                                }
                                1 => dst.copy_from_slice(src),
                                _ => {
                                    dst[w - 1] = 0.0;
                                    dst[..w - 1].copy_from_slice(&src[1..]);
                                }
                            }
                        }
                    }
                }
            }
        });
    cols
}

/// [`im2col`]'s adjoint: each column value added back to the input pixel it
/// was copied from.
/// Written into `x` (`c * b * h * w` values), which is cleared first.
fn col2im(cols: &[f32], (c, b, h, w): (usize, usize, usize, usize), mut x: Vec<f32>) -> Vec<f32> {
    let n = b * h * w;
    assert_eq!(x.len(), c * n);
    x.fill(0.0);
    x.par_chunks_mut(n).enumerate().for_each(|(ci, channel)| {
        for ky in 0..3 {
            for kx in 0..3 {
                let row = &cols[((ci * 9) + ky * 3 + kx) * n..][..n];
                for bi in 0..b {
                    let plane = &mut channel[bi * h * w..][..h * w];
                    for y in 0..h {
                        let sy = y + ky;
                        if sy < 1 || sy > h {
                            continue;
                        }
                        let dst = &mut plane[(sy - 1) * w..][..w];
                        let src = &row[(bi * h + y) * w..][..w];
                        let (d, s) = match kx {
                            0 => (&mut dst[..w - 1], &src[1..]),
                            1 => (&mut dst[..], src),
                            _ => (&mut dst[1..], &src[..w - 1]),
                        };
                        for (d, s) in d.iter_mut().zip(s) {
                            *d += s;
                        }
                    }
                }
            }
        }
    });
    x
}

/// Max pool of `[c][b][h][w]` by `pool`: the output (in a buffer from
/// `spare`) and, per output, the input index it took (the first maximum in
/// row-major window order).
fn pool_forward(
    x: &[f32],
    (c, b, h, w): (usize, usize, usize, usize),
    pool: Pool,
    spare: &mut Spare,
) -> (Vec<f32>, Vec<u32>) {
    let (ph, pw) = match pool {
        Pool::Square => (2, 2),
        Pool::Rows => (2, 1),
        Pool::None => unreachable!("no pooling has no pool pass"),
    };
    let (oh, ow) = (h / ph, w / pw);
    // Every value is written below.
    let mut out = spare.take(c * b * oh * ow);
    let mut arg = vec![0u32; c * b * oh * ow];
    out.par_chunks_mut(oh * ow)
        .zip(arg.par_chunks_mut(oh * ow))
        .enumerate()
        .for_each(|(plane, (out, arg))| {
            let base = plane * h * w;
            for y in 0..oh {
                for xo in 0..ow {
                    let mut best = base + y * ph * w + xo * pw;
                    for dy in 0..ph {
                        for dx in 0..pw {
                            let i = base + (y * ph + dy) * w + xo * pw + dx;
                            if x[i] > x[best] {
                                best = i;
                            }
                        }
                    }
                    out[y * ow + xo] = x[best];
                    arg[y * ow + xo] = best as u32;
                }
            }
        });
    (out, arg)
}

/// One convolution with its batch norm: trainable weights and running
/// statistics.
#[derive(Clone, Debug)]
pub(crate) struct Layer {
    pub cin: usize,
    pub cout: usize,
    pub pool: Pool,
    /// `[cout][cin * 9]`.
    pub w: Vec<f32>,
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
}

/// What the backward pass needs of a layer's forward pass.
struct Cache {
    dims: (usize, usize, usize, usize),
    cols: Vec<f32>,
    /// `[cout][n]`, normalised.
    xhat: Vec<f32>,
    /// Per channel, `sqrt(var + eps)` of the batch.
    std: Vec<f32>,
    /// Per pooled output, the input it took (empty without pooling).
    arg: Vec<u32>,
}

/// Buffers a step has finished with, kept for the next: every step asks
/// for the same sizes, and reusing them spares zeroing and faulting in
/// some 80 MB a step (4-5% of a training run's samples in perf; a step on
/// two threads about 6% faster, alternated `bench train`s, forty-fifth
/// session). Their contents are stale, so only a buffer its user
/// overwrites whole comes from here. A clone of a net starts without any.
#[derive(Debug, Default)]
struct Spare(Vec<Vec<f32>>);

impl Clone for Spare {
    fn clone(&self) -> Spare {
        Spare::default()
    }
}

impl Spare {
    /// A buffer of `len` values, its contents unspecified.
    fn take(&mut self, len: usize) -> Vec<f32> {
        match self.0.iter().position(|b| b.len() == len) {
            Some(i) => self.0.swap_remove(i),
            None => vec![0.0; len],
        }
    }

    /// A buffer of `len` zeros.
    fn zeroed(&mut self, len: usize) -> Vec<f32> {
        let mut buffer = self.take(len);
        buffer.fill(0.0);
        buffer
    }

    /// A copy of `values`.
    fn copy(&mut self, values: &[f32]) -> Vec<f32> {
        let mut buffer = self.take(values.len());
        buffer.copy_from_slice(values);
        buffer
    }

    fn give(&mut self, buffer: Vec<f32>) {
        if !buffer.is_empty() {
            self.0.push(buffer);
        }
    }
}

/// The network's trainable state and its AdamW moments.
#[derive(Clone, Debug)]
pub struct Native {
    pub(crate) layers: Vec<Layer>,
    /// `[FEATURES][CLASSES]`.
    pub(crate) dense_w: Vec<f32>,
    pub(crate) dense_b: Vec<f32>,
    /// First and second moments, one pair per parameter buffer in
    /// [`Native::params_mut`]'s order.
    pub(crate) moments: Vec<(Vec<f32>, Vec<f32>)>,
    pub(crate) step_t: i32,
    spare: Spare,
}

/// A step's mean CTC loss and the share of plates its greedy read got.
#[derive(Clone, Copy, Debug)]
pub struct StepResult {
    pub loss: f32,
    pub greedy_acc: f32,
}

impl Native {
    /// From layers and a dense layer (the candle engine's starting point,
    /// so both engines start alike); AdamW's moments start at zero.
    pub(crate) fn new(layers: Vec<Layer>, dense_w: Vec<f32>, dense_b: Vec<f32>) -> Native {
        assert_eq!(layers.len(), LAYERS.len());
        assert_eq!(dense_w.len(), FEATURES * CLASSES);
        let mut net = Native {
            layers,
            dense_w,
            dense_b,
            moments: Vec::new(),
            step_t: 0,
            spare: Spare::default(),
        };
        net.moments = net
            .params_mut()
            .iter()
            .map(|p| (vec![0.0; p.len()], vec![0.0; p.len()]))
            .collect();
        net
    }

    /// Every trainable buffer, in a fixed order: per layer `w`, `gamma`,
    /// `beta`, then the dense weights and biases.
    fn params_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut v: Vec<&mut Vec<f32>> = Vec::new();
        for l in &mut self.layers {
            v.push(&mut l.w);
            v.push(&mut l.gamma);
            v.push(&mut l.beta);
        }
        v.push(&mut self.dense_w);
        v.push(&mut self.dense_b);
        v
    }

    /// Training forward pass of `b` prepared crops (`[b][1][HEIGHT][WIDTH]`):
    /// logits `[b * COLUMNS][CLASSES]`, the columns' features and each
    /// layer's cache; updates the running statistics.
    fn forward(&mut self, x: &[f32], b: usize) -> (Vec<f32>, Vec<f32>, Vec<Cache>) {
        let (mut h, mut w) = (HEIGHT as usize, WIDTH as usize);
        assert_eq!(x.len(), b * h * w);
        let mut x = self.spare.copy(x);
        let mut caches = Vec::with_capacity(self.layers.len());
        for l in &mut self.layers {
            let dims = (l.cin, b, h, w);
            let n = b * h * w;
            let cols = im2col(&x, dims, self.spare.take(l.cin * 9 * n));
            self.spare.give(x);
            // The product overwrites `y` whole (no accumulation).
            let mut y = self.spare.take(l.cout * n);
            matmul(
                &mut y,
                &l.w,
                &cols,
                (l.cout, n, l.cin * 9),
                false,
                false,
                false,
            );
            // Each channel's batch mean, variance and deviation, and its
            // values normalised.
            let stats: Vec<(f32, f32, f32)> = y
                .par_chunks_mut(n)
                .map(|ys| {
                    let mean = ys.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
                    let var = ys
                        .iter()
                        .map(|&v| (f64::from(v) - mean).powi(2))
                        .sum::<f64>()
                        / n as f64;
                    let (mean, var) = (mean as f32, var as f32);
                    let s = (var + BN_EPS).sqrt();
                    for v in ys.iter_mut() {
                        *v = (*v - mean) / s;
                    }
                    (mean, var, s)
                })
                .collect();
            let mut std = Vec::with_capacity(l.cout);
            for (c, &(mean, var, s)) in stats.iter().enumerate() {
                l.mean[c] = l.mean[c] * (1.0 - BN_MOMENTUM) + mean * BN_MOMENTUM;
                l.var[c] = l.var[c] * (1.0 - BN_MOMENTUM) + var * BN_MOMENTUM;
                std.push(s);
            }
            let xhat = y;
            let mut r = self.spare.copy(&xhat);
            r.par_chunks_mut(n).enumerate().for_each(|(c, rs)| {
                let (g, be) = (l.gamma[c], l.beta[c]);
                for v in rs.iter_mut() {
                    *v = (g * *v + be).max(0.0);
                }
            });
            let arg = match l.pool {
                Pool::None => {
                    x = r;
                    Vec::new()
                }
                pool => {
                    let (out, arg) = pool_forward(&r, (l.cout, b, h, w), pool, &mut self.spare);
                    self.spare.give(r);
                    h /= 2;
                    if pool == Pool::Square {
                        w /= 2;
                    }
                    x = out;
                    arg
                }
            };
            caches.push(Cache {
                dims,
                cols,
                xhat,
                std,
                arg,
            });
        }
        let (c, rows) = (self.layers.last().map_or(0, |l| l.cout), h);
        debug_assert_eq!((c * rows, w), (FEATURES, COLUMNS));
        // [C][B][ROWS][COLUMNS] -> [B][COLUMNS][C * ROWS] (feature c * ROWS + row).
        let mut feats = vec![0.0f32; b * COLUMNS * FEATURES];
        for (at, feature) in column_order(c, b, rows) {
            feats[feature] = x[at];
        }
        self.spare.give(x);
        let mut logits = vec![0.0f32; b * COLUMNS * CLASSES];
        for row in logits.chunks_mut(CLASSES) {
            row.copy_from_slice(&self.dense_b);
        }
        matmul(
            &mut logits,
            &feats,
            &self.dense_w,
            (b * COLUMNS, CLASSES, FEATURES),
            false,
            false,
            true,
        );
        (logits, feats, caches)
    }

    /// One training step on `b` crops and their CTC targets at learning
    /// rate `lr`: forward, CTC, backward, AdamW.
    pub fn step(&mut self, x: &[f32], targets: &[Vec<usize>], lr: f64) -> StepResult {
        let b = targets.len();
        let (logits, feats, caches) = self.forward(x, b);
        let logp = log_softmax(&logits);
        let (loss, dlogits, greedy_acc) = ctc_batch(&logp, targets);
        let grads = self.backward(&dlogits, &feats, caches, b);
        self.adamw(&grads, lr);
        StepResult { loss, greedy_acc }
    }

    /// Gradients of every buffer of [`Native::params_mut`], same order;
    /// the caches' buffers are kept for the next step.
    fn backward(
        &mut self,
        dlogits: &[f32],
        feats: &[f32],
        caches: Vec<Cache>,
        b: usize,
    ) -> Vec<Vec<f32>> {
        let rows_n = b * COLUMNS;
        let mut d_dense_w = vec![0.0f32; FEATURES * CLASSES];
        matmul(
            &mut d_dense_w,
            feats,
            dlogits,
            (FEATURES, CLASSES, rows_n),
            true,
            false,
            false,
        );
        let mut d_dense_b = vec![0.0f32; CLASSES];
        for row in dlogits.chunks(CLASSES) {
            for (d, g) in d_dense_b.iter_mut().zip(row) {
                *d += g;
            }
        }
        let mut dfeats = vec![0.0f32; rows_n * FEATURES];
        matmul(
            &mut dfeats,
            dlogits,
            &self.dense_w,
            (rows_n, FEATURES, CLASSES),
            false,
            true,
            false,
        );
        let c = self.layers.last().map_or(0, |l| l.cout);
        let rows = FEATURES / c.max(1);
        let mut dx = self.spare.zeroed(c * b * rows * COLUMNS);
        for (at, feature) in column_order(c, b, rows) {
            dx[at] = dfeats[feature];
        }
        let mut layer_grads = Vec::with_capacity(self.layers.len());
        for (k, (l, cache)) in self.layers.iter().zip(caches).enumerate().rev() {
            let spare = &mut self.spare;
            let (_, _, h, w) = cache.dims;
            let n = b * h * w;
            let mut dz = match l.pool {
                Pool::None => dx,
                _ => {
                    // A channel's pooled outputs took inputs of that channel.
                    let mut dr = spare.zeroed(l.cout * n);
                    let pooled = dx.len() / l.cout;
                    dr.par_chunks_mut(n)
                        .zip(dx.par_chunks(pooled).zip(cache.arg.par_chunks(pooled)))
                        .enumerate()
                        .for_each(|(c, (dr, (dx, arg)))| {
                            for (&i, &g) in arg.iter().zip(dx) {
                                dr[i as usize - c * n] += g;
                            }
                        });
                    spare.give(dx);
                    dr
                }
            };
            let sums: Vec<(f32, f32)> = dz
                .par_chunks_mut(n)
                .zip(cache.xhat.par_chunks(n))
                .enumerate()
                .map(|(c, (d, xh))| {
                    let (g, be, s) = (l.gamma[c], l.beta[c], cache.std[c]);
                    let (mut sum_d, mut sum_dx) = (0.0f64, 0.0f64);
                    for (d, &xh) in d.iter_mut().zip(xh) {
                        if g * xh + be <= 0.0 {
                            *d = 0.0;
                        }
                        sum_d += f64::from(*d);
                        sum_dx += f64::from(*d * xh);
                    }
                    // dy = g / s * (dz - mean(dz) - xhat * mean(dz * xhat)).
                    let (mean_d, mean_dx) = ((sum_d / n as f64) as f32, (sum_dx / n as f64) as f32);
                    let scale = g / s;
                    for (d, &xh) in d.iter_mut().zip(xh) {
                        *d = scale * (*d - mean_d - xh * mean_dx);
                    }
                    (sum_dx as f32, sum_d as f32)
                })
                .collect();
            let (dgamma, dbeta): (Vec<f32>, Vec<f32>) = sums.into_iter().unzip();
            let dy = dz;
            let mut dw = vec![0.0f32; l.cout * l.cin * 9];
            matmul(
                &mut dw,
                &dy,
                &cache.cols,
                (l.cout, l.cin * 9, n),
                false,
                true,
                false,
            );
            dx = if k > 0 {
                // Overwritten whole, as `y` in the forward pass.
                let mut dcols = spare.take(l.cin * 9 * n);
                matmul(
                    &mut dcols,
                    &l.w,
                    &dy,
                    (l.cin * 9, n, l.cout),
                    true,
                    false,
                    false,
                );
                let dx = col2im(&dcols, cache.dims, spare.take(l.cin * n));
                spare.give(dcols);
                dx
            } else {
                Vec::new()
            };
            spare.give(dy);
            spare.give(cache.cols);
            spare.give(cache.xhat);
            layer_grads.push([dw, dgamma, dbeta]);
        }
        let mut grads: Vec<Vec<f32>> = layer_grads.into_iter().rev().flatten().collect();
        grads.push(d_dense_w);
        grads.push(d_dense_b);
        grads
    }

    /// candle-nn's AdamW, step for step: decay, then the bias-corrected
    /// moments' ratio.
    fn adamw(&mut self, grads: &[Vec<f32>], lr: f64) {
        self.step_t += 1;
        let scale_m = 1.0 / (1.0 - BETA1.powi(self.step_t));
        let scale_v = 1.0 / (1.0 - BETA2.powi(self.step_t));
        let decay = (1.0 - lr * WEIGHT_DECAY) as f32;
        let mut moments = std::mem::take(&mut self.moments);
        for ((p, g), (m, v)) in self.params_mut().into_iter().zip(grads).zip(&mut moments) {
            p.par_chunks_mut(ADAM_CHUNK)
                .zip(g.par_chunks(ADAM_CHUNK))
                .zip(
                    m.par_chunks_mut(ADAM_CHUNK)
                        .zip(v.par_chunks_mut(ADAM_CHUNK)),
                )
                .for_each(|((p, g), (m, v))| {
                    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        *m = *m * BETA1 as f32 + g * (1.0 - BETA1) as f32;
                        *v = *v * BETA2 as f32 + g * g * (1.0 - BETA2) as f32;
                        let m_hat = *m * scale_m as f32;
                        let v_hat = *v * scale_v as f32;
                        *p = *p * decay - m_hat / (v_hat.sqrt() + ADAM_EPS as f32) * lr as f32;
                    }
                });
        }
        self.moments = moments;
    }

    /// The inference weights: batch norm folded into each convolution
    /// (the running statistics, as the candle engine folds them).
    pub fn export(&self) -> Model {
        let convs = self
            .layers
            .iter()
            .map(|l| {
                let mut v = Vec::with_capacity(l.w.len() + l.cout);
                let scale: Vec<f32> = (0..l.cout)
                    .map(|c| l.gamma[c] / (l.var[c] + BN_EPS).sqrt())
                    .collect();
                for (c, ws) in l.w.chunks(l.cin * 9).enumerate() {
                    v.extend(ws.iter().map(|w| w * scale[c]));
                }
                v.extend((0..l.cout).map(|c| l.beta[c] - l.mean[c] * scale[c]));
                v
            })
            .collect();
        let mut dense = self.dense_w.clone();
        dense.extend(&self.dense_b);
        Model { convs, dense }
    }
}

/// The last layer's `[c][b][rows][COLUMNS]` activations as the dense layer
/// reads them, `[b][COLUMNS][c * rows]` (feature `channel * rows + row`, the
/// inference code's order): each value's index in the first and in the
/// second.
fn column_order(c: usize, b: usize, rows: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..c).flat_map(move |ci| {
        (0..b).flat_map(move |bi| {
            (0..rows).flat_map(move |row| {
                (0..COLUMNS).map(move |col| {
                    (
                        ((ci * b + bi) * rows + row) * COLUMNS + col,
                        (bi * COLUMNS + col) * FEATURES + ci * rows + row,
                    )
                })
            })
        })
    })
}

/// Log-softmax of each row of `CLASSES` logits.
fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks(CLASSES) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
        let log_sum = sum.ln() + max;
        out.extend(row.iter().map(|v| v - log_sum));
    }
    out
}

/// The batch's mean CTC loss, its gradient with respect to the logits
/// (already divided by the batch size), and the share of plates whose
/// greedy read (best class per column, repeats merged, blanks dropped) is
/// the text. A text that cannot fit the columns adds nothing.
pub(crate) fn ctc_batch(log_probs: &[f32], targets: &[Vec<usize>]) -> (f32, Vec<f32>, f32) {
    let per = COLUMNS * CLASSES;
    let n = targets.len().max(1) as f64;
    let results: Vec<(f64, Vec<f32>, bool)> = log_probs
        .par_chunks(per)
        .zip(targets)
        .map(|(lp, label)| {
            let greedy = decode::greedy(lp);
            let hit = greedy == *label;
            match ctc::loss_and_grad(lp, CLASSES, label, BLANK) {
                Some((loss, grad)) => (loss, grad, hit),
                None => (0.0, vec![0.0; per], hit),
            }
        })
        .collect();
    let mut grad = Vec::with_capacity(log_probs.len());
    let (mut loss, mut hits) = (0.0, 0usize);
    for (l, g, h) in results {
        loss += l;
        hits += usize::from(h);
        grad.extend(g.into_iter().map(|v| (f64::from(v) / n) as f32));
    }
    ((loss / n) as f32, grad, (hits as f64 / n) as f32)
}

/// A run's random start for `seed`, the same for both engines:
/// He-initialised convolutions, a LeCun-initialised dense layer (normals by
/// Box-Muller from PCG64: candle's CPU generator cannot be seeded), batch
/// norms at gamma 1, beta 0.
pub(crate) fn random(seed: u64) -> Native {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut randn = |n: usize, std: f64| -> Vec<f32> {
        (0..n)
            .map(|_| {
                let u1: f64 = rng.random_range(f64::EPSILON..1.0);
                let u2: f64 = rng.random();
                (std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
            })
            .collect()
    };
    let layers = (0..LAYERS.len())
        .map(|k| {
            let (cin, cout) = crate::ocr::model::conv_channels(k);
            let (cin, cout) = (cin as usize, cout as usize);
            Layer {
                cin,
                cout,
                pool: LAYERS[k].1,
                w: randn(cout * cin * 9, (2.0 / (cin * 9) as f64).sqrt()),
                gamma: vec![1.0; cout],
                beta: vec![0.0; cout],
                mean: vec![0.0; cout],
                var: vec![1.0; cout],
            }
        })
        .collect();
    let dense_w = randn(FEATURES * CLASSES, (1.0 / FEATURES as f64).sqrt());
    Native::new(layers, dense_w, vec![0.0; CLASSES])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_handles_each_transpose() {
        // a 2x3, b 3x2.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        let want = [58.0, 64.0, 139.0, 154.0];
        let at = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let bt = [7.0, 9.0, 11.0, 8.0, 10.0, 12.0];
        for (a, a_t) in [(&a, false), (&at, true)] {
            for (b, b_t) in [(&b, false), (&bt, true)] {
                let mut c = [1.0; 4];
                matmul(&mut c, a, b, (2, 2, 3), a_t, b_t, false);
                assert_eq!(c, want);
                matmul(&mut c, a, b, (2, 2, 3), a_t, b_t, true);
                assert_eq!(c, want.map(|v| 2.0 * v));
            }
        }
    }

    /// What gemm's FMA kernels compute for one output: each block's
    /// products summed in depth order by fused multiply-adds from zero,
    /// each block's sum then added to the output.
    fn blocked_dot(
        a: impl Fn(usize) -> f32,
        b: impl Fn(usize) -> f32,
        k: usize,
        block: usize,
    ) -> f32 {
        (0..k)
            .step_by(block)
            .map(|start| {
                (start..k.min(start + block)).fold(0.0f32, |acc, d| a(d).mul_add(b(d), acc))
            })
            .reduce(|out, sum| out + sum)
            .unwrap_or(0.0)
    }

    #[test]
    fn products_sum_in_blocks_of_the_32k_cache() {
        // gemm's FMA kernels on any machine's cache, in the blocks a
        // 32 KiB 8-way L1 gives where gemm would block by the cache, and
        // in gemm's own fixed blocks elsewhere; checked to the bit against
        // scalar fused multiply-adds in those blocks. The shapes include
        // the trainer's deep ones: a 576-deep convolution (288 + 288) and
        // the dense layer's gradient over 768 columns (384 + 384).
        #[cfg(target_arch = "x86_64")]
        if !std::arch::is_x86_feature_detected!("fma") {
            eprintln!(
                "NOT CHECKED: this CPU has no FMA, so gemm sums with its scalar \
                 kernel and train-ocr here will not give the shipped weights"
            );
            return;
        }
        let cases = [
            // (m, n, k, a_t, b_t, block)
            (65, 70, 576, false, false, 288),
            (128, 37, 768, true, false, 384),
            (64, 100, 1100, false, true, 367),
            (64, 144, 1536, false, true, 512),
            (32, 40, 1500, false, false, 512),
            (70, 70, 500, false, false, 500),
        ];
        for (m, n, k, a_t, b_t, block) in cases {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7919 % 2003) as f32) / 1000.0 - 1.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 104_729 % 3001) as f32) / 1500.0 - 1.0)
                .collect();
            let mut c = vec![f32::NAN; m * n];
            matmul(&mut c, &a, &b, (m, n, k), a_t, b_t, false);
            for i in 0..m {
                for j in 0..n {
                    let want = blocked_dot(
                        |d| if a_t { a[d * m + i] } else { a[i * k + d] },
                        |d| if b_t { b[j * k + d] } else { b[d * n + j] },
                        k,
                        block,
                    );
                    assert_eq!(
                        c[i * n + j].to_bits(),
                        want.to_bits(),
                        "{m}x{n}x{k} at ({i}, {j}): {} against {want}",
                        c[i * n + j]
                    );
                }
            }
        }
    }

    /// Every buffer of a net's state as bits: the weights, batch
    /// statistics and AdamW's moments.
    fn bits(net: &Native) -> Vec<Vec<u32>> {
        let mut v: Vec<&Vec<f32>> = Vec::new();
        for l in &net.layers {
            v.extend([&l.w, &l.gamma, &l.beta, &l.mean, &l.var]);
        }
        v.extend([&net.dense_w, &net.dense_b]);
        v.extend(net.moments.iter().flat_map(|(m, s)| [m, s]));
        v.iter()
            .map(|b| b.iter().map(|f| f.to_bits()).collect())
            .collect()
    }

    #[test]
    fn a_step_does_not_depend_on_the_thread_count() {
        // Two steps of a random start on one thread and on three: every
        // buffer the same to the bit (the weights, batch statistics and
        // AdamW's moments), as are the losses.
        let b = 4;
        let n = b * (HEIGHT * WIDTH) as usize;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 7919 % 1013) as f32) / 500.0 - 1.0)
            .collect();
        let targets: Vec<Vec<usize>> = (0..b).map(|i| vec![i + 1, 10 + i, 3]).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut net = random(11);
            let losses: Vec<u32> = (0..2)
                .map(|_| pool.install(|| net.step(&x, &targets, 1e-3)).loss.to_bits())
                .collect();
            (net, losses)
        };
        let ((one, l1), (three, l3)) = (run(1), run(3));
        assert_eq!(l1, l3);
        assert_eq!(one.step_t, 2);
        assert_eq!(bits(&one), bits(&three));
    }

    #[test]
    fn reused_buffers_give_the_steps_fresh_ones_give() {
        // The third step of a net that kept its buffers from two, against
        // the same net with none kept: the same state to the bit.
        let b = 3;
        let x: Vec<f32> = (0..b * (HEIGHT * WIDTH) as usize)
            .map(|i| ((i * 6151 % 977) as f32) / 400.0 - 1.2)
            .collect();
        let targets: Vec<Vec<usize>> = (0..b).map(|i| vec![i + 2, 20 - i, 7]).collect();
        let mut kept = random(5);
        kept.step(&x, &targets, 1e-3);
        kept.step(&x, &targets, 1e-3);
        let held = kept.spare.0.len();
        assert!(held > 0);
        let mut fresh = kept.clone();
        assert!(fresh.spare.0.is_empty());
        let (a, c) = (
            kept.step(&x, &targets, 1e-3),
            fresh.step(&x, &targets, 1e-3),
        );
        assert_eq!(a.loss.to_bits(), c.loss.to_bits());
        // Every step gives back as many buffers as it takes.
        assert_eq!(kept.spare.0.len(), held);
        assert_eq!(bits(&kept), bits(&fresh));
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), y> == <x, col2im(y)> for any x, y.
        let dims = (2, 3, 4, 5);
        let x: Vec<f32> = (0..2 * 3 * 4 * 5)
            .map(|i| ((i * 7 % 13) as f32) - 6.0)
            .collect();
        // A stale buffer: every value must be written.
        let cols = im2col(&x, dims, vec![f32::NAN; 2 * 9 * 3 * 4 * 5]);
        let y: Vec<f32> = (0..cols.len())
            .map(|i| ((i * 5 % 11) as f32) - 5.0)
            .collect();
        let lhs: f32 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
        let back = col2im(&y, dims, vec![f32::NAN; 2 * 3 * 4 * 5]);
        let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert_eq!(lhs, rhs);
        // The centre tap is the input itself; a corner tap is shifted, zero-padded.
        let n = 3 * 4 * 5;
        assert_eq!(&cols[4 * n..5 * n], &x[..n]);
        assert_eq!(cols[0], 0.0);
        // Row 0 (ky = kx = 0) at column (b 0, y 1, x 1) = 1 * 5 + 1.
        assert_eq!(cols[6], x[0]);
    }

    /// The loss of `net` on a batch with the batch statistics, no update
    /// kept.
    fn loss_of(net: &Native, x: &[f32], targets: &[Vec<usize>]) -> f64 {
        let mut net = net.clone();
        let (logits, _, _) = net.forward(x, targets.len());
        let (loss, _, _) = ctc_batch(&log_softmax(&logits), targets);
        f64::from(loss)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut net = random(11);
        // Give gamma and beta values that are not their initial ones.
        for (k, l) in net.layers.iter_mut().enumerate() {
            for c in 0..l.cout {
                l.gamma[c] = 0.8 + 0.05 * ((c + k) % 7) as f32;
                l.beta[c] = 0.1 * ((c % 5) as f32 - 2.0);
            }
        }
        let b = 3;
        let x: Vec<f32> = (0..b * (HEIGHT * WIDTH) as usize)
            .map(|i| (((i * 7919) % 1013) as f32 / 1013.0 - 0.5) * 2.0)
            .collect();
        let targets = vec![vec![1, 2, 3], vec![10, 11, 12, 4], vec![5, 5, 20]];
        let mut work = net.clone();
        let (logits, feats, caches) = work.forward(&x, b);
        let (_, dlogits, _) = ctc_batch(&log_softmax(&logits), &targets);
        let grads = net.backward(&dlogits, &feats, caches, b);
        // Probe entries of every buffer by central differences. The first
        // layer sits under two ReLU-and-pool kinks per path and thousands of
        // units, so its differences carry curvature error; its buffers are
        // held to the probes' overall agreement, the rest entry by entry.
        let h = 3e-3f32;
        let mut checked = 0;
        for (p, grad) in grads.iter().enumerate() {
            let (mut err2, mut norm2) = (0.0, 0.0);
            for &i in &[0usize, 1, 2, 3, 5, 7, 11, 31] {
                if i >= grad.len() {
                    continue;
                }
                let mut plus = net.clone();
                plus.params_mut()[p][i] += h;
                let mut minus = net.clone();
                minus.params_mut()[p][i] -= h;
                let numeric = (loss_of(&plus, &x, &targets) - loss_of(&minus, &x, &targets))
                    / (2.0 * f64::from(h));
                let analytic = f64::from(grad[i]);
                err2 += (numeric - analytic).powi(2);
                norm2 += analytic.powi(2);
                assert!(
                    p < 3 || (numeric - analytic).abs() <= 1e-2 + 0.1 * analytic.abs(),
                    "buffer {p} index {i}: numeric {numeric} analytic {analytic}"
                );
                checked += 1;
            }
            let rel = (err2 / norm2.max(1e-12)).sqrt();
            assert!(rel < 0.1, "buffer {p}: relative error {rel}");
        }
        assert!(checked > 30);
    }

    #[test]
    fn export_folds_the_running_statistics() {
        let mut net = random(2);
        let l = &mut net.layers[0];
        l.gamma[0] = 2.0;
        l.beta[0] = 0.5;
        l.mean[0] = 1.0;
        l.var[0] = 4.0 - BN_EPS;
        let model = net.export();
        let w0 = net.layers[0].w[0];
        assert!((model.convs[0][0] - w0).abs() < 1e-6);
        let bias0 = model.convs[0][16 * 9];
        assert!((bias0 - (0.5 - 1.0)).abs() < 1e-6, "{bias0}");
    }
}
