//! Partial-plate patterns as investigators write them (`7AB*`, `?BC-1234`) and
//! their matching against reads, forgiving a budget of OCR confusions. This
//! module owns the pattern syntax and its errors; the confusion classes come
//! from `confusion`, and the SQL face is the `plate_match` UDF.
//!
//! Syntax: `*` any run of characters (including none), `?` exactly one
//! character, letters and digits literal (case-insensitive), spaces, dashes and
//! dots ignored. A pattern is anchored at both ends: `7AB` does not match
//! `7ABC123`, `7AB*` does.
//!
//! Matching is a dynamic programme over (pattern position, plate position)
//! keeping the cheapest alignment, so `*` never backtracks: O(pattern × plate).

use std::fmt;

use super::confusion::confusion_class_byte;
use super::normalize_into;
use crate::{Error, Result};

/// How many OCR confusions (`8`↔`B`, `0`↔`O`, ...) a match forgives unless the
/// caller says otherwise.
pub const DEFAULT_MAX_SUBSTITUTIONS: u32 = 2;

/// One pattern element, over normalised ASCII plate bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Token {
    /// A letter or digit, upper-cased.
    Literal(u8),
    /// `?`: exactly one character.
    One,
    /// `*`: any run, including the empty one.
    Any,
}

/// A parsed partial-plate pattern; see the module doc for the syntax.
///
/// ```
/// use alpr::plate::Pattern;
/// let p = Pattern::parse("bbc*")?;
/// assert!(p.matches("8BC-1234", 1)); // one confusion: 8 read for B
/// assert!(!p.matches("8BC-1234", 0));
/// # Ok::<(), alpr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    tokens: Vec<Token>,
    /// Characters a plate needs at least: literals plus `?`.
    min_len: usize,
    literal_len: usize,
    has_any: bool,
    /// One bit per confusion class a literal needs ([`class_bit`]): a plate
    /// lacking any of them cannot match, which rejects most plates before
    /// the dynamic programme runs.
    required_classes: u64,
}

/// A bit per confusion class of an ASCII letter or digit; 0 for anything
/// else (which no literal can match anyway). A table, because this runs for
/// every byte of every plate scanned.
const CLASS_BITS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut c = 0;
    while c < 256 {
        let class = confusion_class_byte(c as u8);
        table[c] = match class {
            b'0'..=b'9' => 1 << (class - b'0'),
            b'A'..=b'Z' => 1 << (10 + class - b'A'),
            _ => 0,
        };
        c += 1;
    }
    table
};

#[inline]
fn class_bit(c: u8) -> u64 {
    CLASS_BITS[c as usize]
}

impl Pattern {
    /// Parses `text`. Fails with [`Error::BadInput`] on an empty pattern, on
    /// one made only of wildcards (it would match every plate) and on
    /// characters other than letters, digits, `*`, `?`, space, dash and dot.
    pub fn parse(text: &str) -> Result<Pattern> {
        let mut tokens = Vec::with_capacity(text.len());
        for c in text.chars() {
            let token = match c {
                '*' if tokens.last() == Some(&Token::Any) => continue,
                '*' => Token::Any,
                '?' => Token::One,
                ' ' | '-' | '.' => continue,
                c if c.is_ascii_alphanumeric() => Token::Literal(c.to_ascii_uppercase() as u8),
                other => {
                    return Err(Error::bad_input(format!(
                        "plate pattern '{text}' contains {other:?}: only letters, digits, \
                         '*', '?', spaces, dashes and dots are allowed"
                    )));
                }
            };
            tokens.push(token);
        }
        if tokens.is_empty() {
            return Err(Error::bad_input(format!(
                "plate pattern '{text}' is empty: give at least one letter or digit"
            )));
        }
        let literal_len = tokens
            .iter()
            .filter(|t| matches!(t, Token::Literal(_)))
            .count();
        if literal_len == 0 {
            return Err(Error::bad_input(format!(
                "plate pattern '{text}' has no letters or digits: it would match every plate"
            )));
        }
        let min_len = tokens.iter().filter(|t| **t != Token::Any).count();
        let has_any = tokens.contains(&Token::Any);
        let required_classes = tokens
            .iter()
            .map(|t| match *t {
                Token::Literal(c) => class_bit(c),
                _ => 0,
            })
            .fold(0, |acc, bit| acc | bit);
        Ok(Pattern {
            tokens,
            min_len,
            literal_len,
            has_any,
            required_classes,
        })
    }

