//! Localiser plus reader: every candidate box of a frame is cropped (with
//! the margin the reader was trained on), read by the OCR network in one
//! batch across frames, and ranked by how plate-like the box is and how
//! sure the reading is.
//!
//! ```text
//! frames --detect_batch (GPU: one batch a frame size; CPU: a frame a task)-->
//!   boxes --crop + margin, gray-->
//!   --ocr::Reader::read_batch_in one view (all crops of all frames)--> text,
//!     top-10, per-char, likely US state
//!   --rank: box score x read confidence x format odds x word odds (lower
//!     for letters in no format: other text of the frame; 0 for a read
//!     under 2 characters)--> plates best first
//!   [--views N > 1: the first POOLED_BOXES of each frame read again in N
//!     views, pooled, ranked again among themselves; the boxes of one
//!     plate among them pooled too: the read they support most comes first]
//!   [first box US-shaped (under 3.2:1): three European-shaped companions
//!     on its text line read in one view, those reading a fuller European
//!     format again in all; one that reads it at least as surely as the
//!     box takes the first place]
//!   --a whole serial (box extending a piece's, text holding it, fitting a
//!     known format) takes its piece's place-->
//! ```

use image::GrayImage;
use rayon::prelude::*;

use super::detect::{EU_ASPECT, PlateBox, clip_box, detect_batch};
use super::reader::{FoundPlate, FrameReader, crop_jpeg};
use crate::Result;
use crate::gpu::{Gpu, Planes};
use crate::ocr::{self, PlateRead, prep};
use crate::plate::formats::{self, Family};

/// Boxes reported per frame.
pub const BOXES_PER_FRAME: usize = 8;
/// Boxes of a frame read again in all the reader's views when it reads
/// more than one: the first of the one-view ranking (a plate and its
/// likeliest rivals). Every box is read in one view first, to rank them;
/// those past these keep that read, ranked behind them.
pub const POOLED_BOXES: usize = 3;
/// Boxes read for each one reported: the localiser's order is not the
/// final one (a whole line and its pieces are all kept for the reads to
/// decide), so a plate's only box may rank past `max` before it is read.
const READ_FACTOR: usize = 2;
/// Reads shorter than this are not plates: they rank last, and ingest
/// does not store them (nor a state's name: [`formats::is_printed_word`]).
pub const MIN_PLATE_CHARS: usize = 2;
/// Reads below this confidence are not stored as reads by ingest (they
/// still appear, ranked low, in `alpr recognize`).
pub const MIN_READ_CONFIDENCE: f32 = 0.2;
/// Margin added around a box before reading, as a fraction of its width
/// and height (the reader is trained on crops with loose margins).
const MARGIN: (f32, f32) = (0.06, 0.12);
/// Tilts below this (radians, 3 degrees) are read as they are: the reader
/// was trained on plates turned up to 6 degrees, and resampling blurs.
const DESKEW_MIN: f32 = 3.0 * std::f32::consts::PI / 180.0;

/// A box and what the reader made of it.
#[derive(Debug, Clone)]
pub struct BoxRead {
    pub bbox: PlateBox,
    pub read: PlateRead,
    /// The ranking key: see [`plate_score`].
    pub score: f32,
}

/// Finds and reads plates.
pub struct PlateReader {
    gpu: Option<Gpu>,
    ocr: ocr::Reader,
    version: String,
}

impl PlateReader {
    /// A reader using `gpu` (or the CPU twins) and the OCR weights `ocr`.
    /// Its version names the weights, the decoder and, past one, the views
    /// read.
    pub fn new(gpu: Option<Gpu>, ocr: ocr::Reader) -> Result<PlateReader> {
        let digest = ocr.model().digest();
        let mut version = format!(
            "alpr-{}/ocr-{}/decode-{}",
            env!("CARGO_PKG_VERSION"),
            &digest[..12],
            ocr::decode::VERSION
        );
        if ocr.views() > 1 {
            version.push_str(&format!("/views-{}", ocr.views()));
            if ocr.sure() < 1.0 {
                version.push_str(&format!("-sure-{}", ocr.sure()));
            }
        }
        Ok(PlateReader { gpu, ocr, version })
    }

    pub fn gpu(&self) -> Option<&Gpu> {
        self.gpu.as_ref()
    }

    /// Reads crops cut by [`gray_crop`] in every view, without the
    /// localiser or the ranking: `alpr eval` reads labelled boxes with it,
    /// to tell the localiser's misses from the reader's.
    pub fn read_crops(&self, crops: &[GrayImage]) -> Result<Vec<PlateRead>> {
        self.ocr.read_batch(self.gpu.as_ref(), crops)
    }

    /// Up to `max` candidate boxes of every frame with their readings,
    /// best first: the localiser's best `READ_FACTOR * max` are read in one
    /// view and the best `max` reads kept; with more views, the first
    /// [`POOLED_BOXES`] of them are read again in all of them and ranked
    /// again among themselves; then a US-shaped first box's European
    /// companions may take its place (the module's overview).
    pub fn read_all(&self, frames: &[&Planes], max: usize) -> Result<Vec<Vec<BoxRead>>> {
        let gpu = self.gpu.as_ref();
        let boxes = detect_batch(frames, gpu, max.saturating_mul(READ_FACTOR))?;
        let mut crops: Vec<GrayImage> = frames
            .par_iter()
            .zip(boxes.par_iter())
            .flat_map_iter(|(f, bs)| bs.iter().map(|b| gray_crop(f, b)).collect::<Vec<_>>())
            .collect();
        let mut reads = self
            .ocr
            .read_batch_in(gpu, &crops, 1)?
            .into_iter()
            .enumerate();
        // Each frame's reads with the index of their crop, best first.
        let mut ranked: Vec<Vec<(usize, BoxRead)>> = boxes
            .into_iter()
            .map(|bs| {
                let mut out: Vec<(usize, BoxRead)> = bs
                    .into_iter()
                    .filter_map(|bbox| {
                        let (crop, read) = reads.next()?;
                        let score = plate_score(&bbox, &read);
                        Some((crop, BoxRead { bbox, read, score }))
                    })
                    .collect();
                rank(&mut out);
                out.truncate(max);
                out
            })
            .collect();
        if self.ocr.views() > 1 {
            let again: Vec<GrayImage> = ranked
                .iter()
                .flat_map(|rs| rs.iter().take(POOLED_BOXES))
                .map(|(crop, _)| std::mem::take(&mut crops[*crop]))
                .collect();
            let mut pooled = self.ocr.read_batch(gpu, &again)?.into_iter();
            for rs in &mut ranked {
                let first = rs.len().min(POOLED_BOXES);
                for (_, r) in &mut rs[..first] {
                    if let Some(read) = pooled.next() {
                        r.score = plate_score(&r.bbox, &read);
                        r.read = read;
                    }
                }
                rank(&mut rs[..first]);
                pool_boxes(&mut rs[..first]);
            }
        }
        let mut ranked: Vec<Vec<BoxRead>> = ranked
            .into_iter()
            .map(|rs| rs.into_iter().map(|(_, r)| r).collect())
            .collect();
        self.read_companions(frames, &mut ranked, max)?;
        Ok(ranked.into_iter().map(wholes_first).collect())
    }

