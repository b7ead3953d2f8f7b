//! Training the reader (feature `train`) on the CPU, on plates
//! generated on the fly by [`PlateSynth`] (deterministic by seed), never on
//! real photographs. CTC loss over the columns ([`crate::ocr::ctc`]), AdamW,
//! linear warm-up then a cosine decay; every `eval_every` steps the batch
//! norm is folded into the convolutions, the weights are written (so a
//! stopped run leaves a usable model) and scored on a held-out synthetic set
//! with the inference code itself (the CPU twins), which checks the export
//! at the same time. The native engine also writes its whole state then
//! ([`crate::ocr::checkpoint`]), from which a stopped run resumes to the
//! weights it would have ended with.
//!
//! Two engines run the same network and optimiser ([`Engine`]): candle, which
//! trained every shipped run, and [`crate::ocr::backprop`], the same pass
//! written out by hand on `gemm` (the default, twice as fast), checked
//! against candle here.
//!
//! ```text
//! PlateSynth::sample(seed, i) --rayon--> jitter crop -> prep::prepare -> [B][1][32][96]
//!   --conv (im2col of 9 shifted views, matmul) -> BN -> ReLU -> pool, x5
//!   --dense per column--> [B][24][37] --log-softmax, CTC--> AdamW step
//!   every eval_every: fold BN -> Model -> ocr.safetensors -> score held-out set
//!                     (native) train-state.safetensors, removed after the last step
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{D, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::ocr::backprop::{self, Native, ctc_batch};
use crate::ocr::checkpoint::{self, RunOptions};
use crate::ocr::decode::{self, class_of};
use crate::ocr::model::{self, CLASSES, COLUMNS, FEATURES, HEIGHT, LAYERS, Model, Pool, WIDTH};
use crate::ocr::{prep, random_filter};
use crate::plate::formats::Family;
use crate::synth_plates::PlateSynth;
use crate::{Error, Result};

/// Batch-norm momentum of the running statistics, and its epsilon (as f64
/// scalars: candle's arithmetic, and so the chain's digests (`RUNS.md`), depend on
/// them bit for bit).
const BN_MOMENTUM: f64 = 0.1;
const BN_EPS: f64 = 1e-5;

/// What `alpr train-ocr` asks for.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Model folder written (`ocr.safetensors`).
    pub out: PathBuf,
    pub seed: u64,
    pub steps: usize,
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    pub warmup: usize,
    pub eval_every: usize,
    /// Held-out synthetic plates (generated from a seed derived from
    /// `val_seed`, else from `seed`).
    pub val_size: usize,
    /// Scores on the held-out set of this seed instead (to compare a
    /// continuation with a different `seed` against its start).
    pub val_seed: Option<u64>,
    /// Model folder whose weights the run starts from, instead of random
    /// ones (batch norm re-measured on generated plates: `Net::from_model`).
    pub init: Option<PathBuf>,
    pub engine: Engine,
    /// Continue the unfinished run whose state `out` holds
    /// ([`checkpoint`]), instead of starting afresh.
    pub resume: bool,
    /// Share (0-1) of the training plates over which their clutter ramps
    /// up from none to the generator's own ([`clutter_at`]); 0: no ramp,
    /// every plate as the generator draws it.
    pub curriculum: f64,
    /// Share (0-1) of the training plates passed through a random filter
    /// ([`random_filter`]); 0: none.
    pub random_filters: f64,
}

/// What computes the training steps. Both start from the same weights and
/// run the same AdamW; their sums differ in order, so their weights part
/// after a few steps as two machines' would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// candle 0.11 on the CPU: the engine of the chain shipped until the
    /// thirty-eighth session (`models/ocr-v2/RUNS.md`).
    Candle,
    /// The pass written out by hand on `gemm` (`src/ocr/backprop.rs`), twice as fast.
    Native,
}

/// A candle error met while training, as the run's failure (exit 1).
fn candle_err(e: candle_core::Error) -> Error {
    Error::Training(e.to_string())
}

/// One convolution with its batch norm.
struct ConvBn {
    cin: usize,
    cout: usize,
    pool: Pool,
    /// `[cout][cin * 9]`.
    w: Var,
    gamma: Var,
    beta: Var,
    mean: Tensor,
    var: Tensor,
}

struct Net {
    convs: Vec<ConvBn>,
    /// `[FEATURES][CLASSES]`.
    dense_w: Var,
    dense_b: Var,
}

type CResult<T> = std::result::Result<T, candle_core::Error>;

impl Net {
    /// The random start of `seed` ([`backprop::random`]).
    fn new(dev: &Device, seed: u64) -> CResult<Net> {
        let start = backprop::random(seed);
        let convs = start
            .layers
            .iter()
            .map(|l| {
                Ok(ConvBn {
                    cin: l.cin,
                    cout: l.cout,
                    pool: l.pool,
                    w: Var::from_tensor(&Tensor::from_slice(&l.w, (l.cout, l.cin * 9), dev)?)?,
                    gamma: Var::from_tensor(&Tensor::from_slice(&l.gamma, l.cout, dev)?)?,
                    beta: Var::from_tensor(&Tensor::from_slice(&l.beta, l.cout, dev)?)?,
                    mean: Tensor::from_slice(&l.mean, l.cout, dev)?,
                    var: Tensor::from_slice(&l.var, l.cout, dev)?,
                })
            })
            .collect::<CResult<Vec<_>>>()?;
        Ok(Net {
            convs,
            dense_w: Var::from_tensor(&Tensor::from_slice(
                &start.dense_w,
                (FEATURES, CLASSES),
                dev,
            )?)?,
            dense_b: Var::from_tensor(&Tensor::from_slice(&start.dense_b, CLASSES, dev)?)?,
        })
    }

