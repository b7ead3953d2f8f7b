//! Frames -> plate reads. It owns localisation (where the plates are) and
//! puts it together with the reader ([`crate::ocr`]) in [`PlateReader`];
//! decoding files is [`decode`]'s, and the kernels and the device belong to
//! [`crate::gpu`].
//!
//! ```text
//! paths --discover (folders: *.jpg *.jpeg *.png, recursive, sorted)--> files
//!   --chunks of CHUNK files, rayon--> decode (header checked first) --> RGBA frame
//!   --detect: luma / Sobel / threshold / morphology (GPU or CPU twin)
//!             -> components (CPU) -> score -> NMS --> PlateBox, best first
//!   --> one Recognition per file, in input order (or a per-file error)
//! ```
//!
//! [`recognize_files`] reads a file at a time (its `ms` is that file's
//! own); [`PlateReader::read_all`], as ingest calls it with a chunk of
//! frames, detects the chunk with [`detect::detect_batch`], which on the GPU
//! runs each kernel once for all frames of one size.
//!
//! Memory stays bounded by the chunk: at most [`CHUNK`] frames are decoded
//! at once, whatever the batch size.

pub mod chars;
pub mod decode;
pub mod detect;
pub mod eval;
pub mod label;
pub mod plate_reader;
pub mod reader;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::{Error, Result};

pub use detect::{PlateBox, detect};
pub use plate_reader::{BoxRead, PlateReader};

/// Files decoded and searched at once.
pub const CHUNK: usize = 16;

/// What was found in one image.
#[derive(Clone, Debug)]
pub struct Recognition {
    /// The file, as discovered.
    pub path: PathBuf,
    /// Wall time spent on this file (decode and detect), milliseconds.
    pub ms: f64,
    /// Candidates with their readings, best first.
    pub plates: Vec<BoxRead>,
}

#[derive(Serialize)]
struct JsonCandidate {
    text: String,
    confidence: f64,
}

#[derive(Serialize)]
struct JsonPlate {
    #[serde(rename = "box")]
    bbox: [u32; 4],
    /// The probability the reader gives `text` (0-1).
    confidence: f64,
    /// The ranking key: box score x `confidence` x format and word odds
    /// ([`plate_reader::plate_score`]); not a probability.
    score: f64,
    /// The text line's angle in degrees (positive: falling to the right),
    /// by which the crop was levelled when it is 3 degrees or more.
    tilt: f64,
    text: String,
    /// The likely US state; omitted when the text's format does not tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// Whether ingest stores this read ([`plate_reader::stored`], among
    /// the frame's first [`plate_reader::BOXES_PER_FRAME`], as it reads them).
    stored: bool,
    candidates: Vec<JsonCandidate>,
}

fn round3(v: f32) -> f64 {
    (f64::from(v) * 1000.0).round() / 1000.0
}

#[derive(Serialize)]
struct JsonLine<'a> {
    image: &'a str,
    ms: f64,
    plates: Vec<JsonPlate>,
}

impl Recognition {
    /// The indices of the plates `alpr ingest` would store
    /// ([`plate_reader::stored`] of the first
    /// [`plate_reader::BOXES_PER_FRAME`], the reads ingest takes).
    pub fn stored(&self) -> Vec<usize> {
        let first = self.plates.len().min(plate_reader::BOXES_PER_FRAME);
        plate_reader::stored(&self.plates[..first])
    }

