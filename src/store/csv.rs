//! The small CSV files agencies hand over (hot lists, the camera registry,
//! GPS tracks): a header that must match, then rows of fields. Quoted fields
//! may hold commas and doubled quotes. Errors name the file and the line.

use std::path::Path;

use crate::error::{Error, Result};

/// The rows after the header as `(line number, fields)`, blank lines
/// skipped, every row with `header.len()` fields (or between `min` and the
/// header's length when some trailing columns are optional).
pub fn rows(path: &Path, header: &[&str], min: usize) -> Result<Vec<(usize, Vec<String>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines().enumerate();
    let got: Vec<String> = lines
        .next()
        .map(|(_, h)| {
            split(h)
                .into_iter()
                .map(|f| f.trim().to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    if got.len() < min || got.len() > header.len() || got[..] != header[..got.len()] {
        return Err(bad(
            path,
            1,
            format!("expected the header '{}'", header.join(",")),
        ));
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<String> = split(line)
            .into_iter()
            .map(|f| f.trim().to_string())
            .collect();
        if fields.len() != got.len() {
            return Err(bad(
                path,
                i + 1,
                format!("{} fields, expected {}", fields.len(), got.len()),
            ));
        }
        out.push((i + 1, fields));
    }
    Ok(out)
}

/// An error about line `line` of `path`.
pub fn bad(path: &Path, line: usize, why: String) -> Error {
    Error::BadData {
        path: path.to_path_buf(),
        message: format!("line {line}: {why}"),
    }
}

/// Splits one CSV line: commas, double quotes around fields that hold them.
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}
