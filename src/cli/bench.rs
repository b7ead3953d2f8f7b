//! `alpr bench query` prints the medians of `query::bench`; `alpr bench
//! detect` times plate localisation per frame, after decode.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use std::process::ExitCode;

use crate::gpu::{Gpu, GpuMode};
use crate::query::bench;
use crate::recognize;
use crate::recognize::decode::decode_file;
use crate::store::Store;

pub async fn run(store: &Store, runs: usize, show_sql: bool) -> anyhow::Result<ExitCode> {
    let rows = bench::run(store, runs).await?;
    println!(
        "store {} ({} partitions), median of {runs} runs after a warm-up",
        store.root().display(),
        store.partitions()?.len()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8}",
        "query", "median ms", "min ms", "rows"
    );
    for r in rows {
        println!(
            "{:<34} {:>10.1} {:>10.1} {:>8}",
            r.name, r.median_ms, r.min_ms, r.rows
        );
        if show_sql {
            println!("    {}", r.sql);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Times `recognize::detect::detect` on the decoded `paths`: per frame on one
/// core (a one-thread pool), and frames per second on every core.
pub fn detect(paths: &[PathBuf], runs: usize, mode: GpuMode) -> anyhow::Result<ExitCode> {
    let (files, errors) = recognize::discover(paths);
    for e in &errors {
        eprintln!("alpr: skipped: {e}");
    }
    let frames = files
        .iter()
        .map(|f| decode_file(f))
        .collect::<crate::Result<Vec<_>>>()?;
    anyhow::ensure!(!frames.is_empty(), "no images to time");
    let gpu = Gpu::new(mode)?;
    let device = match &gpu {
        Some(g) => format!("GPU kernels on {}", g.adapter_info().name),
        None => "CPU kernels".to_string(),
    };
    let one_core = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut per_frame = Vec::new();
    for _ in 0..runs.max(1) {
        for frame in &frames {
            let t = Instant::now();
            one_core.install(|| recognize::detect::detect(frame, gpu.as_ref(), 10))?;
            per_frame.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    per_frame.sort_by(f64::total_cmp);
    let t = Instant::now();
    for _ in 0..runs.max(1) {
        frames
            .par_iter()
            .map(|frame| recognize::detect::detect(frame, gpu.as_ref(), 10).map(|_| ()))
            .collect::<crate::Result<()>>()?;
    }
    let fps = (frames.len() * runs.max(1)) as f64 / t.elapsed().as_secs_f64();
    let (w, h) = (frames[0].width(), frames[0].height());
    println!(
        "{} frames (first {w}x{h}), {runs} passes, {device}",
        frames.len()
    );
    println!(
        "one core: median {:.1} ms/frame, p95 {:.1} ms/frame",
        per_frame[per_frame.len() / 2],
        per_frame[per_frame.len() * 95 / 100]
    );
    println!(
        "{} threads: {fps:.1} frames/s",
        rayon::current_num_threads()
    );
    Ok(ExitCode::SUCCESS)
}
