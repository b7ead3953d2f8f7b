//! No dev label in the code. The evaluation sets' plate labels
//! (`../shared/data`, read here and never copied into the repository) must
//! not appear (O and 0 taken as one) in a quoted or backticked string in the
//! code, its samples or its queries: the generator cannot then draw one as a
//! word, and tests and doc examples use made-up plates. The reports that
//! quote dev reads (README, model card, RUNS.md) are not scanned.
//!
//! `ALPR_DEV_DATA` names the data folder where it is not `../shared/data`
//! beside the checkout; without either the test says SKIPPED on stderr.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alpr::recognize::eval::{crop_labels, folder_labels};

/// The folders scanned, from the repository root.
const SCANNED: &[&str] = &[
    "src",
    "tests",
    "benches",
    "shaders",
    "queries",
    "data-samples",
    "assets",
    ".ci",
];

/// Tokens shorter than this are too common to tell (`US`, `CA`, `0`).
const MIN_TOKEN: usize = 3;

/// A quoted text this short is also compared with its separators left out.
const MAX_JOINED: usize = 10;

fn dev_data() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ALPR_DEV_DATA") {
        let dir = PathBuf::from(dir);
        assert!(dir.is_dir(), "ALPR_DEV_DATA={} is no folder", dir.display());
        return Some(dir);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    beside.is_dir().then_some(beside)
}

/// Every label of the three dev sets, as the scorer normalises them,
/// [`folded`].
fn dev_labels(data: &Path) -> BTreeSet<String> {
    let mut sets = vec![crop_labels(&data.join("us-crops-dev/groundtruth.csv")).unwrap()];
    for folder in ["us-dev", "eu-dev"] {
        sets.push(folder_labels(&data.join(folder)).unwrap());
    }
    sets.into_iter()
        .flat_map(|labels| labels.into_values().map(|l| folded(&l.text)))
        .filter(|text| text.len() >= MIN_TOKEN)
        .collect()
}

/// The strings of a line's quoted (`"..."`) and backticked text that a
/// plate could be: each alphanumeric token, and a short text's characters
/// run together (a plate written with its gap or dash), where they are
/// upper case or hold a digit (so the English words of code and prose are
/// not read as plates).
fn plate_tokens(line: &str) -> Vec<String> {
    let plate_like = |t: &str| {
        t.len() >= MIN_TOKEN
            && (t.bytes().any(|b| b.is_ascii_digit()) || !t.bytes().any(|b| b.is_ascii_lowercase()))
    };
    let mut out = Vec::new();
    for quote in ['"', '`'] {
        for inner in line.split(quote).skip(1).step_by(2) {
            let tokens: Vec<&str> = inner.split(|c: char| !c.is_ascii_alphanumeric()).collect();
            out.extend(
                tokens
                    .iter()
                    .filter(|t| plate_like(t))
                    .map(|t| t.to_string()),
            );
            let joined = tokens.concat();
            if tokens.len() > 1 && joined.len() <= MAX_JOINED && plate_like(&joined) {
                out.push(joined);
            }
        }
    }
    out
}

/// A label or token as compared: [normalised](alpr::plate::normalize),
/// the letter O as the digit 0 (labels write either for the same plate).
fn folded(text: &str) -> String {
    alpr::plate::normalize(text).replace('O', "0")
}

/// Every UTF-8 file under `dir` with its text (fonts and images left out).
fn text_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            text_files(&path, out);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            out.push((path, text));
        }
    }
}

#[test]
fn plate_tokens_are_quoted_upper_case_or_digits() {
    let line = r#"let x = ["AB12CDE", "sample"]; // `ZZ 123` and "Word-ABC""#;
    assert_eq!(plate_tokens(line), ["AB12CDE", "ABC", "123", "ZZ123"]);
    assert!(plate_tokens("no quotes ABC123").is_empty());
    assert!(plate_tokens(r#""a sentence longer than ten""#).is_empty());
    assert_eq!(folded("ro0o"), "R000");
}

#[test]
fn no_dev_label_is_in_the_code() {
    let Some(data) = dev_data() else {
        eprintln!(
            "SKIPPED: no dev data beside the checkout (../shared/data) and no ALPR_DEV_DATA: \
             the dev-label scan did not run"
        );
        return;
    };
    let labels = dev_labels(&data);
    assert!(
        labels.len() > 500,
        "{} dev labels in {}",
        labels.len(),
        data.display()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in SCANNED {
        text_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 100, "{} files scanned", files.len());
    let mut found = Vec::new();
    for (path, text) in &files {
        for (i, line) in text.lines().enumerate() {
            for token in plate_tokens(line) {
                if labels.contains(&folded(&token)) {
                    let at = path.strip_prefix(root).unwrap_or(path);
                    found.push(format!("{}:{}: {token}", at.display(), i + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "dev labels in the code (use made-up plates of the same shape):\n{}",
        found.join("\n")
    );
}
