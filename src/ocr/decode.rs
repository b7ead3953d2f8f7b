//! Per-slot probabilities -> plate texts. A read is a sequence of slots:
//! characters, then pads ("no character") to the last slot; a character
//! after a pad makes a sequence invalid, so it is never proposed. A
//! sequence's confidence is the product of its slots' probabilities, pads
//! included, so "ABC" and "ABC1" compete fairly.
//!
//! ```text
//! probs [8][37] --for each length L = 1..=8: beam of width k over slots 0..L (exact:
//!   independent factors) x pads on slots L..8--> candidates --best k--> PlateRead
//! ```

use serde::Serialize;

use crate::ocr::model::{ALPHABET, CLASSES, PAD, SLOTS};

/// Alternates kept per read, the best included.
pub const TOP_K: usize = 10;

/// One candidate text and its confidence (0..=1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub text: String,
    pub confidence: f32,
}

/// What the reader makes of one crop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlateRead {
    /// The best text (empty only when every slot is most likely a pad and no
    /// character sequence has a non-zero probability).
    pub text: String,
    /// The best text's probability.
    pub confidence: f32,
    /// Each character's probability in its slot.
    pub char_confidences: Vec<f32>,
    /// The best texts, best first (the first is `text`).
    pub candidates: Vec<Candidate>,
}

/// Decodes one crop's `SLOTS * CLASSES` probabilities, keeping the `k` best
/// texts.
pub fn decode(probs: &[f32], k: usize) -> PlateRead {
    assert_eq!(probs.len(), SLOTS * CLASSES, "one crop's probabilities");
    let k = k.max(1);
    let lp = |slot: usize, class: usize| probs[slot * CLASSES + class].max(1e-30).ln();
    // pad_tail[l]: log-probability that slots l.. are all pads.
    let mut pad_tail = [0.0f32; SLOTS + 1];
    for s in (0..SLOTS).rev() {
        pad_tail[s] = pad_tail[s + 1] + lp(s, PAD);
    }
    // Beams of character prefixes; exact top-k because slots are independent.
    let mut beams: Vec<(f32, Vec<u8>)> = vec![(0.0, Vec::new())];
    let mut all: Vec<(f32, Vec<u8>)> = Vec::new();
    for slot in 0..SLOTS {
        let mut next: Vec<(f32, Vec<u8>)> = Vec::with_capacity(beams.len() * PAD);
        for (score, prefix) in &beams {
            for class in 0..PAD {
                let mut p = prefix.clone();
                p.push(class as u8);
                next.push((score + lp(slot, class), p));
            }
        }
        next.sort_by(|a, b| b.0.total_cmp(&a.0));
        next.truncate(k);
        for (score, prefix) in &next {
            all.push((score + pad_tail[slot + 1], prefix.clone()));
        }
        beams = next;
    }
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    all.truncate(k);
    let text_of = |classes: &[u8]| -> String {
        classes
            .iter()
            .map(|&c| char::from(ALPHABET[c as usize]))
            .collect()
    };
    let candidates: Vec<Candidate> = all
        .iter()
        .map(|(score, classes)| Candidate {
            text: text_of(classes),
            confidence: score.exp(),
        })
        .collect();
    let (text, confidence, char_confidences) = match all.first() {
        Some((score, classes)) => (
            text_of(classes),
            score.exp(),
            classes
                .iter()
                .enumerate()
                .map(|(s, &c)| probs[s * CLASSES + c as usize])
                .collect(),
        ),
        None => (String::new(), 0.0, Vec::new()),
    };
    PlateRead {
        text,
        confidence,
        char_confidences,
        candidates,
    }
}

/// The class of a plate character (`0-9`, `A-Z`, either case), if any.
pub fn class_of(c: char) -> Option<usize> {
    let c = c.to_ascii_uppercase();
    ALPHABET.iter().position(|&a| char::from(a) == c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probabilities that read `text` with `p` per slot, the rest spread.
    fn probs_for(text: &str, p: f32) -> Vec<f32> {
        let mut out = vec![(1.0 - p) / (CLASSES - 1) as f32; SLOTS * CLASSES];
        for s in 0..SLOTS {
            let class = text.chars().nth(s).map_or(PAD, |c| class_of(c).unwrap());
            out[s * CLASSES + class] = p;
        }
        out
    }

    #[test]
    fn reads_the_argmax_and_stops_at_the_pad() {
        let r = decode(&probs_for("ABC123", 0.9), TOP_K);
        assert_eq!(r.text, "ABC123");
        assert_eq!(r.char_confidences.len(), 6);
        assert!((r.confidence - 0.9f32.powi(8)).abs() < 1e-4);
        assert_eq!(r.candidates[0].text, "ABC123");
    }

    #[test]
    fn candidates_are_sorted_distinct_and_at_most_k() {
        let r = decode(&probs_for("7XYZ12", 0.6), TOP_K);
        assert_eq!(r.candidates.len(), TOP_K);
        for pair in r.candidates.windows(2) {
            assert!(pair[0].confidence >= pair[1].confidence);
        }
        let mut texts: Vec<_> = r.candidates.iter().map(|c| c.text.clone()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), TOP_K);
    }

    #[test]
    fn the_second_best_swaps_the_least_sure_character() {
        let mut probs = probs_for("AB12", 0.95);
        // Slot 2: '1' 0.55, 'I' 0.4.
        let row = &mut probs[2 * CLASSES..3 * CLASSES];
        row.fill(0.05 / 35.0);
        row[class_of('1').unwrap()] = 0.55;
        row[class_of('I').unwrap()] = 0.40;
        let r = decode(&probs, 3);
        assert_eq!(r.text, "AB12");
        assert_eq!(r.candidates[1].text, "ABI2");
        assert!((r.char_confidences[2] - 0.55).abs() < 1e-6);
    }

    #[test]
    fn a_character_after_a_pad_is_never_read() {
        // Slot 2 is most likely a pad, slot 3 a character: "AB" + pad + "C"
        // is invalid; the best valid reads are "AB" or "ABxC"-like.
        let mut probs = probs_for("AB", 0.9);
        let row = &mut probs[2 * CLASSES..3 * CLASSES];
        row.fill(0.2 / 36.0);
        row[PAD] = 0.8;
        let row = &mut probs[3 * CLASSES..4 * CLASSES];
        row.fill(0.1 / 36.0);
        row[class_of('C').unwrap()] = 0.9;
        let r = decode(&probs, TOP_K);
        for c in &r.candidates {
            assert!(!c.text.is_empty());
            assert!(c.text.len() <= SLOTS);
        }
        // No candidate skips a slot: every text is a prefix reading.
        assert!(r.candidates.iter().all(|c| c.text.starts_with("AB")));
    }

    #[test]
    fn a_full_plate_uses_every_slot() {
        let r = decode(&probs_for("ABCD1234", 0.8), 1);
        assert_eq!(r.text, "ABCD1234");
        assert_eq!(r.candidates.len(), 1);
    }
}
