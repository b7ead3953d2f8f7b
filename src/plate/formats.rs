//! Plate serial formats and what they tell about a text: whether it has the
//! shape of a format some issuer prints, and which US states print that
//! shape. The decoder uses the first to re-rank a read's alternates
//! ([`crate::ocr::decode`]) and the second to guess a plate's state; this
//! module only answers questions about texts and never changes one.
//!
//! The one source of format knowledge is the plate generator's style table
//! (`synth_plates::styles::STYLES`): the formats the reader was trained on
//! are the formats it knows, and a style added there is known here without
//! a second list to keep in sync.
//!
//! A format is written as the generator writes it: `#` a digit, `@` or `A` a
//! letter, `?` either; ` `, `-`, `.` and `|` are printed on the plate but are
//! not characters of a read. A *shape* drops the separators and names each
//! character's kind: `#@@@###` (California) -> `DLLLDDD`, and `7ABC123` has
//! that shape. Shapes say nothing of which letters an issuer skips, so
//! `0OOO000` has California's shape too.
//!
//! A plate's outline tells which table to ask ([`Family`]): a one-row
//! European plate is 520 x 110 mm, over four times as wide as tall, a US
//! plate 12 x 6 inches. A crop's width over its height picks the family
//! ([`Family::of_size`]), and only that family's formats count: a US
//! read is not matched against European shapes nor a European read
//! against US ones, and a European read names no US state.
//!
//! ```text
//! STYLES --formats, separators dropped--> shapes (DLLLDDD: CA, ...), distinct,
//!   each with the families that print it
//!   text, Family --alphanumerics, each a letter or a digit-->
//!        matches_format / states_matching / likely_state
//! STYLES (European) --formats--> (shape, separators) --> european_separators:
//!   where the groups of each European format a text fits part
//! ```
//!
//! A style's `known_formats` (series an issuer still has on the road
//! that the generator does not draw) count as its formats here too.
//! Beside the styles' formats, the short numbers of US specialty, county
//! and low-number plates (`styles::US_SHORT_NUMBERS`: `###`, `####`) are US
//! shapes of no state, though no style draws them: in a crop they are a
//! read's whole text, while in a photo a box on a piece of a serial or on
//! a sticker reads one too, so a photo's ranking of its boxes leaves them
//! out ([`is_short_number`]).
//!
//! States come from the style ids: `us-ca` and `us-ca-old` are CA. The
//! generic `us` style, `us-gov`, `us-dealer` and the European styles (`eu`)
//! are no state: their formats count as known formats but never name one.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use crate::synth_plates::styles::{STYLES, US_SHORT_NUMBERS};

/// Which styles' formats a read is matched against, as its crop's outline
/// tells: [`Family::Us`] (US styles, 2:1), [`Family::Eu`] (the one-row
/// European styles, 4.4-4.6:1) or, where no outline is known,
/// [`Family::Any`] (every style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Any,
    Us,
    Eu,
}

impl Family {
    /// The least width over height of a European crop: about midway
    /// between the US styles' 2 and the European styles' 4.4, so a
    /// localiser's margins or a loose crop (a fifth either way) do not
    /// move a plate across it. Fixed a priori.
    pub const EU_MIN_ASPECT: f32 = 3.2;

    /// The family of a crop or box `width` x `height` pixels.
    ///
    /// ```
    /// use alpr::plate::formats::Family;
    /// assert_eq!(Family::of_size(200, 100), Family::Us);
    /// assert_eq!(Family::of_size(470, 100), Family::Eu);
    /// ```
    pub fn of_size(width: u32, height: u32) -> Family {
        if width as f32 >= Family::EU_MIN_ASPECT * height.max(1) as f32 {
            Family::Eu
        } else {
            Family::Us
        }
    }

    /// True when this family counts formats of a style that is (`eu`) or
    /// is not European.
    fn admits(self, eu: bool) -> bool {
        match self {
            Family::Any => true,
            Family::Us => !eu,
            Family::Eu => eu,
        }
    }
}