    /// A network whose training-mode forward pass on `calib` (prepared
    /// crops `[B][1][H][W]`) computes exactly what the folded `model` does:
    /// each convolution gets the folded weights, its batch norm the
    /// statistics of that convolution's output on `calib` as running
    /// statistics, `gamma = sqrt(var + eps)` and `beta = mean + folded
    /// bias`, so normalising by those statistics is undone. Exporting it
    /// gives `model` back (up to rounding).
    fn from_model(model: &Model, dev: &Device, calib: &Tensor) -> CResult<Net> {
        let (b, _, h, w) = calib.dims4()?;
        let mut x = calib.reshape((1, b, h, w))?;
        let mut convs = Vec::new();
        for (k, weights) in model.convs.iter().enumerate() {
            let (cin, cout) = model::conv_channels(k);
            let (cin, cout) = (cin as usize, cout as usize);
            let wf = Tensor::from_slice(&weights[..cout * cin * 9], (cout, cin * 9), dev)?;
            let bias = Tensor::from_slice(&weights[cout * cin * 9..], cout, dev)?;
            let y = conv3x3(&x, &wf, cout)?;
            let mean = y.mean_keepdim(3)?.mean_keepdim(2)?.mean_keepdim(1)?;
            let var = y
                .broadcast_sub(&mean)?
                .sqr()?
                .mean_keepdim(3)?
                .mean_keepdim(2)?
                .mean_keepdim(1)?;
            let (mean, var) = (mean.flatten_all()?, var.flatten_all()?);
            let pool = LAYERS[k].1;
            x = pool_train(
                &y.broadcast_add(&bias.reshape((cout, 1, 1, 1))?)?.relu()?,
                pool,
            )?;
            convs.push(ConvBn {
                cin,
                cout,
                pool,
                w: Var::from_tensor(&wf)?,
                gamma: Var::from_tensor(&(&var + BN_EPS)?.sqrt()?)?,
                beta: Var::from_tensor(&(&mean + &bias)?)?,
                mean,
                var,
            });
        }
        let dense_w = &model.dense[..FEATURES * CLASSES];
        let dense_b = &model.dense[FEATURES * CLASSES..];
        Ok(Net {
            convs,
            dense_w: Var::from_tensor(&Tensor::from_slice(dense_w, (FEATURES, CLASSES), dev)?)?,
            dense_b: Var::from_tensor(&Tensor::from_slice(dense_b, CLASSES, dev)?)?,
        })
    }

    fn vars(&self) -> Vec<Var> {
        let mut v = Vec::new();
        for c in &self.convs {
            v.extend([c.w.clone(), c.gamma.clone(), c.beta.clone()]);
        }
        v.extend([self.dense_w.clone(), self.dense_b.clone()]);
        v
    }

    /// The same weights and running statistics for the native engine.
    fn to_native(&self) -> CResult<Native> {
        let layers = self
            .convs
            .iter()
            .map(|c| {
                Ok(backprop::Layer {
                    cin: c.cin,
                    cout: c.cout,
                    pool: c.pool,
                    w: c.w.as_tensor().flatten_all()?.to_vec1()?,
                    gamma: c.gamma.as_tensor().to_vec1()?,
                    beta: c.beta.as_tensor().to_vec1()?,
                    mean: c.mean.to_vec1()?,
                    var: c.var.to_vec1()?,
                })
            })
            .collect::<CResult<Vec<_>>>()?;
        Ok(Native::new(
            layers,
            self.dense_w.as_tensor().flatten_all()?.to_vec1()?,
            self.dense_b.as_tensor().to_vec1()?,
        ))
    }

