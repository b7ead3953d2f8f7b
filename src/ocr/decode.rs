//! Per-slot probabilities -> plate texts. A read is a sequence of slots:
//! characters, then pads ("no character") to the last slot; a character
//! after a pad makes a sequence invalid, so it is never proposed. A
//! sequence's probability is the product of its slots' probabilities, pads
//! included, so "ABC" and "ABC1" compete fairly.
//!
//! The network's slots are independent, so it cannot know that plates follow
//! serial formats. Decoding adds that knowledge as a prior: a text whose
//! shape is a known format ([`crate::plate::formats`]) gains
//! [`FORMAT_BONUS`] in log-probability, and alternates are ranked by that
//! adjusted score. It never forces a read into a format: a text that fits
//! none keeps its own score, and one the reader finds more than
//! `e^FORMAT_BONUS` (4) times likelier than every fitting text stays first.
//! Each candidate's `confidence` stays the reader's own probability.
//!
//! ```text
//! probs [8][37] --per slot: classes ranked, top k per kind (letter, digit, any)
//!   --beam of width k: every length 1..=8, any characters --> top k texts
//!   --beam of width k: each known shape (DLLLDDD, ...) --> top k texts each
//!   --score + FORMAT_BONUS if the shape is known --> best k --> PlateRead
//! ```
//!
//! The answer is exact (up to ties), not a beam's approximation: slots are
//! independent, so a beam of width k finds the k most probable texts of a
//! length or a shape. A text among the best k by adjusted score either fits
//! no known shape, and then fewer than k texts beat it in probability at
//! all (the bonus only lifts others), so it is among the top k texts; or
//! it fits a shape, and then fewer than k texts of that shape (which share
//! its bonus) beat it, so it is among that shape's top k.

use serde::Serialize;

use crate::ocr::model::{ALPHABET, CLASSES, PAD, SLOTS};
use crate::plate::formats;

/// Alternates kept per read, the best included.
pub const TOP_K: usize = 10;

/// Log-prior bonus for a text whose shape is a known serial format: ln 4,
/// prior odds of 4 to 1 that a plate carries an issuer's standard serial
/// rather than anything else (a personalised or special plate, a format the
/// table lacks).
///
/// Chosen from first principles and fixed, never fitted to an evaluation
/// set. Personalised plates are a minority of registrations in every US
/// state (the generator draws 12% of US samples as vanity plates, a
/// generous share), European plates follow national formats almost without
/// exception, and the style table is an impression of each issuer's
/// formats rather than a register of them, so its misses must stay cheap:
/// 4 to 1 is a modest odds. The per-text ratio a full Bayesian correction
/// would use is larger (known shapes are a small corner of all strings),
/// but it depends on how the reader's independent slots spread their
/// probability, which nothing here measures; a modest bonus only reorders
/// close calls, which is what a prior should do.
pub const FORMAT_BONUS: f32 = 2.0 * std::f32::consts::LN_2;

/// The least confidence of a read whose format names a state: below it the
/// read is more likely wrong than right, and so is a state taken from its
/// shape. Fixed a priori, not fitted to an evaluation set.
pub const REGION_MIN_CONFIDENCE: f32 = 0.5;

/// One candidate text and its confidence (0..=1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub text: String,
    /// The reader's own probability of `text` (no format prior).
    pub confidence: f32,
}

/// What the reader makes of one crop.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlateRead {
    /// The best text (empty only when every slot is most likely a pad and no
    /// character sequence has a non-zero probability).
    pub text: String,
    /// The best text's probability, as the reader gives it.
    pub confidence: f32,
    /// Each character's probability in its slot.
    pub char_confidences: Vec<f32>,
    /// The best texts, best first by adjusted score (the reader's
    /// log-probability plus [`FORMAT_BONUS`] for a known format), so their
    /// confidences need not be descending. The first is `text`.
    pub candidates: Vec<Candidate>,
    /// The plate's likely US state (`"CA"`) when `text` fits the formats of
    /// exactly one state ([`formats::likely_state`]) and the read's
    /// confidence is at least [`REGION_MIN_CONFIDENCE`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A character sequence as class indices, without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Seq {
    len: u8,
    classes: [u8; SLOTS],
}

impl Seq {
    const EMPTY: Seq = Seq {
        len: 0,
        classes: [0; SLOTS],
    };

    fn push(mut self, class: u8) -> Seq {
        self.classes[self.len as usize] = class;
        self.len += 1;
        self
    }

