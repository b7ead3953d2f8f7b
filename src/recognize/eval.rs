//! `alpr eval`: an agency's own labelled photographs in, the same figures as
//! `../shared/bin/score-plates` out, so accuracy can be checked on data we
//! never saw. Labels: a folder of `X.jpg` + `X.txt`
//! (`file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE`), or a `groundtruth.csv`
//! (`file,state,PLATE`) of plate crops beside it.
//!
//! Texts are compared after upper-casing and dropping spaces and dashes, as
//! `score-plates` does; the metric definitions follow it line for line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::detect::PlateBox;
use crate::error::{Error, Result};

/// Overlap for a box to count as found.
pub const IOU_MIN: f32 = 0.4;

/// One labelled image.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub bbox: Option<[f32; 4]>,
    pub text: String,
    /// The plate's US state (`CA`), where the labels give one (the crops'
    /// `state` column).
    pub state: Option<String>,
}

/// What was predicted for one image: plates best first, each with its
/// candidates' texts, and the time spent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prediction {
    pub plates: Vec<(PlateBox, String, Vec<String>)>,
    pub ms: f64,
    /// The best plate's state, where the reader named one.
    pub region: Option<String>,
    /// The texts `alpr ingest` would store ([`super::plate_reader::stored`];
    /// photos only).
    pub stored: Vec<String>,
}

/// What `alpr ingest` would store of the photos (not a `score-plates`
/// figure): how often the labelled plate is among the texts stored, and
/// how many other texts are stored an image (other plates of the photo,
/// misreads, pieces, words: the junk an analyst's searches would meet).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StoredFigures {
    pub plate: f64,
    pub others_per_image: f64,
}

/// How the reader's states compare with the labels' (not a
/// `score-plates` figure).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StateFigures {
    /// Labelled plates with a state.
    pub labelled: usize,
    /// Of those, plates whose best read names a state.
    pub named: usize,
    /// Of those, the labelled state.
    pub right: usize,
}

/// Where the labelled plates' widths (pixels) are split in
/// [`Figures::by_width`]: an agency sees how large a plate must be in its
/// cameras' frames to be read. Below 80 a 7-character serial has about 8
/// pixels a character.
pub const WIDTH_BINS: [u32; 3] = [80, 120, 180];

/// The figures of the labelled plates whose width falls in one bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WidthBin {
    /// Pixels, from (inclusive).
    pub min_px: u32,
    /// Pixels, up to (exclusive); none for the last bin.
    pub max_px: Option<u32>,
    pub images: usize,
    pub top1: f64,
    pub top10: f64,
}

/// The figures, as `score-plates` prints them, and top-1 and top-10 by
/// plate width.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub images: usize,
    pub predicted: usize,
    pub det_recall: Option<f64>,
    pub top1: f64,
    pub top1_any: Option<f64>,
    pub top10: Option<f64>,
    pub char_acc: f64,
    pub ms_p50: Option<f64>,
    pub ms_p95: Option<f64>,
    /// End to end only (labels with boxes): the bins of [`WIDTH_BINS`]
    /// that hold a plate. Not a `score-plates` figure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_width: Vec<WidthBin>,
    /// Where the labels give states. Not a `score-plates` figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub states: Option<StateFigures>,
    /// End to end only: the reader alone at the labelled boxes (set by
    /// the caller, [`score_at_boxes`]). Not a `score-plates` figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_labelled_boxes: Option<AtBoxes>,
    /// End to end only. Not a `score-plates` figure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredFigures>,
}

/// The reader alone on each photo's labelled box, cut as the localiser's
/// boxes are (the same margin), as if the localiser had found every plate
/// exactly: beside the end-to-end figures, it tells the localiser's misses
/// from the reader's. Not a `score-plates` figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtBoxes {
    /// Labelled boxes; one that was not read (its photo undecodable, the
    /// box outside it) counts as a miss.
    pub images: usize,
    pub top1: f64,
    pub top10: f64,
}

