//! The administrator's and auditor's usage report over a period: searches
//! per user and purpose, and the entries worth a second look.
//!
//! Flags: a refusal (wrong password, missing purpose, a role overstepping),
//! a search without a case number, a bulk export (many rows, rows written
//! to a file, a release or evidence export), one user searching many
//! distinct plates, and activity out of office hours (local time of this
//! machine, before `day_start` or from `day_end`, or at a weekend).
//! Auditors read the log but no plates: for them plate values are replaced
//! by their count.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Local, Timelike, Weekday};

use super::log::Entry;

/// Thresholds of the flags.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// A search returning at least this many rows is a bulk export.
    pub bulk_rows: i64,
    /// A user searching at least this many distinct plates is flagged.
    pub many_plates: usize,
    /// Office hours, local time: [day_start, day_end).
    pub day_start: u32,
    pub day_end: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            bulk_rows: 10_000,
            many_plates: 25,
            day_start: 7,
            day_end: 19,
        }
    }
}

/// One flagged entry (or user, for the many-plates flag).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Flag {
    pub seq: Option<i64>,
    pub user: String,
    pub kind: &'static str,
    pub detail: String,
}

/// Searches by one user for one purpose.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UsageRow {
    pub user: String,
    pub purpose: String,
    pub searches: usize,
    pub rows: i64,
    pub cases: usize,
    pub plates: usize,
}

/// The report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub entries: usize,
    pub usage: Vec<UsageRow>,
    pub flags: Vec<Flag>,
}

/// Per user and purpose: searches, rows, cases, plates.
type Tally = (usize, i64, BTreeSet<String>, BTreeSet<String>);

