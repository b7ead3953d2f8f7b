//! Plate-text knowledge shared by the query UDFs and the recogniser: how plate
//! text is normalised, which characters an OCR engine confuses, how partial
//! plates written by investigators (`7AB*`, `?BC1234`) are parsed and matched,
//! how far apart two reads are, and which serial formats (and so which US
//! states) a text fits. It is pure Rust and knows nothing of Arrow, DataFusion
//! or images; the UDFs in `query::udf` wrap it for SQL. The formats are read
//! from the plate generator's style table, the one list of them.
//!
//! ```text
//! raw text --normalize--> "7ABC123" --confusion_key--> "7A8C123"   (equi-join key)
//!                              |----- Pattern::matches ("7AB*", budget)
//!                              |----- distance (confusion-weighted Levenshtein)
//!                              '----- formats (shape DLLLDDD: a known format? CA?)
//! ```
//!
//! Every function here takes raw text and normalises it first, so callers may
//! pass what the user typed; the `*_normalized` / `*_into` variants skip that
//! step or reuse a buffer for hot loops.

pub mod confusion;
pub mod distance;
pub mod formats;
pub mod pattern;

pub use confusion::{confusable, confusion_class, confusion_key, confusion_key_into};
pub use distance::{CONFUSION_COST, distance, distance_normalized};
pub use pattern::{DEFAULT_MAX_SUBSTITUTIONS, Pattern};

/// Normalises plate text: ASCII letters upper-cased, digits kept, everything
/// else (spaces, dashes, dots, accents, punctuation) dropped.
///
/// ```
/// assert_eq!(alpr::plate::normalize("7-abc 123"), "7ABC123");
/// ```
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// Like [`normalize`], but writes into `out` (cleared first) so a hot loop
/// can reuse one buffer.
pub fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    out.extend(
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_separators_and_upper_cases() {
        assert_eq!(normalize("7-abc 123"), "7ABC123");
        assert_eq!(normalize("ab.c-1 2"), "ABC12");
        assert_eq!(normalize("  "), "");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn normalize_drops_non_ascii_and_punctuation() {
        assert_eq!(normalize("Åb#c_1!é"), "BC1");
        assert_eq!(normalize("ABC123"), "ABC123");
    }

    #[test]
    fn normalize_into_clears_the_buffer() {
        let mut buf = String::from("stale");
        normalize_into("x-1", &mut buf);
        assert_eq!(buf, "X1");
    }
}