/// [`AtBoxes`] of `reads` (by file name: the best text and its
/// alternates) against the labels that have a box; none without such labels.
pub fn score_at_boxes(
    labels: &BTreeMap<String, Label>,
    reads: &BTreeMap<String, (String, Vec<String>)>,
) -> Option<AtBoxes> {
    let boxed: Vec<(&String, &Label)> = labels.iter().filter(|(_, l)| l.bbox.is_some()).collect();
    if boxed.is_empty() {
        return None;
    }
    let (mut top1, mut top10) = (0usize, 0usize);
    for (name, label) in &boxed {
        let Some((best, alternates)) = reads.get(*name) else {
            continue;
        };
        let (right, listed) = judge(&label.text, best, alternates);
        top1 += usize::from(right);
        top10 += usize::from(listed);
    }
    let n = boxed.len() as f64;
    Some(AtBoxes {
        images: boxed.len(),
        top1: top1 as f64 / n,
        top10: top10 as f64 / n,
    })
}

/// Whether a read's best text is `truth` (normalised), and whether it or
/// one of its alternates is.
fn judge(truth: &str, best: &str, alternates: &[String]) -> (bool, bool) {
    let right = norm(best) == truth;
    (right, right || alternates.iter().any(|a| norm(a) == truth))
}

/// A label's box `[x, y, w, h]` in a `frame_w x frame_h` photo, clipped to
/// it; none where nothing of it is inside.
pub fn labelled_box(b: &[f32; 4], frame_w: u32, frame_h: u32) -> Option<PlateBox> {
    let x0 = b[0].max(0.0);
    let y0 = b[1].max(0.0);
    let x1 = (b[0] + b[2]).min(frame_w as f32);
    let y1 = (b[1] + b[3]).min(frame_h as f32);
    (x1 - x0 >= 1.0 && y1 - y0 >= 1.0).then_some(PlateBox {
        x: x0 as u32,
        y: y0 as u32,
        w: (x1 - x0) as u32,
        h: (y1 - y0) as u32,
        confidence: 1.0,
        tilt: 0.0,
    })
}

/// Upper-case, without whitespace and dashes.
pub fn norm(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j + 1] + 1)
                    .min(cur[j] + 1)
                    .min(prev[j] + usize::from(ca != cb)),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `max(0, 1 - levenshtein(pred, gt) / len(gt))`.
pub fn char_acc(pred: &str, gt: &str) -> f64 {
    let (p, g): (Vec<char>, Vec<char>) = (pred.chars().collect(), gt.chars().collect());
    if g.is_empty() {
        return f64::from(u8::from(p == g));
    }
    (1.0 - levenshtein(&p, &g) as f64 / g.len() as f64).max(0.0)
}

fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    let k = (s.len().checked_sub(1)? as f64) * q;
    let (lo, hi) = (k as usize, (k as usize + 1).min(s.len() - 1));
    Some(s[lo] + (s[hi] - s[lo]) * (k - lo as f64))
}

fn iou(a: &PlateBox, b: &[f32; 4]) -> f32 {
    let truth = PlateBox {
        x: b[0].max(0.0) as u32,
        y: b[1].max(0.0) as u32,
        w: b[2].max(0.0) as u32,
        h: b[3].max(0.0) as u32,
        confidence: 1.0,
        tilt: 0.0,
    };
    a.iou(&truth)
}

/// How one labelled image was read, as [`score`] counts it.
struct Outcome {
    /// The best plate's text, normalised (empty where none was found).
    best: String,
    /// A plate's box overlaps the labelled one (photos only).
    found: Option<bool>,
    top1: bool,
    top1_any: bool,
    top10: bool,
    /// The labelled plate among the texts stored, and how many other
    /// texts are stored (photos only).
    stored: Option<(bool, usize)>,
}

impl Outcome {
    fn of(label: &Label, p: &Prediction) -> Outcome {
        let texts: Vec<String> = p.plates.iter().map(|(_, t, _)| norm(t)).collect();
        let best = texts.first().cloned().unwrap_or_default();
        Outcome {
            found: label
                .bbox
                .map(|b| p.plates.iter().any(|(bx, _, _)| iou(bx, &b) >= IOU_MIN)),
            top1: best == label.text,
            top1_any: texts.contains(&label.text),
            top10: p.plates.iter().zip(&texts).any(|((_, _, cands), t)| {
                *t == label.text || cands.iter().any(|c| norm(c) == label.text)
            }),
            stored: label.bbox.map(|_| {
                let stored: Vec<String> = p.stored.iter().map(|t| norm(t)).collect();
                let plate = stored.contains(&label.text);
                (plate, stored.len() - usize::from(plate))
            }),
            best,
        }
    }
}