    /// Training forward pass: logits `[B][COLUMNS][CLASSES]`; updates the
    /// batch norms' running statistics. Activations are kept channel-first
    /// (`[C][B][H][W]`) so each convolution is one large matrix product.
    fn forward_train(&mut self, x: &Tensor) -> CResult<Tensor> {
        let (b, _, h, w) = x.dims4()?;
        let mut x = x.reshape((1, b, h, w))?;
        for c in &mut self.convs {
            let y = conv3x3(&x, c.w.as_tensor(), c.cout)?;
            let mean = y.mean_keepdim(3)?.mean_keepdim(2)?.mean_keepdim(1)?;
            let centred = y.broadcast_sub(&mean)?;
            let var = centred
                .sqr()?
                .mean_keepdim(3)?
                .mean_keepdim(2)?
                .mean_keepdim(1)?;
            let norm = centred.broadcast_div(&(var.clone() + BN_EPS)?.sqrt()?)?;
            let g = c.gamma.as_tensor().reshape((c.cout, 1, 1, 1))?;
            let beta = c.beta.as_tensor().reshape((c.cout, 1, 1, 1))?;
            let y = norm.broadcast_mul(&g)?.broadcast_add(&beta)?.relu()?;
            x = pool_train(&y, c.pool)?;
            let m = mean.flatten_all()?.detach();
            let v = var.flatten_all()?.detach();
            c.mean = ((&c.mean * (1.0 - BN_MOMENTUM))? + (m * BN_MOMENTUM)?)?;
            c.var = ((&c.var * (1.0 - BN_MOMENTUM))? + (v * BN_MOMENTUM)?)?;
        }
        // [C][B][ROWS][COLUMNS] -> [B][COLUMNS][C * ROWS], the inference
        // code's column order (`model::to_columns`). No dropout: every step
        // sees new plates, and candle's dropout masks could not be seeded.
        x.permute((1, 3, 0, 2))?
            .contiguous()?
            .reshape((b * COLUMNS, FEATURES))?
            .matmul(self.dense_w.as_tensor())?
            .broadcast_add(self.dense_b.as_tensor())?
            .reshape((b, COLUMNS, CLASSES))
    }

    /// The inference weights: batch norm folded into each convolution.
    fn export(&self) -> CResult<Model> {
        let mut convs = Vec::new();
        for c in &self.convs {
            let scale = (c.gamma.as_tensor() / (&c.var + BN_EPS)?.sqrt()?)?;
            let w =
                c.w.as_tensor()
                    .broadcast_mul(&scale.reshape((c.cout, 1))?)?;
            let bias = (c.beta.as_tensor() - (&c.mean * &scale)?)?;
            let mut v = w.flatten_all()?.to_vec1::<f32>()?;
            debug_assert_eq!(v.len(), c.cout * c.cin * 9);
            v.extend(bias.to_vec1::<f32>()?);
            convs.push(v);
        }
        let mut dense = self.dense_w.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        dense.extend(self.dense_b.as_tensor().to_vec1::<f32>()?);
        Ok(Model { convs, dense })
    }
}

/// The pooling after a convolution, on `[C][B][H][W]`.
fn pool_train(x: &Tensor, pool: Pool) -> CResult<Tensor> {
    match pool {
        Pool::Square => x.max_pool2d(2),
        Pool::Rows => x.max_pool2d((2, 1)),
        Pool::None => Ok(x.clone()),
    }
}

/// 3x3 convolution, padding 1, no bias, on channel-first `[C][B][H][W]`:
/// the nine shifted views of the padded input stacked into `[C * 9][B * H *
/// W]` columns, then one matrix product. Row `ci * 9 + ky * 3 + kx` matches
/// the weights' `[cout][cin][3][3]`.
fn conv3x3(x: &Tensor, w: &Tensor, cout: usize) -> CResult<Tensor> {
    let (c, b, h, wd) = x.dims4()?;
    let xp = x.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?;
    let mut taps = Vec::with_capacity(9);
    for ky in 0..3 {
        for kx in 0..3 {
            taps.push(xp.narrow(2, ky, h)?.narrow(3, kx, wd)?);
        }
    }
    let cols = Tensor::stack(&taps, 1)?.reshape((c * 9, b * h * wd))?;
    w.matmul(&cols)?.reshape((cout, b, h, wd))
}

/// The CTC target of a plate text: its characters' classes.
pub fn targets(text: &str) -> Vec<usize> {
    text.chars().filter_map(class_of).collect()
}

/// A sample's crop with each edge moved in by 0-4% (deterministic by
/// `key`): crops from a detector are never exact.
fn jitter(image: &RgbImage, key: u64) -> RgbImage {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(key ^ 0x9e37_79b9_7f4a_7c15);
    let (w, h) = image.dimensions();
    let dx = |rng: &mut rand_pcg::Pcg64Mcg| (w as f32 * rng.random_range(0.0..0.04)) as u32;
    let dy = |rng: &mut rand_pcg::Pcg64Mcg| (h as f32 * rng.random_range(0.0..0.04)) as u32;
    let (l, r, t, b) = (dx(&mut rng), dx(&mut rng), dy(&mut rng), dy(&mut rng));
    if l + r + 8 >= w || t + b + 8 >= h {
        return image.clone();
    }
    image::imageops::crop_imm(image, l, t, w - l - r, h - t - b).to_image()
}

/// Prepared inputs, CTC targets and texts of samples `first..first + n`.
fn batch(
    synth: &PlateSynth,
    seed: u64,
    first: u64,
    n: usize,
    jittered: bool,
) -> (Vec<f32>, Vec<Vec<usize>>, Vec<String>) {
    ramped_batch(synth, seed, first, n, jittered, 0, 0.0)
}

/// How much of the generator's clutter training plate `index` carries in
/// a curriculum that ramps it up over the first `ramp` plates (Bengio et
/// al. 2009): none at the first, linearly to all of it at `ramp` and after
/// (all of it when `ramp` is 0). The reader learns the characters on plain
/// plates first; not shown to help (`models/ocr-v2/RUNS.md`, runs 48-50).
pub fn clutter_at(index: u64, ramp: u64) -> f64 {
    if ramp == 0 {
        return 1.0;
    }
    (index as f64 / ramp as f64).min(1.0)
}

