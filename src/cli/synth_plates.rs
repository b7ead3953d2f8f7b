//! `alpr synth-plates`: synthetic plate crops and their labels, for
//! training and measuring the plate reader. Samples are made in parallel
//! (rayon); each PNG is staged and renamed into place, and the labels are
//! written last, durably, so a reader that trusts them never sees a partial
//! set: `labels.csv` (`file,style,PLATE`, with a header) and
//! `groundtruth.csv`, the same crops in the format of the agency's labelled
//! crops (`file,state,PLATE` rows, no header; the state of a US style, none
//! for the European one), which `alpr eval` and `score-plates` read as
//! they are.

use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use image::{ImageFormat, RgbImage, imageops};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::store::durable;
use crate::synth_plates::PlateSynth;

/// Samples shown in a montage, and the size of each cell.
const MONTAGE_CELLS: u64 = 48;
const CELL: (u32, u32) = (200, 100);

#[derive(Debug, clap::Args)]
pub struct SynthPlatesArgs {
    /// Output directory (created if missing): 000000.png..., labels.csv and
    /// groundtruth.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of samples.
    #[arg(long)]
    pub count: u64,
    /// Random seed: the same seed gives the same samples.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write a grid of the first 48 samples to this PNG.
    #[arg(long)]
    pub montage: Option<PathBuf>,
    /// Only plates of this design (a style id such as `us-tx` or `eu`; an
    /// unknown one lists them all), for checking the reader on one
    /// issuer's plates. Without it, every design in its usual share.
    #[arg(long)]
    pub style: Option<String>,
}

fn png(path: &Path, img: &RgbImage) -> Result<()> {
    durable::replace_with(path, |f| {
        img.write_to(&mut BufWriter::new(f), ImageFormat::Png)
            .map_err(|e| Error::io(path, std::io::Error::other(e)))
    })
}

/// Writes the samples, the labels and the optional montage.
pub fn run(args: &SynthPlatesArgs) -> anyhow::Result<()> {
    if args.count == 0 || args.count > 100_000_000 {
        return Err(Error::bad_input("--count must be between 1 and 100000000").into());
    }
    let started = Instant::now();
    let synth = match &args.style {
        Some(id) => PlateSynth::of_style(id)?,
        None => PlateSynth::new()?,
    };
    durable::create_dir_durable(&args.out)?;
    let bar = ProgressBar::new(args.count).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} plates")
            .expect("valid template"),
    );
    // CPU time spent generating (not encoding or writing), summed over threads.
    let generating_ns = AtomicU64::new(0);
    let rows: Vec<(String, &str, String)> = (0..args.count)
        .into_par_iter()
        .map(|i| {
            let t = Instant::now();
            let s = synth.sample(args.seed, i);
            generating_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let name = format!("{i:06}.png");
            png(&args.out.join(&name), &s.image)?;
            bar.inc(1);
            Ok((name, s.style, s.text))
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    let mut labels = String::from("file,style,PLATE\n");
    let mut truth = String::new();
    for (name, style, text) in &rows {
        labels.push_str(&format!("{name},{style},{text}\n"));
        truth.push_str(&format!("{name},{},{text}\n", state_of(style)));
    }
    durable::write_atomic(&args.out.join("groundtruth.csv"), truth.as_bytes())?;
    durable::write_atomic(&args.out.join("labels.csv"), labels.as_bytes())?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(path) = &args.montage {
        png(
            path,
            &montage(&synth, args.seed, args.count.min(MONTAGE_CELLS)),
        )?;
    }
    eprintln!(
        "synth-plates: {} samples in {secs:.1} s ({:.2} ms each on {} threads; \
         generating alone {:.2} ms per sample per thread) -> {}",
        args.count,
        secs * 1000.0 / args.count as f64,
        rayon::current_num_threads(),
        generating_ns.load(Ordering::Relaxed) as f64 / 1e6 / args.count as f64,
        args.out.display()
    );
    Ok(())
}

/// The US state a style imitates (`us-ca` -> `CA`); none for others.
fn state_of(style: &str) -> String {
    style
        .strip_prefix("us-")
        .map(str::to_ascii_uppercase)
        .unwrap_or_default()
}

/// The first `n` samples, each fitted into a cell of a grid 8 wide.
fn montage(synth: &PlateSynth, seed: u64, n: u64) -> RgbImage {
    let cols = 8u32;
    let rows = (n as u32).div_ceil(cols);
    let mut grid = RgbImage::from_pixel(cols * CELL.0, rows * CELL.1, image::Rgb([40, 40, 40]));
    for i in 0..n {
        let img = synth.sample(seed, i).image;
        let (w, h) = img.dimensions();
        let k = f64::min(
            (CELL.0 - 4) as f64 / w as f64,
            (CELL.1 - 4) as f64 / h as f64,
        );
        let (nw, nh) = (
            ((w as f64 * k) as u32).max(1),
            ((h as f64 * k) as u32).max(1),
        );
        let cell = imageops::resize(&img, nw, nh, imageops::FilterType::Triangle);
        let (x, y) = (
            (i as u32 % cols) * CELL.0 + 2,
            (i as u32 / cols) * CELL.1 + 2,
        );
        imageops::overlay(&mut grid, &cell, i64::from(x), i64::from(y));
    }
    grid
}