/// One labelled image's line of `alpr eval --per-image`: what was read,
/// whether it counts, and for photos whether a box was found and what the
/// reader alone read at the labelled box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageResult {
    pub image: String,
    pub label: String,
    /// The best plate's text (normalised); empty where nothing was read.
    pub read: String,
    pub top1: bool,
    pub top10: bool,
    /// A found box overlaps the labelled one (IoU >= 0.4); photos only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub box_found: Option<bool>,
    /// The reader alone at the labelled box: its best text, and whether it
    /// is right at top-1 and among the ten; photos only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_box: Option<(String, bool, bool)>,
    /// What ingest would store: whether the labelled plate, and how many
    /// other texts; photos only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<(bool, usize)>,
}

/// Every labelled image's [`ImageResult`], by file name.
pub fn per_image(
    labels: &BTreeMap<String, Label>,
    preds: &BTreeMap<String, Prediction>,
    at_box_reads: &BTreeMap<String, (String, Vec<String>)>,
) -> Vec<ImageResult> {
    labels
        .iter()
        .map(|(name, label)| {
            let empty = Prediction::default();
            let o = Outcome::of(label, preds.get(name).unwrap_or(&empty));
            let at_box = label.bbox.map(|_| match at_box_reads.get(name) {
                Some((best, alternates)) => {
                    let (right, listed) = judge(&label.text, best, alternates);
                    (norm(best), right, listed)
                }
                None => (String::new(), false, false),
            });
            ImageResult {
                image: name.clone(),
                label: label.text.clone(),
                read: o.best,
                top1: o.top1,
                top10: o.top10,
                box_found: o.found,
                at_box,
                stored: o.stored,
            }
        })
        .collect()
}

/// Scores `preds` against `labels` (by file name).
pub fn score(labels: &BTreeMap<String, Label>, preds: &BTreeMap<String, Prediction>) -> Figures {
    let n = labels.len().max(1) as f64;
    let (mut det, mut top1, mut any, mut top10, mut acc) = (0usize, 0usize, 0usize, 0usize, 0.0);
    let mut ms = Vec::new();
    // Per width bin: images, top-1, top-10.
    let mut bins = [(0usize, 0usize, 0usize); WIDTH_BINS.len() + 1];
    let (mut plates_stored, mut others_stored) = (0usize, 0usize);
    let end_to_end = labels.values().any(|l| l.bbox.is_some());
    for (name, label) in labels {
        let empty = Prediction::default();
        let p = preds.get(name).unwrap_or(&empty);
        if preds.contains_key(name) {
            ms.push(p.ms);
        }
        let o = Outcome::of(label, p);
        det += usize::from(o.found == Some(true));
        top1 += usize::from(o.top1);
        any += usize::from(o.top1_any);
        top10 += usize::from(o.top10);
        acc += char_acc(&o.best, &label.text);
        if let Some((plate, others)) = o.stored {
            plates_stored += usize::from(plate);
            others_stored += others;
        }
        if let Some(b) = &label.bbox {
            let bin = &mut bins[WIDTH_BINS.partition_point(|&edge| edge as f32 <= b[2])];
            bin.0 += 1;
            bin.1 += usize::from(o.top1);
            bin.2 += usize::from(o.top10);
        }
    }
    let by_width = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(i, &(n, right, listed))| WidthBin {
            min_px: if i == 0 { 0 } else { WIDTH_BINS[i - 1] },
            max_px: WIDTH_BINS.get(i).copied(),
            images: n,
            top1: right as f64 / n as f64,
            top10: listed as f64 / n as f64,
        })
        .collect();
    let share = |k: usize| k as f64 / n;
    let stated: Vec<(&String, &String)> = labels
        .iter()
        .filter_map(|(name, l)| Some((name, l.state.as_ref()?)))
        .collect();
    let states = (!stated.is_empty()).then(|| {
        let regions: Vec<(&String, &String)> = stated
            .iter()
            .filter_map(|&(name, state)| Some((preds.get(name)?.region.as_ref()?, state)))
            .collect();
        StateFigures {
            labelled: stated.len(),
            named: regions.len(),
            right: regions.iter().filter(|(r, s)| r == s).count(),
        }
    });
    Figures {
        images: labels.len(),
        predicted: labels.keys().filter(|k| preds.contains_key(*k)).count(),
        det_recall: end_to_end.then(|| share(det)),
        top1: share(top1),
        top1_any: end_to_end.then(|| share(any)),
        top10: end_to_end.then(|| share(top10)),
        char_acc: acc / n,
        ms_p50: percentile(&ms, 0.5),
        ms_p95: percentile(&ms, 0.95),
        by_width,
        states,
        at_labelled_boxes: None,
        stored: end_to_end.then(|| StoredFigures {
            plate: share(plates_stored),
            others_per_image: share(others_stored),
        }),
    }
}