    /// One JSON line, as `score-plates` reads it: `{"image": ..., "ms": ...,
    /// "plates": [{"box": [x, y, w, h], "confidence": c, "score": s, "tilt":
    /// degrees, "text": t, "region": "CA", "stored": b, "candidates":
    /// [{"text": t, "confidence": c}, ...]}]}`, plates best first as
    /// [`PlateReader::read_all`] ranks them (by `score`, the first few of
    /// all views among themselves);
    /// `confidence` is the read's probability of `text` (0-1), `region`
    /// only where the text's format names one US state, `stored` whether
    /// ingest stores the read.
    pub fn to_json_line(&self) -> String {
        let image = self.path.to_string_lossy();
        let stored = self.stored();
        let line = JsonLine {
            image: &image,
            ms: (self.ms * 100.0).round() / 100.0,
            plates: self
                .plates
                .iter()
                .enumerate()
                .map(|(k, p)| JsonPlate {
                    bbox: [p.bbox.x, p.bbox.y, p.bbox.w, p.bbox.h],
                    confidence: round3(p.read.confidence),
                    score: round3(p.score),
                    tilt: (f64::from(p.bbox.tilt.to_degrees()) * 10.0).round() / 10.0,
                    text: p.read.text.clone(),
                    region: p.read.region.clone(),
                    stored: stored.contains(&k),
                    candidates: p
                        .read
                        .candidates
                        .iter()
                        .map(|c| JsonCandidate {
                            text: c.text.clone(),
                            confidence: round3(c.confidence),
                        })
                        .collect(),
                })
                .collect(),
        };
        serde_json::to_string(&line).expect("plain structs serialise")
    }
}

/// Expands `paths` into image files: files as given (any extension; the
/// content decides), folders recursively for `*.jpg`, `*.jpeg` and `*.png`
/// (any case), sorted. Unreadable paths come back as errors.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, &mut files, &mut errors),
            Ok(_) => files.push(path.clone()),
            Err(e) => errors.push(Error::io(path, e)),
        }
    }
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<Error>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(Error::io(dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, files, errors);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| decode::EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
}

/// Decodes one file, finds up to `max` plates in it and reads them.
pub fn recognize_file(path: &Path, reader: &PlateReader, max: usize) -> Result<Recognition> {
    let started = Instant::now();
    let frame = decode::decode_file(path)?;
    let plates = reader.read_all(&[&frame], max)?.pop().unwrap_or_default();
    Ok(Recognition {
        path: path.to_path_buf(),
        ms: started.elapsed().as_secs_f64() * 1000.0,
        plates,
    })
}

/// Recognises `files` in chunks of [`CHUNK`], files of a chunk in parallel,
/// handing each outcome to `each` in input order.
pub fn recognize_files(
    files: &[PathBuf],
    reader: &PlateReader,
    max: usize,
    mut each: impl FnMut(Result<Recognition>),
) {
    for chunk in files.chunks(CHUNK) {
        let outcomes: Vec<Result<Recognition>> = chunk
            .par_iter()
            .map(|path| recognize_file(path, reader, max))
            .collect();
        outcomes.into_iter().for_each(&mut each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::PlateRead;
    use crate::ocr::decode::Candidate;
    use crate::plate::formats::Family;

    #[test]
    fn a_json_plate_gives_the_reads_probability_beside_its_ranking_score() {
        // A sure read of a serial format on a sure box scores past 1 (the
        // format's odds of 8): that is the ranking key, not a confidence.
        let candidate = |text: &str, confidence| Candidate {
            text: text.to_string(),
            confidence,
        };
        let read = PlateRead {
            text: "7ABC123".to_string(),
            confidence: 0.9,
            char_confidences: vec![0.9; 7],
            candidates: vec![candidate("7ABC123", 0.9), candidate("7A8C123", 0.05)],
            region: Some("CA".to_string()),
            family: Family::Us,
        };
        let bbox = PlateBox {
            x: 10,
            y: 20,
            w: 120,
            h: 60,
            confidence: 0.8,
            tilt: 0.0,
        };
        let score = plate_reader::plate_score(&bbox, &read);
        assert!(score > 1.0, "{score}");
        let found = Recognition {
            path: PathBuf::from("a.jpg"),
            ms: 12.345,
            plates: vec![BoxRead { bbox, read, score }],
        };
        let line: serde_json::Value = serde_json::from_str(&found.to_json_line()).unwrap();
        let plate = &line["plates"][0];
        assert_eq!(plate["confidence"], 0.9);
        assert_eq!(plate["score"], round3(score));
        assert_eq!(plate["text"], "7ABC123");
        assert_eq!(plate["region"], "CA");
        assert_eq!(plate["box"], serde_json::json!([10, 20, 120, 60]));
        assert_eq!(plate["candidates"][1]["confidence"], 0.05);
        assert_eq!(plate["stored"], true);
        assert_eq!(line["ms"], 12.35);
    }
}