/// The plates over which a run's clutter ramps up: `curriculum` of all it
/// trains on.
fn ramp_plates(cfg: &TrainConfig) -> u64 {
    (cfg.curriculum * (cfg.steps * cfg.batch) as f64).round() as u64
}

/// [`batch`] with clutter ramped over the first `ramp` samples
/// ([`clutter_at`]) and a `filters` share of them randomly filtered
/// ([`random_filter`]).
fn ramped_batch(
    synth: &PlateSynth,
    seed: u64,
    first: u64,
    n: usize,
    jittered: bool,
    ramp: u64,
    filters: f64,
) -> (Vec<f32>, Vec<Vec<usize>>, Vec<String>) {
    let samples: Vec<(Vec<f32>, Vec<usize>, String)> = (first..first + n as u64)
        .into_par_iter()
        .map(|i| {
            let s = synth.sample_with(seed, i, clutter_at(i, ramp));
            let img = if jittered {
                jitter(&s.image, seed.wrapping_mul(31).wrapping_add(i))
            } else {
                s.image
            };
            let mut x = prep::prepare_rgb(&img);
            if filters > 0.0 {
                random_filter::apply(&mut x, seed.wrapping_mul(131).wrapping_add(i), filters);
            }
            (x, targets(&s.text), s.text)
        })
        .collect();
    let mut x = Vec::with_capacity(n * (HEIGHT * WIDTH) as usize);
    let mut y = Vec::with_capacity(n);
    let mut texts = Vec::with_capacity(n);
    for (xi, yi, t) in samples {
        x.extend(xi);
        y.push(yi);
        texts.push(t);
    }
    (x, y, texts)
}

/// Held-out scores of exported weights.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scores {
    /// Whole plates read exactly.
    pub plate_acc: f64,
    /// Mean of `1 - levenshtein / len`, floored at 0.
    pub char_acc: f64,
}

/// Scores `model` on prepared inputs with their texts, via the CPU twins.
pub fn score(model: &Model, x: &[f32], texts: &[String]) -> Result<Scores> {
    let probs = model.forward(None, x)?;
    let mut s = Scores::default();
    for (p, t) in probs.chunks(COLUMNS * CLASSES).zip(texts) {
        // The crops' outlines are gone once prepared: every style's formats
        // count, as they did before the decoder knew families.
        let read = decode::decode(p, 1, Family::Any);
        let t = t.to_ascii_uppercase();
        s.plate_acc += f64::from(u8::from(read.text == t));
        s.char_acc += crate::recognize::eval::char_acc(&read.text, &t);
    }
    let n = texts.len().max(1) as f64;
    s.plate_acc /= n;
    s.char_acc /= n;
    Ok(s)
}

/// mimalloc's `mi_option_purge_delay` (the same in mimalloc 2 and 3's
/// `mimalloc.h`; `libmimalloc-sys` names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells the allocator (mimalloc, the `train` build's) never to hand freed
/// pages back to the kernel: a training step frees and allocates the same
/// few megabytes of buffers every step, and pages handed back are faulted
/// in and zeroed by the kernel again the next (a tenth of a step's CPU
/// time). The process keeps its peak, a few hundred megabytes.
pub fn keep_freed_memory() {
    // SAFETY: sets a process-wide option of the allocator, which mimalloc
    // allows at any time; -1 means "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// What `alpr bench train` measured (see [`time_steps`]).
#[derive(Debug, Clone, Copy)]
pub struct StepTimes {
    /// Plates the generator made a second on the global pool, prepared
    /// for the network as a run's are.
    pub plates_per_s: f64,
    /// Threads of the global pool.
    pub threads: usize,
    /// A native step's median time, one thread and `threads`.
    pub one_thread_ms: f64,
    pub all_threads_ms: f64,
    /// Whether both ended with the same weights (they must).
    pub same_weights: bool,
}

/// Times the native engine's steps: `steps` batches of `batch_size`
/// generated plates (seed 1) made first, timed apart from the steps (a
/// run makes them beside its steps, on the other threads), then the same
/// steps from the same random start on one thread and on the global
/// pool's threads, a warm-up pass and the median of `runs` passes each.
pub fn time_steps(batch_size: usize, steps: usize, runs: usize) -> Result<StepTimes> {
    if batch_size == 0 || steps == 0 || runs == 0 {
        return Err(Error::bad_input(
            "bench train: --batch, --steps and --runs must be positive",
        ));
    }
    let synth = PlateSynth::new()?;
    let t = Instant::now();
    let batches: Vec<(Vec<f32>, Vec<Vec<usize>>)> = (0..steps)
        .map(|k| {
            let (x, y, _) = batch(&synth, 1, (k * batch_size) as u64, batch_size, true);
            (x, y)
        })
        .collect();
    let plates_per_s = (steps * batch_size) as f64 / t.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    let time = |threads: usize| -> Result<(f64, String)> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Training(format!("bench train: threads: {e}")))?;
        let (mut per_step, mut digest) = (Vec::new(), String::new());
        for pass in 0..=runs {
            let mut net = backprop::random(1);
            let t = Instant::now();
            for (x, y) in &batches {
                pool.install(|| net.step(x, y, 1e-3));
            }
            if pass > 0 {
                per_step.push(t.elapsed().as_secs_f64() * 1e3 / steps as f64);
            }
            digest = net.export().digest();
        }
        per_step.sort_by(f64::total_cmp);
        Ok((per_step[per_step.len() / 2], digest))
    };
    let (one_thread_ms, one) = time(1)?;
    let (all_threads_ms, all) = time(threads)?;
    Ok(StepTimes {
        plates_per_s,
        threads,
        one_thread_ms,
        all_threads_ms,
        same_weights: one == all,
    })
}