/// Labels of an end-to-end folder (`X.txt` beside each image).
pub fn folder_labels(dir: &Path) -> Result<BTreeMap<String, Label>> {
    let mut out = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in entries {
        let path = e.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_none_or(|x| x != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let line = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let parts: Vec<&str> = if line.contains('\t') {
            line.trim().split('\t').collect()
        } else {
            line.split_whitespace().collect()
        };
        let bad = || Error::BadData {
            path: path.clone(),
            message: "expected file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE".into(),
        };
        if parts.len() < 6 {
            return Err(bad());
        }
        // A box is four finite numbers (`NaN` and `inf` parse as floats).
        let num = |s: &str| {
            s.trim()
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(bad)
        };
        let bbox = [
            num(parts[1])?,
            num(parts[2])?,
            num(parts[3])?,
            num(parts[4])?,
        ];
        let name = Path::new(parts[0].trim())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.insert(
            name,
            Label {
                bbox: Some(bbox),
                text: norm(&parts[5..].join(" ")),
                state: None,
            },
        );
    }
    if out.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: no X.txt labels (file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE)",
            dir.display()
        )));
    }
    Ok(out)
}

/// Labels of crops (`file,state,PLATE` rows).
pub fn crop_labels(csv: &Path) -> Result<BTreeMap<String, Label>> {
    let text = std::fs::read_to_string(csv).map_err(|e| Error::io(csv, e))?;
    let out: BTreeMap<String, Label> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() >= 3).then(|| {
                let name = Path::new(f[0].trim())
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (
                    name,
                    Label {
                        bbox: None,
                        text: norm(f[f.len() - 1]),
                        state: Some(f[1].trim().to_ascii_uppercase()).filter(|s| !s.is_empty()),
                    },
                )
            })
        })
        .collect();
    if out.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: no file,state,PLATE rows",
            csv.display()
        )));
    }
    Ok(out)
}

