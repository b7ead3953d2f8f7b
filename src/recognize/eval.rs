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
}

/// What was predicted for one image: plates best first, each with its
/// candidates' texts, and the time spent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prediction {
    pub plates: Vec<(PlateBox, String, Vec<String>)>,
    pub ms: f64,
}

/// The figures, as `score-plates` prints them.
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

/// Scores `preds` against `labels` (by file name).
pub fn score(labels: &BTreeMap<String, Label>, preds: &BTreeMap<String, Prediction>) -> Figures {
    let n = labels.len().max(1) as f64;
    let (mut det, mut top1, mut any, mut top10, mut acc) = (0usize, 0usize, 0usize, 0usize, 0.0);
    let mut ms = Vec::new();
    let end_to_end = labels.values().any(|l| l.bbox.is_some());
    for (name, label) in labels {
        let empty = Prediction::default();
        let p = preds.get(name).unwrap_or(&empty);
        if preds.contains_key(name) {
            ms.push(p.ms);
        }
        let texts: Vec<String> = p.plates.iter().map(|(_, t, _)| norm(t)).collect();
        if let Some(b) = &label.bbox {
            det += usize::from(p.plates.iter().any(|(bx, _, _)| iou(bx, b) >= IOU_MIN));
        }
        let best = texts.first().cloned().unwrap_or_default();
        top1 += usize::from(best == label.text);
        any += usize::from(texts.contains(&label.text));
        top10 += usize::from(p.plates.iter().zip(&texts).any(|((_, _, cands), t)| {
            *t == label.text || cands.iter().any(|c| norm(c) == label.text)
        }));
        acc += char_acc(&best, &label.text);
    }
    let share = |k: usize| k as f64 / n;
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
        let num = |s: &str| s.trim().parse::<f32>().map_err(|_| bad());
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
                },
            );
        }
        let mut preds = BTreeMap::new();
        preds.insert(
            "a.jpg".to_string(),
            Prediction {
                plates: vec![(bx(0), "7abc-123".into(), vec![])],
                ms: 10.0,
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
        assert_eq!((f.ms_p50, f.ms_p95), (Some(20.0), Some(29.0)));
        assert_eq!(char_acc("8XYZ99", "8XYZ999"), 1.0 - 1.0 / 7.0);
    }
}