    fn classes(&self) -> &[u8] {
        &self.classes[..self.len as usize]
    }

    fn text(&self) -> String {
        self.classes()
            .iter()
            .map(|&c| char::from(ALPHABET[c as usize]))
            .collect()
    }
}

/// Log-probability and sequence.
type Scored = (f32, Seq);

/// Best first; equal scores in class order, so results do not depend on
/// the order of the search.
fn keep_best(v: &mut Vec<Scored>, k: usize) {
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    v.truncate(k);
}

/// Index of a shape character's kind in [`Ranked`].
fn kind(shape_char: u8) -> usize {
    match shape_char {
        b'L' => 0,
        b'D' => 1,
        _ => 2,
    }
}

/// Per slot and kind (letter, digit, any), the `k` most probable classes,
/// most probable first: all a beam of width `k` can use.
type Ranked = Vec<[Vec<u8>; 3]>;

/// One beam step: the `k` best extensions of `beam` by a class of `kind`
/// in `slot`.
fn extend(
    beam: &[Scored],
    lp: &[f32],
    ranked: &Ranked,
    slot: usize,
    kind: usize,
    k: usize,
) -> Vec<Scored> {
    let classes = &ranked[slot][kind];
    let mut next = Vec::with_capacity(beam.len() * classes.len());
    for &(score, seq) in beam {
        for &c in classes {
            next.push((score + lp[slot * CLASSES + c as usize], seq.push(c)));
        }
    }
    keep_best(&mut next, k);
    next
}

