//! `alpr eval LABELLED`: reads an agency's labelled photos (a folder of
//! `X.jpg` + `X.txt`) or plate crops (`groundtruth.csv`) and prints the
//! figures of `score-plates`; for photos, also the reader alone at the
//! labelled boxes, to tell the localiser's misses from the reader's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use image::GrayImage;
use rayon::prelude::*;

use crate::gpu::{Gpu, GpuMode};
use crate::recognize::eval::{self, Label, Prediction};
use crate::recognize::{self, PlateReader, plate_reader};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A folder of photos with `X.txt` labels (file, x, y, w, h, PLATE, tab
    /// separated), or a `groundtruth.csv` of crops (file,state,PLATE).
    pub labelled: PathBuf,
    #[arg(long, value_enum, default_value_t = GpuMode::Auto)]
    pub gpu: GpuMode,
    #[command(flatten)]
    pub reader: super::reader_args::ReaderArgs,
    /// Print the figures as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also write one JSON line per labelled image to this file: its label,
    /// the best read, whether it counts at top-1 and top-10, and for photos
    /// whether a box was found and what the reader alone read at the
    /// labelled box (which photos were missed, and where).
    #[arg(long, value_name = "FILE")]
    pub per_image: Option<PathBuf>,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let ocr = args.reader.reader()?;
    let gpu = Gpu::new(args.gpu)?;
    let mut preds: BTreeMap<String, Prediction> = BTreeMap::new();
    let mut at_box_reads = BTreeMap::new();
    let labels = if args.labelled.is_dir() {
        let labels = eval::folder_labels(&args.labelled)?;
        let reader = PlateReader::new(gpu, ocr)?;
        let (files, errors) = recognize::discover(std::slice::from_ref(&args.labelled));
        for e in errors {
            eprintln!("alpr: skipped: {e}");
        }
        recognize::recognize_files(&files, &reader, 10, |outcome| match outcome {
            Ok(r) => {
                let plates = r
                    .plates
                    .iter()
                    .map(|p| {
                        let cands = p.read.candidates.iter().map(|c| c.text.clone()).collect();
                        (p.bbox, p.read.text.clone(), cands)
                    })
                    .collect();
                let region = r.plates.first().and_then(|p| p.read.region.clone());
                let stored = r
                    .stored()
                    .into_iter()
                    .map(|k| r.plates[k].read.text.clone())
                    .collect();
                preds.insert(
                    name(&r.path),
                    Prediction {
                        plates,
                        ms: r.ms,
                        region,
                        stored,
                    },
                );
            }
            Err(e) => eprintln!("alpr: skipped: {e}"),
        });
        at_box_reads = read_labelled_boxes(&files, &labels, &reader)?;
        labels
    } else {
        let labels = eval::crop_labels(&args.labelled)?;
        let dir = args.labelled.parent().unwrap_or(std::path::Path::new("."));
        let files: Vec<PathBuf> = labels.keys().map(|k| dir.join(k)).collect();
        for chunk in files.chunks(64) {
            let t = Instant::now();
            let mut crops = Vec::new();
            let mut names = Vec::new();
            for f in chunk {
                match super::read_crops::load_crop(f) {
                    Ok(c) => {
                        crops.push(c);
                        names.push(name(f));
                    }
                    Err(e) => eprintln!("alpr: skipped: {e}"),
                }
            }
            let reads = ocr.read_batch(gpu.as_ref(), &crops)?;
            let ms = t.elapsed().as_secs_f64() * 1e3 / crops.len().max(1) as f64;
            for (n, r) in names.into_iter().zip(reads) {
                let plate = recognize::PlateBox {
                    x: 0,
                    y: 0,
                    w: 0,
                    h: 0,
                    confidence: r.confidence,
                    tilt: 0.0,
                };
                preds.insert(
                    n,
                    Prediction {
                        plates: vec![(plate, r.text, vec![])],
                        ms,
                        region: r.region,
                        stored: Vec::new(),
                    },
                );
            }
        }
        labels
    };
    let figures = eval::Figures {
        at_labelled_boxes: eval::score_at_boxes(&labels, &at_box_reads),
        ..eval::score(&labels, &preds)
    };
    if let Some(path) = &args.per_image {
        let mut lines = String::new();
        for r in eval::per_image(&labels, &preds, &at_box_reads) {
            lines.push_str(&serde_json::to_string(&r)?);
            lines.push('\n');
        }
        crate::store::durable::write_atomic(path, lines.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        for line in figures.lines() {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Each labelled photo's box read by the reader alone ([`AtBoxes`]): the
/// photos decoded a chunk at a time, each box cut as the localiser's are,
/// then all read in one batch; by file name, the best text and its
/// alternates. A photo that does not decode was reported by the
/// end-to-end pass; a box outside its photo is reported here.
fn read_labelled_boxes(
    files: &[PathBuf],
    labels: &BTreeMap<String, Label>,
    reader: &PlateReader,
) -> anyhow::Result<BTreeMap<String, (String, Vec<String>)>> {
    let mut names = Vec::new();
    let mut crops: Vec<GrayImage> = Vec::new();
    for chunk in files.chunks(recognize::CHUNK) {
        let cut: Vec<Option<(String, GrayImage)>> = chunk
            .par_iter()
            .map(|f| {
                let n = name(f);
                let b = labels.get(&n)?.bbox?;
                let frame = recognize::decode::decode_file(f).ok()?;
                let (w, h) = (frame.width(), frame.height());
                let Some(plate) = eval::labelled_box(&b, w, h) else {
                    eprintln!(
                        "alpr: {}: the labelled box {b:?} lies outside the {w}x{h} photo",
                        f.display()
                    );
                    return None;
                };
                Some((n, plate_reader::gray_crop(&frame, &plate)))
            })
            .collect();
        for (n, crop) in cut.into_iter().flatten() {
            names.push(n);
            crops.push(crop);
        }
    }
    let reads = reader.read_crops(&crops)?;
    Ok(names
        .into_iter()
        .zip(reads)
        .map(|(n, r)| {
            let alternates = r.candidates.into_iter().map(|c| c.text).collect();
            (n, (r.text, alternates))
        })
        .collect())
}
