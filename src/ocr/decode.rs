//! Per-column probabilities -> plate texts, as CTC reads them: a path picks
//! one class per column, and its text merges repeated classes and drops the
//! blanks (`AA_B_BB` reads `ABB`, `AABBB` reads `AB`). A text's probability
//! is the sum over every path that reads it.
//!
//! The best texts come from a prefix beam search (Graves 2012, as in
//! Hannun et al.'s "first-pass large vocabulary continuous speech
//! recognition"): column by column, each kept prefix is extended by a
//! blank, by its own last character (the same character, merged) or by a
//! new one, with the probabilities of prefixes ending in a blank and in a
//! character kept apart, and the [`BEAM`] likeliest prefixes survive each
//! column. The probability it gives a surviving text is the exact CTC
//! probability up to the paths it pruned (tested against
//! [`crate::ocr::ctc`]).
//!
//! The network cannot know that plates follow serial formats. Decoding adds
//! that knowledge as a prior ([`format_prior`]): a text whose shape is a
//! known format of the crop's family ([`crate::plate::formats`]; US or
//! European, as the crop's outline tells) gains [`FORMAT_BONUS`] in
//! log-probability, and alternates are ranked by that adjusted score. It
//! never forces a read into a format: a text that fits none keeps its own
//! score, and one the reader finds more than `e^FORMAT_BONUS` (8) times
//! likelier than every fitting text stays first. Each candidate's `confidence` stays the
//! reader's own probability. The prior re-ranks the [`BEAM`] texts the
//! search keeps, four times the alternates a read reports, so a fitting
//! text can overtake from well behind.
//!
//! A European serial's shape can fit two issuers' formats that part their
//! groups in different places: `BL350KM` is Slovakia's `@@|###@@` (a crest
//! after two letters) and `BL35OKM` Britain's `@@## @@@` (a gap after
//! four characters), and the reader's O and 0 are often a close call. For
//! a European crop the decoder also looks at where the characters stand
//! (`layout_prior`): a text gains as much as its characters part more
//! widely where a format it fits prints a separator than elsewhere.
//!
//! The first read of a US crop is chosen with one more cost: ln 8 for each
//! letter O ([`US_LETTER_O_COST`]), so a round character the reader finds
//! about as likely O as 0 is written 0, as most US issuers use it; the
//! alternates after it keep the adjusted order.
//!
//! A crop read in several views ([`crate::ocr::prep::VIEWS`]) is decoded
//! as one ([`decode_views`]): each view's beam, then each text's mean
//! probability over the views.
//!
//! ```text
//! probs [24][37] --prefix beam search, BEAM wide, classes above MIN_PROB-->
//!   BEAM texts with their probabilities --+ FORMAT_BONUS if the shape is
//!   known to the crop's family --+ layout prior (European crops: where
//!   each close text's alignment puts its characters) --> US crops: the
//!   best less ln 8 a letter O to the front --> best k -->
//!   Viterbi alignment of the best --> char confidences
//! ```

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde::Serialize;

use foldhash::fast::FixedState;

use crate::ocr::ctc;
use crate::ocr::model::{ALPHABET, BLANK, CLASSES, COLUMNS};
use crate::plate::formats::{self, Family};

/// The decoder's version, part of a reader's model version so that
/// `ingest --reprocess` re-reads what an older decoder read: 2 counts only
/// the formats of the crop's family, with odds of 8; 3 also pools the reads
/// of one plate's boxes in a photo (`recognize::plate_reader`, the
/// thirtieth session); 4 also reads European companions of a US-shaped
/// first box (the thirty-first); 5 adds the layout prior on European
/// crops (the thirty-fifth); 6 lets a companion whose read fits a European
/// format replace a box's read as long that fits none, and 7 names a state
/// only from a distinctive serial shape (`formats::distinctive`; both the
/// fifty-third); 8 writes a US first read's round character 0 unless the
/// letter O is more than 8 times likelier ([`US_LETTER_O_COST`], the
/// fifty-sixth); 9 counts short US numbers (`###`, `####`) as US formats
/// in a crop, though not in a photo's ranking of its boxes
/// (`formats::is_short_number`), and formats issuers print that the
/// generator does not draw (`Style::known_formats`: Massachusetts' earlier
/// series; both the sixty-fourth); 10 charges no letter O that makes a US
/// read a standard serial its 0 form is not ([`o_makes_a_format`], the
/// sixty-fifth). Reads whose model version names no decoder are version
/// 1's (every style's formats, odds of 4).
pub const VERSION: u32 = 10;

/// Alternates kept per read, the best included.
pub const TOP_K: usize = 10;

/// Prefixes kept after each column, and texts the format prior re-ranks.
pub const BEAM: usize = 4 * TOP_K;

/// The longest text read: longer prefixes are not extended. Longer than
/// any plate's serial (US plates have at most 8 characters, European ones
/// at most 10).
pub const MAX_CHARS: usize = 12;

/// Classes less likely than this in a column do not extend a prefix there
/// (the column's most likely class always does): below it they cannot
/// change the top texts' order in a way that survives the next columns.
const MIN_PROB: f32 = 1e-4;

/// Log-prior bonus for a text whose shape is a serial format of the crop's
/// family: ln 8, odds of 8 to 1 for an issuer's standard serial against
/// any other text (a personalised or special plate, a format the table
/// lacks).
///
/// The Bayesian per-text ratio would be larger still (known shapes are a
/// small corner of all strings), but it depends on how the reader spreads
/// its probability over texts, which nothing measures directly, and the
/// style table is an impression of each issuer's formats rather than a
/// register of them, so its misses must stay affordable: the bonus only
/// reorders calls the reader finds close. Its size was chosen on generated
/// plates, never on photographs: over the ten candidates of 5,000 held-out
/// plates (seeds 77-79) odds of 1, 2, 4, 8, 16 and 64 read 4,371, 4,428,
/// 4,472, 4,487, 4,487 and 4,477 exactly (8 and 16 tie; the smaller was
/// taken), and on 3,000 more (seed 80) 8 read 2,658 against 4's 2,645
/// (`models/ocr-v2/RUNS.md`). It was 4 until the eighteenth session.
pub const FORMAT_BONUS: f32 = 3.0 * std::f32::consts::LN_2;

/// The format prior of `text` in log-probability: [`FORMAT_BONUS`] when
/// its shape is a serial format of a `family` style, else 0.
pub fn format_prior(text: &str, family: Family) -> f32 {
    if formats::matches_format(text, family) {
        FORMAT_BONUS
    } else {
        0.0
    }
}