/// Decodes one crop's `SLOTS * CLASSES` probabilities, keeping the `k` best
/// texts by adjusted score (see the module doc).
pub fn decode(probs: &[f32], k: usize) -> PlateRead {
    assert_eq!(probs.len(), SLOTS * CLASSES, "one crop's probabilities");
    let k = k.max(1);
    let lp: Vec<f32> = probs.iter().map(|p| p.max(1e-30).ln()).collect();
    // pad_tail[l]: log-probability that slots l.. are all pads.
    let mut pad_tail = [0.0f32; SLOTS + 1];
    for s in (0..SLOTS).rev() {
        pad_tail[s] = pad_tail[s + 1] + lp[s * CLASSES + PAD];
    }
    let ranked: Ranked = (0..SLOTS)
        .map(|s| {
            let mut order: Vec<u8> = (0..PAD as u8).collect();
            order.sort_by(|&a, &b| {
                lp[s * CLASSES + b as usize].total_cmp(&lp[s * CLASSES + a as usize])
            });
            let top = |keep: fn(u8) -> bool| -> Vec<u8> {
                order
                    .iter()
                    .copied()
                    .filter(|&c| keep(ALPHABET[c as usize]))
                    .take(k)
                    .collect()
            };
            [
                top(|a| a.is_ascii_uppercase()),
                top(|a| a.is_ascii_digit()),
                top(|_| true),
            ]
        })
        .collect();

    // (adjusted score, reader's score, sequence)
    let mut pool: Vec<(f32, f32, Seq)> = Vec::new();
    // The top k texts of any length and characters.
    let mut beam: Vec<Scored> = vec![(0.0, Seq::EMPTY)];
    let mut any: Vec<Scored> = Vec::new();
    for slot in 0..SLOTS {
        beam = extend(&beam, &lp, &ranked, slot, kind(b'?'), k);
        any.extend(beam.iter().map(|&(s, q)| (s + pad_tail[slot + 1], q)));
    }
    keep_best(&mut any, k);
    for (score, seq) in any {
        let bonus = if formats::matches_known_format(&seq.text()) {
            FORMAT_BONUS
        } else {
            0.0
        };
        pool.push((score + bonus, score, seq));
    }
    // The top k texts of each known shape. Shapes come sorted, so a shape
    // reuses the beams of the prefix it shares with the one before.
    let mut beams: Vec<Vec<Scored>> = vec![vec![(0.0, Seq::EMPTY)]];
    let mut previous: &[u8] = &[];
    for shape in formats::shapes() {
        let pattern = shape.pattern().as_bytes();
        if pattern.is_empty() || pattern.len() > SLOTS {
            continue;
        }
        let shared = pattern
            .iter()
            .zip(previous)
            .take_while(|(a, b)| a == b)
            .count();
        beams.truncate(shared + 1);
        for (slot, &c) in pattern.iter().enumerate().skip(shared) {
            let next = extend(&beams[slot], &lp, &ranked, slot, kind(c), k);
            beams.push(next);
        }
        let tail = pad_tail[pattern.len()];
        pool.extend(
            beams[pattern.len()]
                .iter()
                .map(|&(s, q)| (s + tail + FORMAT_BONUS, s + tail, q)),
        );
        previous = pattern;
    }
    // A text found by both searches appears twice with the same scores.
    pool.sort_by_key(|&(_, _, seq)| seq);
    pool.dedup_by(|a, b| a.2 == b.2);
    pool.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    pool.truncate(k);

    let candidates: Vec<Candidate> = pool
        .iter()
        .map(|(_, score, seq)| Candidate {
            text: seq.text(),
            confidence: score.exp(),
        })
        .collect();
    let (text, confidence, char_confidences) = match pool.first() {
        Some((_, score, seq)) => (
            seq.text(),
            score.exp(),
            seq.classes()
                .iter()
                .enumerate()
                .map(|(s, &c)| probs[s * CLASSES + c as usize])
                .collect(),
        ),
        None => (String::new(), 0.0, Vec::new()),
    };
    // A state from a text that is more likely wrong than right is noise.
    let region = (confidence >= REGION_MIN_CONFIDENCE)
        .then(|| formats::likely_state(&text))
        .flatten()
        .map(str::to_string);
    PlateRead {
        text,
        confidence,
        char_confidences,
        candidates,
        region,
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

    /// "7ABC123" (California's shape) but slot 4 leans to `I`: "7ABCI23"
    /// fits no known format.
    fn probs_one_or_i(one: f32, i: f32) -> Vec<f32> {
        let mut probs = probs_for("7ABC123", 0.95);
        let row = &mut probs[4 * CLASSES..5 * CLASSES];
        row.fill((1.0 - one - i) / 35.0);
        row[class_of('1').unwrap()] = one;
        row[class_of('I').unwrap()] = i;
        probs
    }

    #[test]
    fn a_matching_alternate_overtakes_a_slightly_better_one() {
        assert!(!formats::matches_known_format("7ABCI23"));
        let r = decode(&probs_one_or_i(0.4, 0.5), TOP_K);
        assert_eq!(r.text, "7ABC123");
        assert_eq!(r.candidates[1].text, "7ABCI23");
        // Confidences stay the reader's own: the first is the less likely.
        assert!((r.char_confidences[4] - 0.4).abs() < 1e-6);
        assert!(r.candidates[0].confidence < r.candidates[1].confidence);
        assert_eq!(r.confidence, r.candidates[0].confidence);
        // A CA shape, but a read this unsure names no state.
        assert!(r.confidence < REGION_MIN_CONFIDENCE);
        assert_eq!(r.region, None);
    }

    #[test]
    fn a_confident_read_of_one_states_format_names_the_state() {
        let r = decode(&probs_for("7ABC123", 0.95), TOP_K);
        assert_eq!(r.text, "7ABC123");
        assert!(r.confidence >= REGION_MIN_CONFIDENCE, "{}", r.confidence);
        assert_eq!(r.region.as_deref(), Some("CA"));
    }

    #[test]
    fn a_much_more_confident_read_outside_every_format_stays_first() {
        // 0.9 against 0.05: 18 times likelier, beyond the prior's 4.
        let r = decode(&probs_one_or_i(0.05, 0.9), TOP_K);
        assert_eq!(r.text, "7ABCI23");
        assert_eq!(r.region, None);
        let fitting = r.candidates.iter().position(|c| c.text == "7ABC123");
        assert_eq!(fitting, Some(1), "{:?}", r.candidates);
    }

    #[test]
    fn the_prior_is_ln_4() {
        // Just below 4 times likelier: the format wins; just above: not.
        let r = decode(&probs_one_or_i(0.2, 0.78), 2);
        assert_eq!(r.text, "7ABC123");
        let r = decode(&probs_one_or_i(0.19, 0.78), 2);
        assert_eq!(r.text, "7ABCI23");
    }

    #[test]
    fn a_fitting_text_beyond_the_plain_top_k_is_found() {
        // "ABC1234" (LLLDDDD, a known shape), but slot 6 spreads over 23
        // letters (0.04 each) with the digit 4 behind them (0.03): the 23
        // texts "ABC123A".. (LLLDDDL, no format) are each likelier, so a
        // plain beam of width 2 never sees "ABC1234". Its shape's own search
        // does, and the prior puts it first.
        assert!(!formats::matches_known_format("ABC123A"));
        let mut probs = probs_for("ABC1234", 0.95);
        let row = &mut probs[6 * CLASSES..7 * CLASSES];
        row.fill(0.0);
        for c in "ABCDEFGHJKLMNPRSTUVWXYZ".chars() {
            row[class_of(c).unwrap()] = 0.04;
        }
        row[class_of('4').unwrap()] = 0.03;
        let r = decode(&probs, 2);
        assert_eq!(r.text, "ABC1234", "{:?}", r.candidates);
        assert_eq!(r.candidates[1].text, "ABC123A");
        let ratio = r.candidates[0].confidence / r.candidates[1].confidence;
        assert!((ratio - 0.75).abs() < 1e-3, "{ratio}");
    }

    /// The `w` most probable texts by the reader alone, as the decoder was
    /// before formats: a plain beam, exact for the top `w`.
    fn plain_top(probs: &[f32], w: usize) -> Vec<(f32, String)> {
        let lp = |s: usize, c: usize| probs[s * CLASSES + c].max(1e-30).ln();
        let mut tail = [0.0f32; SLOTS + 1];
        for s in (0..SLOTS).rev() {
            tail[s] = tail[s + 1] + lp(s, PAD);
        }
        let mut beam: Vec<(f32, String)> = vec![(0.0, String::new())];
        let mut all = Vec::new();
        for slot in 0..SLOTS {
            let mut next = Vec::new();
            for (score, text) in &beam {
                for (class, &a) in ALPHABET.iter().enumerate() {
                    let mut t = text.clone();
                    t.push(char::from(a));
                    next.push((score + lp(slot, class), t));
                }
            }
            next.sort_by(|a, b| b.0.total_cmp(&a.0));
            next.truncate(w);
            all.extend(next.iter().map(|(s, t)| (s + tail[slot + 1], t.clone())));
            beam = next;
        }
        all.sort_by(|a, b| b.0.total_cmp(&a.0));
        all.truncate(w);
        all
    }

    #[test]
    fn agrees_with_rescoring_a_wide_plain_beam() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let (mut checked, mut reordered) = (0, 0);
        for _ in 0..40 {
            // As a trained reader gives: each slot sure of one class (a
            // character up to `len`, then the pad), with a rival of random
            // strength, the rest far behind.
            let len = rng.random_range(5..=SLOTS);
            let mut probs = vec![0.0f32; SLOTS * CLASSES];
            for s in 0..SLOTS {
                let row = &mut probs[s * CLASSES..(s + 1) * CLASSES];
                let mut logits: Vec<f32> =
                    (0..CLASSES).map(|_| rng.random_range(0.0..1.0)).collect();
                let sure = if s < len {
                    rng.random_range(0..PAD)
                } else {
                    PAD
                };
                logits[sure] += 6.0;
                let rival = rng.random_range(0..CLASSES);
                logits[rival] += rng.random_range(2.0..6.5);
                for (p, l) in row.iter_mut().zip(&logits) {
                    *p = l.exp();
                }
                let sum: f32 = row.iter().sum();
                row.iter_mut().for_each(|p| *p /= sum);
            }
            let wide = plain_top(&probs, 400);
            let mut rescored: Vec<(f32, &str)> = wide
                .iter()
                .map(|(s, t)| {
                    let bonus = if formats::matches_known_format(t) {
                        FORMAT_BONUS
                    } else {
                        0.0
                    };
                    (s + bonus, t.as_str())
                })
                .collect();
            rescored.sort_by(|a, b| b.0.total_cmp(&a.0));
            // The reference is exact only if nothing beyond the wide beam
            // could reach its 10th place, even with the bonus.
            let floor = wide.last().unwrap().0 + FORMAT_BONUS;
            if rescored[TOP_K - 1].0 <= floor + 1e-4 {
                continue;
            }
            checked += 1;
            let r = decode(&probs, TOP_K);
            let got: Vec<&str> = r.candidates.iter().map(|c| c.text.as_str()).collect();
            let want: Vec<&str> = rescored[..TOP_K].iter().map(|(_, t)| *t).collect();
            assert_eq!(got, want);
            if want.iter().zip(&wide).any(|(w, (_, p))| w != p) {
                reordered += 1;
            }
        }
        assert!(checked >= 20, "only {checked} cases had an exact reference");
        assert!(reordered > 0, "the prior changed no order: a weak test");
    }

    #[test]
    fn a_full_plate_uses_every_slot() {
        let r = decode(&probs_for("ABCD1234", 0.8), 1);
        assert_eq!(r.text, "ABCD1234");
        assert_eq!(r.candidates.len(), 1);
    }
}