fn plates_of(e: &Entry) -> Vec<String> {
    e.detail_json()["touched"]["plates"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Builds the report over `entries` (it names no plates, so auditors may
/// read it whole).
pub fn build(entries: &[Entry], t: Thresholds) -> Report {
    let mut usage: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut plates_by_user: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut flags = Vec::new();
    let mut flag = |e: &Entry, kind: &'static str, detail: String| {
        flags.push(Flag {
            seq: Some(e.seq),
            user: e.user.clone(),
            kind,
            detail,
        });
    };
    for e in entries {
        let detail = e.detail_json();
        if e.outcome == "refused" {
            let why = detail["reason"].as_str().unwrap_or("").to_string();
            flag(e, "refused", format!("{}: {why}", e.action));
        }
        if e.action == "query" && e.outcome == "ok" {
            let plates = plates_of(e);
            let key = (
                e.user.clone(),
                e.purpose.clone().unwrap_or_else(|| "(none)".into()),
            );
            let u = usage.entry(key).or_default();
            u.0 += 1;
            u.1 += e.rows.unwrap_or(0);
            if let Some(c) = &e.case_number {
                u.2.insert(c.clone());
            }
            u.3.extend(plates.iter().cloned());
            plates_by_user
                .entry(e.user.clone())
                .or_default()
                .extend(plates);
            if e.case_number.as_deref().is_none_or(|c| c.trim().is_empty()) {
                flag(e, "no case number", "a search without a case number".into());
            }
            let rows = e.rows.unwrap_or(0);
            let output = detail["request"]["output"].as_str().map(str::to_string);
            if rows >= t.bulk_rows || output.is_some() {
                let to = output
                    .map(|o| format!(" written to {o}"))
                    .unwrap_or_default();
                flag(e, "bulk export", format!("{rows} rows{to}"));
            }
        }
        if e.action == "release.export" && e.outcome == "ok" {
            let reads = detail["reads"].as_i64().unwrap_or(0);
            let agency = detail["agency"].as_str().unwrap_or("").to_string();
            flag(
                e,
                "bulk export",
                format!("release of {reads} reads to {agency}"),
            );
        }
        if let Some(t_utc) = e.time() {
            let local = t_utc.with_timezone(&Local);
            let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
            if e.outcome != "refused"
                && (local.hour() < t.day_start || local.hour() >= t.day_end || weekend)
            {
                flag(
                    e,
                    "out of hours",
                    format!("{} at {}", e.action, local.format("%a %Y-%m-%d %H:%M")),
                );
            }
        }
    }
    for (user, plates) in &plates_by_user {
        if plates.len() >= t.many_plates {
            flags.push(Flag {
                seq: None,
                user: user.clone(),
                kind: "many plates",
                detail: format!("{} distinct plates searched", plates.len()),
            });
        }
    }
    let usage = usage
        .into_iter()
        .map(
            |((user, purpose), (searches, rows, cases, plates))| UsageRow {
                user,
                purpose,
                searches,
                rows,
                cases: cases.len(),
                plates: plates.len(),
            },
        )
        .collect();
    Report {
        entries: entries.len(),
        usage,
        flags,
    }
}

/// An entry as shown to a reader of the log: for auditors (no plates), the
/// plate values of the detail are replaced by their count.
pub fn redact(e: &Entry, show_plates: bool) -> serde_json::Value {
    let mut v = serde_json::to_value(e).expect("entry serialises");
    let mut detail = e.detail_json();
    if !show_plates {
        let n = plates_of(e).len();
        if let Some(t) = detail.get_mut("touched") {
            t["plates"] = serde_json::json!(format!("{n} plate(s), redacted"));
        }
        if let Some(r) = detail.get_mut("request") {
            if let Some(p) = r.get_mut("params") {
                *p = serde_json::json!("redacted");
            }
            if r.get("sql").is_some() {
                r["sql"] = serde_json::json!("redacted");
            }
        }
        for key in ["plate_pattern", "read_ids"] {
            if detail.get(key).is_some() {
                detail[key] = serde_json::json!("redacted");
            }
        }
    }
    v["detail"] = detail;
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, user: &str, ts: &str, outcome: &str, rows: i64, plates: &[&str]) -> Entry {
        let detail = serde_json::json!({
            "request": {"sql": "SELECT ...", "params": [["plate", plates.first()]]},
            "touched": {"plates": plates},
        });
        Entry {
            seq,
            ts: ts.into(),
            user: user.into(),
            organisation: "SO".into(),
            role: "analyst".into(),
            action: "query".into(),
            outcome: outcome.into(),
            purpose: Some("investigation".into()),
            case_number: Some("C-1".into()),
            detail: detail.to_string(),
            rows: Some(rows),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn local_ts(h: u32) -> String {
        // A Wednesday, at local hour h.
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap();
        d.and_local_timezone(Local)
            .single()
            .unwrap()
            .with_timezone(&chrono::Utc)
            .to_rfc3339()
    }

    #[test]
    fn flags_refusals_bulk_many_plates_and_night_work() {
        let many: Vec<String> = (0..30).map(|i| format!("P{i:03}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let entries = vec![
            entry(1, "ann", &local_ts(10), "ok", 3, &["7ABC123"]),
            entry(2, "bob", &local_ts(23), "ok", 50_000, &["8XYZ999"]),
            entry(3, "eve", &local_ts(11), "refused", 0, &[]),
            entry(4, "eve", &local_ts(12), "ok", 30, &many),
        ];
        let r = build(&entries, Thresholds::default());
        let kinds: Vec<(&str, &str)> = r.flags.iter().map(|f| (f.user.as_str(), f.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("bob", "bulk export"),
                ("bob", "out of hours"),
                ("eve", "refused"),
                ("eve", "many plates")
            ]
        );
        assert_eq!(r.usage.len(), 3);
        assert_eq!(r.usage[0].user, "ann");
        assert_eq!(r.usage[0].plates, 1);
    }

    #[test]
    fn auditors_see_counts_not_plates() {
        let e = entry(1, "ann", &local_ts(10), "ok", 3, &["7ABC123"]);
        let shown = redact(&e, false).to_string();
        assert!(!shown.contains("7ABC123"), "{shown}");
        assert!(shown.contains("1 plate(s), redacted"));
        assert!(redact(&e, true).to_string().contains("7ABC123"));
    }
}