/// The learning rate at `step`: linear warm-up, then cosine to 2% of peak.
pub fn learning_rate(cfg: &TrainConfig, step: usize) -> f64 {
    if step < cfg.warmup {
        return cfg.lr * (step + 1) as f64 / cfg.warmup as f64;
    }
    let t = (step - cfg.warmup) as f64 / (cfg.steps - cfg.warmup).max(1) as f64;
    let floor = 0.02;
    cfg.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos()))
}

/// A run's network and optimiser, in the engine the run asked for.
enum Trainer {
    Candle {
        net: Net,
        opt: AdamW,
    },
    /// The native engine's steps run on their own pool, as many threads as
    /// the run's (`--threads`), beside the plate generator's: a step's
    /// results do not depend on how many (see [`backprop`]).
    Native {
        net: Native,
        pool: rayon::ThreadPool,
    },
}

impl Trainer {
    fn new(net: Net, cfg: &TrainConfig) -> CResult<Trainer> {
        Ok(match cfg.engine {
            Engine::Candle => {
                let params = ParamsAdamW {
                    lr: cfg.lr,
                    weight_decay: backprop::WEIGHT_DECAY,
                    ..Default::default()
                };
                let opt = AdamW::new(net.vars(), params)?;
                Trainer::Candle { net, opt }
            }
            Engine::Native => Trainer::native(net.to_native()?)?,
        })
    }

    fn native(net: Native) -> CResult<Trainer> {
        Ok(Trainer::Native {
            net,
            pool: rayon::ThreadPoolBuilder::new()
                .num_threads(rayon::current_num_threads())
                .build()
                .map_err(|e| candle_core::Error::Msg(format!("training threads: {e}")))?,
        })
    }

    /// One step on prepared crops `x` and their targets at learning rate
    /// `lr`: the batch's mean CTC loss and greedy plate accuracy.
    fn step(&mut self, x: Vec<f32>, y: &[Vec<usize>], lr: f64) -> CResult<(f32, f32)> {
        match self {
            Trainer::Candle { net, opt } => {
                opt.set_learning_rate(lr);
                let dev = Device::Cpu;
                let x = Tensor::from_vec(x, (y.len(), 1, HEIGHT as usize, WIDTH as usize), &dev)?;
                let logits = net.forward_train(&x)?;
                let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?
                    .flatten_all()?
                    .to_vec1::<f32>()?;
                let (loss, grad, hits) = ctc_batch(&logp, y);
                // The CTC gradient with respect to the logits is computed
                // outside candle; `sum(logits * grad)` has that gradient.
                let grad = Tensor::from_vec(grad, (y.len(), COLUMNS, CLASSES), &dev)?;
                let surrogate = (logits * grad)?.sum_all()?;
                opt.backward_step(&surrogate)?;
                Ok((loss, hits))
            }
            Trainer::Native { net, pool } => {
                let r = pool.install(|| net.step(&x, y, lr));
                Ok((r.loss, r.greedy_acc))
            }
        }
    }

    fn export(&self) -> CResult<Model> {
        match self {
            Trainer::Candle { net, .. } => net.export(),
            Trainer::Native { net, .. } => Ok(net.export()),
        }
    }
}

/// A fresh run's network: random weights of `cfg.seed`, or the `init`
/// weights with batch-norm statistics measured on plates of the run's seed
/// (their held-out scores printed first).
fn start(
    cfg: &TrainConfig,
    synth: &PlateSynth,
    init: Option<(&Path, &Model)>,
    (val_x, val_texts): (&[f32], &[String]),
) -> Result<Net> {
    let dev = Device::Cpu;
    let Some((dir, init)) = init else {
        return Net::new(&dev, cfg.seed).map_err(candle_err);
    };
    let s = score(init, val_x, val_texts)?;
    eprintln!(
        "train-ocr: starting from {} (held-out plate {:.3} char {:.3})",
        dir.display(),
        s.plate_acc,
        s.char_acc
    );
    let calib_seed = cfg.seed ^ 0x00ca_11b0_a7e5_eed5;
    let (x, _, _) = batch(synth, calib_seed, 0, 256, true);
    let x =
        Tensor::from_vec(x, (256, 1, HEIGHT as usize, WIDTH as usize), &dev).map_err(candle_err)?;
    Net::from_model(init, &dev, &x).map_err(candle_err)
}

/// Trains, writing `cfg.out/ocr.safetensors` at every evaluation and at the
/// end (and, on the native engine, the run's state until it finishes:
/// [`checkpoint`]); returns the final held-out scores. Progress goes to
/// stderr.
pub fn train(cfg: &TrainConfig) -> Result<Scores> {
    train_until(cfg, cfg.steps)
}