/// One known shape and the US states whose formats have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `L` a letter, `D` a digit, `?` either; one per character.
    pattern: String,
    /// Upper-case, sorted, distinct; empty when only non-state styles
    /// (generic US, government, dealer, European) use the shape.
    states: Vec<String>,
    /// Whether US (non-European) styles print it.
    us: bool,
    /// Whether European styles print it.
    eu: bool,
}

impl Shape {
    /// True when a style of `family` prints this shape.
    pub fn in_family(&self, family: Family) -> bool {
        (self.us && family.admits(false)) || (self.eu && family.admits(true))
    }

    /// The shape as `L`/`D`/`?` characters, e.g. `DLLLDDD`.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The US states printing this shape (e.g. `["CA"]`), sorted.
    pub fn states(&self) -> &[String] {
        &self.states
    }

    /// True when `text`'s letters and digits (anything else is ignored, as
    /// [`normalize`](super::normalize) drops it) have this shape.
    pub fn fits(&self, text: &str) -> bool {
        let mut chars = text.bytes().filter(u8::is_ascii_alphanumeric);
        self.pattern.bytes().all(|kind| {
            chars.next().is_some_and(|c| match kind {
                b'L' => c.is_ascii_alphabetic(),
                b'D' => c.is_ascii_digit(),
                _ => true,
            })
        }) && chars.next().is_none()
    }
}

/// A generator format's shape: `#@@@###` -> `DLLLDDD`, `@@@-####` ->
/// `LLLDDDD`, `?` kept; separators (anything else) dropped.
///
/// ```
/// use alpr::plate::formats::shape_of_format;
/// assert_eq!(shape_of_format("#@@@###"), "DLLLDDD");
/// assert_eq!(shape_of_format("@@ #####"), "LLDDDDD");
/// ```
pub fn shape_of_format(format: &str) -> String {
    format
        .chars()
        .filter_map(|c| match c {
            '#' => Some('D'),
            '@' | 'A' => Some('L'),
            '?' => Some('?'),
            _ => None,
        })
        .collect()
}

/// A text's shape: its letters and digits, each as `L` or `D`.
///
/// ```
/// use alpr::plate::formats::shape_of;
/// assert_eq!(shape_of("7abc-123"), "DLLLDDD");
/// ```
pub fn shape_of(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| if c.is_ascii_digit() { 'D' } else { 'L' })
        .collect()
}

/// The US state a style id names (`us-ca`, `us-ca-old` -> `CA`), or `None`
/// for the generic, government, dealer and European styles.
fn state_of(style_id: &str) -> Option<String> {
    let code = style_id.strip_prefix("us-")?.split('-').next()?;
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase()))
        .then(|| code.to_ascii_uppercase())
}

/// Every distinct shape of the style table (formats drawn and known) and
/// of the short US numbers, sorted by pattern (so shapes sharing a prefix
/// are neighbours, which the decoder's search reuses).
static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let mut shapes: Vec<Shape> = Vec::new();
    for style in STYLES {
        let state = state_of(style.id);
        for format in style.formats.iter().chain(style.known_formats) {
            let shape = shape_entry(&mut shapes, format);
            if style.is_eu() {
                shape.eu = true;
            } else {
                shape.us = true;
            }
            if let Some(state) = &state
                && !shape.states.contains(state)
            {
                shape.states.push(state.clone());
                shape.states.sort();
            }
        }
    }
    for format in US_SHORT_NUMBERS {
        shape_entry(&mut shapes, format).us = true;
    }
    shapes.sort_by(|a, b| a.pattern.cmp(&b.pattern));
    shapes
});

/// The entry of `format`'s shape in `shapes`, added (printed by no family,
/// no state) if missing.
fn shape_entry<'a>(shapes: &'a mut Vec<Shape>, format: &str) -> &'a mut Shape {
    let pattern = shape_of_format(format);
    let i = match shapes.iter().position(|s| s.pattern == pattern) {
        Some(i) => i,
        None => {
            shapes.push(Shape {
                pattern,
                states: Vec::new(),
                us: false,
                eu: false,
            });
            shapes.len() - 1
        }
    };
    &mut shapes[i]
}

