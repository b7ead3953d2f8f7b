//! The tamper-evident audit log: an append-only table in the catalog where
//! each entry carries the SHA-256 of its own contents and of the entry
//! before it.
//!
//! ```text
//! entry n:  hash_n = SHA-256([n, ts, user, ..., detail, rows, hash_{n-1}])
//! head:     STORE/audit-head.json = {seq, hash} of the last entry
//! ```
//!
//! Editing an entry breaks its own hash; deleting or reordering entries
//! breaks the sequence or the links; cutting entries off the end is caught
//! by the head record, which is written (atomically) after every commit and
//! which an agency may also copy off the machine.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::catalog::Catalog;
use crate::error::{Error, Result};
use crate::store::durable;

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened to the request an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Refused,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

/// An entry to append. Callers never put a password in `detail`.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub user: String,
    pub organisation: String,
    pub role: String,
    pub action: String,
    pub outcome: Outcome,
    pub purpose: Option<String>,
    pub case_number: Option<String>,
    pub detail: serde_json::Value,
    pub rows: Option<i64>,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub seq: i64,
    pub ts: String,
    pub user: String,
    pub organisation: String,
    pub role: String,
    pub action: String,
    pub outcome: String,
    pub purpose: Option<String>,
    pub case_number: Option<String>,
    pub detail: String,
    pub rows: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash this entry's contents and predecessor give.
    pub fn computed_hash(&self) -> String {
        let fields = serde_json::json!([
            self.seq,
            self.ts,
            self.user,
            self.organisation,
            self.role,
            self.action,
            self.outcome,
            self.purpose,
            self.case_number,
            self.detail,
            self.rows,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(fields.to_string().as_bytes()))
    }

    /// The detail as JSON (entries written by us always parse).
    pub fn detail_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.detail).unwrap_or(serde_json::Value::Null)
    }

    pub fn time(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.ts)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// The head record kept beside the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

fn head_path(catalog: &Catalog) -> PathBuf {
    catalog.path().with_file_name("audit-head.json")
}

/// Appends `entry` inside the caller's transaction (see [`commit`]).
pub fn append_in(conn: &Connection, entry: NewEntry, now: DateTime<Utc>) -> Result<Entry> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sqlite)?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let mut stored = Entry {
        seq,
        ts: now.to_rfc3339_opts(SecondsFormat::Micros, true),
        user: entry.user,
        organisation: entry.organisation,
        role: entry.role,
        action: entry.action,
        outcome: entry.outcome.as_str().to_string(),
        purpose: entry.purpose,
        case_number: entry.case_number,
        detail: entry.detail.to_string(),
        rows: entry.rows,
        prev_hash,
        hash: String::new(),
    };
    stored.hash = stored.computed_hash();
    conn.execute(
        "INSERT INTO audit_log (seq, ts, user, organisation, role, action, outcome, purpose,
         case_number, detail, rows, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            stored.seq,
            stored.ts,
            stored.user,
            stored.organisation,
            stored.role,
            stored.action,
            stored.outcome,
            stored.purpose,
            stored.case_number,
            stored.detail,
            stored.rows,
            stored.prev_hash,
            stored.hash
        ],
    )
    .map_err(sqlite)?;
    Ok(stored)
}

fn write_head(catalog: &Catalog, entry: &Entry) -> Result<()> {
    let head = Head {
        seq: entry.seq,
        hash: entry.hash.clone(),
    };
    let text = serde_json::to_string(&head).expect("head serialises");
    durable::write_atomic(&head_path(catalog), text.as_bytes())
}