impl Figures {
    /// The lines `score-plates` prints.
    pub fn lines(&self) -> Vec<String> {
        let pct = |v: f64| format!("{:.1}%", 100.0 * v);
        let opt = |v: Option<f64>| v.map_or("-".to_string(), pct);
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        let mut out = vec![
            format!("{:<11} {}", "images", self.images),
            format!("{:<11} {}", "predicted", self.predicted),
        ];
        if self.det_recall.is_some() {
            out.push(format!("{:<11} {}", "det_recall", opt(self.det_recall)));
        }
        out.push(format!("{:<11} {}", "top1", pct(self.top1)));
        if self.top1_any.is_some() {
            out.push(format!("{:<11} {}", "top1_any", opt(self.top1_any)));
            out.push(format!("{:<11} {}", "top10", opt(self.top10)));
        }
        out.push(format!("{:<11} {}", "char_acc", pct(self.char_acc)));
        out.push(format!("{:<11} {}", "ms_p50", ms(self.ms_p50)));
        out.push(format!("{:<11} {}", "ms_p95", ms(self.ms_p95)));
        if !self.by_width.is_empty() {
            out.push("by labelled plate width (not a score-plates figure):".into());
        }
        for b in &self.by_width {
            let span = match b.max_px {
                Some(max) => format!("{}-{} px", b.min_px, max - 1),
                None => format!("{}+ px", b.min_px),
            };
            out.push(format!(
                "  {span:<10} {:>5} images  top1 {:>6}  top10 {:>6}",
                b.images,
                pct(b.top1),
                pct(b.top10)
            ));
        }
        if let Some(b) = &self.at_labelled_boxes {
            out.push(format!(
                "at labelled boxes (the reader alone; not a score-plates figure): top1 {}  top10 {}",
                pct(b.top1),
                pct(b.top10)
            ));
        }
        if let Some(s) = &self.stored {
            out.push(format!(
                "stored by ingest (not a score-plates figure): the plate in {}, {:.2} other texts an image",
                pct(s.plate),
                s.others_per_image
            ));
        }
        if let Some(s) = &self.states {
            out.push(format!(
                "states      {} of {} named, {} right ({} of those named; not a score-plates figure)",
                s.named,
                s.labelled,
                s.right,
                pct(s.right as f64 / s.named.max(1) as f64)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(x: u32) -> PlateBox {
        PlateBox {
            x,
            y: 0,
            w: 10,
            h: 5,
            confidence: 1.0,
            tilt: 0.0,
        }
    }

    #[test]
    fn figures_follow_score_plates() {
        let mut labels = BTreeMap::new();
        for (name, text) in [
            ("a.jpg", "7ABC123"),
            ("b.jpg", "8XYZ999"),
            ("c.jpg", "5KLM246"),
        ] {
            labels.insert(
                name.to_string(),
                Label {
                    bbox: Some([0.0, 0.0, 10.0, 5.0]),
                    text: text.into(),
                    state: None,
                },
            );
        }
        let mut preds = BTreeMap::new();
        preds.insert(
            "a.jpg".to_string(),
            Prediction {
                plates: vec![(bx(0), "7abc-123".into(), vec![])],
                ms: 10.0,
                region: None,
                stored: vec!["7ABC123".into(), "CAMRY".into()],
            },
        );
        preds.insert(
            "b.jpg".to_string(),
            Prediction {
                plates: vec![
                    (bx(50), "NOPE".into(), vec![]),
                    (bx(1), "8XYZ99".into(), vec!["8XYZ999".into()]),
                ],
                ms: 30.0,
                region: None,
                stored: vec!["NOPE".into()],
            },
        );
        let f = score(&labels, &preds);
        assert_eq!((f.images, f.predicted), (3, 2));
        assert!((f.det_recall.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert!((f.top1 - 1.0 / 3.0).abs() < 1e-9);
        assert!((f.top1_any.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert!((f.top10.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        // a: 1, b: best "NOPE" vs 8XYZ999: 1 - 7/7 = 0, c: nothing: 0.
        assert!((f.char_acc - 1.0 / 3.0).abs() < 1e-9);
        // Ingest would store a's plate and a word beside it, b's wrong read
        // only, nothing of c.
        let stored = f.stored.unwrap();
        assert!((stored.plate - 1.0 / 3.0).abs() < 1e-9);
        assert!((stored.others_per_image - 2.0 / 3.0).abs() < 1e-9);
        // Image by image, the same counts; b's labelled box read by the
        // reader alone lists the truth second, c's was never read.
        let mut at_box = BTreeMap::new();
        at_box.insert("a.jpg".to_string(), ("7ABC123".to_string(), vec![]));
        at_box.insert(
            "b.jpg".to_string(),
            ("8XYZ99".to_string(), vec!["8XYZ999".to_string()]),
        );
        let lines = per_image(&labels, &preds, &at_box);
        type AtBox = Option<(String, bool, bool)>;
        fn row(l: &ImageResult) -> (&str, &str, bool, bool, Option<bool>, AtBox) {
            (
                &l.image,
                &l.read,
                l.top1,
                l.top10,
                l.box_found,
                l.at_box.clone(),
            )
        }
        assert_eq!(
            lines.iter().map(row).collect::<Vec<_>>(),
            [
                (
                    "a.jpg",
                    "7ABC123",
                    true,
                    true,
                    Some(true),
                    Some(("7ABC123".into(), true, true))
                ),
                (
                    "b.jpg",
                    "NOPE",
                    false,
                    true,
                    Some(true),
                    Some(("8XYZ99".into(), false, true))
                ),
                (
                    "c.jpg",
                    "",
                    false,
                    false,
                    Some(false),
                    Some((String::new(), false, false))
                ),
            ]
        );
        let stored: Vec<_> = lines.iter().map(|l| l.stored).collect();
        assert_eq!(
            stored,
            [Some((true, 1)), Some((false, 1)), Some((false, 0))]
        );
        assert_eq!((f.ms_p50, f.ms_p95), (Some(20.0), Some(29.0)));
        assert_eq!(char_acc("8XYZ99", "8XYZ999"), 1.0 - 1.0 / 7.0);
        // All three plates are 10 px wide: one bin, the figures' own.
        assert_eq!(f.by_width.len(), 1);
        let b = &f.by_width[0];
        assert_eq!((b.min_px, b.max_px, b.images), (0, Some(80), 3));
        assert_eq!((b.top1, b.top10), (f.top1, f.top10.unwrap()));
    }

    #[test]
    fn plates_are_binned_by_their_labelled_width() {
        let mut labels = BTreeMap::new();
        let mut preds = BTreeMap::new();
        // Widths on and around the edges; the 120 px plate and the widest
        // are read.
        for (i, w) in [79.0, 80.0, 119.0, 120.0, 179.0, 180.0, 900.0]
            .into_iter()
            .enumerate()
        {
            let name = format!("{i}.jpg");
            labels.insert(
                name.clone(),
                Label {
                    bbox: Some([0.0, 0.0, w, 20.0]),
                    text: "ABC123".into(),
                    state: None,
                },
            );
            let text = if w == 120.0 || w == 900.0 {
                "ABC123"
            } else {
                "X"
            };
            preds.insert(
                name,
                Prediction {
                    plates: vec![(bx(0), text.into(), vec![])],
                    ms: 1.0,
                    region: None,
                    stored: vec![],
                },
            );
        }
        let f = score(&labels, &preds);
        let got: Vec<(u32, Option<u32>, usize, f64)> = f
            .by_width
            .iter()
            .map(|b| (b.min_px, b.max_px, b.images, b.top1))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, Some(80), 1, 0.0),
                (80, Some(120), 2, 0.0),
                (120, Some(180), 2, 0.5),
                (180, None, 2, 0.5),
            ]
        );
        let lines = f.lines();
        assert!(
            lines.contains(&"  120-179 px     2 images  top1  50.0%  top10  50.0%".to_string()),
            "{lines:#?}"
        );
        // Crops carry no boxes: no bins, and the JSON stays score-plates'.
        let crops: BTreeMap<String, Label> = labels
            .into_iter()
            .map(|(k, l)| (k, Label { bbox: None, ..l }))
            .collect();
        let f = score(&crops, &preds);
        assert!(f.by_width.is_empty());
        assert!(!serde_json::to_string(&f).unwrap().contains("by_width"));
        assert_eq!(f.states, None, "no label gives a state");
    }

    #[test]
    fn states_are_counted_where_the_labels_give_them() {
        let mut labels = BTreeMap::new();
        let mut preds = BTreeMap::new();
        // Labelled CA, TX, TX, none; named CA, NV, nothing, CA.
        for (i, (state, region)) in [
            (Some("CA"), Some("CA")),
            (Some("TX"), Some("NV")),
            (Some("TX"), None),
            (None, Some("CA")),
        ]
        .into_iter()
        .enumerate()
        {
            let name = format!("{i}.png");
            let label = Label {
                bbox: None,
                text: "ABC123".into(),
                state: state.map(String::from),
            };
            labels.insert(name.clone(), label);
            let pred = Prediction {
                plates: vec![(bx(0), "ABC123".into(), vec![])],
                ms: 1.0,
                region: region.map(String::from),
                stored: vec![],
            };
            preds.insert(name, pred);
        }
        let f = score(&labels, &preds);
        let want = StateFigures {
            labelled: 3,
            named: 2,
            right: 1,
        };
        assert_eq!(f.states, Some(want));
        let line =
            "states      2 of 3 named, 1 right (50.0% of those named; not a score-plates figure)";
        assert!(f.lines().contains(&line.to_string()), "{:#?}", f.lines());
    }

    #[test]
    fn the_reader_at_labelled_boxes_is_scored_on_the_boxed_labels() {
        let label = |bbox: Option<[f32; 4]>, text: &str| Label {
            bbox,
            text: text.into(),
            state: None,
        };
        let boxed = Some([0.0, 0.0, 10.0, 5.0]);
        let mut labels = BTreeMap::new();
        labels.insert("a.jpg".to_string(), label(boxed, "7ABC123"));
        labels.insert("b.jpg".to_string(), label(boxed, "8XYZ999"));
        labels.insert("c.jpg".to_string(), label(boxed, "5KLM246"));
        labels.insert("d.jpg".to_string(), label(boxed, "1DEF234"));
        // No box: not one of the figure's images.
        labels.insert("e.png".to_string(), label(None, "2GHI345"));
        let mut reads = BTreeMap::new();
        // Right first (compared as score-plates compares), right among the
        // alternates, wrong; d.jpg was not read (a miss).
        reads.insert("a.jpg".to_string(), ("7abc-123".to_string(), vec![]));
        let alternates = vec!["8XYZ998".to_string(), "8xyz 999".to_string()];
        reads.insert("b.jpg".to_string(), ("8XYZ990".to_string(), alternates));
        reads.insert("c.jpg".to_string(), ("5KLM248".to_string(), vec![]));
        reads.insert("e.png".to_string(), ("2GHI345".to_string(), vec![]));
        let want = AtBoxes {
            images: 4,
            top1: 0.25,
            top10: 0.5,
        };
        assert_eq!(score_at_boxes(&labels, &reads), Some(want));
        labels.retain(|_, l| l.bbox.is_none());
        assert_eq!(score_at_boxes(&labels, &reads), None);
        let f = Figures {
            at_labelled_boxes: Some(want),
            ..score(&BTreeMap::new(), &BTreeMap::new())
        };
        let line = "at labelled boxes (the reader alone; not a score-plates figure): top1 25.0%  top10 50.0%";
        assert!(f.lines().contains(&line.to_string()), "{:#?}", f.lines());
    }

    #[test]
    fn photo_labels_need_a_box_of_four_finite_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let label = dir.path().join("a.txt");
        std::fs::write(&label, "a.jpg\t10\t20\t30\t15\t7ABC-123\n").unwrap();
        let labels = folder_labels(dir.path()).unwrap();
        assert_eq!(labels["a.jpg"].bbox, Some([10.0, 20.0, 30.0, 15.0]));
        assert_eq!(labels["a.jpg"].text, "7ABC123");
        for bad in [
            "a.jpg\t10\tNaN\t30\t15\tX",
            "a.jpg\t10\t20\tinf\t15\tX",
            "a.jpg\t10\t20\t30",
        ] {
            std::fs::write(&label, bad).unwrap();
            let e = folder_labels(dir.path()).unwrap_err().to_string();
            assert!(
                e.contains("a.txt") && e.contains("expected file"),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn labelled_boxes_are_clipped_to_their_photo() {
        let b = labelled_box(&[10.0, 20.0, 30.0, 15.0], 100, 50).unwrap();
        assert_eq!((b.x, b.y, b.w, b.h), (10, 20, 30, 15));
        // Half outside on the left and the bottom: the part inside.
        let b = labelled_box(&[-10.0, 40.0, 30.0, 20.0], 100, 50).unwrap();
        assert_eq!((b.x, b.y, b.w, b.h), (0, 40, 20, 10));
        // Wholly outside, or empty.
        assert_eq!(labelled_box(&[120.0, 10.0, 30.0, 15.0], 100, 50), None);
        assert_eq!(labelled_box(&[10.0, 60.0, 30.0, 15.0], 100, 50), None);
        assert_eq!(labelled_box(&[10.0, 10.0, 0.0, 15.0], 100, 50), None);
    }
}
