//! `alpr bench query` prints the medians of `query::bench`; `alpr bench
//! detect` times plate localisation after decode, frame by frame and in
//! one batch of all the frames.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use std::process::ExitCode;

use crate::gpu::vectors;
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

/// Times plate localisation on the decoded `paths`: `detect` per frame on
/// one core (a one-thread pool), `detect` a frame a task on every core, and
/// `detect_batch` with every frame in one batch (on the GPU, one submission
/// per kernel per batch instead of per frame), on every core.
pub fn detect(paths: &[PathBuf], runs: usize, mode: GpuMode) -> anyhow::Result<ExitCode> {
    use recognize::detect::{detect, detect_batch};

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
    let gpu = gpu.as_ref();
    let device = kernels_label(gpu);
    let runs = runs.max(1);
    let one_core = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut per_frame = Vec::new();
    for _ in 0..runs {
        for frame in &frames {
            let t = Instant::now();
            one_core.install(|| detect(frame, gpu, 10))?;
            per_frame.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    per_frame.sort_by(f64::total_cmp);
    let t = Instant::now();
    for _ in 0..runs {
        frames
            .par_iter()
            .map(|frame| detect(frame, gpu, 10).map(|_| ()))
            .collect::<crate::Result<()>>()?;
    }
    let fps = (frames.len() * runs) as f64 / t.elapsed().as_secs_f64();
    let batch: Vec<&crate::gpu::Planes> = frames.iter().collect();
    let t = Instant::now();
    for _ in 0..runs {
        detect_batch(&batch, gpu, 10)?;
    }
    let batch_fps = (frames.len() * runs) as f64 / t.elapsed().as_secs_f64();
    let (w, h) = (frames[0].width(), frames[0].height());
    let threads = rayon::current_num_threads();
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
        "{threads} threads, a frame at a time: {fps:.1} frames/s ({:.1} ms/frame)",
        1e3 / fps
    );
    println!(
        "{threads} threads, batches of {} frames: {batch_fps:.1} frames/s ({:.1} ms/frame)",
        frames.len(),
        1e3 / batch_fps
    );
    Ok(ExitCode::SUCCESS)
}

/// `alpr bench ingest`: generated 1080p JPEG frames with plates, ingested
/// end to end (decode, detect, read, write, ledger) into a throwaway store,
/// first with decoding and reading on one thread, then on every core (only
/// the producer's file reads run outside those threads).
pub fn ingest(
    count: usize,
    mode: GpuMode,
    reader: &super::reader_args::ReaderArgs,
) -> anyhow::Result<ExitCode> {
    use crate::audit::Access;
    use crate::audit::access::{Action, Role};
    use crate::audit::catalog::Catalog;
    use crate::audit::users::{self, Credentials, NewUser};
    use crate::ingest::{Config, context::Rules};

    // Removed when dropped, on an error too.
    let tmp = tempfile::Builder::new()
        .prefix("alpr-bench-ingest-")
        .tempdir()?;
    let dir = tmp.path();
    let synth = crate::synth_plates::PlateSynth::new()?;
    let input = dir.join("in");
    std::fs::create_dir_all(&input)?;
    (0..count)
        .into_par_iter()
        .try_for_each(|i| -> anyhow::Result<()> {
            let scene = synth.scene(2026, i as u64, 1920, 1080);
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
                .encode_image(&scene.image)?;
            std::fs::write(input.join(format!("f{i:04}.jpg")), jpeg)?;
            std::fs::write(
                input.join(format!("f{i:04}.json")),
                format!(
                    "{{\"ts\": \"2026-10-01T{:02}:{:02}:00Z\"}}",
                    i / 60 % 24,
                    i % 60
                ),
            )?;
            Ok(())
        })?;
    let password = "bench password, thrown away";
    let gpu = Gpu::new(mode)?;
    let device = kernels_label(gpu.as_ref());
    let reader = recognize::PlateReader::new(gpu, reader.reader()?)?;
    let mut rows = Vec::new();
    let mut thread_counts = vec![1, rayon::current_num_threads()];
    // One row when the pool has one thread (RAYON_NUM_THREADS=1).
    thread_counts.dedup();
    for threads in thread_counts {
        let store = Store::create(dir.join(format!("store-{threads}")))?;
        let catalog = Catalog::create(&store)?;
        let today = chrono::Utc::now().date_naive();
        catalog.transaction(|tx| {
            let user = NewUser {
                name: "bench".into(),
                organisation: "bench".into(),
                role: Role::Administrator,
                trained_on: Some(today),
                training_expires: today.checked_add_days(chrono::Days::new(1)),
            };
            users::add_in(tx, &user, password, "bench", chrono::Utc::now())
        })?;
        let creds = Credentials {
            user: "bench".into(),
            password: password.into(),
        };
        let access = Access::login(&store, &creds, Action::Ingest)?;
        let config = Config {
            inputs: vec![input.clone()],
            rules: Rules {
                camera: Some("BENCH".into()),
                ..Rules::default()
            },
            fps: 5.0,
            reprocess: false,
            // Not a pool installed around the run: decoding runs on a
            // thread of its own, which would use the global pool.
            threads: Some(threads),
        };
        let t = Instant::now();
        let summary = crate::ingest::run(&access, &store, &config, &reader, &|_| {})?;
        let secs = t.elapsed().as_secs_f64();
        rows.push((threads, summary.frames, summary.reads, secs));
    }
    drop(tmp);
    println!("{count} generated 1920x1080 JPEG frames with one plate each, {device}, end to end");
    for (threads, frames, reads, secs) in rows {
        println!(
            "{threads} thread(s): {:.2} images/s ({:.2} per core), {frames} frames, {reads} reads, {secs:.1} s",
            frames as f64 / secs,
            frames as f64 / secs / threads as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Which kernels a bench ran on, for its header: the GPU adapter's name, or
/// the vector instructions the CPU twins use (the figures depend on both),
/// with the CPU's own where `--cpu-vectors` narrowed them.
pub(crate) fn kernels_label(gpu: Option<&Gpu>) -> String {
    match gpu {
        Some(g) => format!("GPU kernels on {}", g.adapter_info().name),
        None => {
            let (used, cpu) = (vectors::in_use(), vectors::detected());
            if used == cpu {
                format!("CPU kernels ({})", used.name())
            } else {
                format!("CPU kernels ({}; this CPU has {})", used.name(), cpu.name())
            }
        }
    }
}