/// Log-prior cost of each letter O when the first read of a US crop is
/// chosen: ln 8, the format prior's odds, fixed a priori. Most US issuers
/// stamp the letter O and the digit 0 in one glyph and leave O out of
/// their standard serials (the style table's `letters`), and the labelled
/// US photographs write that round character 0, personalised plates
/// included (`models/ocr-v2/RUNS.md`, "Decoder 8"). Only the first read
/// pays it: the alternates keep their order, so a text with an O stays
/// among them (hot-list alerts and plate search forgive O against 0
/// anyway), and one the reader finds more than 8 times likelier than its
/// 0 form stays first. European crops are untouched: their issuers print
/// two glyphs. Nor does an O pay where it makes the text a standard serial
/// that its 0 form is not ([`o_makes_a_format`], decoder 10): some issuers
/// do put O in their letters (Colorado, Rhode Island, West Virginia).
pub const US_LETTER_O_COST: f32 = FORMAT_BONUS;

/// The letter O's class ([`ALPHABET`]'s order: digits, then letters).
const LETTER_O: u8 = 10 + (b'O' - b'A');
const _: () = assert!(ALPHABET[LETTER_O as usize] == b'O');

/// Where in `pool` (sorted best first by adjusted score) the first read
/// is: the best adjusted score less [`US_LETTER_O_COST`] for each letter O
/// of a US read (none where the O makes a format, [`o_makes_a_format`]);
/// the best adjusted score itself in other families.
fn first_read(pool: &[(f32, f32, Seq)], family: Family) -> usize {
    if family != Family::Us {
        return 0;
    }
    let cost = |seq: &Seq| {
        let os = seq.classes().iter().filter(|&&c| c == LETTER_O).count();
        if os == 0 || o_makes_a_format(&seq.text(), family) {
            return 0.0;
        }
        US_LETTER_O_COST * os as f32
    };
    // The first of equals, as the pool's order has it.
    let mut best = (0, f32::NEG_INFINITY);
    for (i, (adjusted, _, seq)) in pool.iter().enumerate() {
        let score = adjusted - cost(seq);
        if score > best.1 {
            best = (i, score);
        }
    }
    best.0
}

/// True when `text` fits a format of `family` and its zero form (every
/// letter O written 0) fits none: the O stands where an issuer's serial
/// has a letter (Colorado's `264MOT`, `###@@@`, against `264M0T`), so it
/// is read as a letter and pays no [`US_LETTER_O_COST`].
fn o_makes_a_format(text: &str, family: Family) -> bool {
    formats::matches_format(text, family)
        && !formats::matches_format(&text.replace('O', "0"), family)
}

/// Log-prior per unit of layout contrast (`layout_prior`, module doc). Chosen on
/// generated plates, never on photographs: over the 735 European crops of
/// `synth-plates --seed 91` read in 5 views, weights 0 (none), 1, 2, 4 and 8
/// read 670, 674, 674, 673 and 659 exactly (ties to the smaller); on seeds
/// 93 and 80 (1,482 more, drawn after) 1 gained 11 and lost 1 (`models/ocr-v2/RUNS.md`).
pub const LAYOUT_WEIGHT: f32 = 1.0;

/// Texts further than this (log-probability) behind the best adjusted
/// score are not given a layout prior: a contrast of relative gaps above
/// 4 would be needed to lift them, and measuring each costs an alignment
/// per view.
const LAYOUT_REACH: f32 = 4.0 * LAYOUT_WEIGHT;

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
    /// The best text (empty when the reader sees no character).
    pub text: String,
    /// The best text's probability, as the reader gives it.
    pub confidence: f32,
    /// Each character's probability: the most its class gets in the
    /// columns the text's most probable alignment spends on it.
    pub char_confidences: Vec<f32>,
    /// The best texts, best first by adjusted score (the reader's
    /// log-probability plus [`format_prior`]), so their
    /// confidences need not be descending. The first is `text`, which on
    /// a US crop may have come forward past an O form
    /// ([`US_LETTER_O_COST`]).
    pub candidates: Vec<Candidate>,
    /// The plate's likely US state (`"CA"`) when `text`'s shape is
    /// distinctive and fits the formats of exactly one state
    /// ([`formats::likely_state`]), the crop is not European, and the
    /// read's confidence is at least [`REGION_MIN_CONFIDENCE`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The family whose formats the prior counted (the crop's outline).
    #[serde(skip)]
    pub family: Family,
}

/// A character sequence as class indices, without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Seq {
    len: u8,
    classes: [u8; MAX_CHARS],
}

impl Seq {
    const EMPTY: Seq = Seq {
        len: 0,
        classes: [0; MAX_CHARS],
    };

    fn push(mut self, class: u8) -> Seq {
        self.classes[self.len as usize] = class;
        self.len += 1;
        self
    }

    fn last(&self) -> Option<u8> {
        self.classes().last().copied()
    }

    /// The sequence without its last class, and that class.
    fn split_last(&self) -> Option<(Seq, u8)> {
        let last = self.last()?;
        let mut parent = *self;
        parent.len -= 1;
        // Unused places stay 0, so equal texts are equal sequences.
        parent.classes[parent.len as usize] = 0;
        Some((parent, last))
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

/// All of a sequence in one word: hashing it is a single mix, where the
/// derived hash would feed the bytes in one by one.
impl Hash for Seq {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut bytes = [0u8; 16];
        bytes[..MAX_CHARS].copy_from_slice(&self.classes);
        bytes[MAX_CHARS] = self.len;
        state.write_u128(u128::from_le_bytes(bytes));
    }
}

/// A prefix's probabilities over the columns so far: of the paths reading
/// it that end in a blank, and of those ending in its last character.
/// Plain `f64` products suffice: the best prefix keeps at least its
/// columns' best classes, `(1/37)^24` or more, far from underflow.
#[derive(Clone, Copy, Debug)]
struct Ends {
    blank: f64,
    char: f64,
}

impl Ends {
    fn total(&self) -> f64 {
        self.blank + self.char
    }
}

/// A prefix in the search with its [`Ends`] and their sum.
#[derive(Clone, Copy, Debug)]
struct Scored {
    seq: Seq,
    ends: Ends,
    total: f64,
}

impl Scored {
    fn new(seq: Seq, ends: Ends) -> Scored {
        Scored {
            seq,
            ends,
            total: ends.total(),
        }
    }