    /// How many letters and digits the pattern fixes.
    pub fn literal_len(&self) -> usize {
        self.literal_len
    }

    /// True when `plate`, once normalised, matches with at most
    /// `max_substitutions` confusable characters standing in for literals.
    pub fn matches(&self, plate: &str, max_substitutions: u32) -> bool {
        let mut normalized = String::with_capacity(plate.len());
        normalize_into(plate, &mut normalized);
        self.matches_normalized(&normalized, max_substitutions)
    }

    /// Like [`Pattern::matches`] for a plate already normalised (hot loops
    /// normalise into a reused buffer). Text that is not normalised is compared
    /// byte for byte and never panics, but `?` then counts bytes.
    pub fn matches_normalized(&self, plate: &str, max_substitutions: u32) -> bool {
        let plate = plate.as_bytes();
        let n = plate.len();
        if n < self.min_len || (!self.has_any && n != self.min_len) {
            return false;
        }
        let present = plate.iter().fold(0, |acc, &c| acc | class_bit(c));
        if self.required_classes & !present != 0 {
            return false;
        }
        // Costs above the budget are all "no match"; keeping the budget below
        // UNREACHABLE lets saturating additions stand for impossibility.
        let budget = max_substitutions.min(UNREACHABLE - 1);

        // row[j]: cheapest cost of matching the tokens so far against plate[..j].
        let mut stack = [UNREACHABLE; 33];
        let mut heap;
        let row: &mut [u32] = if n < stack.len() {
            &mut stack[..=n]
        } else {
            heap = vec![UNREACHABLE; n + 1];
            &mut heap
        };
        row[0] = 0;

        for token in &self.tokens {
            match *token {
                Token::Any => {
                    for j in 1..=n {
                        row[j] = row[j].min(row[j - 1]);
                    }
                }
                Token::One => {
                    row.copy_within(0..n, 1);
                    row[0] = UNREACHABLE;
                }
                Token::Literal(want) => {
                    for j in (1..=n).rev() {
                        row[j] = match substitution_cost(want, plate[j - 1]) {
                            Some(cost) => row[j - 1].saturating_add(cost),
                            None => UNREACHABLE,
                        };
                    }
                    row[0] = UNREACHABLE;
                }
            }
            if row.iter().all(|&cost| cost > budget) {
                return false;
            }
        }
        row[n] <= budget
    }
}

const UNREACHABLE: u32 = u32::MAX;

/// 0 for the same character, 1 for a confusable one, `None` otherwise.
#[inline]
fn substitution_cost(want: u8, got: u8) -> Option<u32> {
    if want == got {
        Some(0)
    } else if confusion_class_byte(want) == confusion_class_byte(got) {
        Some(1)
    } else {
        None
    }
}