/// Runs `f`, which makes a change and appends its entry with [`append_in`],
/// in one transaction, then records the head. Writers hold an exclusive
/// lock on `audit-head.lock` throughout, so heads are written in log order
/// even with several processes at work.
pub fn commit<T>(
    catalog: &Catalog,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(T, Entry)>,
) -> Result<T> {
    let lock_path = catalog.path().with_file_name("audit-head.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let (out, entry) = catalog.transaction(f)?;
    write_head(catalog, &entry)?;
    Ok(out)
}

/// Appends one entry in its own transaction and records the head.
pub fn record(catalog: &Catalog, entry: NewEntry, now: DateTime<Utc>) -> Result<Entry> {
    commit(catalog, |tx| {
        let e = append_in(tx, entry, now)?;
        Ok((e.clone(), e))
    })
}

/// Entries with `from <= ts < to` (all when `None`), in order.
pub fn entries(
    catalog: &Catalog,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<Entry>> {
    let all = catalog.read(|c| read_all(c).map_err(sqlite))?;
    Ok(all
        .into_iter()
        .filter(|e| {
            let t = e.time();
            from.is_none_or(|f| t.is_some_and(|t| t >= f))
                && to.is_none_or(|x| t.is_some_and(|t| t < x))
        })
        .collect())
}

fn read_all(conn: &Connection) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, ts, user, organisation, role, action, outcome, purpose, case_number,
                detail, rows, prev_hash, hash
         FROM audit_log ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Entry {
            seq: r.get(0)?,
            ts: r.get(1)?,
            user: r.get(2)?,
            organisation: r.get(3)?,
            role: r.get(4)?,
            action: r.get(5)?,
            outcome: r.get(6)?,
            purpose: r.get(7)?,
            case_number: r.get(8)?,
            detail: r.get(9)?,
            rows: r.get(10)?,
            prev_hash: r.get(11)?,
            hash: r.get(12)?,
        })
    })?;
    rows.collect()
}

/// The result of [`verify`]: every problem found, in log order.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub entries: usize,
    pub head: Option<Head>,
    pub problems: Vec<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks every entry's hash, the sequence, the links and the head record.
/// Entries are read in storage order (rowid), so a reordering shows.
pub fn verify(catalog: &Catalog) -> Result<Verification> {
    let all = catalog.read(|c| read_all(c).map_err(sqlite))?;
    let mut problems = Vec::new();
    let mut prev: Option<&Entry> = None;
    for e in &all {
        if e.computed_hash() != e.hash {
            problems.push(format!(
                "entry {}: its contents do not match its hash (edited)",
                e.seq
            ));
        }
        let expected_seq = prev.map_or(1, |p| p.seq + 1);
        if e.seq != expected_seq {
            problems.push(format!(
                "entry {}: expected entry {expected_seq} here (entries deleted or reordered)",
                e.seq
            ));
        }
        let expected_prev = prev.map_or(GENESIS, |p| p.hash.as_str());
        if e.prev_hash != expected_prev {
            problems.push(format!(
                "entry {}: does not link to the entry before it (deleted, reordered or replaced)",
                e.seq
            ));
        }
        prev = Some(e);
    }
    let head = read_head(catalog)?;
    match (&head, all.last()) {
        (None, None) => {}
        (None, Some(_)) => problems.push(format!(
            "the head record {} is missing",
            head_path(catalog).display()
        )),
        (Some(h), last) => {
            let last_seq = last.map_or(0, |e| e.seq);
            match all.iter().find(|e| e.seq == h.seq) {
                _ if h.seq > last_seq => problems.push(format!(
                    "the log ends at entry {last_seq} but the head record says {} (truncated)",
                    h.seq
                )),
                Some(e) if e.hash != h.hash => problems.push(format!(
                    "entry {}: differs from the head record (log rewritten)",
                    e.seq
                )),
                None => problems.push(format!("entry {} of the head record is missing", h.seq)),
                Some(_) if h.seq < last_seq => problems.push(format!(
                    "entries after {} are not in the head record (appended behind the log's back, \
                     or a crash between commit and head update)",
                    h.seq
                )),
                Some(_) => {}
            }
        }
    }
    Ok(Verification {
        entries: all.len(),
        head,
        problems,
    })
}