    /// Likelier first, then in class order: a total order, as every kept
    /// prefix is a different text.
    fn order(a: &Scored, b: &Scored) -> std::cmp::Ordering {
        b.total.total_cmp(&a.total).then(a.seq.cmp(&b.seq))
    }
}

/// The `width` likeliest texts of one crop's probabilities with their
/// log-probabilities, best first (ties in class order).
///
/// A column's candidates are the kept prefixes themselves (paths that add
/// a blank or repeat the last character) and each prefix extended by one
/// class. Extensions of different prefixes are different texts, so an
/// extension can only meet a kept prefix: its child in the beam, found in
/// a table built once a column rather than by hashing every candidate.
/// Each candidate gets at most one blank term and two character terms
/// (its own repeat and its parent's extension), and two terms add to the
/// same sum in either order, so the probabilities do not depend on the
/// order of the work; the `width` best by probability, then text, are
/// kept, and sorted once at the end.
fn beam_search(probs: &[f32], width: usize) -> Vec<(f32, Seq)> {
    let mut beam: Vec<Scored> = vec![Scored {
        seq: Seq::EMPTY,
        ends: Ends {
            blank: 1.0,
            char: 0.0,
        },
        total: 1.0,
    }];
    let mut next: Vec<Scored> = Vec::new();
    let mut position: HashMap<Seq, u32, FixedState> = HashMap::default();
    // children[i * classes.len() + n]: 1 + the beam index of prefix i
    // extended by the column's nth class that extends prefixes, or 0.
    let mut children: Vec<u32> = Vec::new();
    // Each class's probability and place among `classes` where it extends
    // prefixes in this column.
    let mut extends = [None::<(f64, usize)>; BLANK];
    let mut classes: Vec<(u8, f64)> = Vec::with_capacity(BLANK);
    for column in probs.chunks(CLASSES) {
        let best = argmax(&column[..BLANK]);
        classes.clear();
        classes.extend(
            (0..BLANK)
                .filter(|&c| c == best || column[c] >= MIN_PROB)
                .map(|c| (c as u8, f64::from(column[c]))),
        );
        extends.fill(None);
        for (n, &(c, p)) in classes.iter().enumerate() {
            extends[c as usize] = Some((p, n));
        }
        let blank = f64::from(column[BLANK]);
        link_children(&beam, &extends, classes.len(), &mut position, &mut children);

        // The kept prefixes first, at their beam index.
        next.clear();
        next.extend(beam.iter().map(|s| {
            let repeat = match s.seq.last().and_then(|c| extends[c as usize]) {
                Some((p, _)) => s.ends.char * p,
                None => 0.0,
            };
            Scored::new(
                s.seq,
                Ends {
                    blank: s.total * blank,
                    char: repeat,
                },
            )
        }));
        // With a full beam, the kept prefixes are `width` candidates at
        // least as likely as the least of them now (the extensions below
        // only add to them): a new text less likely than that is not kept.
        let floor = if beam.len() >= width {
            next.iter().map(|s| s.total).fold(f64::INFINITY, f64::min)
        } else {
            f64::NEG_INFINITY
        };
        for (i, s) in beam.iter().enumerate() {
            if s.seq.len as usize >= MAX_CHARS {
                continue;
            }
            let links = &children[i * classes.len()..][..classes.len()];
            for (&(c, p), &link) in classes.iter().zip(links) {
                // After its own last character, only paths with a blank
                // between start a new one.
                let from = if s.seq.last() == Some(c) {
                    s.ends.blank
                } else {
                    s.total
                };
                let term = from * p;
                match link {
                    0 if term < floor => {}
                    0 => next.push(Scored::new(
                        s.seq.push(c),
                        Ends {
                            blank: 0.0,
                            char: term,
                        },
                    )),
                    child => next[child as usize - 1].ends.char += term,
                }
            }
        }
        for s in &mut next[..beam.len()] {
            s.total = s.ends.total();
        }
        if next.len() > width {
            next.select_nth_unstable_by(width, Scored::order);
            next.truncate(width);
        }
        std::mem::swap(&mut beam, &mut next);
    }
    beam.sort_unstable_by(Scored::order);
    beam.into_iter()
        .map(|s| (s.total.ln() as f32, s.seq))
        .collect()
}

/// Fills `children` for `beam`: for each prefix and each of the `n`
/// classes that extend prefixes in this column (their places in
/// `extends`), 1 + the index of the beam's prefix that extends it by that
/// class, or 0.
fn link_children(
    beam: &[Scored],
    extends: &[Option<(f64, usize)>; BLANK],
    n: usize,
    position: &mut HashMap<Seq, u32, FixedState>,
    children: &mut Vec<u32>,
) {
    position.clear();
    position.extend(beam.iter().enumerate().map(|(i, s)| (s.seq, i as u32)));
    children.clear();
    children.resize(beam.len() * n, 0);
    for (j, s) in beam.iter().enumerate() {
        if let Some((parent, last)) = s.seq.split_last()
            && let Some((_, place)) = extends[last as usize]
            && let Some(&i) = position.get(&parent)
        {
            children[i as usize * n + place] = j as u32 + 1;
        }
    }
}

/// The index of the largest value (the last of equals; 0 when empty).
fn argmax(values: &[f32]) -> usize {
    (0..values.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0)
}

/// The greedy read of one crop's `COLUMNS * CLASSES` scores (probabilities
/// or their logarithms): each column's likeliest class, repeats merged,
/// blanks dropped.
pub fn greedy(scores: &[f32]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut prev = BLANK;
    for column in scores.chunks(CLASSES) {
        let best = argmax(column);
        if best != BLANK && best != prev {
            out.push(best);
        }
        prev = best;
    }
    out
}

/// Decodes one crop's `COLUMNS * CLASSES` probabilities, keeping the `k`
/// best texts by adjusted score with the formats of `family` (see the
/// module doc).
pub fn decode(probs: &[f32], k: usize, family: Family) -> PlateRead {
    decode_views(&[probs], k, family)
}

/// Decodes several views of one crop (each `COLUMNS * CLASSES`
/// probabilities; see [`crate::ocr::prep::VIEWS`]) as one read: a text's
/// probability is its mean over the views (none in a view whose beam lost
/// it), the [`BEAM`] likeliest texts are re-ranked by the format prior as in
/// [`decode`], and a character's confidence is its mean over the views. One
/// view decodes exactly as [`decode`].
pub fn decode_views(views: &[&[f32]], k: usize, family: Family) -> PlateRead {
    assert!(!views.is_empty(), "at least one view");
    for probs in views {
        assert_eq!(probs.len(), COLUMNS * CLASSES, "one crop's probabilities");
    }
    let k = k.clamp(1, BEAM);
    let texts = match views {
        [probs] => beam_search(probs, BEAM),
        _ => pool_views(views),
    };
    // (adjusted score, reader's score, sequence)
    let mut pool: Vec<(f32, f32, Seq)> = texts
        .into_iter()
        .map(|(score, seq)| (score + format_prior(&seq.text(), family), score, seq))
        .collect();
    if family == Family::Eu {
        add_layout_prior(views, &mut pool);
    }
    pool.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    let first = first_read(&pool, family);
    if let Some(ahead) = pool.get_mut(..=first) {
        ahead.rotate_right(1);
    }
    pool.truncate(k);

    let candidates: Vec<Candidate> = pool
        .iter()
        .map(|(_, score, seq)| Candidate {
            text: seq.text(),
            confidence: score.exp(),
        })
        .collect();
    let (text, confidence, char_confidences) = match pool.first() {
        Some((_, score, seq)) => (seq.text(), score.exp(), mean_char_confidences(views, seq)),
        None => (String::new(), 0.0, Vec::new()),
    };
    // A state from a text that is more likely wrong than right is noise.
    let region = (confidence >= REGION_MIN_CONFIDENCE)
        .then(|| formats::likely_state(&text, family))
        .flatten()
        .map(str::to_string);
    PlateRead {
        text,
        confidence,
        char_confidences,
        candidates,
        region,
        family,
    }
}

/// Adds [`layout_prior`] to each text that fits a European format and is
/// within [`LAYOUT_REACH`] of the best adjusted score.
fn add_layout_prior(views: &[&[f32]], pool: &mut [(f32, f32, Seq)]) {
    let best = pool.iter().map(|p| p.0).fold(f32::NEG_INFINITY, f32::max);
    // The views' logarithms, taken once and only if some text needs them.
    let mut log_views: Option<Vec<Vec<f32>>> = None;
    for (adjusted, score, seq) in pool.iter_mut() {
        // Only a text that fits a format got the (positive) format bonus.
        let fits = *adjusted > *score;
        if fits && *adjusted >= best - LAYOUT_REACH {
            let log_views = log_views.get_or_insert_with(|| {
                views
                    .iter()
                    .map(|probs| probs.iter().map(|p| p.max(1e-30).ln()).collect())
                    .collect()
            });
            *adjusted += layout_prior(views, log_views, seq);
        }
    }
}

/// The layout prior of a European text: [`LAYOUT_WEIGHT`] times the most,
/// over the European formats its shape fits, of the format's contrast: the
/// mean [relative gap](relative_gaps) where the format prints a separator
/// minus the mean where it does not (0 for a format without separators).
/// 0 for a text of fewer than 3 characters or that no view aligns.
fn layout_prior(views: &[&[f32]], log_views: &[Vec<f32>], seq: &Seq) -> f32 {
    let Some(gaps) = relative_gaps(views, log_views, seq) else {
        return 0.0;
    };
    let contrast = formats::european_separators(&seq.text())
        .map(|separators| layout_contrast(&gaps, separators))
        .fold(f32::NEG_INFINITY, f32::max);
    if contrast.is_finite() {
        LAYOUT_WEIGHT * contrast
    } else {
        0.0
    }
}

/// The mean of `gaps` at the places `separators` names minus their mean
/// elsewhere; 0 when either set is empty.
fn layout_contrast(gaps: &[f32], separators: u32) -> f32 {
    let (mut at, mut n_at, mut off, mut n_off) = (0.0f32, 0u32, 0.0f32, 0u32);
    for (i, gap) in gaps.iter().enumerate() {
        if separators & (1 << i) != 0 {
            at += gap;
            n_at += 1;
        } else {
            off += gap;
            n_off += 1;
        }
    }
    if n_at == 0 || n_off == 0 {
        0.0
    } else {
        at / n_at as f32 - off / n_off as f32
    }
}

/// How far apart `seq`'s neighbouring characters stand, each gap over the
/// median gap of its view, averaged over the views that align the text. A
/// character stands at the probability-weighted mean column of its class
/// over the columns its best alignment gives it and one more either side
/// (a CTC spike is one column; its neighbours place it between columns).
/// `None` for fewer than 3 characters or when no view aligns the text.
fn relative_gaps(views: &[&[f32]], log_views: &[Vec<f32>], seq: &Seq) -> Option<Vec<f32>> {
    let label: Vec<usize> = seq.classes().iter().map(|&c| c as usize).collect();
    if label.len() < 3 {
        return None;
    }
    let mut sum = vec![0.0f32; label.len() - 1];
    let mut aligned = 0u32;
    for (probs, lp) in views.iter().zip(log_views) {
        let Some(columns) = ctc::align(lp, CLASSES, &label, BLANK) else {
            continue;
        };
        let places: Vec<f32> = columns
            .iter()
            .zip(&label)
            .map(|(cols, &class)| {
                let lo = cols[0].saturating_sub(1);
                let hi = (cols[cols.len() - 1] + 1).min(COLUMNS - 1);
                let (mut weight, mut moment) = (0.0f32, 0.0f32);
                for t in lo..=hi {
                    let p = probs[t * CLASSES + class];
                    weight += p;
                    moment += p * t as f32;
                }
                if weight > 0.0 {
                    moment / weight
                } else {
                    cols[0] as f32
                }
            })
            .collect();
        let gaps: Vec<f32> = places.windows(2).map(|w| w[1] - w[0]).collect();
        let mut sorted = gaps.clone();
        sorted.sort_by(f32::total_cmp);
        // Half a column at least: characters never stand closer.
        let median = sorted[sorted.len() / 2].max(0.5);
        for (s, gap) in sum.iter_mut().zip(&gaps) {
            *s += gap / median;
        }
        aligned += 1;
    }
    (aligned > 0).then(|| sum.iter().map(|s| s / aligned as f32).collect())
}

/// The [`BEAM`] likeliest texts over several views, each with the
/// logarithm of its mean probability, best first (ties in class order).
fn pool_views(views: &[&[f32]]) -> Vec<(f32, Seq)> {
    let mut sum: HashMap<Seq, f64, FixedState> = HashMap::default();
    for probs in views {
        for (score, seq) in beam_search(probs, BEAM) {
            *sum.entry(seq).or_insert(0.0) += f64::from(score).exp();
        }
    }
    let n = views.len() as f64;
    let mut texts: Vec<(f32, Seq)> = sum
        .into_iter()
        .map(|(seq, p)| ((p / n).ln() as f32, seq))
        .collect();
    texts.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    texts.truncate(BEAM);
    texts
}

/// Each character's confidence averaged over the views.
fn mean_char_confidences(views: &[&[f32]], seq: &Seq) -> Vec<f32> {
    // One view: 0 + c / 1 is c, exactly.
    let mut mean = vec![0.0f32; seq.len as usize];
    for probs in views {
        for (m, c) in mean.iter_mut().zip(char_confidences(probs, seq)) {
            *m += c / views.len() as f32;
        }
    }
    mean
}

/// Each character's confidence: the most its class gets in the columns
/// that the text's most probable alignment spends on it.
fn char_confidences(probs: &[f32], seq: &Seq) -> Vec<f32> {
    let lp: Vec<f32> = probs.iter().map(|p| p.max(1e-30).ln()).collect();
    let label: Vec<usize> = seq.classes().iter().map(|&c| c as usize).collect();
    match ctc::align(&lp, CLASSES, &label, BLANK) {
        Some(columns) => columns
            .iter()
            .zip(&label)
            .map(|(cols, &c)| {
                cols.iter()
                    .map(|&t| probs[t * CLASSES + c])
                    .fold(0.0, f32::max)
            })
            .collect(),
        None => vec![0.0; label.len()],
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

    /// Probabilities that read `text` with `p` in the columns of each
    /// character (`per_char` columns, then a blank column), blanks after,
    /// the rest of each column spread.
    fn probs_for(text: &str, p: f32, per_char: usize) -> Vec<f32> {
        let mut sure = Vec::new();
        for c in text.chars() {
            sure.extend(std::iter::repeat_n(class_of(c).unwrap(), per_char));
            sure.push(BLANK);
        }
        assert!(sure.len() <= COLUMNS);
        sure.resize(COLUMNS, BLANK);
        let mut out = vec![(1.0 - p) / (CLASSES - 1) as f32; COLUMNS * CLASSES];
        for (t, &k) in sure.iter().enumerate() {
            out[t * CLASSES + k] = p;
        }
        out
    }

    /// The column of character `i` when each takes one column and a blank.
    fn column_of(i: usize) -> usize {
        2 * i
    }

    /// Sets character `i`'s column (one column per character) to `ps`.
    fn set_column(probs: &mut [f32], i: usize, ps: &[(char, f32)]) {
        set_row(probs, column_of(i), ps);
    }

    /// Sets column `t` to `ps`, the rest of it spread over the other classes.
    fn set_row(probs: &mut [f32], t: usize, ps: &[(char, f32)]) {
        let row = &mut probs[t * CLASSES..(t + 1) * CLASSES];
        let rest: f32 = 1.0 - ps.iter().map(|(_, p)| p).sum::<f32>();
        row.fill(rest / (CLASSES - ps.len()) as f32);
        for &(c, p) in ps {
            row[class_of(c).unwrap()] = p;
        }
    }

    /// The exact CTC probability of `text`.
    fn exact(probs: &[f32], text: &str) -> f32 {
        let lp: Vec<f32> = probs.iter().map(|p| p.max(1e-30).ln()).collect();
        let label: Vec<usize> = text.chars().map(|c| class_of(c).unwrap()).collect();
        let (nll, _) = ctc::loss_and_grad(&lp, CLASSES, &label, BLANK).unwrap();
        (-nll).exp() as f32
    }

    #[test]
    fn reads_runs_merged_and_blanks_dropped() {
        let r = decode(&probs_for("ABC123", 0.9, 2), TOP_K, Family::Us);
        assert_eq!(r.text, "ABC123");
        assert_eq!(r.char_confidences, vec![0.9; 6]);
        assert_eq!(r.candidates[0].text, "ABC123");
        // The beam drops some alignments (a character starting a column
        // early, in a blank's column) with the junk prefixes they tie with.
        let want = exact(&probs_for("ABC123", 0.9, 2), "ABC123");
        assert!(
            r.confidence <= want && r.confidence > 0.95 * want,
            "{} vs {want}",
            r.confidence
        );
        assert_eq!(
            greedy(&probs_for("ABC123", 0.9, 2)),
            vec![10, 11, 12, 1, 2, 3]
        );
    }

    #[test]
    fn a_double_letter_needs_a_blank_between() {
        // "A", "A" in two columns with a blank between: "AA".
        let r = decode(&probs_for("AA", 0.95, 1), TOP_K, Family::Us);
        assert_eq!(r.text, "AA");
        // Three columns of "A" with no blank: one "A".
        let mut probs = probs_for("", 0.95, 1);
        set_column(&mut probs, 0, &[('A', 0.95)]);
        set_column(&mut probs, 1, &[]);
        let row = &mut probs[CLASSES..2 * CLASSES];
        row.fill(0.05 / 36.0);
        row[class_of('A').unwrap()] = 0.95;
        assert_eq!(decode(&probs, TOP_K, Family::Us).text, "A");
    }

    #[test]
    fn candidates_are_sorted_distinct_and_at_most_k() {
        let r = decode(&probs_for("7XYZ12", 0.6, 2), TOP_K, Family::Us);
        assert_eq!(r.candidates.len(), TOP_K);
        let adjusted = |c: &Candidate| c.confidence.ln() + format_prior(&c.text, Family::Us);
        for pair in r.candidates.windows(2) {
            assert!(adjusted(&pair[0]) >= adjusted(&pair[1]) - 1e-5);
        }
        let mut texts: Vec<_> = r.candidates.iter().map(|c| c.text.clone()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), TOP_K);
    }

    #[test]
    fn views_pool_their_probabilities() {
        // One view reads "AB12" a little more surely than "ABI2"; the other
        // reads "ABI2" surely: their mean reads "ABI2".
        let mut a = probs_for("AB12", 0.95, 1);
        set_column(&mut a, 2, &[('1', 0.55), ('I', 0.4)]);
        let mut b = probs_for("AB12", 0.95, 1);
        set_column(&mut b, 2, &[('1', 0.05), ('I', 0.9)]);
        let pooled = decode_views(&[&a, &b], TOP_K, Family::Us);
        assert_eq!(pooled.text, "ABI2");
        let one = |probs: &[f32], text: &str| {
            let r = decode(probs, BEAM, Family::Us);
            r.candidates.into_iter().find(|c| c.text == text).unwrap()
        };
        let mean = (one(&a, "ABI2").confidence + one(&b, "ABI2").confidence) / 2.0;
        assert!((pooled.confidence - mean).abs() < 1e-5 * mean);
        assert!((pooled.char_confidences[2] - (0.4 + 0.9) / 2.0).abs() < 1e-6);
        // Two copies of one view read as that view alone.
        let single = decode(&a, TOP_K, Family::Us);
        let twice = decode_views(&[&a, &a], TOP_K, Family::Us);
        assert_eq!(twice.text, single.text);
        assert_eq!(twice.candidates.len(), single.candidates.len());
        for (t, s) in twice.candidates.iter().zip(&single.candidates) {
            assert_eq!(t.text, s.text);
            assert!((t.confidence - s.confidence).abs() <= 1e-6 * s.confidence);
        }
    }

    #[test]
    fn the_second_best_swaps_the_least_sure_character() {
        let mut probs = probs_for("AB12", 0.95, 1);
        set_column(&mut probs, 2, &[('1', 0.55), ('I', 0.4)]);
        let r = decode(&probs, 3, Family::Us);
        assert_eq!(r.text, "AB12");
        assert_eq!(r.candidates[1].text, "ABI2");
        assert!((r.char_confidences[2] - 0.55).abs() < 1e-6);
    }

    #[test]
    fn an_unpruned_search_gives_the_exact_ctc_probabilities() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(3);
        // 7 columns, each with three classes worth extending (blank, and
        // two of A, B, C) and the rest far below MIN_PROB: a beam of every
        // prefix loses nothing.
        for _ in 0..10 {
            let mut lp = vec![(1e-9f32).ln(); 7 * CLASSES];
            for column in lp.chunks_mut(CLASSES) {
                let skip = rng.random_range(10..13);
                let mut kept: Vec<usize> = (10..13).filter(|&c| c != skip).collect();
                kept.push(BLANK);
                let w: Vec<f32> = kept.iter().map(|_| rng.random_range(0.1..1.0)).collect();
                let sum: f32 = w.iter().sum();
                for (&c, w) in kept.iter().zip(&w) {
                    column[c] = (w / sum).ln();
                }
            }
            let probs: Vec<f32> = lp.iter().map(|v| v.exp()).collect();
            let all = beam_search(&probs, 100_000);
            let total: f32 = all.iter().map(|(s, _)| s.exp()).sum();
            assert!((total - 1.0).abs() < 1e-4, "{total}");
            for (score, seq) in all.iter().take(20) {
                let label: Vec<usize> = seq.classes().iter().map(|&c| c as usize).collect();
                let (nll, _) = ctc::loss_and_grad(&lp, CLASSES, &label, BLANK).unwrap();
                assert!(
                    (score - (-nll as f32)).abs() < 1e-4,
                    "{}: {score} vs {}",
                    seq.text(),
                    -nll
                );
            }
        }
    }