/// True when `text` is one of the short US numbers
/// ([`US_SHORT_NUMBERS`](crate::synth_plates::styles::US_SHORT_NUMBERS)),
/// a format in a crop but not in a photo's ranking of its boxes.
///
/// ```
/// use alpr::plate::formats::is_short_number;
/// assert!(is_short_number("6161") && is_short_number("701"));
/// assert!(!is_short_number("40718") && !is_short_number("A123"));
/// ```
pub fn is_short_number(text: &str) -> bool {
    let shape = shape_of(text);
    US_SHORT_NUMBERS
        .iter()
        .any(|format| shape_of_format(format) == shape)
}

/// Every known shape, distinct, sorted by pattern.
pub fn shapes() -> &'static [Shape] {
    &SHAPES
}

/// True when `text` has the shape of some format of a `family` style
/// ([`Family::Any`]: US states, generic, government, dealer, European).
///
/// ```
/// use alpr::plate::formats::{Family, matches_format};
/// assert!(matches_format("7ABC123", Family::Us)); // CA #@@@###
/// assert!(!matches_format("ABCDEFGH", Family::Any));
/// assert!(matches_format("AB12CDE", Family::Eu)); // GB @@## @@@
/// assert!(!matches_format("AB12CDE", Family::Us));
/// ```
pub fn matches_format(text: &str, family: Family) -> bool {
    shapes().iter().any(|s| s.in_family(family) && s.fits(text))
}

/// The US states whose formats `text` fits, sorted and distinct; none for
/// a European read.
///
/// ```
/// use alpr::plate::formats::{Family, states_matching};
/// assert_eq!(states_matching("7ABC123", Family::Us), ["CA"]);
/// assert!(states_matching("7ABC123", Family::Eu).is_empty());
/// ```
pub fn states_matching(text: &str, family: Family) -> Vec<&'static str> {
    if family == Family::Eu {
        return Vec::new();
    }
    let mut states: Vec<&'static str> = shapes()
        .iter()
        .filter(|s| s.fits(text))
        .flat_map(|s| s.states.iter().map(String::as_str))
        .collect();
    states.sort_unstable();
    states.dedup();
    states
}

/// The plate's likely US state: the one state whose formats `text` fits,
/// where its shape is [`distinctive`]; `None` when none or several states
/// fit, the shape is generic, or the read is European. A guess from the
/// serial's shape alone; the plate's artwork is not looked at. With
/// [`Family::Any`] the plate is assumed to be American: a European plate
/// whose shape one state also prints (Belgium's `#-@@@-###` is
/// California's `#@@@###`) gets that state.
///
/// ```
/// use alpr::plate::formats::{Family, likely_state};
/// assert_eq!(likely_state("7ABC123", Family::Us), Some("CA"));
/// assert_eq!(likely_state("7ABC123", Family::Eu), None);
/// assert_eq!(likely_state("ABC1234", Family::Any), None); // NY, PA, GA, ...
/// assert_eq!(likely_state("KW4825", Family::Us), None); // generic: DC's, VA's, ...
/// ```
pub fn likely_state(text: &str, family: Family) -> Option<&'static str> {
    if !distinctive(text) {
        return None;
    }
    match states_matching(text, family)[..] {
        [state] => Some(state),
        _ => None,
    }
}

/// Whether a serial's shape can tell its issuer: at least three runs of
/// letters and digits (California's `7ABC123`, Texas's `KM7R362`). One or
/// two runs (`40718`, `KW4825`, `K481526`, `52704K`) make the generic
/// serial that most issuers print in one series or another (passenger
/// plates of other years, specialty, trailer and dealer plates) beside the
/// one the style table knows them by, so fitting one state's table entry
/// says little: on `us-crops-dev` the table's one state was right for 12
/// of 33 such reads against 14 of 16 with three runs or more (the rule is
/// that set's, disclosed in the model card; no other labelled states were
/// at hand).
pub fn distinctive(text: &str) -> bool {
    let kinds = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.is_ascii_digit());
    let mut runs = 0;
    let mut last = None;
    for digit in kinds {
        if last != Some(digit) {
            runs += 1;
            last = Some(digit);
        }
    }
    runs >= 3
}

