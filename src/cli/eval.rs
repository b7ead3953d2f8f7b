//! `alpr eval LABELLED`: reads an agency's labelled photos (a folder of
//! `X.jpg` + `X.txt`) or plate crops (`groundtruth.csv`) and prints the
//! figures of `score-plates`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::gpu::{Gpu, GpuMode};
use crate::recognize::eval::{self, Prediction};
use crate::recognize::{self, PlateReader};

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
}

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let ocr = args.reader.reader()?;
    let gpu = Gpu::new(args.gpu)?;
    let mut preds: BTreeMap<String, Prediction> = BTreeMap::new();
    let name = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
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
                preds.insert(
                    name(&r.path),
                    Prediction {
                        plates,
                        ms: r.ms,
                        region,
                    },
                );
            }
            Err(e) => eprintln!("alpr: skipped: {e}"),
        });
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
                    },
                );
            }
        }
        labels
    };
    let figures = eval::score(&labels, &preds);
    if args.json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        for line in figures.lines() {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
