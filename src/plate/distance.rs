//! How far apart two plate reads are: a Levenshtein distance whose
//! substitutions between OCR-confusable characters are cheap, so `8BC1234`
//! and `BBC1234` (one misread) sit closer than `ABC1234` and `XBC1234` (two
//! different plates). This module owns the costs; the confusion classes come
//! from `confusion`, and the SQL face is the `plate_distance` UDF.

use super::confusion::confusion_class_byte;
use super::normalize_into;

/// Cost of substituting one confusable character for another (`0`↔`O`);
/// insertions, deletions and other substitutions cost 1.0.
pub const CONFUSION_COST: f64 = 0.25;

/// Confusion-weighted Levenshtein distance between the normalised plates.
/// Symmetric, zero for equal plates.
///
/// ```
/// use alpr::plate::distance;
/// assert_eq!(distance("8BC-1234", "bbc1234"), 0.25);
/// assert_eq!(distance("ABC1234", "XBC1234"), 1.0);
/// assert_eq!(distance("ABC1234", "ABC123"), 1.0);
/// ```
pub fn distance(a: &str, b: &str) -> f64 {
    let mut a_norm = String::with_capacity(a.len());
    let mut b_norm = String::with_capacity(b.len());
    normalize_into(a, &mut a_norm);
    normalize_into(b, &mut b_norm);
    distance_normalized(&a_norm, &b_norm)
}

/// Like [`distance`] for plates already normalised (hot loops normalise into
/// reused buffers). Text that is not normalised is compared byte for byte.
pub fn distance_normalized(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Keep the shorter plate along the row: less memory, same result.
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let n = short.len();

    // row[j]: distance between the prefix of `long` seen so far and short[..j].
    let mut stack = [0.0f64; 33];
    let mut heap;
    let row: &mut [f64] = if n < stack.len() {
        &mut stack[..=n]
    } else {
        heap = vec![0.0; n + 1];
        &mut heap
    };
    for (j, cell) in row.iter_mut().enumerate() {
        *cell = j as f64;
    }

    for (i, &x) in long.iter().enumerate() {
        // `diagonal` holds the previous row's row[j - 1].
        let mut diagonal = row[0];
        row[0] = (i + 1) as f64;
        for j in 1..=n {
            let above = row[j];
            let substitution = diagonal + substitution_cost(x, short[j - 1]);
            row[j] = substitution.min(above + 1.0).min(row[j - 1] + 1.0);
            diagonal = above;
        }
    }
    row[n]
}

#[inline]
fn substitution_cost(x: u8, y: u8) -> f64 {
    if x == y {
        0.0
    } else if confusion_class_byte(x) == confusion_class_byte(y) {
        CONFUSION_COST
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_plates_are_zero_apart() {
        assert_eq!(distance("7ABC123", "7ABC123"), 0.0);
        assert_eq!(distance("7-abc 123", "7ABC123"), 0.0);
        assert_eq!(distance("", ""), 0.0);
    }

    #[test]
    fn confusions_cost_a_quarter() {
        assert_eq!(distance("8BC1234", "BBC1234"), CONFUSION_COST);
        assert_eq!(distance("OOOO", "0D0Q"), 4.0 * CONFUSION_COST);
        assert_eq!(distance("S5Z2", "5S2Z"), 4.0 * CONFUSION_COST);
    }

    #[test]
    fn other_edits_cost_one() {
        assert_eq!(distance("ABC1234", "XBC1234"), 1.0);
        assert_eq!(distance("ABC1234", "ABC123"), 1.0);
        assert_eq!(distance("ABC123", "ABC1234"), 1.0);
        assert_eq!(distance("ABC123", "ZABC123"), 1.0);
        assert_eq!(distance("", "ABC"), 3.0);
        assert_eq!(distance("ABC", "XYZ"), 3.0);
        assert_eq!(distance("kitten", "sitting"), 3.0);
    }

    #[test]
    fn edits_combine() {
        // One confusion (B->8) and one deletion (the trailing 4).
        assert_eq!(distance("ABC1234", "A8C123"), 1.25);
    }

    #[test]
    fn long_plates_use_the_heap_row() {
        let a = "A".repeat(40);
        let b = "A".repeat(39) + "O";
        assert_eq!(distance(&a, &b), 1.0);
        assert_eq!(distance(&b, &(a.clone() + "0")), 1.0 + CONFUSION_COST);
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_zero_on_equal(a in "[A-Z0-9]{0,12}", b in "[A-Z0-9]{0,12}") {
            prop_assert_eq!(distance(&a, &b), distance(&b, &a));
            prop_assert_eq!(distance(&a, &a), 0.0);
            let bound = a.len().max(b.len()) as f64;
            prop_assert!(distance(&a, &b) <= bound);
        }

        #[test]
        fn distance_obeys_the_triangle_inequality(
            a in "[A-Z0-9]{0,8}", b in "[A-Z0-9]{0,8}", c in "[A-Z0-9]{0,8}",
        ) {
            prop_assert!(distance(&a, &c) <= distance(&a, &b) + distance(&b, &c));
        }
    }
}