/// Where a format parts its groups: bit `i` set when it prints a separator
/// (a gap, dash, dot or logo) between characters `i` and `i + 1`.
///
/// ```
/// use alpr::plate::formats::separators_of_format;
/// assert_eq!(separators_of_format("@@|###@@"), 0b10); // Slovakia: crest after 2
/// assert_eq!(separators_of_format("@@## @@@"), 0b1000); // Britain: gap after 4
/// assert_eq!(separators_of_format("#-@@@-###"), 0b1001);
/// assert_eq!(separators_of_format("#@@@###"), 0);
/// ```
pub fn separators_of_format(format: &str) -> u32 {
    let mut mask = 0u32;
    let mut chars = 0u32;
    for c in format.chars() {
        if matches!(c, '#' | '@' | 'A' | '?') {
            chars += 1;
        } else if (1..=32).contains(&chars) {
            mask |= 1 << (chars - 1);
        }
    }
    mask
}

/// Every European format as (shape, separators), distinct.
static EU_LAYOUTS: LazyLock<Vec<(Shape, u32)>> = LazyLock::new(|| {
    let mut layouts: Vec<(Shape, u32)> = Vec::new();
    for style in STYLES.iter().filter(|style| style.is_eu()) {
        for format in style.formats {
            let shape = Shape {
                pattern: shape_of_format(format),
                states: Vec::new(),
                us: false,
                eu: true,
            };
            let layout = (shape, separators_of_format(format));
            if !layouts.contains(&layout) {
                layouts.push(layout);
            }
        }
    }
    layouts
});

/// The [separators](separators_of_format) of each European format whose
/// shape `text` has: where its groups would part on the plate. Slovakia's
/// `@@|###@@` and Britain's `@@## @@@` differ only there, so `BL350KM`
/// and `BL35OKM` differ in where they expect the gap.
///
/// ```
/// use alpr::plate::formats::european_separators;
/// let sk: Vec<u32> = european_separators("BL350KM").collect();
/// assert!(sk.contains(&0b10) && !sk.contains(&0b1000));
/// assert_eq!(european_separators("BL35OKM").collect::<Vec<_>>(), [0b1000]);
/// assert_eq!(european_separators("7ABCDEFG").count(), 0);
/// ```
pub fn european_separators(text: &str) -> impl Iterator<Item = u32> + '_ {
    EU_LAYOUTS
        .iter()
        .filter(move |(shape, _)| shape.fits(text))
        .map(|(_, separators)| *separators)
}

/// The fewest characters of a [printed word](is_printed_word): shorter
/// names (European country letters: `D`, `SK`) are as likely a serial.
pub const PRINTED_WORD_MIN: usize = 4;

/// Every state name and slogan of the style table as a read spells it
/// ([`printed_key`]), of at least [`PRINTED_WORD_MIN`] characters.
static PRINTED_WORDS: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    STYLES
        .iter()
        .flat_map(|style| std::iter::once(style.name).chain(style.slogans.iter().copied()))
        .map(printed_key)
        .filter(|word| word.len() >= PRINTED_WORD_MIN)
        .collect()
});

/// `text` [`normalize`](super::normalize)d, with 0 read as O and 1 as I:
/// the reader writes a US read's round O as 0 (decoder 8), so a box on a
/// plate's header reads `ARIZ0NA` or `1DAH0` as often as the name.
fn printed_key(text: &str) -> String {
    super::normalize(text)
        .chars()
        .map(|c| match c {
            '0' => 'O',
            '1' => 'I',
            c => c,
        })
        .collect()
}

