//! One read per vehicle pass: in footage the same plate is read in many
//! consecutive frames; they become one read, from the frame whose read was
//! most confident, with the alternates of all frames merged (each text's
//! best confidence; the other frames' best reads join the alternates) and
//! the number of frames kept.
//!
//! Two reads belong to one pass when they are at most [`MAX_GAP_US`] apart
//! and their texts are within one edit (OCR confusions count a quarter), so
//! a misread frame joins its pass instead of starting a new read.

use std::collections::HashMap;

use crate::plate::distance;
use crate::recognize::reader::FoundPlate;

/// Longest gap between two frames of one pass.
pub const MAX_GAP_US: i64 = 1_500_000;

/// Most alternates kept on a read.
pub const MAX_ALTERNATES: usize = 10;

/// A frame's reads, as they come out of the reader.
#[derive(Debug, Clone)]
pub struct FrameReads {
    pub frame: i64,
    pub ts_us: i64,
    pub plates: Vec<FoundPlate>,
}

/// A pass: the best frame's read, merged alternates, frame count.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    pub frame: i64,
    pub ts_us: i64,
    pub plate: FoundPlate,
    pub frames: u32,
}

struct Open {
    pass: Pass,
    last_ts: i64,
    seen: HashMap<String, f32>,
}

impl Open {
    fn close(mut self) -> Pass {
        self.seen.remove(&self.pass.plate.text);
        let mut alts: Vec<(String, f32)> = self.seen.into_iter().collect();
        alts.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        alts.truncate(MAX_ALTERNATES);
        self.pass.plate.alternates = alts;
        self.pass
    }
}

/// Passes being built from a stream of frames (in time order): memory
/// holds only the passes still open, however long the footage.
#[derive(Default)]
pub struct Passes {
    open: Vec<Open>,
}

fn merge(seen: &mut HashMap<String, f32>, text: &str, c: f32) {
    let e = seen.entry(text.to_string()).or_insert(c);
    *e = e.max(c);
}

impl Passes {
    /// Adds one frame's reads; returns the passes this frame closed (quiet
    /// for more than [`MAX_GAP_US`]).
    pub fn push(&mut self, f: FrameReads) -> Vec<Pass> {
        let (still, quiet): (Vec<Open>, Vec<Open>) = std::mem::take(&mut self.open)
            .into_iter()
            .partition(|o| f.ts_us - o.last_ts <= MAX_GAP_US);
        self.open = still;
        for p in f.plates {
            let near = self
                .open
                .iter_mut()
                // One plate per pass per frame: two cars can share a text
                // window, never a frame.
                .filter(|o| o.last_ts != f.ts_us)
                .map(|o| (distance(&o.pass.plate.text, &p.text), o))
                .filter(|(d, _)| *d <= 1.0)
                .min_by(|a, b| a.0.total_cmp(&b.0));
            match near {
                Some((_, o)) => {
                    merge(&mut o.seen, &p.text, p.confidence);
                    for (t, c) in &p.alternates {
                        merge(&mut o.seen, t, *c);
                    }
                    o.last_ts = f.ts_us;
                    o.pass.frames += 1;
                    if p.confidence > o.pass.plate.confidence {
                        o.pass.plate = p;
                        o.pass.frame = f.frame;
                        o.pass.ts_us = f.ts_us;
                    }
                }
                None => {
                    let mut seen = HashMap::new();
                    merge(&mut seen, &p.text, p.confidence);
                    for (t, c) in &p.alternates {
                        merge(&mut seen, t, *c);
                    }
                    self.open.push(Open {
                        pass: Pass {
                            frame: f.frame,
                            ts_us: f.ts_us,
                            plate: p,
                            frames: 1,
                        },
                        last_ts: f.ts_us,
                        seen,
                    });
                }
            }
        }
        sorted(quiet.into_iter().map(Open::close).collect())
    }

    /// Closes every pass still open.
    pub fn finish(self) -> Vec<Pass> {
        sorted(self.open.into_iter().map(Open::close).collect())
    }
}

fn sorted(mut passes: Vec<Pass>) -> Vec<Pass> {
    passes.sort_by_key(|p| (p.ts_us, p.frame, p.plate.text.clone()));
    passes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups the reads of consecutive frames (in time order) into passes, in
    /// the order their best frames appear.
    fn group(frames: Vec<FrameReads>) -> Vec<Pass> {
        let mut passes = Passes::default();
        let mut done: Vec<Pass> = frames.into_iter().flat_map(|f| passes.push(f)).collect();
        done.extend(passes.finish());
        sorted(done)
    }
    use crate::recognize::detect::PlateBox;

    fn plate(text: &str, c: f32) -> FoundPlate {
        FoundPlate {
            bbox: PlateBox {
                x: 0,
                y: 0,
                w: 10,
                h: 5,
                confidence: 1.0,
                tilt: 0.0,
            },
            text: text.into(),
            confidence: c,
            alternates: vec![(format!("{text}X"), c / 2.0)],
            char_confidence: vec![],
            region: None,
            crop_jpeg: vec![],
        }
    }

    fn frame(i: i64, plates: Vec<FoundPlate>) -> FrameReads {
        FrameReads {
            frame: i,
            ts_us: i * 200_000,
            plates,
        }
    }

    #[test]
    fn consecutive_frames_of_one_plate_make_one_read_from_the_best_frame() {
        let frames = vec![
            frame(0, vec![plate("7ABC123", 0.6)]),
            frame(1, vec![plate("7A8C123", 0.7), plate("5XYZ999", 0.9)]),
            frame(2, vec![plate("7ABC123", 0.95)]),
            frame(3, vec![plate("5XYZ999", 0.8)]),
            // 3 s later the same car again: a new pass.
            frame(18, vec![plate("7ABC123", 0.5)]),
        ];
        let passes = group(frames);
        let summary: Vec<(&str, u32, i64)> = passes
            .iter()
            .map(|p| (p.plate.text.as_str(), p.frames, p.frame))
            .collect();
        assert_eq!(
            summary,
            vec![("5XYZ999", 2, 1), ("7ABC123", 3, 2), ("7ABC123", 1, 18)]
        );
        let alts: Vec<&str> = passes[1]
            .plate
            .alternates
            .iter()
            .map(|a| a.0.as_str())
            .collect();
        assert_eq!(alts, vec!["7A8C123", "7ABC123X", "7A8C123X"]);
    }
}