fn read_head(catalog: &Catalog) -> Result<Option<Head>> {
    let path = head_path(catalog);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::BadData {
                path,
                message: format!("damaged audit head record: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn sqlite(e: rusqlite::Error) -> Error {
    Error::BadData {
        path: PathBuf::from(super::catalog::CATALOG_FILE),
        message: format!("audit log: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn entry(user: &str, n: i64) -> NewEntry {
        NewEntry {
            user: user.into(),
            organisation: "SO".into(),
            role: "analyst".into(),
            action: "query".into(),
            outcome: Outcome::Ok,
            purpose: Some("investigation".into()),
            case_number: Some(format!("C-{n}")),
            detail: serde_json::json!({"sql": "SELECT 1", "n": n}),
            rows: Some(n),
        }
    }

    /// A catalog with five entries, and a raw connection with the
    /// append-only triggers dropped, as an attacker with file access has.
    fn tampered_setup() -> (tempfile::TempDir, Catalog, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let cat = Catalog::create(&store).unwrap();
        let now = Utc::now();
        for n in 1..=5 {
            record(&cat, entry("ann", n), now).unwrap();
        }
        assert!(verify(&cat).unwrap().is_intact());
        let raw = Connection::open(cat.path()).unwrap();
        raw.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
            .unwrap();
        (dir, cat, raw)
    }

    fn problems(cat: &Catalog) -> String {
        let v = verify(cat).unwrap();
        assert!(!v.is_intact());
        v.problems.join("\n")
    }

    #[test]
    fn an_untouched_log_verifies() {
        let (_d, cat, _raw) = tampered_setup();
        let v = verify(&cat).unwrap();
        assert_eq!((v.entries, v.head.unwrap().seq), (5, 5));
    }

    #[test]
    fn an_edited_entry_is_detected() {
        let (_d, cat, raw) = tampered_setup();
        raw.execute(
            "UPDATE audit_log SET case_number = 'C-999' WHERE seq = 3",
            [],
        )
        .unwrap();
        assert!(problems(&cat).contains("entry 3: its contents do not match"));
    }

    #[test]
    fn a_deleted_entry_is_detected() {
        let (_d, cat, raw) = tampered_setup();
        raw.execute("DELETE FROM audit_log WHERE seq = 2", [])
            .unwrap();
        let p = problems(&cat);
        assert!(p.contains("entry 3: expected entry 2"), "{p}");
    }

    #[test]
    fn reordered_entries_are_detected() {
        let (_d, cat, raw) = tampered_setup();
        // Swap entries 2 and 3 (seq is the rowid, so swapping positions
        // means swapping everything but seq).
        raw.execute_batch(
            "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE seq IN (2, 3);
             DELETE FROM audit_log WHERE seq IN (2, 3);
             INSERT INTO audit_log SELECT 5 - seq, ts, user, organisation, role, action,
               outcome, purpose, case_number, detail, rows, prev_hash, hash FROM t;",
        )
        .unwrap();
        let p = problems(&cat);
        assert!(p.contains("entry 2: its contents do not match"), "{p}");
        assert!(p.contains("entry 3: does not link"), "{p}");
    }

    #[test]
    fn a_truncated_log_is_detected() {
        let (_d, cat, raw) = tampered_setup();
        raw.execute("DELETE FROM audit_log WHERE seq >= 4", [])
            .unwrap();
        let p = problems(&cat);
        assert!(
            p.contains("ends at entry 3 but the head record says 5"),
            "{p}"
        );
    }

    #[test]
    fn a_rewritten_tail_is_detected() {
        let (_d, cat, raw) = tampered_setup();
        // Drop the last entry and append a forged one with a valid chain.
        raw.execute("DELETE FROM audit_log WHERE seq = 5", [])
            .unwrap();
        let forged = append_in(&raw, entry("mallory", 5), Utc::now()).unwrap();
        assert_eq!(forged.seq, 5);
        let p = problems(&cat);
        assert!(p.contains("differs from the head record"), "{p}");
    }

    #[test]
    fn a_missing_head_record_is_detected() {
        let (_d, cat, _raw) = tampered_setup();
        std::fs::remove_file(head_path(&cat)).unwrap();
        assert!(problems(&cat).contains("head record"));
    }

    #[test]
    fn concurrent_writers_keep_the_chain_and_the_head_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        Catalog::create(&store).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let store = &store;
                scope.spawn(move || {
                    let cat = Catalog::open(store).unwrap();
                    for n in 0..10 {
                        record(&cat, entry(&format!("u{t}"), n), Utc::now()).unwrap();
                    }
                });
            }
        });
        let v = verify(&Catalog::open(&store).unwrap()).unwrap();
        assert!(v.is_intact(), "{:?}", v.problems);
        assert_eq!((v.entries, v.head.unwrap().seq), (40, 40));
    }

    #[test]
    fn entries_filter_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let cat = Catalog::create(&store).unwrap();
        let t0 = Utc::now();
        record(&cat, entry("a", 1), t0).unwrap();
        record(&cat, entry("b", 2), t0 + chrono::Duration::hours(2)).unwrap();
        let got = entries(&cat, Some(t0 + chrono::Duration::hours(1)), None).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].user, "b");
    }
}
