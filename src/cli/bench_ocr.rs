//! `alpr bench ocr`: the reader's speed per plate, after decode, on one core
//! and on every core, at several batch sizes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use image::GrayImage;

use crate::gpu::{Gpu, GpuMode};
use crate::ocr::prep;
use crate::recognize;

/// Times `Reader::read_batch` over the decoded crops in `paths` (or, with no
/// paths, the first 256 plates of `alpr synth-plates --seed 1`).
pub fn run(
    paths: &[PathBuf],
    reader: &super::reader_args::ReaderArgs,
    runs: usize,
    mode: GpuMode,
) -> anyhow::Result<ExitCode> {
    if runs == 0 {
        return Err(crate::Error::bad_input("bench ocr: --runs must be positive").into());
    }
    let reader = reader.reader()?;
    let (files, errors) = recognize::discover(paths);
    for e in &errors {
        eprintln!("alpr: skipped: {e}");
    }
    let mut crops: Vec<GrayImage> = files
        .iter()
        .map(|f| super::read_crops::load_crop(f))
        .collect::<crate::Result<_>>()?;
    if crops.is_empty() {
        // Plates, not noise: the beam search's cost depends on how sure
        // the network is, which only plate-like crops show.
        let synth = crate::synth_plates::PlateSynth::new()?;
        crops = (0..256)
            .map(|i| prep::grey(&synth.sample(1, i).image))
            .collect();
    }
    let gpu = Gpu::new(mode)?;
    let device = super::bench::kernels_label(gpu.as_ref());
    println!("{} crops, {runs} passes, {device}", crops.len());
    let one_core = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    for batch in [1usize, 16, 64, 256] {
        let time = |pool: Option<&rayon::ThreadPool>| -> anyhow::Result<f64> {
            // A warm-up pass, then the median of `runs` passes.
            let mut per_plate = Vec::new();
            for run in 0..=runs {
                let t = Instant::now();
                for chunk in crops.chunks(batch) {
                    match pool {
                        Some(p) => p.install(|| reader.read_batch(gpu.as_ref(), chunk))?,
                        None => reader.read_batch(gpu.as_ref(), chunk)?,
                    };
                }
                if run > 0 {
                    per_plate.push(t.elapsed().as_secs_f64() * 1e3 / crops.len() as f64);
                }
            }
            per_plate.sort_by(f64::total_cmp);
            Ok(per_plate[per_plate.len() / 2])
        };
        let one = time(Some(&one_core))?;
        let all = time(None)?;
        println!(
            "batch {batch:>3}: one core {one:.3} ms/plate; {} threads {all:.3} ms/plate",
            rayon::current_num_threads()
        );
    }
    Ok(ExitCode::SUCCESS)
}
