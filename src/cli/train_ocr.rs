//! `alpr train-ocr` (feature `train`): trains the reader on generated plates
//! and writes `OUT/ocr.safetensors`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Error;
use crate::ocr::train::{self, Engine, TrainConfig};

/// Arguments of `alpr train-ocr`.
#[derive(Debug, clap::Args)]
pub struct TrainOcrArgs {
    /// Model folder to write (ocr.safetensors; replaced whole at every
    /// evaluation, so a run stopped early keeps its last evaluated weights
    /// and, on the native engine, can be resumed: --resume).
    #[arg(long)]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same data and initial weights.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Optimiser steps (the default fills about an hour on 2 cores with the
    /// native engine: 45,000 steps, about 62 minutes on the project's
    /// 2-core machine).
    #[arg(long, default_value_t = 45000)]
    pub steps: usize,
    /// Plates per step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Peak learning rate (AdamW).
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,
    /// Steps of linear warm-up.
    #[arg(long, default_value_t = 300)]
    pub warmup: usize,
    /// Steps between evaluations (and weight exports).
    #[arg(long, default_value_t = 500)]
    pub eval_every: usize,
    /// Held-out synthetic plates scored at each evaluation.
    #[arg(long, default_value_t = 1000)]
    pub val_size: usize,
    /// Score on the held-out plates of this seed (default: --seed).
    #[arg(long)]
    pub val_seed: Option<u64>,
    /// Start from the weights in this model folder (its ocr.safetensors)
    /// instead of random ones.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// What computes the steps: the native pass by hand (twice as fast) or
    /// candle (the chain of runs shipped until the thirty-eighth session,
    /// `models/ocr-v2/RUNS.md`; weights part from the native engine's after
    /// a few steps, as two machines' would).
    #[arg(long, value_enum, default_value_t = Engine::Native)]
    pub engine: Engine,
    /// Continue the unfinished run whose state --out holds
    /// (train-state.safetensors: the native engine writes it at every
    /// evaluation and removes it at the end), given the run's own options;
    /// it ends with the weights the run would have had without the stop.
    /// Without it, a folder holding such a state is refused.
    #[arg(long)]
    pub resume: bool,
    /// Worker threads (0: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Share (0-1) of the training plates over which the generator's
    /// clutter (stroke lettering, stickers, emblems, stacked pairs, the
    /// archer) ramps up from none: characters are learnt on plain plates
    /// first. 0: every plate as the generator draws it.
    #[arg(long, default_value_t = 0.0, value_parser = super::parse_unit::<f64>)]
    pub curriculum: f64,
    /// Share (0-1) of the training plates passed through a random filter
    /// (RandConv): a random 1x1, 3x3 or 5x5 kernel, mixed with the plate in
    /// a random share, so the reader learns shapes rather than the
    /// generator's textures. 0: none. With the default 0.2 and `--seed 47`
    /// this command gives the shipped weights (`models/ocr-v2/RUNS.md`, runs
    /// 92-95).
    #[arg(long, default_value_t = 0.2, value_parser = super::parse_unit::<f64>)]
    pub random_filters: f64,
}

/// Arguments of `alpr soup-ocr`.
#[derive(Debug, clap::Args)]
pub struct SoupOcrArgs {
    /// Model folder to write (ocr.safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Model folders whose weights are averaged (each continued from the
    /// same weights, or the mean is noise).
    #[arg(required = true, num_args = 2..)]
    pub models: Vec<PathBuf>,
}

/// Runs `alpr soup-ocr`: writes the mean of the models' weights.
pub fn soup(args: &SoupOcrArgs) -> anyhow::Result<ExitCode> {
    let models = args
        .models
        .iter()
        .map(|dir| crate::ocr::Model::load(&dir.join(crate::ocr::model::FILE_NAME)))
        .collect::<Result<Vec<_>, _>>()?;
    let soup = crate::ocr::Model::average(&models)?;
    soup.save(&args.out)?;
    println!("weights SHA-256 {} (Model::digest)", soup.digest());
    Ok(ExitCode::SUCCESS)
}

/// Runs `alpr train-ocr`.
pub fn run(args: &TrainOcrArgs) -> anyhow::Result<ExitCode> {
    if args.steps == 0 || args.batch == 0 || args.eval_every == 0 {
        // A mistake on the command line, like `bench train --steps 0`: exit 2.
        return Err(Error::bad_input("--steps, --batch and --eval-every must be positive").into());
    }
    train::keep_freed_memory();
    if args.threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads)
            .build_global()?;
    }
    let cfg = TrainConfig {
        out: args.out.clone(),
        seed: args.seed,
        steps: args.steps,
        batch: args.batch,
        lr: args.lr,
        warmup: args.warmup.min(args.steps),
        eval_every: args.eval_every,
        val_size: args.val_size,
        val_seed: args.val_seed,
        init: args.init.clone(),
        engine: args.engine,
        resume: args.resume,
        curriculum: args.curriculum,
        random_filters: args.random_filters,
    };
    let scores = train::train(&cfg)?;
    println!(
        "held-out synthetic plates: {:.1}% read exactly, {:.1}% characters",
        100.0 * scores.plate_acc,
        100.0 * scores.char_acc
    );
    let model = crate::ocr::Model::load(&args.out.join(crate::ocr::model::FILE_NAME))?;
    println!("weights SHA-256 {} (Model::digest)", model.digest());
    Ok(ExitCode::SUCCESS)
}

/// Runs `alpr bench train`: the native step's speed on one thread and on
/// the global pool (every core), as `train-ocr` runs it.
pub fn bench(batch: usize, steps: usize, runs: usize) -> anyhow::Result<ExitCode> {
    train::keep_freed_memory();
    let t = train::time_steps(batch, steps, runs)?;
    println!("native training steps of {batch} generated plates, {steps} steps, {runs} passes");
    println!("on {}", crate::ocr::machine::describe());
    println!(
        "generator: {:.0} plates/s on {} threads",
        t.plates_per_s, t.threads
    );
    println!(
        "step: one thread {:.1} ms; {} threads {:.1} ms ({:.2}x); same weights: {}",
        t.one_thread_ms,
        t.threads,
        t.all_threads_ms,
        t.one_thread_ms / t.all_threads_ms,
        if t.same_weights { "yes" } else { "NO" }
    );
    if !t.same_weights {
        anyhow::bail!("the step's weights depend on the thread count");
    }
    Ok(ExitCode::SUCCESS)
}