    /// Each frame whose first box has US proportions also has that box's
    /// European [`companions`] read; one whose read [`outreads`] the
    /// box's takes the first place (the surest of them, scored at least as
    /// the box was), and at most `max` are kept. With more views, the
    /// companions are read in one view first, and only those whose read is
    /// a [`fuller_european`] one (which alone may outread the box) again in
    /// all of them.
    fn read_companions(
        &self,
        frames: &[&Planes],
        ranked: &mut [Vec<BoxRead>],
        max: usize,
    ) -> Result<()> {
        let gpu = self.gpu.as_ref();
        let (owners, boxes): (Vec<usize>, Vec<PlateBox>) = ranked
            .iter()
            .enumerate()
            .filter_map(|(i, rs)| Some((i, rs.first()?.bbox)))
            .filter(|(_, b)| Family::of_size(b.w, b.h) == Family::Us)
            .flat_map(|(i, b)| {
                companions(&b, frames[i].width(), frames[i].height())
                    .into_iter()
                    .map(move |c| (i, c))
            })
            .unzip();
        if boxes.is_empty() {
            return Ok(());
        }
        let mut crops: Vec<GrayImage> = owners
            .par_iter()
            .zip(&boxes)
            .map(|(&i, b)| gray_crop(frames[i], b))
            .collect();
        let mut reads: Vec<(usize, PlateRead)> = self
            .ocr
            .read_batch_in(gpu, &crops, 1)?
            .into_iter()
            .enumerate()
            .collect();
        if self.ocr.views() > 1 {
            reads.retain(|(k, read)| fuller_european(read, &ranked[owners[*k]][0].read));
            let again: Vec<GrayImage> = reads
                .iter()
                .map(|(k, _)| std::mem::take(&mut crops[*k]))
                .collect();
            let pooled = self.ocr.read_batch(gpu, &again)?;
            for ((_, read), pooled) in reads.iter_mut().zip(pooled) {
                *read = pooled;
            }
        }
        let mut candidates: Vec<Vec<(PlateBox, PlateRead)>> = vec![Vec::new(); ranked.len()];
        for (k, read) in reads {
            candidates[owners[k]].push((boxes[k], read));
        }
        for (rs, candidates) in ranked.iter_mut().zip(&candidates) {
            promote_companion(rs, candidates, max);
        }
        Ok(())
    }
}

/// The surest of a frame's companions (each a box and its read) that
/// [`outreads`] its first box's read takes the first place, scored at
/// least as that box was; at most `max` are kept.
fn promote_companion(rs: &mut Vec<BoxRead>, candidates: &[(PlateBox, PlateRead)], max: usize) {
    let Some(first) = rs.first() else {
        return;
    };
    let best = candidates
        .iter()
        .filter(|(_, read)| outreads(read, &first.read))
        .max_by(|a, b| a.1.confidence.total_cmp(&b.1.confidence));
    if let Some((bbox, read)) = best {
        let companion = BoxRead {
            bbox: *bbox,
            read: read.clone(),
            score: plate_score(bbox, read).max(first.score),
        };
        rs.insert(0, companion);
        rs.truncate(max);
    }
}

/// A European plate's height over that of a US-shaped box around its
/// serial: the localiser draws such a box twice as tall as the glyphs (a
/// US plate's), where a European plate is about 4/3 of their height.
const COMPANION_HEIGHT: f32 = 0.66;
/// Where a box's companions stand along its text line: offsets of their
/// centres from the box's, in companion widths. A US-shaped box on a
/// European plate is mostly a piece of its serial, at either end or in
/// the middle.
const COMPANION_SHIFTS: [f32; 3] = [0.0, -0.25, 0.25];

/// The European plates a US-shaped box `b` may be a piece of: boxes of
/// [`EU_ASPECT`] proportions, [`COMPANION_HEIGHT`] of `b`'s height, on
/// `b`'s text line at each of [`COMPANION_SHIFTS`], with its tilt and
/// score, clipped to the `frame_w` x `frame_h` frame.
fn companions(b: &PlateBox, frame_w: u32, frame_h: u32) -> Vec<PlateBox> {
    let h = b.h as f32 * COMPANION_HEIGHT;
    let w = h * EU_ASPECT;
    let (cx, cy) = (b.x as f32 + b.w as f32 / 2.0, b.y as f32 + b.h as f32 / 2.0);
    let slope = b.tilt.tan();
    COMPANION_SHIFTS
        .iter()
        .map(|shift| {
            let dx = shift * w;
            PlateBox {
                tilt: b.tilt,
                ..clip_box(
                    cx + dx,
                    cy + dx * slope,
                    w,
                    h,
                    frame_w,
                    frame_h,
                    b.confidence,
                )
            }
        })
        .collect()
}

/// True when a companion's read replaces the read of the box it came
/// from: a [`fuller_european`] read, at least as sure.
fn outreads(companion: &PlateRead, piece: &PlateRead) -> bool {
    fuller_european(companion, piece) && companion.confidence >= piece.confidence
}

/// True when a companion's read fits a European serial format and reads
/// more of the plate than the box it came from: more characters, or as
/// many where the box's read fits no European format (a piece that took a
/// character at its edge for another, `BL374K8` of `BL374KB`).
fn fuller_european(companion: &PlateRead, piece: &PlateRead) -> bool {
    let (c, p) = (companion.text.chars().count(), piece.text.chars().count());
    formats::matches_format(&companion.text, Family::Eu)
        && (c > p || (c == p && !formats::matches_format(&piece.text, Family::Eu)))
}

