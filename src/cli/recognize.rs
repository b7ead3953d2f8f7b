//! `alpr recognize`: images and folders in, one JSON line per image out
//! (stdout), one line per skipped input on stderr, then a summary.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::gpu::{Gpu, GpuMode};
use crate::recognize;

/// Exit code when some inputs were skipped (the others were processed).
pub const EXIT_SKIPPED: u8 = 3;

const EXIT_CODES: &str = "\
Output: one JSON line per image on stdout,
  {\"image\": PATH, \"ms\": T, \"plates\": [{\"box\": [x, y, w, h],
   \"confidence\": C, \"score\": S, \"text\": T, \"region\": R, \"stored\": B,
   \"candidates\": [{\"text\": T, \"confidence\": C}, ...]}, ...]} with
  plates best first by S (box score x C x format and word odds, not a
  probability; the first three, read in all views, rank among themselves);
  C is the reader's probability of T; R is the likely US state (\"CA\"),
  given only when the text's format belongs to exactly one state; B tells
  whether `alpr ingest` would store the read.
Exit codes:
  0  every input was processed
  1  failure while running (GPU failure, stdout closed)
  2  bad command line, a bad model folder, or --gpu on without a usable GPU
  3  some inputs were skipped (unreadable, not an image, too large);
     each is named on stderr, the others were processed";

/// Arguments of `alpr recognize`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct RecognizeArgs {
    /// Image files (JPEG, PNG) or folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Where the image kernels run (the boxes are the same either way).
    #[arg(long, value_enum, default_value_t = GpuMode::Auto)]
    pub gpu: GpuMode,
    /// Most plate candidates reported per image.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_candidates: u32,
    #[command(flatten)]
    pub reader: super::reader_args::ReaderArgs,
}

/// Runs `alpr recognize`.
pub fn run(args: &RecognizeArgs) -> anyhow::Result<ExitCode> {
    let gpu = Gpu::new(args.gpu).map_err(|e| match e {
        crate::Error::GpuUnavailable(m) => crate::Error::bad_input(format!("GPU unavailable: {m}")),
        other => other,
    })?;
    let reader = recognize::PlateReader::new(gpu, args.reader.reader()?)?;
    let (files, errors) = recognize::discover(&args.paths);
    let mut skipped = 0usize;
    for e in &errors {
        eprintln!("alpr: skipped: {e}");
        skipped += 1;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut done = 0usize;
    let mut write_error = None;
    recognize::recognize_files(&files, &reader, args.max_candidates as usize, |outcome| {
        match outcome {
            Ok(r) => {
                done += 1;
                if write_error.is_none()
                    && let Err(e) = writeln!(out, "{}", r.to_json_line()).and_then(|_| out.flush())
                {
                    write_error = Some(e);
                }
            }
            Err(e) => {
                skipped += 1;
                eprintln!("alpr: skipped: {e}");
            }
        }
    });
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context("writing to stdout"));
    }
    eprintln!(
        "alpr: recognize: {done} images processed, {skipped} inputs skipped{}",
        if reader.gpu().is_some() {
            " (GPU)"
        } else {
            " (CPU)"
        }
    );
    Ok(if skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SKIPPED)
    })
}
