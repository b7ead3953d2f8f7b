//! Hot-list files as agencies receive them: a CSV with a header
//! `plate,reason,source,vehicle,expires` (vehicle and expires may be empty;
//! expires is YYYY-MM-DD, the last valid day). Parsed strictly: a bad line
//! is an error naming the file and line, never a silently dropped entry.

use std::path::Path;

use chrono::NaiveDate;

use super::reference::{HotlistEntry, hotlist_batch};
use super::writer::write_table;
use super::{Store, csv};
use crate::error::{Error, Result};
use crate::plate::normalize;

const HEADER: [&str; 5] = ["plate", "reason", "source", "vehicle", "expires"];

/// Checks a list name (it becomes a file name).
pub fn validate_list_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "bad hot-list name '{name}': 1-40 lower-case letters, digits, '-' or '_'"
        )))
    }
}

/// Parses a hot-list CSV for list `list`.
pub fn parse_csv(path: &Path, list: &str) -> Result<Vec<HotlistEntry>> {
    validate_list_name(list)?;
    let bad = |line: usize, why: String| csv::bad(path, line, why);
    let mut entries = Vec::new();
    for (n, f) in csv::rows(path, &HEADER, HEADER.len())? {
        let plate = normalize(&f[0]);
        if plate.is_empty() || plate.len() > 10 {
            return Err(bad(n, format!("'{}' is not a plate", f[0])));
        }
        if f[1].trim().is_empty() || f[2].trim().is_empty() {
            return Err(bad(n, "reason and source may not be empty".into()));
        }
        let expires = match f[4].trim() {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| bad(n, format!("expires '{d}' is not YYYY-MM-DD")))?,
            ),
        };
        let vehicle = Some(f[3].trim().to_string()).filter(|v| !v.is_empty());
        entries.push(HotlistEntry {
            list: list.to_string(),
            plate,
            reason: f[1].trim().to_string(),
            source: f[2].trim().to_string(),
            vehicle,
            expires,
        });
    }
    if entries.is_empty() {
        return Err(bad(2, "no entries".into()));
    }
    Ok(entries)
}

/// Replaces hot list `list` in `store` with `entries` (atomically).
pub fn write(store: &Store, list: &str, entries: &[HotlistEntry]) -> Result<()> {
    validate_list_name(list)?;
    write_table(
        &store.hotlist_dir().join(format!("{list}.parquet")),
        &hotlist_batch(entries),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<HotlistEntry>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("list.csv");
        std::fs::write(&p, text).unwrap();
        parse_csv(&p, "stolen")
    }

    #[test]
    fn parses_quoted_fields_and_optional_columns() {
        let e = parse(
            "plate,reason,source,vehicle,expires\n\
             7abc-123,stolen vehicle,NCIC,\"Honda, blue\",2027-01-31\n\
             8XYZ999,warrant,Case 12,,\n",
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].plate, "7ABC123");
        assert_eq!(e[0].vehicle.as_deref(), Some("Honda, blue"));
        assert_eq!(e[1].expires, None);
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = parse("plate,why\n").unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains("expected the header"),
            "{e}"
        );
        let e = parse("plate,reason,source,vehicle,expires\nA1,r,s,,31/01/2027\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("not YYYY-MM-DD"), "{e}");
        let e = parse("plate,reason,source,vehicle,expires\n--,r,s,,\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a plate"), "{e}");
        assert!(parse_csv(Path::new("x.csv"), "Bad Name").is_err());
    }
}