/// True when `text` spells a word plates print beside the serial, a state's
/// name or slogan of the style table (`TEXAS`, `GARDEN STATE`), rather
/// than a serial: a box on a plate's header or footer reads one.
///
/// ```
/// use alpr::plate::formats::is_printed_word;
/// assert!(is_printed_word("TEXAS"));
/// assert!(is_printed_word("new jersey"));
/// assert!(is_printed_word("ARIZ0NA") && is_printed_word("1DAH0"));
/// assert!(!is_printed_word("7ABC123"));
/// assert!(!is_printed_word("SK")); // too short to tell from a serial
/// ```
pub fn is_printed_word(text: &str) -> bool {
    PRINTED_WORDS.contains(&printed_key(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_words_are_the_tables_names_and_slogans() {
        for word in [
            "HAWAII",
            "DISTRICT OF COLUMBIA",
            "GARDENSTATE",
            "Land of Lincoln",
            "OHIO",
            "0HI0",
            "LOUIS1ANA",
        ] {
            assert!(is_printed_word(word), "{word}");
        }
        // Serials, pieces of words, and names too short to tell apart.
        for text in ["7ABC123", "HAWAI", "GB", "CZ", "GARDEN", ""] {
            assert!(!is_printed_word(text), "{text}");
        }
    }

    #[test]
    fn shapes_drop_separators_and_keep_either() {
        assert_eq!(shape_of_format("@@@-####"), "LLLDDDD");
        assert_eq!(shape_of_format("###|@@@"), "DDDLLL");
        assert_eq!(shape_of_format("###.@@@"), "DDDLLL");
        assert_eq!(shape_of_format("?#.A@#"), "?DLLD");
        assert_eq!(shape_of("ab 12"), "LLDD");
        assert_eq!(shape_of(""), "");
    }

    #[test]
    fn states_come_from_style_ids() {
        assert_eq!(state_of("us-ca").as_deref(), Some("CA"));
        assert_eq!(state_of("us-ca-old").as_deref(), Some("CA"));
        for not_a_state in ["us", "us-gov", "us-dealer", "eu"] {
            assert_eq!(state_of(not_a_state), None, "{not_a_state}");
        }
        // Every other US style names a state.
        for style in STYLES.iter().filter(|s| s.id.starts_with("us-")) {
            if !matches!(style.id, "us-gov" | "us-dealer") {
                assert!(state_of(style.id).is_some(), "{}", style.id);
            }
        }
    }

    #[test]
    fn the_table_becomes_distinct_shapes() {
        let all = shapes();
        let ca = all.iter().find(|s| s.pattern() == "DLLLDDD").unwrap();
        assert_eq!(ca.states(), ["CA"]);
        for pair in all.windows(2) {
            assert!(pair[0].pattern < pair[1].pattern, "sorted and distinct");
        }
        // Each style format's shape is known, with its state if it has one.
        for style in STYLES {
            for format in style.formats {
                let pattern = shape_of_format(format);
                let shape = all.iter().find(|s| s.pattern == pattern).unwrap();
                if let Some(state) = state_of(style.id) {
                    assert!(shape.states.contains(&state), "{} {format}", style.id);
                }
            }
        }
    }

    #[test]
    fn a_text_fits_a_shape_by_kind_and_length() {
        let ca = Shape {
            pattern: "DLLLDDD".into(),
            states: vec!["CA".into()],
            us: true,
            eu: false,
        };
        assert!(ca.fits("7ABC123"));
        assert!(ca.fits("7abc-123"), "separators ignored, case ignored");
        assert!(!ca.fits("7ABC12"));
        assert!(!ca.fits("7ABC1234"));
        assert!(!ca.fits("7AB1123"));
        let either = Shape {
            pattern: "?D".into(),
            states: vec![],
            us: true,
            eu: true,
        };
        assert!(either.fits("A1") && either.fits("11") && !either.fits("1A"));
    }

    #[test]
    fn known_formats_and_states_of_texts() {
        use Family::*;
        assert!(matches_format("7ABC123", Any));
        assert!(matches_format("ABC-1234", Us), "generic US / NY");
        assert!(matches_format("AB12CDE", Any), "a European shape (LLDDLLL)");
        assert!(!matches_format("ABCD", Any));
        assert!(!matches_format("", Any));
        assert_eq!(states_matching("7ABC123", Any), ["CA"]);
        assert_eq!(likely_state("7ABC123", Us), Some("CA"));
        // Alabama's ##@###@ is its own.
        assert_eq!(likely_state("58C217K", Us), Some("AL"));
        // LLLDDDD is printed by many states: no guess.
        assert!(states_matching("ABC1234", Us).len() > 1);
        assert_eq!(likely_state("ABC1234", Us), None);
        // A European-only shape names no state.
        assert!(states_matching("AB12CDE", Any).is_empty());
        assert_eq!(likely_state("AB12CDE", Any), None);
        // A shape no style prints: none.
        assert_eq!(likely_state("ABCDEFGH", Any), None);
        // One state's table entry, but a generic shape (one or two runs of
        // letters and digits): no guess.
        for generic in ["KW4825", "K481526", "40718", "52704K"] {
            assert_eq!(states_matching(generic, Us).len(), 1, "{generic}");
            assert!(!distinctive(generic), "{generic}");
            assert_eq!(likely_state(generic, Us), None, "{generic}");
        }
        assert!(distinctive("KM7R362") && distinctive("7-ABC-123"));
        assert!(!distinctive("ABC-1234"), "separators are not runs");
    }

    #[test]
    fn a_family_counts_only_its_styles_formats() {
        use Family::*;
        // GB's @@## @@@ is European only, Oklahoma's ###@@@ US only.
        assert!(matches_format("AB12CDE", Eu) && !matches_format("AB12CDE", Us));
        assert!(matches_format("123ABC", Us) && !matches_format("123ABC", Eu));
        // Belgium's #-@@@-### is California's shape too: both families know
        // it, but a European read names no state.
        assert!(matches_format("1ABC234", Eu) && matches_format("1ABC234", Us));
        assert_eq!(likely_state("1ABC234", Any), Some("CA"));
        assert_eq!(likely_state("1ABC234", Eu), None);
        // Every style format is known to its own family and to Any.
        for style in STYLES {
            let family = if style.is_eu() { Eu } else { Us };
            for format in style.formats {
                let shape = shape_of_format(format);
                let text: String = shape
                    .chars()
                    .map(|k| if k == 'D' { '1' } else { 'A' })
                    .collect();
                assert!(matches_format(&text, family), "{} {format}", style.id);
                assert!(matches_format(&text, Any), "{} {format}", style.id);
            }
        }
    }

    #[test]
    fn formats_known_but_not_drawn_count_for_their_state() {
        use Family::*;
        // Massachusetts' 00A A00 and 0000 AA series: no style draws them.
        let drawn = |shape: &str| {
            STYLES
                .iter()
                .flat_map(|s| s.formats)
                .any(|f| shape_of_format(f) == shape)
        };
        assert!(!drawn("DDLLDD"));
        assert_eq!(states_matching("27HN31", Us), ["MA"]);
        assert_eq!(likely_state("27HN31", Us), Some("MA"));
        // 0000 AA is drawn for Maine and Utah; Massachusetts joins them.
        assert!(drawn("DDDDLL"));
        assert_eq!(states_matching("1234AB", Us), ["MA", "ME", "UT"]);
        assert_eq!(likely_state("1234AB", Us), None);
    }

    #[test]
    fn short_numbers_are_us_formats_of_no_state() {
        use Family::*;
        for number in ["701", "6161", "0382"] {
            assert!(is_short_number(number), "{number}");
            assert!(matches_format(number, Us) && matches_format(number, Any));
            assert!(!matches_format(number, Eu), "{number}");
            assert!(states_matching(number, Us).is_empty(), "{number}");
        }
        // Two digits, five, or a letter among them: not short numbers.
        for other in ["55", "40718", "6S61", "38KT"] {
            assert!(!is_short_number(other), "{other}");
        }
        assert!(!matches_format("55", Us) && !matches_format("38KT", Us));
    }

    #[test]
    fn the_outline_picks_the_family() {
        assert_eq!(Family::of_size(240, 120), Family::Us);
        // A US plate in a loose crop or a localiser's 2:1 box with margins.
        assert_eq!(Family::of_size(290, 100), Family::Us);
        // A European plate, tight (4.7) or with the reader's margins (4.2).
        assert_eq!(Family::of_size(470, 100), Family::Eu);
        assert_eq!(Family::of_size(420, 100), Family::Eu);
        assert_eq!(Family::of_size(320, 100), Family::Eu, "at the bound");
        assert_eq!(Family::of_size(10, 0), Family::Eu, "no height: no panic");
    }
}