    #[test]
    fn the_narrow_beam_only_loses_paths() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        for _ in 0..20 {
            // As a trained reader gives: each column sure of one class (a
            // character for a few columns, blanks between), with a rival of
            // random strength, the rest far behind.
            let mut probs = vec![0.0f32; COLUMNS * CLASSES];
            let mut sure = BLANK;
            for t in 0..COLUMNS {
                let mut logits: Vec<f32> =
                    (0..CLASSES).map(|_| rng.random_range(0.0..1.0)).collect();
                // Two columns of a character, then a blank: 8 characters.
                if t % 3 == 0 {
                    sure = rng.random_range(0..BLANK);
                }
                let sure = if t % 3 == 2 { BLANK } else { sure };
                logits[sure] += 6.0;
                logits[rng.random_range(0..CLASSES)] += rng.random_range(2.0..6.5);
                let row = &mut probs[t * CLASSES..(t + 1) * CLASSES];
                for (p, l) in row.iter_mut().zip(&logits) {
                    *p = l.exp();
                }
                let sum: f32 = row.iter().sum();
                row.iter_mut().for_each(|p| *p /= sum);
            }
            // The decoder's narrower beam can only lose paths.
            for c in &decode(&probs, TOP_K, Family::Us).candidates {
                let want = exact(&probs, &c.text);
                assert!(c.confidence <= want * 1.0001, "{}", c.text);
            }
        }
    }

    /// "7ABC123" (California's shape), one column a character, but the
    /// fifth character leans to `I`: "7ABCI23" fits no known format.
    fn probs_one_or_i(one: f32, i: f32) -> Vec<f32> {
        let mut probs = probs_for("7ABC123", 0.95, 1);
        set_column(&mut probs, 4, &[('1', one), ('I', i)]);
        probs
    }

    #[test]
    fn a_matching_alternate_overtakes_a_slightly_better_one() {
        assert!(!formats::matches_format("7ABCI23", Family::Us));
        let r = decode(&probs_one_or_i(0.4, 0.5), TOP_K, Family::Us);
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
        let r = decode(&probs_for("7ABC123", 0.99, 1), TOP_K, Family::Us);
        assert_eq!(r.text, "7ABC123");
        assert!(r.confidence >= REGION_MIN_CONFIDENCE, "{}", r.confidence);
        assert_eq!(r.region.as_deref(), Some("CA"));
    }

    #[test]
    fn a_much_more_confident_read_outside_every_format_stays_first() {
        // 0.9 against 0.05: 18 times likelier, beyond the prior's 4.
        let r = decode(&probs_one_or_i(0.05, 0.9), TOP_K, Family::Us);
        assert_eq!(r.text, "7ABCI23");
        assert_eq!(r.region, None);
        let fitting = r.candidates.iter().position(|c| c.text == "7ABC123");
        assert_eq!(fitting, Some(1), "{:?}", r.candidates);
    }

    #[test]
    fn the_prior_is_ln_8() {
        // Just below 8 times likelier: the format wins; just above: not.
        let r = decode(&probs_one_or_i(0.1, 0.78), 2, Family::Us);
        assert_eq!(r.text, "7ABC123");
        let r = decode(&probs_one_or_i(0.095, 0.78), 2, Family::Us);
        assert_eq!(r.text, "7ABCI23");
    }

    #[test]
    fn a_fitting_text_beyond_the_plain_top_k_is_found() {
        // "ABC1234" (LLLDDDD, a known shape), but the last character spreads
        // over 23 letters (0.04 each) with the digit 4 behind them (0.03):
        // the 23 texts "ABC123A".. (LLLDDDL, no format) are each likelier,
        // but the search keeps BEAM texts and the prior puts it first.
        assert!(!formats::matches_format("ABC123A", Family::Us));
        let mut probs = probs_for("ABC1234", 0.95, 1);
        let mut spread: Vec<(char, f32)> = "ABCDEFGHJKLMNPRSTUVWXYZ"
            .chars()
            .map(|c| (c, 0.04))
            .collect();
        spread.push(('4', 0.03));
        set_column(&mut probs, 6, &spread);
        let r = decode(&probs, 2, Family::Us);
        assert_eq!(r.text, "ABC1234", "{:?}", r.candidates);
        assert_eq!(r.candidates[1].text, "ABC123A");
        let ratio = r.candidates[0].confidence / r.candidates[1].confidence;
        assert!((ratio - 0.75).abs() < 1e-2, "{ratio}");
    }

    #[test]
    fn a_short_number_is_a_format_against_a_longer_read() {
        // "3162" beside a county's picture the reader takes for a `3` at
        // 0.3: "33162" (#####, a format) is the less likely read, yet
        // before decoder 9 it was first, as "3162" fitted no format.
        let mut probs = probs_for("33162", 0.95, 1);
        let first = &mut probs[..CLASSES];
        first.fill(0.0);
        first[class_of('3').unwrap()] = 0.3;
        first[BLANK] = 0.7;
        let r = decode(&probs, 2, Family::Us);
        assert_eq!(r.text, "3162", "{:?}", r.candidates);
        assert_eq!(r.candidates[1].text, "33162");
        assert!(formats::matches_format("33162", Family::Us));
        // A European crop knows no short number: "3162" and "33162" fit
        // no format there, and the reader's order stands.
        assert!(!formats::matches_format("3162", Family::Eu));
        assert_eq!(decode(&probs, 2, Family::Eu).text, "3162");
    }

    #[test]
    fn the_prior_counts_only_the_crops_family() {
        // "AB12CDE" is Britain's @@## @@@ (LLDDLLL), no US shape; its third
        // character leaning to `I` reads "ABI2CDE" (no format at all) a
        // little likelier.
        assert!(formats::matches_format("AB12CDE", Family::Eu));
        assert!(!formats::matches_format("AB12CDE", Family::Us));
        assert!(!formats::matches_format("ABI2CDE", Family::Any));
        let mut probs = probs_for("AB12CDE", 0.95, 1);
        set_column(&mut probs, 2, &[('1', 0.4), ('I', 0.5)]);
        assert_eq!(decode(&probs, 2, Family::Eu).text, "AB12CDE");
        assert_eq!(decode(&probs, 2, Family::Any).text, "AB12CDE");
        let us = decode(&probs, 2, Family::Us);
        assert_eq!(us.text, "ABI2CDE");
        assert_eq!(us.family, Family::Us);
        // California's shape is Belgium's too, but names no state on a
        // European plate.
        let ca = probs_for("7ABC123", 0.99, 1);
        assert_eq!(decode(&ca, 1, Family::Us).region.as_deref(), Some("CA"));
        assert_eq!(decode(&ca, 1, Family::Eu).region, None);
    }

    /// "B0ATING" (no format in any family) with its second column split
    /// between the letter O (`o`) and the digit 0 (`zero`).
    fn probs_round(o: f32, zero: f32) -> Vec<f32> {
        assert!(!formats::matches_format("BOATING", Family::Any));
        assert!(!formats::matches_format("B0ATING", Family::Any));
        let mut probs = probs_for("B0ATING", 0.95, 1);
        set_column(&mut probs, 1, &[('O', o), ('0', zero)]);
        probs
    }

    #[test]
    fn a_us_first_read_writes_the_round_character_0() {
        let probs = probs_round(0.6, 0.35);
        let us = decode(&probs, TOP_K, Family::Us);
        assert_eq!(us.text, "B0ATING");
        assert_eq!(us.confidence, us.candidates[0].confidence);
        assert!((us.char_confidences[1] - 0.35).abs() < 1e-6);
        // The O form stays the first alternate, the rest in their order.
        let eu = decode(&probs, TOP_K, Family::Eu);
        assert_eq!(eu.text, "BOATING");
        assert_eq!(us.candidates[1], eu.candidates[0]);
        assert_eq!(us.candidates[2..], eu.candidates[2..]);
        assert_eq!(decode(&probs, TOP_K, Family::Any).text, "BOATING");
        // Just below 8 times likelier the 0 form is first; just above, not.
        assert_eq!(
            decode(&probs_round(0.76, 0.1), 2, Family::Us).text,
            "B0ATING"
        );
        let o = decode(&probs_round(0.8, 0.095), 2, Family::Us);
        assert_eq!(o.text, "BOATING");
        assert_eq!(o.candidates[1].text, "B0ATING");
        // With one alternate asked for, the 0 form is still the read.
        assert_eq!(decode(&probs, 1, Family::Us).candidates.len(), 1);
        assert_eq!(decode(&probs, 1, Family::Us).text, "B0ATING");
    }

    /// Colorado's `###@@@` with an O among its letters: the O form fits
    /// the format and the 0 form (`###@#@`) none, so the O is a letter and
    /// pays nothing; where both forms fit (`JRO726`, `JR0726`), it pays.
    #[test]
    fn an_o_that_makes_a_format_is_a_letter() {
        assert!(o_makes_a_format("264MOT", Family::Us));
        assert!(!o_makes_a_format("JRO726", Family::Us));
        assert!(!o_makes_a_format("BOATING", Family::Us));
        let mut probs = probs_for("264M0T", 0.95, 1);
        set_column(&mut probs, 4, &[('O', 0.45), ('0', 0.5)]);
        // The reader finds the 0 form likelier; the format's odds win.
        let us = decode(&probs, TOP_K, Family::Us);
        assert_eq!(us.text, "264MOT");
        assert_eq!(us.candidates[1].text, "264M0T");
        assert!(us.candidates[1].confidence > us.confidence);
        let mut probs = probs_for("JR0726", 0.95, 1);
        set_column(&mut probs, 2, &[('O', 0.6), ('0', 0.35)]);
        assert_eq!(decode(&probs, TOP_K, Family::Us).text, "JR0726");
    }

    /// `text` read with `p` in one column per character, at `columns`,
    /// blanks elsewhere; character `i`'s column then set to `ps`.
    fn probs_at(text: &str, columns: &[usize], p: f32, i: usize, ps: &[(char, f32)]) -> Vec<f32> {
        let mut out = vec![(1.0 - p) / (CLASSES - 1) as f32; COLUMNS * CLASSES];
        let mut sure = [BLANK; COLUMNS];
        for (c, &t) in text.chars().zip(columns) {
            sure[t] = class_of(c).unwrap();
        }
        for (t, &k) in sure.iter().enumerate() {
            out[t * CLASSES + k] = p;
        }
        set_row(&mut out, columns[i], ps);
        out
    }

    #[test]
    fn where_the_groups_part_tells_slovakia_from_britain() {
        // Both fit a format: BL350KM Slovakia's @@|###@@, BL35OKM Britain's
        // @@## @@@; the fifth character leans to O.
        let o_or_zero = [('O', 0.5), ('0', 0.4)];
        let sk = probs_at("BL350KM", &[0, 2, 6, 8, 10, 12, 14], 0.95, 4, &o_or_zero);
        let gb = probs_at("BL350KM", &[0, 2, 4, 6, 10, 12, 14], 0.95, 4, &o_or_zero);
        // The crest's gap after two letters: Slovakia's text overtakes.
        assert_eq!(decode(&sk, TOP_K, Family::Eu).text, "BL350KM");
        // The gap after four characters: Britain's stays first.
        assert_eq!(decode(&gb, TOP_K, Family::Eu).text, "BL35OKM");
        // A US crop's read ignores where characters stand.
        assert_eq!(decode(&sk, TOP_K, Family::Any).text, "BL35OKM");
        // The views pool their gaps: two views of the crest's layout as one.
        assert_eq!(decode_views(&[&sk, &sk], TOP_K, Family::Eu).text, "BL350KM");
    }

    #[test]
    fn layout_contrast_is_the_gap_at_separators_against_the_rest() {
        let gaps = [1.0, 2.0, 1.0, 1.0];
        assert!((layout_contrast(&gaps, 0b10) - 1.0).abs() < 1e-6);
        assert!((layout_contrast(&gaps, 0b100) + 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(layout_contrast(&gaps, 0), 0.0);
        assert_eq!(layout_contrast(&gaps, 0b1111), 0.0);
    }

    #[test]
    fn a_long_plate_reads_whole() {
        let r = decode(&probs_for("ABCD1234", 0.8, 2), 1, Family::Us);
        assert_eq!(r.text, "ABCD1234");
        assert_eq!(r.candidates.len(), 1);
    }

    #[test]
    fn all_blanks_read_nothing() {
        let r = decode(&probs_for("", 0.99, 1), TOP_K, Family::Us);
        assert_eq!(r.text, "");
        assert!(r.char_confidences.is_empty());
        assert!(r.confidence > 0.5);
    }

    /// The search as first written: every candidate in a hash map, the beam
    /// sorted after every column. [`beam_search`] must give its texts and
    /// probabilities to the bit.
    fn reference_beam_search(probs: &[f32], width: usize) -> Vec<(f32, Seq)> {
        const NONE: Ends = Ends {
            blank: 0.0,
            char: 0.0,
        };
        let mut beam: Vec<(Seq, Ends)> = vec![(
            Seq::EMPTY,
            Ends {
                blank: 1.0,
                char: 0.0,
            },
        )];
        let mut next: HashMap<Seq, Ends> = HashMap::new();
        for column in probs.chunks(CLASSES) {
            let best = argmax(&column[..BLANK]);
            let classes: Vec<(u8, f64)> = (0..BLANK)
                .filter(|&c| c == best || column[c] >= MIN_PROB)
                .map(|c| (c as u8, f64::from(column[c])))
                .collect();
            let blank = f64::from(column[BLANK]);
            next.clear();
            for &(seq, ends) in &beam {
                let total = ends.total();
                next.entry(seq).or_insert(NONE).blank += total * blank;
                for &(c, p) in &classes {
                    if seq.last() == Some(c) {
                        next.entry(seq).or_insert(NONE).char += ends.char * p;
                        if (seq.len as usize) < MAX_CHARS {
                            next.entry(seq.push(c)).or_insert(NONE).char += ends.blank * p;
                        }
                    } else if (seq.len as usize) < MAX_CHARS {
                        next.entry(seq.push(c)).or_insert(NONE).char += total * p;
                    }
                }
            }
            beam = next.drain().collect();
            let order = |a: &(Seq, Ends), b: &(Seq, Ends)| {
                b.1.total().total_cmp(&a.1.total()).then(a.0.cmp(&b.0))
            };
            beam.sort_by(order);
            beam.truncate(width);
        }
        beam.into_iter()
            .map(|(seq, e)| (e.total().ln() as f32, seq))
            .collect()
    }

    #[test]
    fn the_search_gives_the_reference_texts_to_the_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(52);
        let mut cases: Vec<Vec<f32>> = Vec::new();
        // As a reader gives them: a sure class per column and a rival of
        // random strength, from nearly sure to nearly even.
        for _ in 0..40 {
            let mut probs = Vec::with_capacity(COLUMNS * CLASSES);
            for t in 0..COLUMNS {
                let mut logits: Vec<f32> =
                    (0..CLASSES).map(|_| rng.random_range(0.0..1.0)).collect();
                let sure = if t % 2 == 1 {
                    BLANK
                } else {
                    rng.random_range(0..CLASSES)
                };
                logits[sure] += rng.random_range(0.0..9.0);
                logits[rng.random_range(0..CLASSES)] += rng.random_range(0.0..9.0);
                let sum: f32 = logits.iter().map(|l| l.exp()).sum();
                probs.extend(logits.iter().map(|l| l.exp() / sum));
            }
            cases.push(probs);
        }
        // Ties everywhere: every column even (texts of equal probability
        // are kept in class order).
        cases.push(vec![1.0 / CLASSES as f32; COLUMNS * CLASSES]);
        // Longer than MAX_CHARS: a different sure character every column.
        let mut long = vec![0.001f32; COLUMNS * CLASSES];
        for (t, column) in long.chunks_mut(CLASSES).enumerate() {
            column[t % BLANK] = 0.9;
            column[BLANK] = 0.06;
        }
        cases.push(long);
        // A repeated character, and exact zeros.
        let mut repeat = vec![0.0f32; COLUMNS * CLASSES];
        for (t, column) in repeat.chunks_mut(CLASSES).enumerate() {
            column[5] = if t % 3 == 2 { 0.2 } else { 0.7 };
            column[BLANK] = 1.0 - column[5];
        }
        cases.push(repeat);
        // A new text tying with the least likely kept one and ahead of it
        // in class order: with a beam of 2, "0" must displace "A".
        let mut tie = vec![0.0f32; 2 * CLASSES];
        tie[BLANK] = 0.5;
        tie[10] = 0.25;
        tie[11] = 0.25;
        tie[CLASSES + BLANK] = 0.5;
        tie[CLASSES] = 0.25;
        tie[CLASSES + 1] = 0.25;
        let kept: Vec<String> = beam_search(&tie, 2).iter().map(|(_, s)| s.text()).collect();
        assert_eq!(kept, ["", "0"]);
        cases.push(tie);
        // Halves and quarters over three classes: exact ties between texts
        // of every length, kept and new, in beams of every width.
        for _ in 0..300 {
            let mut probs = vec![0.0f32; 8 * CLASSES];
            for column in probs.chunks_mut(CLASSES) {
                let mut split = [0.5, 0.25, 0.25];
                split.rotate_left(rng.random_range(0..3));
                for (class, p) in [10, 11, BLANK].into_iter().zip(split) {
                    column[class] = p;
                }
            }
            cases.push(probs);
        }
        for probs in &cases {
            for width in [1, 2, 3, 5, BEAM, 300] {
                let got = beam_search(probs, width);
                let want = reference_beam_search(probs, width);
                assert_eq!(got.len(), want.len(), "width {width}");
                for ((gs, gq), (ws, wq)) in got.iter().zip(&want) {
                    assert_eq!((gs.to_bits(), gq), (ws.to_bits(), wq), "width {width}");
                }
            }
        }
    }
}
