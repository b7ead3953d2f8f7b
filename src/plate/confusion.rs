//! OCR confusion classes: the groups of characters a plate reader mistakes for
//! one another ({0,O,D,Q}, {1,I,T}, {2,Z}, {5,S}, {8,B}, {6,G}). This module
//! owns the classes and the confusion key built from them; how much a
//! confusion costs is decided by `pattern` (one substitution) and `distance`
//! ([`CONFUSION_COST`](super::CONFUSION_COST)).
//!
//! The functions on single characters expect normalised (upper-case) text:
//! a lower-case `o` is not in the class of `0`.

/// The representative (the digit) of `c`'s confusion class, or `c` itself when
/// it belongs to no class.
///
/// ```
/// use alpr::plate::confusion_class;
/// assert_eq!(confusion_class('O'), '0');
/// assert_eq!(confusion_class('B'), '8');
/// assert_eq!(confusion_class('K'), 'K');
/// ```
#[inline]
pub fn confusion_class(c: char) -> char {
    match c {
        '0' | 'O' | 'D' | 'Q' => '0',
        '1' | 'I' | 'T' => '1',
        '2' | 'Z' => '2',
        '5' | 'S' => '5',
        '8' | 'B' => '8',
        '6' | 'G' => '6',
        other => other,
    }
}

/// True when `a` and `b` are equal or an OCR engine may read one as the other.
///
/// ```
/// use alpr::plate::confusable;
/// assert!(confusable('0', 'Q'));
/// assert!(!confusable('0', '8'));
/// ```
#[inline]
pub fn confusable(a: char, b: char) -> bool {
    a == b || confusion_class(a) == confusion_class(b)
}

/// Byte twin of [`confusion_class`] for normalised (ASCII) plates.
#[inline]
pub(crate) const fn confusion_class_byte(c: u8) -> u8 {
    match c {
        b'0' | b'O' | b'D' | b'Q' => b'0',
        b'1' | b'I' | b'T' => b'1',
        b'2' | b'Z' => b'2',
        b'5' | b'S' => b'5',
        b'8' | b'B' => b'8',
        b'6' | b'G' => b'6',
        other => other,
    }
}

/// The plate normalised, then every character replaced by its class
/// representative: plates that differ only by confusions share a key, so the
/// key works as an equi-join key for fuzzy hot-list matching.
///
/// ```
/// use alpr::plate::confusion_key;
/// assert_eq!(confusion_key("8BC-1234"), confusion_key("BBC I234"));
/// assert_eq!(confusion_key("7abc 123"), "7A8C123");
/// ```
pub fn confusion_key(plate: &str) -> String {
    let mut out = String::with_capacity(plate.len());
    confusion_key_into(plate, &mut out);
    out
}

/// Like [`confusion_key`], but appends to any [`std::fmt::Write`] sink (a
/// reused `String`, or an Arrow `StringBuilder` directly) without allocating.
pub fn confusion_key_into<W: std::fmt::Write + ?Sized>(plate: &str, out: &mut W) {
    for c in plate.chars().filter(char::is_ascii_alphanumeric) {
        // Writing to a String or an Arrow builder cannot fail.
        let _ = out.write_char(confusion_class(c.to_ascii_uppercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSES: [&str; 6] = ["0ODQ", "1IT", "2Z", "5S", "8B", "6G"];

    #[test]
    fn every_class_maps_to_its_digit() {
        for class in CLASSES {
            let digit = class.chars().next().unwrap();
            for c in class.chars() {
                assert_eq!(confusion_class(c), digit, "{c} in {class}");
                assert_eq!(confusion_class_byte(c as u8), digit as u8, "{c}");
                for d in class.chars() {
                    assert!(confusable(c, d), "{c} ~ {d}");
                }
            }
        }
    }

    #[test]
    fn classes_do_not_mix() {
        for (i, a) in CLASSES.iter().enumerate() {
            for (j, b) in CLASSES.iter().enumerate() {
                if i != j {
                    for c in a.chars() {
                        for d in b.chars() {
                            assert!(!confusable(c, d), "{c} !~ {d}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn other_characters_are_their_own_class() {
        for c in ['A', 'C', 'K', 'X', '3', '4', '7', '9', 'o', '-'] {
            assert_eq!(confusion_class(c), c);
            assert!(confusable(c, c));
        }
        assert!(!confusable('A', 'K'));
        assert!(!confusable('o', '0'), "lower case is not normalised here");
    }

    #[test]
    fn confusion_key_normalises_then_maps() {
        assert_eq!(confusion_key("7abc 123"), "7A8C123");
        assert_eq!(confusion_key("OQDS-ZIG"), "0005216");
        assert_eq!(confusion_key(""), "");
        assert_eq!(confusion_key("8BC1234"), confusion_key("BBCI234"));
        assert_ne!(confusion_key("ABC1234"), confusion_key("ABC1235"));
    }

    #[test]
    fn confusion_key_into_appends() {
        let mut buf = String::from(">");
        confusion_key_into("s-5", &mut buf);
        assert_eq!(buf, ">55");
    }
}