/// The normalised pattern: `" 7ab**"` displays as `7AB*`.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for token in &self.tokens {
            let c = match *token {
                Token::Literal(c) => c as char,
                Token::One => '?',
                Token::Any => '*',
            };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Pattern {
        Pattern::parse(text).unwrap()
    }

    fn error(text: &str) -> String {
        match Pattern::parse(text) {
            Err(Error::BadInput(message)) => message,
            other => panic!("{text:?} should be bad input, got {other:?}"),
        }
    }

    #[test]
    fn literal_patterns_are_anchored_at_both_ends() {
        assert!(p("7ABC123").matches("7ABC123", 0));
        assert!(!p("7AB").matches("7ABC123", 0));
        assert!(!p("ABC123").matches("7ABC123", 0));
        assert!(!p("7ABC1234").matches("7ABC123", 5));
    }

    #[test]
    fn star_matches_any_run_including_empty() {
        assert!(p("7AB*").matches("7ABC123", 0));
        assert!(p("*123").matches("7ABC123", 0));
        assert!(p("7*3").matches("7ABC123", 0));
        assert!(p("*C1*").matches("7ABC123", 0));
        assert!(p("7ABC123*").matches("7ABC123", 0));
        assert!(p("*7ABC123*").matches("7ABC123", 0));
        assert!(p("7ABC*123").matches("7ABC123", 0));
        assert!(!p("*X*").matches("7ABC123", 0));
        assert!(!p("7AB*4").matches("7ABC123", 0));
    }

    #[test]
    fn question_mark_matches_exactly_one() {
        assert!(p("?ABC123").matches("7ABC123", 0));
        assert!(p("7AB?123").matches("7ABC123", 0));
        assert!(!p("??ABC123").matches("7ABC123", 0));
        assert!(!p("7ABC12?").matches("7ABC12", 0));
        assert!(p("7?*").matches("7A", 0));
        assert!(!p("7?*").matches("7", 0));
    }

    #[test]
    fn pattern_and_plate_are_normalised() {
        assert!(p("7-ab c*").matches("7 abc-123", 0));
        assert!(p("7.AB.C1.23").matches("7abc123", 0));
        assert_eq!(p(" 7ab**-?").to_string(), "7AB*?");
    }

    #[test]
    fn confusions_spend_the_substitution_budget() {
        assert!(!p("BBC*").matches("8BC1234", 0));
        assert!(p("BBC*").matches("8BC1234", 1));
        assert!(p("BBC*").matches("8BC1234", DEFAULT_MAX_SUBSTITUTIONS));
        assert!(!p("OOOO").matches("0000", 3));
        assert!(p("OOOO").matches("0000", 4));
        assert!(p("OOOO").matches("0D0Q", 4));
        assert!(p("1TI").matches("T1I", 2));
        assert!(p("2Z5S8B6G").matches("Z2S5B8G6", 8));
        assert!(!p("2Z5S8B6G").matches("Z2S5B8G6", 7));
    }

    #[test]
    fn non_confusable_characters_never_match() {
        assert!(!p("ABC").matches("XBC", 10));
        assert!(!p("0").matches("8", u32::MAX));
        assert!(p("0").matches("O", u32::MAX));
    }

    #[test]
    fn star_takes_the_cheapest_alignment() {
        // "B" can align with the 8 (cost 1) or the B (cost 0).
        assert!(p("*B*").matches("X8YBZ", 0));
        assert!(p("*B").matches("B8", 1));
        assert!(!p("*B").matches("B8", 0));
    }

    #[test]
    fn long_plates_use_the_heap_row() {
        let plate = "A".repeat(40) + "B";
        assert!(p("*B").matches(&plate, 0));
        assert!(p(&plate).matches(&plate, 0));
        assert!(!p("*C").matches(&plate, 2));
    }

    #[test]
    fn literal_len_counts_letters_and_digits() {
        assert_eq!(p("7AB*").literal_len(), 3);
        assert_eq!(p("?-B?*1").literal_len(), 2);
    }

    #[test]
    fn empty_patterns_are_refused() {
        assert!(error("").contains("is empty"));
        let message = error(" -. ");
        assert!(
            message.contains("' -. '") && message.contains("empty"),
            "{message}"
        );
    }

    #[test]
    fn wildcard_only_patterns_are_refused() {
        for text in ["*", "**", "??*", "???", "? - *"] {
            let message = error(text);
            assert!(message.contains(&format!("'{text}'")), "{message}");
            assert!(message.contains("would match every plate"), "{message}");
        }
        assert_eq!(
            error("*"),
            "plate pattern '*' has no letters or digits: it would match every plate"
        );
    }

    #[test]
    fn foreign_characters_are_refused() {
        for (text, bad) in [
            ("7AB#", "'#'"),
            ("7_AB", "'_'"),
            ("ÉAB", "'É'"),
            ("7\tAB", "'\\t'"),
        ] {
            let message = error(text);
            assert!(message.contains(bad), "{message}");
            assert!(message.contains("only letters, digits"), "{message}");
        }
    }

    proptest! {
        #[test]
        fn a_plate_matches_itself_exactly(plate in "[A-Z0-9]{1,12}") {
            prop_assert!(p(&plate).matches(&plate, 0));
        }

        #[test]
        fn wildcards_keep_a_plate_matching(
            plate in "[A-Z0-9]{2,12}",
            hole in any::<prop::sample::Index>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut with_hole: Vec<char> = plate.chars().collect();
            let at = hole.index(with_hole.len());
            with_hole[at] = '?';
            let with_hole: String = with_hole.into_iter().collect();
            if with_hole.chars().any(|c| c != '?') {
                prop_assert!(p(&with_hole).matches(&plate, 0));
            }
            let prefix_star = format!("{}*", &plate[..cut.index(plate.len()).max(1)]);
            prop_assert!(p(&prefix_star).matches(&plate, 0));
        }

        #[test]
        fn matching_never_panics(pattern in "[A-Z0-9?* -]{0,8}", plate in "\\PC{0,12}", budget in 0u32..4) {
            if let Ok(pattern) = Pattern::parse(&pattern) {
                let _ = pattern.matches(&plate, budget);
                let _ = pattern.matches_normalized(&plate, budget);
            }
        }
    }
}