/// Boxes whose overlap (IoU) exceeds this are taken for one plate: pooled
/// ([`pool_boxes`]), and stored once by ingest.
const SAME_PLATE_IOU: f32 = 0.3;

/// Each plate's boxes' reads pooled, as a crop's views are: `reads` (best
/// first) fall into clusters of boxes on one plate (each overlapping its
/// best-ranked box by more than [`SAME_PLATE_IOU`]), and in each the read
/// whose text the whole cluster supports most takes the place and score of
/// its best-ranked box (the boxes from there to its own place move down
/// one, their order kept). A text's support is the sum over the cluster's
/// boxes of the box's score times that box's probability of the text (0
/// where its alternates lack it), times the text's format odds: boxes of
/// one plate are more framings of it, and a text several of them read is
/// likelier than one box's surer read.
fn pool_boxes(reads: &mut [(usize, BoxRead)]) {
    let mut clustered = vec![false; reads.len()];
    for lead in 0..reads.len() {
        if clustered[lead] {
            continue;
        }
        let members: Vec<usize> = (lead..reads.len())
            .filter(|&j| {
                !clustered[j] && (j == lead || overlaps(&reads[j].1.bbox, &reads[lead].1.bbox))
            })
            .collect();
        let support = |text: &str| -> f32 {
            members
                .iter()
                .map(|&j| {
                    let r = &reads[j].1;
                    let p = r.read.candidates.iter().find(|c| c.text == text);
                    box_weight(&r.bbox) * p.map_or(0.0, |c| c.confidence)
                })
                .sum()
        };
        let mut best = (lead, f32::NEG_INFINITY);
        for &j in &members {
            clustered[j] = true;
            let read = &reads[j].1.read;
            if read.text.chars().count() < MIN_PLATE_CHARS {
                continue;
            }
            let s = support(&read.text) * frame_odds(read);
            if s > best.1 {
                best = (j, s);
            }
        }
        if best.0 != lead {
            let score = reads[lead].1.score;
            reads[lead..=best.0].rotate_right(1);
            clustered[lead..=best.0].rotate_right(1);
            reads[lead].1.score = reads[lead].1.score.max(score);
        }
    }
}

/// A frame's reads, best first, with every whole serial moved up to the
/// place (and score) of its best-ranked piece (see [`is_whole_of`]): a box
/// on a piece of a serial split by a seal or crest often reads surer than
/// the box on the whole, whose gap confuses the reader.
fn wholes_first(mut reads: Vec<BoxRead>) -> Vec<BoxRead> {
    let mut i = 0;
    while i < reads.len() {
        match (i + 1..reads.len()).find(|&j| is_whole_of(&reads[j], &reads[i])) {
            Some(j) => {
                let mut whole = reads.remove(j);
                whole.score = whole.score.max(reads[i].score);
                reads.insert(i, whole);
                // Strictly longer each time, so this ends.
            }
            None => i += 1,
        }
    }
    reads
}

/// True when `whole` reads the serial of which `piece` read a part: its
/// box extends the piece's along the text line, its text holds the
/// piece's and more, and it fits a serial format of its family. (Whether the piece
/// fits one tells little: most pieces of five or more characters have
/// some US state's shape.)
fn is_whole_of(whole: &BoxRead, piece: &BoxRead) -> bool {
    let (w, p) = (&whole.read.text, &piece.read.text);
    w.len() > p.len()
        && p.len() >= MIN_PLATE_CHARS
        && w.contains(p.as_str())
        && whole.bbox.extends(&piece.bbox)
        && formats::matches_format(w, whole.read.family)
}

/// Best score first; stable, so equal scores keep the localiser's order.
fn rank(reads: &mut [(usize, BoxRead)]) {
    reads.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
}

/// How likely a box is the plate its read says: the box's score times the
/// read's confidence, times its [`frame_odds`] and its [`word_odds`]. A
/// sure read in no format can lose to an unsure one in a format (one us-dev
/// photo), but the odds win more frames than they lose: without them 1,000
/// generated frames (`synth-frames --seed 6301` and `6302`) read 824 first
/// plates right against 839 (decoder 8), eu-dev one photo fewer, us-dev as
/// many. A read of fewer than [`MIN_PLATE_CHARS`] characters scores 0: the
/// reader says there is no plate text there (or a lone character of a
/// sticker or a sign), however sure it is of that.
pub fn plate_score(bbox: &PlateBox, read: &PlateRead) -> f32 {
    if read.text.chars().count() < MIN_PLATE_CHARS {
        return 0.0;
    }
    box_weight(bbox) * read.confidence * frame_odds(read) * word_odds(read)
}

/// The odds that a read in no format and with no digit but 0 or 1 is a
/// plate rather than other text of the frame: `1 / sqrt(8)`, half the
/// format prior's log odds against, fixed before it was measured; else 1.
/// Model names, dealers' and shop signs are mostly letters, and nearly
/// every plate has a digit; the reader writes a US read's O and I as 0 and
/// 1 (decoder 8), so those two do not count. A personalised plate of
/// letters only pays it too, against other text, and against pieces of
/// itself alike. It weighs places, not one plate's texts: [`pool_boxes`]
/// leaves it out, and so does a crop's decoder. Measured in the
/// seventy-first session (run 113, 5 views): on generated frames on a car
/// (`synth-frames --on-car`, seeds 6407 and 6408, 1,000 frames, none seen
/// before) 823 first plates right against 799; plain frames (seeds 6301
/// and 6302) 825 against 823; us-dev and eu-dev unchanged (`RUNS.md`).
fn word_odds(read: &PlateRead) -> f32 {
    if looks_like_plate(read) {
        1.0
    } else {
        (-ocr::decode::FORMAT_BONUS / 2.0).exp()
    }
}

/// True when `read` has a digit 2-9 or is in a format (a short number
/// too): what [`word_odds`] leaves at 1 and [`stored`] keeps beside a
/// frame's first read.
fn looks_like_plate(read: &PlateRead) -> bool {
    formats::is_short_number(&read.text)
        || formats::matches_format(&read.text, read.family)
        || read.text.chars().any(|c| ('2'..='9').contains(&c))
}

