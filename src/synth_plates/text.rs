//! Plate text: formats per style, the label the reader must output, and the
//! tokens drawn (characters plus the separators plates print but readers
//! drop: gaps, dashes, dots, a logo between groups).
//!
//! A format is a string: `#` a digit, `@` a letter of the issuer's serial
//! letters (the style's `letters`; most US issuers skip I, O and Q), `A`
//! any letter, `?` a letter or digit;
//! ` ` a gap, `-` a dash, `.` a middle dot, `|` a gap holding a logo.
//! The sequential US formats mirror those the read generator uses
//! (`crate::synth`'s plates, which are private to it): CA `#@@@###`,
//! TX/AZ `@@@####`, NV `###@@@`, OR `@@@###`.

use rand::Rng;
use rand_pcg::Pcg64Mcg;

pub(crate) const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Letters most US issuers use in sequential plates.
pub(crate) const SERIAL_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";

/// Made-up personalised plates (the reader must not learn a dictionary, so
/// most vanity plates are random; these add word-like shapes). None may be
/// the label of a plate in the evaluation sets (`../shared/data`): one was,
/// until the sixty-seventh session (`models/ocr-v2/RUNS.md`, "Run 113");
/// `tests/it/dev_labels.rs` now checks.
const VANITY: [&str; 20] = [
    "GOBEARS", "LUV2RUN", "ZOOM2U", "GR8DAY", "NOBUGS", "XLR8", "IM4USC", "MTNHIGH", "OLDSKL",
    "RIDE0N", "HIKER5", "ECHO", "QT PIE", "MOM TAXI", "BEEKEEP", "SKI BUM", "4X4 FUN", "OK2BFAT",
    "JAZZ", "WOW",
];

/// One thing drawn in a serial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Token {
    Char(char),
    Gap,
    Dash,
    Dot,
    Logo,
}

/// A generated serial: what the reader must output, and what is drawn.
#[derive(Debug, Clone)]
pub(crate) struct Serial {
    pub label: String,
    pub tokens: Vec<Token>,
}

fn pick(rng: &mut Pcg64Mcg, set: &[u8]) -> char {
    set[rng.random_range(0..set.len())] as char
}

/// Fills a format with random characters, its `@` from the issuer's
/// `letters`.
pub(crate) fn from_format(rng: &mut Pcg64Mcg, format: &str, letters: &[u8]) -> Serial {
    let mut tokens = Vec::with_capacity(format.len());
    let mut label = String::with_capacity(8);
    // A minority of plates use the full alphabet, so every letter is seen.
    let letters = if rng.random_bool(0.25) {
        LETTERS
    } else {
        letters
    };
    for f in format.chars() {
        let t = match f {
            '#' => Token::Char(pick(rng, DIGITS)),
            '@' => Token::Char(pick(rng, letters)),
            'A' => Token::Char(pick(rng, LETTERS)),
            '?' if rng.random_bool(0.5) => Token::Char(pick(rng, DIGITS)),
            '?' => Token::Char(pick(rng, LETTERS)),
            '-' => Token::Dash,
            '.' => Token::Dot,
            '|' => Token::Logo,
            _ => Token::Gap,
        };
        if let Token::Char(c) = t {
            label.push(c);
        }
        tokens.push(t);
    }
    Serial { label, tokens }
}

/// A personalised plate: a word-like entry or 2..=7 random characters,
/// sometimes with a gap.
pub(crate) fn vanity(rng: &mut Pcg64Mcg) -> Serial {
    let text: String = if rng.random_bool(0.3) {
        VANITY[rng.random_range(0..VANITY.len())].to_string()
    } else {
        let n = rng.random_range(2..=7);
        let mut s: String = (0..n)
            .map(|_| {
                if rng.random_bool(0.7) {
                    pick(rng, LETTERS)
                } else {
                    pick(rng, DIGITS)
                }
            })
            .collect();
        if n >= 4 && rng.random_bool(0.2) {
            s.insert(rng.random_range(1..n), ' ');
        }
        s
    };
    let tokens = text
        .chars()
        .map(|c| if c == ' ' { Token::Gap } else { Token::Char(c) })
        .collect();
    Serial {
        label: text.chars().filter(|c| *c != ' ').collect(),
        tokens,
    }
}

/// True when `label` (no separators) fits `format`.
#[cfg(test)]
pub(crate) fn fits(format: &str, label: &str) -> bool {
    let slots: Vec<char> = format
        .chars()
        .filter(|c| matches!(c, '#' | '@' | 'A' | '?'))
        .collect();
    slots.len() == label.chars().count()
        && slots.iter().zip(label.chars()).all(|(&f, c)| match f {
            '#' => c.is_ascii_digit(),
            '@' | 'A' => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit() || c.is_ascii_uppercase(),
        })
}

/// True for any text the reader may be trained on: 1..=8 of [0-9A-Z].
pub(crate) fn is_valid_label(label: &str) -> bool {
    (1..=8).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn formats_fill_and_fit() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for format in ["#@@@###", "@@@-####", "###|@@@", "@ @@ ####", "?#.@@#"] {
            for _ in 0..200 {
                let s = from_format(&mut rng, format, SERIAL_LETTERS);
                assert!(fits(format, &s.label), "{format} {}", s.label);
                assert!(is_valid_label(&s.label));
            }
        }
        assert!(!fits("###", "12A"));
        assert!(!fits("###", "1234"));
    }

    #[test]
    fn serial_letters_are_the_issuers_but_for_a_minority() {
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        let issuer = b"BDFGHJKLNPRSTVXZ";
        let outside = (0..2000)
            .filter(|_| {
                let s = from_format(&mut rng, "@@@-@@@", issuer);
                s.label.bytes().any(|c| !issuer.contains(&c))
            })
            .count();
        // A quarter draw from the whole alphabet; 6 letters from it fall
        // outside these 16 with probability 1 - (16/26)^6 = 0.95.
        assert!((380..=560).contains(&outside), "{outside} of 2000");
    }

    #[test]
    fn vanity_plates_are_valid_labels() {
        let mut rng = Pcg64Mcg::seed_from_u64(4);
        for _ in 0..500 {
            let s = vanity(&mut rng);
            assert!(is_valid_label(&s.label), "{}", s.label);
            assert!(s.label.len() <= 7);
        }
    }
}