/// [`train`], stopped after `until` steps as a run killed then would be
/// (`until < cfg.steps`: the tests of `--resume`).
fn train_until(cfg: &TrainConfig, until: usize) -> Result<Scores> {
    if cfg.resume && cfg.engine != Engine::Native {
        return Err(Error::bad_input(
            "--resume needs the native engine: candle's optimiser state is not saved",
        ));
    }
    let state = checkpoint::path(&cfg.out);
    if !cfg.resume && state.exists() {
        // Starting afresh would overwrite that run's weights at the first
        // evaluation and its state with them.
        return Err(Error::bad_input(format!(
            "{}: an unfinished run's state; resume it (--resume, with its options) \
             or remove the file to start afresh",
            state.display()
        )));
    }
    let synth = PlateSynth::new()?;
    let val_seed = cfg.val_seed.unwrap_or(cfg.seed) ^ 0x005e_ed0f_ba11_d47a;
    let (val_x, _, val_texts) = batch(&synth, val_seed, 0, cfg.val_size, false);
    let init = match &cfg.init {
        Some(dir) => Some(Model::load(&dir.join(model::FILE_NAME))?),
        None => None,
    };
    let options = RunOptions {
        seed: cfg.seed,
        steps: cfg.steps,
        batch: cfg.batch,
        lr: cfg.lr,
        warmup: cfg.warmup,
        init: init.as_ref().map_or_else(|| "random".into(), Model::digest),
        curriculum: cfg.curriculum,
        random_filters: cfg.random_filters,
    };
    let (mut trainer, first) = if cfg.resume {
        let (net, done) = checkpoint::load(&cfg.out, &options)?;
        eprintln!(
            "train-ocr: resuming {} after step {done} of {}",
            cfg.out.display(),
            cfg.steps
        );
        (Trainer::native(net).map_err(candle_err)?, done)
    } else {
        let init = cfg.init.as_deref().zip(init.as_ref());
        let net = start(cfg, &synth, init, (&val_x, &val_texts))?;
        (Trainer::new(net, cfg).map_err(candle_err)?, 0)
    };
    eprintln!(
        "train-ocr: {} parameters, {:.1} MFLOPs/crop, {} steps of {}, seed {}, {} held-out plates, {:?} engine",
        model::parameter_count(),
        2.0 * model::multiply_adds() as f64 / 1e6,
        cfg.steps,
        cfg.batch,
        cfg.seed,
        cfg.val_size,
        cfg.engine
    );
    // Its weights' bits may depend on the machine (`machine`'s notes).
    eprintln!("train-ocr: on {}", super::machine::describe());
    let started = Instant::now();
    let (mut loss_sum, mut acc_sum, mut seen) = (0.0f64, 0.0f64, 0usize);
    let mut last = Scores::default();
    let mut data_s = 0.0;
    // Plates are made on the rayon pool by a producer thread, a batch
    // ahead, while candle trains on the previous one.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<f32>, Vec<Vec<usize>>)>(2);
    let producer = {
        let (seed, size, steps, ramp) = (cfg.seed, cfg.batch, cfg.steps, ramp_plates(cfg));
        let filters = cfg.random_filters;
        let synth = PlateSynth::new()?;
        std::thread::spawn(move || {
            for step in first..steps {
                let first = (step * size) as u64;
                let (x, y, _) = ramped_batch(&synth, seed, first, size, true, ramp, filters);
                if tx.send((x, y)).is_err() {
                    return;
                }
            }
        })
    };
    for step in first..until {
        let lr = learning_rate(cfg, step);
        let t = Instant::now();
        let (x, y) = rx
            .recv()
            .map_err(|_| Error::Training("the plate generator stopped".into()))?;
        data_s += t.elapsed().as_secs_f64();
        let (loss, acc) = trainer.step(x, &y, lr).map_err(candle_err)?;
        if !loss.is_finite() {
            return Err(Error::Training(format!(
                "diverged at step {step} (loss {loss}); try a lower --lr"
            )));
        }
        loss_sum += f64::from(loss);
        acc_sum += f64::from(acc);
        seen += 1;
        let done = step + 1 == cfg.steps;
        if (step + 1) % cfg.eval_every == 0 || done {
            let model = trainer.export().map_err(candle_err)?;
            model.save(&cfg.out)?;
            if let Trainer::Native { net, .. } = &trainer {
                if done {
                    checkpoint::remove(&cfg.out)?;
                } else {
                    checkpoint::save(&cfg.out, net, step + 1, &options)?;
                }
            }
            last = score(&model, &val_x, &val_texts)?;
            eprintln!(
                "step {:>6}  lr {lr:.2e}  loss {:.4}  greedy plate acc {:.3}  held-out plate {:.3} char {:.3}  {:.0} s ({:.0} s waiting for plates)",
                step + 1,
                loss_sum / seen as f64,
                acc_sum / seen as f64,
                last.plate_acc,
                last.char_acc,
                started.elapsed().as_secs_f64(),
                data_s
            );
            (loss_sum, acc_sum, seen) = (0.0, 0.0, 0);
        }
    }
    drop(rx);
    let _ = producer.join();
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_characters_classes() {
        assert_eq!(targets("ab-1"), vec![10, 11, 1]);
    }

    #[test]
    fn clutter_ramps_up_over_the_curriculums_plates_then_stays_whole() {
        assert_eq!(clutter_at(0, 0), 1.0, "no curriculum: every plate whole");
        assert_eq!(clutter_at(0, 1000), 0.0);
        assert_eq!(clutter_at(250, 1000), 0.25);
        assert_eq!(clutter_at(1000, 1000), 1.0);
        assert_eq!(clutter_at(5000, 1000), 1.0);
        let mut cfg = small_run(Path::new("."), false);
        (cfg.steps, cfg.batch, cfg.curriculum) = (28_000, 32, 0.4);
        // The default run's ramp, as run 48 ran it.
        assert_eq!(ramp_plates(&cfg), 358_400);
        cfg.curriculum = 0.0;
        assert_eq!(ramp_plates(&cfg), 0);
    }

    #[test]
    fn the_schedule_warms_up_then_decays() {
        let cfg = TrainConfig {
            out: PathBuf::new(),
            seed: 0,
            steps: 1000,
            batch: 1,
            lr: 1e-3,
            warmup: 100,
            eval_every: 100,
            val_size: 1,
            val_seed: None,
            init: None,
            engine: Engine::Candle,
            resume: false,
            curriculum: 0.0,
            random_filters: 0.0,
        };
        assert!(learning_rate(&cfg, 0) < learning_rate(&cfg, 50));
        assert!((learning_rate(&cfg, 100) - 1e-3).abs() < 1e-9);
        assert!(learning_rate(&cfg, 999) < 1e-4);
    }

    /// A small native run writing to `out`.
    fn small_run(out: &Path, resume: bool) -> TrainConfig {
        TrainConfig {
            out: out.to_path_buf(),
            seed: 5,
            steps: 4,
            batch: 2,
            lr: 1e-3,
            warmup: 1,
            eval_every: 2,
            val_size: 2,
            val_seed: None,
            init: None,
            engine: Engine::Native,
            resume,
            // Clutter ramps over the first half: a resumed run must pick
            // the ramp up where it stopped; half the plates are filtered,
            // each as its key says, whichever run draws it.
            curriculum: 0.5,
            random_filters: 0.5,
        }
    }

    fn digest(dir: &Path) -> String {
        Model::load(&dir.join(model::FILE_NAME)).unwrap().digest()
    }

    #[test]
    fn a_stopped_run_resumed_ends_with_the_weights_of_one_that_never_stopped() {
        let (whole, parts) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        train(&small_run(whole.path(), false)).unwrap();
        // A finished run leaves its weights and nothing to resume.
        assert!(!checkpoint::path(whole.path()).exists());
        let e = train(&small_run(whole.path(), true)).unwrap_err();
        assert!(e.to_string().contains("no training state"), "{e}");

        // Stopped after its first evaluation (step 2 of 4), then resumed.
        train_until(&small_run(parts.path(), false), 2).unwrap();
        assert!(checkpoint::path(parts.path()).exists());
        let halfway = digest(parts.path());
        assert_ne!(halfway, digest(whole.path()));

        train(&small_run(parts.path(), true)).unwrap();
        assert_eq!(digest(parts.path()), digest(whole.path()));
        assert!(!checkpoint::path(parts.path()).exists());
    }

    #[test]
    fn resuming_refuses_the_candle_engine_and_a_fresh_run_an_unfinished_runs_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = small_run(dir.path(), true);
        cfg.engine = Engine::Candle;
        let e = train(&cfg).unwrap_err().to_string();
        assert!(e.contains("native engine"), "{e}");
        // An unfinished run's folder: a fresh run (without --resume) would
        // lose it, and is refused before it writes anything.
        train_until(&small_run(dir.path(), false), 2).unwrap();
        let weights = digest(dir.path());
        let e = train(&small_run(dir.path(), false))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unfinished run") && e.contains("--resume"),
            "{e}"
        );
        assert_eq!(digest(dir.path()), weights);
        assert!(checkpoint::path(dir.path()).exists());
    }

    #[test]
    fn conv3x3_matches_the_cpu_kernel() {
        use crate::gpu::kernels::conv2d;
        let dev = Device::Cpu;
        let (b, c, h, w, cout) = (2, 3, 5, 7, 4);
        let xs: Vec<f32> = (0..b * c * h * w)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) / 3.0)
            .collect();
        let ws: Vec<f32> = (0..cout * c * 9)
            .map(|i| ((i * 13 % 7) as f32 - 3.0) / 5.0)
            .collect();
        let x = Tensor::from_vec(xs.clone(), (b, c, h, w), &dev).unwrap();
        let x = x.transpose(0, 1).unwrap().contiguous().unwrap();
        let wt = Tensor::from_vec(ws.clone(), (cout, c * 9), &dev).unwrap();
        let got = conv3x3(&x, &wt, cout).unwrap().transpose(0, 1).unwrap();
        let got = got.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let mut weights = ws;
        weights.extend(vec![0.0; cout]);
        let p = conv2d::Params::new(w as u32, h as u32, c as u32, cout as u32, b as u32, false);
        let want = conv2d::cpu(&p, &xs, &weights).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-4, "{g} vs {w}");
        }
    }

    #[test]
    fn a_net_from_folded_weights_computes_them_and_exports_them() {
        let dev = Device::Cpu;
        let b = 6;
        let synth = PlateSynth::new().unwrap();
        let (xs, _, _) = batch(&synth, 5, 0, b, true);
        let x =
            Tensor::from_vec(xs.clone(), (b, 1, HEIGHT as usize, WIDTH as usize), &dev).unwrap();
        // Folded weights with biases and scales that are not trivial.
        let mut model = Net::new(&dev, 3).unwrap().export().unwrap();
        for (k, c) in model.convs.iter_mut().enumerate() {
            let first_bias = c.len() - model::conv_channels(k).1 as usize;
            for (i, v) in c.iter_mut().enumerate() {
                *v = *v * (1.0 + 0.1 * k as f32) + if i >= first_bias { 0.05 } else { 0.0 };
            }
        }
        let mut net = Net::from_model(&model, &dev, &x).unwrap();
        let back = net.export().unwrap();
        for (a, b) in back
            .convs
            .iter()
            .flatten()
            .zip(model.convs.iter().flatten())
        {
            assert!((a - b).abs() < 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert_eq!(back.dense, model.dense);
        let logits = net.forward_train(&x).unwrap();
        let probs = candle_nn::ops::softmax(&logits, D::Minus1)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let want = model.forward(None, &xs).unwrap();
        assert_eq!(probs.len(), want.len());
        for (p, w) in probs.iter().zip(&want) {
            assert!((p - w).abs() < 1e-3, "{p} vs {w}");
        }
    }

    #[test]
    fn step_times_are_measured_and_the_weights_agree() {
        let t = time_steps(2, 2, 1).unwrap();
        assert!(t.plates_per_s > 0.0 && t.one_thread_ms > 0.0 && t.all_threads_ms > 0.0);
        assert_eq!(t.threads, rayon::current_num_threads());
        assert!(t.same_weights);
        assert!(time_steps(0, 2, 1).is_err());
    }

    #[test]
    fn the_native_engine_trains_as_candle_does() {
        // Same start, same plates, three AdamW steps each: the same losses,
        // and every buffer moved the same way. Their sums differ in order,
        // and candle scales a max pool's gradient by the window's size,
        // which AdamW's per-parameter normalisation cancels; but where a
        // window holds equal maxima candle passes the gradient to each of
        // them, the native engine to the first (see `backprop`). Plates'
        // flat backgrounds tie often in the first layers, so a trace of
        // noise on the inputs keeps ties out of this comparison.
        let dev = Device::Cpu;
        let synth = PlateSynth::new().unwrap();
        let cfg = |engine| TrainConfig {
            out: PathBuf::new(),
            seed: 4,
            steps: 3,
            batch: 8,
            lr: 1e-3,
            warmup: 1,
            eval_every: 3,
            val_size: 1,
            val_seed: None,
            init: None,
            engine,
            resume: false,
            curriculum: 0.0,
            random_filters: 0.0,
        };
        let start = Net::new(&dev, 4).unwrap().to_native().unwrap();
        let mut engines = [Engine::Candle, Engine::Native]
            .map(|e| Trainer::new(Net::new(&dev, 4).unwrap(), &cfg(e)).unwrap());
        for step in 0..3u64 {
            let (mut x, y, _) = batch(&synth, 4, step * 8, 8, true);
            for (i, v) in x.iter_mut().enumerate() {
                *v += 1e-3 * ((i * 7919 % 1009) as f32 / 1009.0 - 0.5);
            }
            let [(lc, ac), (ln, an)] =
                [0, 1].map(|i| engines[i].step(x.clone(), &y, 1e-3).unwrap());
            assert!(
                (lc - ln).abs() <= 1e-3 * lc.abs(),
                "step {step}: loss {lc} vs {ln}"
            );
            assert_eq!(ac, an);
        }
        let [candle, native] = [0, 1].map(|i| match &engines[i] {
            Trainer::Candle { net, .. } => net.to_native().unwrap(),
            Trainer::Native { net, .. } => net.clone(),
        });
        let buffers = |n: &Native| -> Vec<Vec<f32>> {
            let mut v: Vec<Vec<f32>> = Vec::new();
            for l in &n.layers {
                v.extend([
                    l.w.clone(),
                    l.gamma.clone(),
                    l.beta.clone(),
                    l.mean.clone(),
                    l.var.clone(),
                ]);
            }
            v.extend([n.dense_w.clone(), n.dense_b.clone()]);
            v
        };
        let (b0, bc, bn) = (buffers(&start), buffers(&candle), buffers(&native));
        for (k, ((s, c), n)) in b0.iter().zip(&bc).zip(&bn).enumerate() {
            let moved: f32 = s.iter().zip(c).map(|(s, c)| (c - s).abs()).sum();
            let apart: f32 = c.iter().zip(n).map(|(c, n)| (c - n).abs()).sum();
            assert!(moved > 0.0, "buffer {k} did not move");
            assert!(
                apart <= 0.05 * moved,
                "buffer {k}: {apart} apart after moving {moved}"
            );
        }
    }
}