/// A read's format odds in a photo's ranking of its boxes: the decoder's
/// (`e^format_prior`: 8 when the text fits a serial format of the crop's
/// family, else 1), as it ranks a crop's alternates, save that a short
/// number ([`formats::is_short_number`]) counts as no format. A box on a
/// piece of a serial's digits (`701` of `WXT 7701`) or on a sticker reads
/// one: with their odds, 1,000 generated frames (`synth-frames --seed 6301`
/// and `6302`) read 836 first plates right against 838 without (decoder 9).
fn frame_odds(read: &PlateRead) -> f32 {
    if formats::is_short_number(&read.text) {
        1.0
    } else {
        ocr::decode::format_prior(&read.text, read.family).exp()
    }
}

/// A box's weight in a read's score: its localiser score, at least 0.05
/// so that a sure read of a box the localiser barely kept still counts.
fn box_weight(bbox: &PlateBox) -> f32 {
    bbox.confidence.max(0.05)
}

impl FrameReader for PlateReader {
    fn model_version(&self) -> String {
        self.version.clone()
    }

    fn on_cpu(&self) -> bool {
        self.gpu.is_none()
    }

    fn read(&self, frames: &[&Planes]) -> Result<Vec<Vec<FoundPlate>>> {
        let all = self.read_all(frames, BOXES_PER_FRAME)?;
        Ok(frames
            .iter()
            .zip(all)
            .map(|(frame, reads)| {
                stored(&reads)
                    .into_iter()
                    .map(|k| {
                        let r = &reads[k];
                        FoundPlate {
                            bbox: r.bbox,
                            text: r.read.text.clone(),
                            confidence: r.read.confidence,
                            alternates: r
                                .read
                                .candidates
                                .iter()
                                .skip(1)
                                .map(|c| (c.text.clone(), c.confidence))
                                .collect(),
                            char_confidence: r.read.char_confidences.clone(),
                            region: r.read.region.clone(),
                            crop_jpeg: crop_jpeg(frame, &r.bbox, 85),
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

/// Which of a frame's `reads` (best first) ingest stores, by index: each
/// read [`is_stored`] that repeats no kept read's text and overlaps no kept
/// read's box; then, where a kept read looks like a plate's (a digit 2-9,
/// or a format: [`looks_like_plate`]), the kept reads of letters in no format
/// are dropped but the first-ranked. A car's model name, a dealer's frame
/// or a sign beside a plate would otherwise be stored as a plate seen
/// wherever that car goes: 1,000 generated frames on a car stored 1,131
/// texts other than their plate, and 355 with this, while 814 of their
/// plates were stored against 815 (`models/ocr-v2/RUNS.md`, "What ingest
/// stores"). A personalised plate of letters only is kept where it ranks
/// first, or where nothing in its frame looks more like a plate.
pub fn stored(reads: &[BoxRead]) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::new();
    for (k, r) in reads.iter().enumerate() {
        if is_stored(&r.read)
            && !kept
                .iter()
                .any(|&j| reads[j].read.text == r.read.text || overlaps(&reads[j].bbox, &r.bbox))
        {
            kept.push(k);
        }
    }
    let plate_like = |k: usize| looks_like_plate(&reads[k].read);
    if kept.iter().any(|&k| plate_like(k)) {
        let first = kept.first().copied();
        kept.retain(|&k| Some(k) == first || plate_like(k));
    }
    kept
}

/// True when ingest stores `read` as a plate read: at least
/// [`MIN_PLATE_CHARS`] characters, at least [`MIN_READ_CONFIDENCE`] sure,
/// and not a state's name or slogan ([`formats::is_printed_word`]): a box
/// on a plate's header reads `TEXAS` surely, and stored it would be a
/// "plate" seen at every camera of the state. `alpr recognize` still lists
/// such reads, ranked as they read. A vanity serial spelling a state's name
/// is the price.
fn is_stored(read: &PlateRead) -> bool {
    read.text.len() >= MIN_PLATE_CHARS
        && read.confidence >= MIN_READ_CONFIDENCE
        && !formats::is_printed_word(&read.text)
}

/// True when two boxes are taken for one plate ([`SAME_PLATE_IOU`]).
fn overlaps(a: &PlateBox, b: &PlateBox) -> bool {
    a.iou(b) > SAME_PLATE_IOU
}

/// The box plus [`MARGIN`], clamped to the frame, as 8-bit grey
/// ([`prep::luma`]), levelled by the box's tilt: what the reader reads of
/// a box.
pub fn gray_crop(frame: &Planes, b: &PlateBox) -> GrayImage {
    let (fw, fh) = (frame.width() as i64, frame.height() as i64);
    let mx = (b.w as f32 * MARGIN.0) as i64;
    let my = (b.h as f32 * MARGIN.1) as i64;
    let x0 = (b.x as i64 - mx).clamp(0, fw - 1);
    let y0 = (b.y as i64 - my).clamp(0, fh - 1);
    let x1 = (b.x as i64 + b.w as i64 + mx).clamp(x0 + 1, fw);
    let y1 = (b.y as i64 + b.h as i64 + my).clamp(y0 + 1, fh);
    let px = frame.plane(0);
    // The grey the reader was trained on (not the localiser's BT.601).
    let luma = |x: i64, y: i64| -> u32 {
        let [r, g, bl, _] =
            px[(y.clamp(0, fh - 1) * fw + x.clamp(0, fw - 1)) as usize].to_le_bytes();
        u32::from(prep::luma(r, g, bl))
    };
    let (w, h) = ((x1 - x0) as u32, (y1 - y0) as u32);
    if b.tilt.abs() < DESKEW_MIN {
        return GrayImage::from_fn(w, h, |x, y| {
            image::Luma([luma(x0 + x as i64, y0 + y as i64) as u8])
        });
    }
    // Levelled: output pixel (x, y) is the frame at the box's centre plus
    // its offset turned by the tilt, interpolated between the four pixels
    // around it (Q8 weights).
    let (cx, cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
    let (sin, cos) = b.tilt.sin_cos();
    GrayImage::from_fn(w, h, |x, y| {
        let dx = x as f32 + 0.5 - w as f32 / 2.0;
        let dy = y as f32 + 0.5 - h as f32 / 2.0;
        let sx = cx + dx * cos - dy * sin - 0.5;
        let sy = cy + dx * sin + dy * cos - 0.5;
        let (ix, iy) = (sx.floor(), sy.floor());
        let fx = ((sx - ix) * 256.0) as u32;
        let fy = ((sy - iy) * 256.0) as u32;
        let (ix, iy) = (ix as i64, iy as i64);
        let top = luma(ix, iy) * (256 - fx) + luma(ix + 1, iy) * fx;
        let bottom = luma(ix, iy + 1) * (256 - fx) + luma(ix + 1, iy + 1) * fx;
        image::Luma([((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plate::formats::Family;

    /// A box of confidence 0.5.
    fn plate_box(x: u32, y: u32, w: u32, h: u32, tilt: f32) -> PlateBox {
        PlateBox {
            x,
            y,
            w,
            h,
            confidence: 0.5,
            tilt,
        }
    }

    /// A read of `text` alone, `confidence` sure, with the US formats.
    fn read(text: &str, confidence: f32) -> PlateRead {
        PlateRead {
            text: text.to_string(),
            confidence,
            char_confidences: vec![confidence; text.len()],
            candidates: Vec::new(),
            region: None,
            family: Family::Us,
        }
    }

    #[test]
    fn reads_under_two_characters_rank_last_and_known_formats_gain_their_odds() {
        let bbox = plate_box(0, 0, 100, 40, 0.0);
        assert_eq!(plate_score(&bbox, &read("", 0.99)), 0.0);
        assert_eq!(plate_score(&bbox, &read("K", 0.99)), 0.0);
        assert!(plate_score(&bbox, &read("K7", 0.99)) > 0.0);
        assert!(formats::matches_format("7ABC123", Family::Us));
        assert!(!formats::matches_format("7ABCI23", Family::Any));
        let fits = plate_score(&bbox, &read("7ABC123", 0.1));
        let other = plate_score(&bbox, &read("7ABCI23", 0.1));
        assert!((fits / other - 8.0).abs() < 1e-4, "{fits} / {other}");
        assert!((other - 0.05).abs() < 1e-6);
        // Britain's shape gains its odds on a European read only.
        let gb = read("AB12CDE", 0.1);
        assert_eq!(plate_score(&bbox, &gb), other);
        let gb = PlateRead {
            family: Family::Eu,
            ..gb
        };
        assert_eq!(plate_score(&bbox, &gb), fits);
        // A short number fits a US format in a crop, but gains no odds in
        // a photo: a piece of a serial or a sticker reads one too.
        assert!(formats::matches_format("7701", Family::Us));
        assert_eq!(plate_score(&bbox, &read("7701", 0.1)), other);
    }

    #[test]
    fn ingest_stores_a_frames_plates_and_not_the_words_beside_them() {
        // US-shaped boxes, 200 pixels apart unless they overlap.
        let at = |x: u32, text: &str, confidence: f32| box_read(text, x, 60, confidence);
        let kept = |reads: &[BoxRead]| -> Vec<String> {
            stored(reads)
                .into_iter()
                .map(|k| reads[k].read.text.clone())
                .collect()
        };
        // A model name and a sign's word beside a serial are dropped; a
        // model name with a digit stays.
        let frame = [
            at(0, "7ABC123", 0.6),
            at(200, "CAMRY", 0.99),
            at(400, "PHARMACY", 0.9),
            at(600, "F150", 0.9),
        ];
        assert_eq!(kept(&frame), ["7ABC123", "F150"]);
        // The frame's first read is always kept: the ranking put it there.
        let frame = [at(0, "CAMRY", 0.99), at(200, "7ABC123", 0.6)];
        assert_eq!(kept(&frame), ["CAMRY", "7ABC123"]);
        // A personalised plate of letters stays where it ranks first, or
        // where nothing else looks like a plate.
        let frame = [at(0, "JAZZ", 0.9), at(200, "7ABC123", 0.6)];
        assert_eq!(kept(&frame), ["JAZZ", "7ABC123"]);
        let frame = [at(0, "GOLF", 0.9), at(200, "JAZZ", 0.6)];
        assert_eq!(kept(&frame), ["GOLF", "JAZZ"]);
        // As before: unsure, short and repeated reads, overlapping boxes and
        // a state's name are not stored.
        let frame = [
            at(0, "7ABC123", 0.6),
            at(10, "7ABC128", 0.5),
            at(200, "7ABC123", 0.5),
            at(400, "8XYZ999", 0.1),
            at(600, "TEXAS", 0.9),
            at(800, "K", 0.9),
        ];
        assert_eq!(kept(&frame), ["7ABC123"]);
        assert!(stored(&[]).is_empty());
    }

    #[test]
    fn letters_in_no_format_rank_below_other_text_and_formats_keep_their_odds() {
        let bbox = plate_box(0, 0, 100, 40, 0.0);
        let digits = plate_score(&bbox, &read("7ABCI23", 0.1));
        // A model name or a sign's word; 0 and 1 are the reader's O and I.
        for word in ["COROLLA", "SP0RT", "HYBR1D"] {
            assert!(!formats::matches_format(word, Family::Any), "{word}");
            let w = plate_score(&bbox, &read(word, 0.1));
            assert!((digits / w - 8f32.sqrt()).abs() < 1e-4, "{word}: {w}");
        }
        // A serial in a format whose digits are all 0 and 1 keeps the
        // format's odds, and a short number its own.
        assert!(formats::matches_format("ABC1001", Family::Us));
        let s = plate_score(&bbox, &read("ABC1001", 0.1));
        assert!((s / digits - 8.0).abs() < 1e-4, "{s}");
        assert!(formats::is_short_number("1001"));
        assert_eq!(plate_score(&bbox, &read("1001", 0.1)), digits);
    }

    /// A frame with a dark line through (100, 50) at `degrees`, and the
    /// row of the darkest pixel in each middle column of its crop.
    fn line_rows(degrees: f32, tilt: f32) -> Vec<u32> {
        let (w, h) = (200u32, 100u32);
        let slope = degrees.to_radians().tan();
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let on_line = (y - (50.0 + (x - 100.0) * slope)).abs() < 3.0;
                let v = if on_line { 20 } else { 230 };
                crate::gpu::pack_rgba(v, v, v, 255)
            })
            .collect();
        let frame = Planes::new(w, h, 1, data).unwrap();
        let crop = gray_crop(&frame, &plate_box(40, 20, 120, 60, tilt));
        let (cw, ch) = crop.dimensions();
        (cw / 5..cw * 4 / 5)
            .map(|x| (0..ch).min_by_key(|&y| crop.get_pixel(x, y)[0]).unwrap())
            .collect()
    }

    fn spread(rows: &[u32]) -> u32 {
        rows.iter().max().unwrap() - rows.iter().min().unwrap()
    }

    #[test]
    fn ingest_stores_plate_texts_only() {
        assert!(is_stored(&read("7ABC123", 0.9)));
        assert!(is_stored(&read("K7", MIN_READ_CONFIDENCE)));
        assert!(!is_stored(&read("K", 0.9)));
        assert!(!is_stored(&read("7ABC123", 0.1)));
        // A plate's header, however sure.
        assert!(!is_stored(&read("TEXAS", 1.0)));
        assert!(is_stored(&read("TEXAS1", 0.9)));
    }

    #[test]
    fn a_crop_has_the_grey_the_reader_was_trained_on() {
        // A level box on a coloured frame: the crop is the frame's pixels
        // in the reader's grey, as a crop file or a generated plate of
        // those colours is prepared (not the localiser's BT.601).
        let (w, h) = (40u32, 20u32);
        let colour = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 12) as u8, ((x * y) % 256) as u8])
        });
        let data = colour
            .pixels()
            .map(|p| crate::gpu::pack_rgba(p[0], p[1], p[2], 255))
            .collect();
        let frame = Planes::new(w, h, 1, data).unwrap();
        let crop = gray_crop(&frame, &plate_box(10, 5, 20, 10, 0.0));
        // The box plus 6% and 12% of its width and height a side.
        let (x0, y0) = (10 - 1, 5 - 1);
        assert_eq!(crop.dimensions(), (22, 12));
        let want = image::imageops::crop_imm(&colour, x0, y0, 22, 12).to_image();
        assert_eq!(crop, prep::grey(&want));
    }

    #[test]
    fn tilted_crops_are_levelled() {
        // 8 degrees over the middle 77 columns: about 11 rows of drift.
        assert!(spread(&line_rows(8.0, 0.0)) >= 8);
        assert!(spread(&line_rows(8.0, 8f32.to_radians())) <= 1);
        assert!(spread(&line_rows(-8.0, (-8f32).to_radians())) <= 1);
        // Under DESKEW_MIN the crop is taken as it is.
        assert!(spread(&line_rows(2.0, 2f32.to_radians())) >= 2);
    }

    fn box_read(text: &str, x: u32, w: u32, score: f32) -> BoxRead {
        BoxRead {
            bbox: plate_box(x, 100, w, 30, 0.0),
            read: PlateRead {
                family: Family::of_size(w, 30),
                ..read(text, score)
            },
            score,
        }
    }

    fn texts(reads: &[BoxRead]) -> Vec<&str> {
        reads.iter().map(|r| r.read.text.as_str()).collect()
    }

    #[test]
    fn a_whole_serial_takes_the_place_of_its_piece() {
        // `BL <crest> 473KO`: the piece `473KO` (x 160-260) read surer than
        // the whole (x 100-260), which fits the Slovak `@@###@@`.
        let piece = box_read("473KO", 160, 100, 2.0);
        let whole = box_read("BL473KO", 100, 160, 0.8);
        let other = box_read("7ABC123", 400, 150, 1.0);
        assert_eq!(whole.read.family, Family::Eu);
        assert!(formats::matches_format("BL473KO", Family::Eu));
        let out = wholes_first(vec![piece.clone(), other.clone(), whole.clone()]);
        assert_eq!(texts(&out), ["BL473KO", "473KO", "7ABC123"]);
        assert_eq!(out[0].score, 2.0);
        // Not where the boxes are apart, the text differs, or the whole
        // fits no format.
        let apart = box_read("BL473KO", 600, 160, 0.8);
        let out = wholes_first(vec![piece.clone(), other.clone(), apart]);
        assert_eq!(texts(&out), ["473KO", "7ABC123", "BL473KO"]);
        let unlike = box_read("BL472KO", 100, 160, 0.8);
        let out = wholes_first(vec![piece.clone(), unlike]);
        assert_eq!(texts(&out), ["473KO", "BL472KO"]);
        let junk = box_read("BL473KOXY7", 100, 200, 0.8);
        assert!(!formats::matches_format("BL473KOXY7", Family::Any));
        let out = wholes_first(vec![piece.clone(), junk]);
        assert_eq!(texts(&out), ["473KO", "BL473KOXY7"]);
        // A whole already first stays so, with its own score.
        let out = wholes_first(vec![whole, piece]);
        assert_eq!((texts(&out)[0], out[0].score), ("BL473KO", 0.8));
    }

    /// A read with these alternates (text, probability), the first its text.
    fn read_of(x: u32, w: u32, score: f32, candidates: &[(&str, f32)]) -> (usize, BoxRead) {
        let mut r = box_read(candidates[0].0, x, w, score);
        r.read.candidates = candidates
            .iter()
            .map(|&(text, confidence)| ocr::Candidate {
                text: text.to_string(),
                confidence,
            })
            .collect();
        (0, r)
    }

    #[test]
    fn a_plates_boxes_pool_their_reads() {
        // Two boxes on one plate (IoU 0.9) and one apart: the first reads
        // `JW4T7P` surer, but the two together support `JM4T7P` more
        // (0.5 x 0.3 + 0.5 x 0.7 against 0.5 x 0.6 + 0.5 x 0.1).
        let lead = read_of(100, 100, 2.0, &[("JW4T7P", 0.6), ("JM4T7P", 0.3)]);
        let apart = read_of(400, 100, 1.5, &[("7ABC123", 0.9)]);
        let other = read_of(110, 90, 1.0, &[("JM4T7P", 0.7), ("JW4T7P", 0.1)]);
        let mut reads = vec![lead.clone(), apart.clone(), other.clone()];
        pool_boxes(&mut reads);
        let out: Vec<BoxRead> = reads.into_iter().map(|(_, r)| r).collect();
        assert_eq!(texts(&out), ["JM4T7P", "JW4T7P", "7ABC123"]);
        assert_eq!(out[0].score, 2.0);
        assert_eq!(out[0].bbox, other.1.bbox);
        assert_eq!(out[1].score, 2.0);
        // A box apart is never pooled: the same reads, the second box moved
        // away, stay as they were.
        let moved = read_of(700, 90, 1.0, &[("JM4T7P", 0.7), ("JW4T7P", 0.1)]);
        let mut reads = vec![lead.clone(), apart.clone(), moved];
        pool_boxes(&mut reads);
        let out: Vec<BoxRead> = reads.into_iter().map(|(_, r)| r).collect();
        assert_eq!(texts(&out), ["JW4T7P", "7ABC123", "JM4T7P"]);
        // A read under two characters never wins, however supported.
        let short = read_of(110, 90, 1.0, &[("D", 0.99)]);
        let weak = read_of(100, 100, 2.0, &[("JW4T7P", 0.1), ("D", 0.9)]);
        let mut reads = vec![weak, short];
        pool_boxes(&mut reads);
        assert_eq!(reads[0].1.read.text, "JW4T7P");
    }

    #[test]
    fn companions_stand_on_the_boxs_line_in_european_proportions() {
        // A 100 x 50 box centred on (250, 125): companions 33 x 155.1,
        // centred there and 38.8 pixels (a quarter of their width) either
        // side, with the box's score.
        let b = plate_box(200, 100, 100, 50, 0.0);
        let cs = companions(&b, 1000, 500);
        let centre = |c: &PlateBox| (c.x as f32 + c.w as f32 / 2.0, c.y as f32 + c.h as f32 / 2.0);
        assert_eq!(cs.len(), COMPANION_SHIFTS.len());
        for (c, want_x) in cs.iter().zip([250.0, 211.2, 288.8]) {
            assert_eq!((c.w, c.h), (155, 33));
            assert_eq!(Family::of_size(c.w, c.h), Family::Eu);
            let (x, y) = centre(c);
            assert!(
                (x - want_x).abs() <= 1.0 && (y - 125.0).abs() <= 1.0,
                "{c:?}"
            );
            assert_eq!((c.confidence, c.tilt), (0.5, 0.0));
        }
        // On a tilted line they follow it; at the frame's edge they are cut.
        let tilt = 0.1f32;
        let cs = companions(&plate_box(200, 100, 100, 50, tilt), 1000, 500);
        let (_, right_y) = centre(&cs[2]);
        assert!(
            (right_y - (125.0 + 38.8 * tilt.tan())).abs() <= 1.0,
            "{right_y}"
        );
        assert_eq!(cs[2].tilt, tilt);
        let cs = companions(&plate_box(0, 100, 100, 50, 0.0), 1000, 500);
        assert_eq!((cs[1].x, cs[1].w), (0, 89));
    }

    #[test]
    fn a_european_companion_takes_the_place_of_a_piece() {
        // `BE 955CX` read as the piece `055CX` in a 2:1 box; companions
        // read `BE955CX` (a European format) 0.5 sure, `BE9S5CX` (none)
        // 0.9 and `E955CX` (one, shorter) 0.8.
        let piece = BoxRead {
            read: read("055CX", 0.4),
            ..box_read("055CX", 160, 60, 2.0)
        };
        let other = box_read("7ABC123", 400, 150, 1.0);
        let boxes = companions(&piece.bbox, 1000, 500);
        let texts_read = [("BE9S5CX", 0.9), ("BE955CX", 0.5), ("E955CX", 0.8)];
        let reads: Vec<(PlateBox, PlateRead)> = boxes
            .iter()
            .zip(texts_read)
            .map(|(b, (text, confidence))| (*b, read(text, confidence)))
            .collect();
        assert!(formats::matches_format("BE955CX", Family::Eu));
        assert!(!formats::matches_format("BE9S5CX", Family::Eu));
        let mut rs = vec![piece.clone(), other.clone()];
        promote_companion(&mut rs, &reads, 8);
        assert_eq!(texts(&rs), ["BE955CX", "055CX", "7ABC123"]);
        assert_eq!((rs[0].bbox, rs[0].score), (boxes[1], 2.0));
        // At most `max` are kept.
        let mut rs = vec![piece.clone(), other.clone()];
        promote_companion(&mut rs, &reads, 2);
        assert_eq!(texts(&rs), ["BE955CX", "055CX"]);
        // Not when the piece is the surer read, nor when no companion is
        // both European and longer.
        let sure = BoxRead {
            read: read("055CX", 0.6),
            ..piece.clone()
        };
        let mut rs = vec![sure, other.clone()];
        promote_companion(&mut rs, &reads, 8);
        assert_eq!(texts(&rs), ["055CX", "7ABC123"]);
        let mut rs = vec![piece.clone(), other];
        promote_companion(&mut rs, &reads[..1], 8);
        assert_eq!(texts(&rs), ["055CX", "7ABC123"]);
        let mut none = Vec::new();
        promote_companion(&mut none, &reads, 8);
        assert!(none.is_empty());
    }

    #[test]
    fn a_european_companion_as_long_replaces_a_piece_outside_every_format() {
        // A 2:1 box on `BL 374KB` read `BL374K8` (no European format),
        // a companion `BL374KB` (Slovakia's) as sure: it takes the place.
        // Of a piece that fits a European format, or with a shorter read,
        // it does not.
        assert!(!formats::matches_format("BL374K8", Family::Eu));
        assert!(formats::matches_format("BL374KB", Family::Eu));
        assert!(formats::matches_format("BE955CX", Family::Eu));
        let other = box_read("7ABC123", 400, 150, 1.0);
        for (piece, companion, promoted) in [
            ("BL374K8", "BL374KB", true),
            ("BE955CX", "BL374KB", false),
            ("BL374K8", "L374KB", false),
        ] {
            let piece = BoxRead {
                read: read(piece, 0.3),
                ..box_read(piece, 160, 60, 2.0)
            };
            let boxes = companions(&piece.bbox, 1000, 500);
            let reads = [(boxes[0], read(companion, 0.3))];
            let mut rs = vec![piece.clone(), other.clone()];
            promote_companion(&mut rs, &reads, 8);
            let first = if promoted {
                companion
            } else {
                &piece.read.text
            };
            assert_eq!(rs[0].read.text, first, "{piece:?}");
        }
    }

    /// A generated European plate in a frame, and a 2:1 box on the right
    /// 60% of it read as a piece (`5CX`, not sure at all): in one view
    /// and in five (the screen), a companion's longer European read takes
    /// the first place, with the companion's box; a frame whose first box
    /// is European-shaped gets none.
    #[test]
    fn a_european_companion_reads_the_plate_a_piece_box_cut() {
        let synth = crate::synth_plates::PlateSynth::new().unwrap();
        let index = (0..).find(|&i| synth.sample(7, i).style == "eu").unwrap();
        let scene = synth.scene(7, index, 1280, 720);
        let (fw, fh) = scene.image.dimensions();
        let rgba = image::DynamicImage::ImageRgb8(scene.image).to_rgba8();
        let frame = Planes::from_rgba8(fw, fh, 1, rgba.as_raw()).unwrap();
        let [x, y, w, h] = scene.bbox;
        let pw = w * 6 / 10;
        let piece = BoxRead {
            bbox: plate_box(
                x + w - pw,
                (y + h / 2).saturating_sub(pw / 4),
                pw,
                pw / 2,
                0.0,
            ),
            read: read("5CX", 0.0),
            score: 0.1,
        };
        let eu_shaped = BoxRead {
            bbox: plate_box(x, y, w, h, 0.0),
            ..piece.clone()
        };
        let boxes = companions(&piece.bbox, fw, fh);
        for views in [1, 5] {
            let ocr = ocr::Reader::embedded().unwrap().with_views(views).unwrap();
            let reader = PlateReader::new(None, ocr).unwrap();
            let mut ranked = vec![vec![piece.clone()], vec![eu_shaped.clone()]];
            reader
                .read_companions(&[&frame, &frame], &mut ranked, 8)
                .unwrap();
            let first = &ranked[0][0];
            assert!(boxes.contains(&first.bbox), "{views} views: {first:?}");
            assert!(
                fuller_european(&first.read, &piece.read),
                "{:?}",
                first.read
            );
            assert_eq!(
                first.score,
                0.1_f32.max(plate_score(&first.bbox, &first.read))
            );
            assert_eq!(texts(&ranked[0][1..]), ["5CX"]);
            assert_eq!(
                ranked[1].len(),
                1,
                "a European-shaped box has no companions"
            );
            eprintln!("{views} views: {} read {:?}", scene.text, first.read.text);
        }
    }

    /// With more views, only each frame's first [`POOLED_BOXES`] boxes of
    /// the one-view ranking are read again, pooled, and ranked again among
    /// themselves; the boxes after them keep their one-view reads.
    #[test]
    fn more_views_read_again_the_first_boxes_only() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ingest/gate");
        let frames: Vec<Planes> = ["frame0000.jpg", "frame0001.jpg"]
            .iter()
            .map(|f| super::super::decode::decode_file(&dir.join(f)).unwrap())
            .collect();
        let refs: Vec<&Planes> = frames.iter().collect();
        let five = ocr::Reader::embedded().unwrap().with_views(5).unwrap();
        let once = PlateReader::new(None, ocr::Reader::embedded().unwrap()).unwrap();
        let pooled = PlateReader::new(None, five.clone()).unwrap();
        let a = once.read_all(&refs, BOXES_PER_FRAME).unwrap();
        let b = pooled.read_all(&refs, BOXES_PER_FRAME).unwrap();
        let n = POOLED_BOXES;
        for (frame, (a, b)) in frames.iter().zip(a.iter().zip(&b)) {
            assert_eq!(a.len(), b.len());
            assert!(a.len() > n, "{} boxes", a.len());
            let boxes = |rs: &[BoxRead]| {
                let mut v: Vec<_> = rs
                    .iter()
                    .map(|r| (r.bbox.x, r.bbox.y, r.bbox.w, r.bbox.h))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(boxes(&a[..n]), boxes(&b[..n]));
            let crops: Vec<GrayImage> = b[..n].iter().map(|r| gray_crop(frame, &r.bbox)).collect();
            let again = five.read_batch(None, &crops).unwrap();
            for (r, read) in b[..n].iter().zip(&again) {
                assert_eq!(r.read.text, read.text);
                assert_eq!(r.read.confidence, read.confidence);
                assert_eq!(r.score, plate_score(&r.bbox, read));
            }
            assert!(b[..n].windows(2).all(|w| w[0].score >= w[1].score));
            for (x, y) in a[n..].iter().zip(&b[n..]) {
                assert_eq!(x.bbox, y.bbox);
                assert_eq!((&x.read.text, x.score), (&y.read.text, y.score));
            }
        }
    }

    /// The version keys the ingest ledger: it must not change between
    /// processes or exports (a regression: it once hashed the file bytes,
    /// whose header order varies).
    #[test]
    fn the_model_version_is_the_weights_identity() {
        let a = PlateReader::new(None, ocr::Reader::embedded().unwrap()).unwrap();
        let model = ocr::Reader::embedded().unwrap().model().clone();
        let bytes = model.to_bytes().unwrap();
        let again = ocr::Model::from_bytes(&bytes, std::path::Path::new("x")).unwrap();
        let b = PlateReader::new(None, ocr::Reader::from_model(again)).unwrap();
        assert_eq!(a.model_version(), b.model_version());
        assert!(
            a.model_version().starts_with("alpr-")
                && a.model_version()
                    .ends_with(&format!("/decode-{}", ocr::decode::VERSION)),
            "{}",
            a.model_version()
        );
        // Reads pooled over views differ: a new version, so `--reprocess`
        // re-reads them.
        let c = PlateReader::new(
            None,
            ocr::Reader::embedded().unwrap().with_views(5).unwrap(),
        );
        let c = c.unwrap().model_version();
        assert_eq!(c, format!("{}/views-5", a.model_version()));
        let five = ocr::Reader::embedded().unwrap().with_views(5).unwrap();
        let d = PlateReader::new(None, five.with_sure(0.9).unwrap());
        assert_eq!(
            d.unwrap().model_version(),
            format!("{}/views-5-sure-0.9", a.model_version())
        );
    }
}
