//! `alpr read-crops`: plate crops in (images or folders), one JSON line per
//! crop out, `{"image": NAME, "text": T, "confidence": C, "region": R,
//! "ms": MS, "candidates": [{"text", "confidence"}, ...]}` (`region` only
//! when the text's format names one US state), the format
//! `score-plates PRED.jsonl groundtruth.csv` reads. Measures the reader
//! alone, without the detector.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use image::GrayImage;
use rayon::prelude::*;
use serde::Serialize;

use crate::gpu::{Gpu, GpuMode};
use crate::ocr::{Candidate, prep};
use crate::recognize::{self, decode};
use crate::{Error, Result};

/// Exit code when some inputs were skipped (the others were read).
pub const EXIT_SKIPPED: u8 = 3;

const EXIT_CODES: &str = "\
Output: one JSON line per crop on stdout,
  {\"image\": NAME, \"text\": T, \"confidence\": C, \"region\": R,
   \"ms\": MS, \"candidates\": [{\"text\": T, \"confidence\": C}, ...]}
  (NAME is the file name; R the likely US state, \"CA\", given only when
  the text's format belongs to exactly one state; ms is decode plus the
  crop's share of its batch).
Exit codes:
  0  every crop was read
  1  failure while running (GPU failure, stdout closed)
  2  bad command line, or a bad model folder
  3  some inputs were skipped (each named on stderr)";

/// Arguments of `alpr read-crops`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct ReadCropsArgs {
    /// Crop images (JPEG, PNG) or folders of them (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub reader: super::reader_args::ReaderArgs,
    /// Where the network's kernels run.
    #[arg(long, value_enum, default_value_t = GpuMode::Auto)]
    pub gpu: GpuMode,
    /// Crops read per batch.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batch: u32,
}

#[derive(Serialize)]
struct Line<'a> {
    image: &'a str,
    text: &'a str,
    confidence: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    ms: f64,
    candidates: Vec<Candidate>,
}

/// Confidences to 6 decimals: enough to rank, short to print.
fn round(c: f32) -> f32 {
    (c * 1e6).round() / 1e6
}

/// Decodes a crop file (JPEG or PNG, upright, with the photos' checks:
/// [`decode::decode_image_file`]) to the reader's grey ([`prep::grey`]).
pub fn load_crop(path: &Path) -> Result<GrayImage> {
    Ok(match decode::decode_image_file(path)? {
        // A grey pixel's luma is itself: no need to widen it to colour.
        image::DynamicImage::ImageLuma8(grey) => grey,
        other => prep::grey(&other.into_rgb8()),
    })
}

/// Runs `alpr read-crops`.
pub fn run(args: &ReadCropsArgs) -> anyhow::Result<ExitCode> {
    let reader = args.reader.reader()?;
    let gpu = Gpu::new(args.gpu).map_err(|e| match e {
        Error::GpuUnavailable(m) => Error::bad_input(format!("GPU unavailable: {m}")),
        other => other,
    })?;
    let (files, errors) = recognize::discover(&args.paths);
    let mut skipped = errors.len();
    for e in &errors {
        eprintln!("alpr: skipped: {e}");
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut done = 0usize;
    for chunk in files.chunks(args.batch as usize) {
        let decoded: Vec<(&PathBuf, Result<GrayImage>, f64)> = chunk
            .par_iter()
            .map(|p| {
                let t = Instant::now();
                let crop = load_crop(p);
                (p, crop, t.elapsed().as_secs_f64() * 1e3)
            })
            .collect();
        let mut crops = Vec::new();
        let mut kept = Vec::new();
        for (path, crop, ms) in decoded {
            match crop {
                Ok(c) => {
                    crops.push(c);
                    kept.push((path, ms));
                }
                Err(e) => {
                    skipped += 1;
                    eprintln!("alpr: skipped: {e}");
                }
            }
        }
        let t = Instant::now();
        let reads = reader.read_batch(gpu.as_ref(), &crops)?;
        let share = t.elapsed().as_secs_f64() * 1e3 / crops.len().max(1) as f64;
        for ((path, ms), read) in kept.iter().zip(&reads) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let line = Line {
                image: &name,
                text: &read.text,
                confidence: round(read.confidence),
                region: read.region.as_deref(),
                ms: ((ms + share) * 100.0).round() / 100.0,
                candidates: read
                    .candidates
                    .iter()
                    .map(|c| Candidate {
                        text: c.text.clone(),
                        confidence: round(c.confidence),
                    })
                    .collect(),
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
            done += 1;
        }
    }
    out.flush()?;
    eprintln!(
        "alpr: read-crops: {done} crops read, {skipped} inputs skipped{}",
        if gpu.is_some() { " (GPU)" } else { " (CPU)" }
    );
    Ok(if skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SKIPPED)
    })
}
