//! Hot-list alerts and their verification. An alert is a read whose plate
//! is on a hot list, or one of whose alternates (the reader's other
//! candidates) at least [`ALTERNATE_MIN`] likely is: then its `read_plate`
//! and `listed_plate` differ. It starts `unverified`, because the policy is
//! that a person verifies every hit (plate, state, vehicle) against the
//! plate crop before any enforcement. Dispositions are kept as history,
//! each one audited.
//!
//! Alerts come from importing a hot list (retro hits: past reads of a newly
//! listed plate) and, later, from ingest.

use std::path::Path;

use chrono::{DateTime, Utc};
use datafusion::scalar::ScalarValue;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::Access;
use super::access::Action;
use crate::error::{Error, Result};
use crate::query::session;
use crate::store::{Store, hotlist};

/// How likely an alternate must be for a hot-listed alternate to raise an
/// alert. A hot list is short beside the reads, so each alternate checked
/// adds little work, and a listed plate read as something else is a hit
/// missed. Chosen on 3,000 generated plates (`synth-plates --seed 80`, the
/// reader shipped then, run 70, in 5 views), where alerting on the best
/// read alone catches 88.8% of the plates, on alternates at least 5% likely
/// too 94.5% (about 0.7 such alternates a read; all ten: 96.7%); the dev
/// photos, seen at the same time, say the same (us-dev 75.2% -> 88.1%,
/// eu-dev 85.2% -> 90.7%, us-crops-dev 84.8% -> 93.5%). The reader shipped
/// since (run 85): 89.1% -> 94.6% (0.7 a read), us-dev 76.1% -> 85.3%,
/// eu-dev 85.2% -> 92.6%, us-crops-dev 82.9% -> 94.3%; the one shipped now
/// (run 93, decoder 10): 88.2% -> 94.0%, us-dev 77.1% -> 83.5%, eu-dev
/// 84.3% -> 93.5%, us-crops-dev 88.6% -> 94.0% (88.3% -> 94.0% under
/// decoder 9, 86.2% -> 93.5% under decoder 8).
pub const ALTERNATE_MIN: f32 = 0.05;

/// What a person found when checking an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Disposition {
    /// The read, the state and the vehicle match the list entry.
    Confirmed,
    /// The plate was read wrongly.
    Misread,
    /// Right characters, different state or jurisdiction.
    WrongState,
    /// Not acted on for another reason (explained in the note).
    Dismissed,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Confirmed => "confirmed",
            Disposition::Misread => "misread",
            Disposition::WrongState => "wrong-state",
            Disposition::Dismissed => "dismissed",
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub read_id: String,
    /// When the read was made, microseconds since the epoch, UTC.
    pub ts_us: i64,
    pub camera_id: String,
    pub read_plate: String,
    pub list: String,
    pub listed_plate: String,
    pub reason: String,
    pub status: String,
}

impl Alert {
    /// What matched the list: `"plate"` (the read's plate is the listed
    /// one) or `"alternate"` (one of its alternates is).
    pub fn matched(&self) -> &'static str {
        if self.read_plate == self.listed_plate {
            "plate"
        } else {
            "alternate"
        }
    }
}

/// What importing a hot list did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub entries: usize,
    pub retro_hits: usize,
}

/// Imports the hot-list CSV at `path` as list `list` (replacing an older
/// version of it), then flags past reads of its plates as alerts.
pub async fn import_hotlist(
    access: &Access,
    store: &Store,
    path: &Path,
    list: &str,
) -> Result<ImportReport> {
    let entries = hotlist::parse_csv(path, list)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    hotlist::write(store, list, &entries)?;
    let hits = find_hits(store, list).await?;
    let now = Utc::now();
    let found_by = format!("hot-list import of '{list}' by {}", access.principal.name);
    let detail = serde_json::json!({
        "list": list, "file": path.display().to_string(), "sha256": sha,
        "entries": entries.len(), "matching_reads": hits.len(),
    });
    let new = access.change(Action::ImportHotlist, detail, |tx| {
        tx.execute(
            "INSERT INTO hotlists (name, entries, source_file, source_sha256, imported_by,
             imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (name) DO UPDATE SET entries = excluded.entries,
               source_file = excluded.source_file, source_sha256 = excluded.source_sha256,
               imported_by = excluded.imported_by, imported_at = excluded.imported_at",
            params![
                list,
                entries.len() as i64,
                path.display().to_string(),
                sha,
                access.principal.name,
                now.to_rfc3339()
            ],
        )
        .map_err(|e| access.catalog.err(e))?;
        insert_all_in(tx, &hits, &found_by, now)
    })?;
    Ok(ImportReport {
        entries: entries.len(),
        retro_hits: new,
    })
}

/// Reads of list `list`'s plates, as the best read or an alternate at
/// least [`ALTERNATE_MIN`] likely, read while the entry was valid.
async fn find_hits(store: &Store, list: &str) -> Result<Vec<Alert>> {
    let ctx = session(store).await?;
    let sql = "SELECT r.read_id, CAST(r.ts AS BIGINT) AS ts_us, r.camera_id, r.plate, h.list, \
               h.plate AS listed, h.reason \
               FROM reads r JOIN hotlist h ON r.plate = h.plate \
               WHERE h.list = $list AND (h.expires IS NULL OR CAST(r.ts AS DATE) <= h.expires) \
               UNION ALL \
               SELECT a.read_id, CAST(a.ts AS BIGINT) AS ts_us, a.camera_id, a.plate, h.list, \
               h.plate AS listed, h.reason \
               FROM (SELECT read_id, ts, camera_id, plate, unnest(alternates) AS alt FROM reads) a \
               JOIN hotlist h ON a.alt['plate'] = h.plate \
               WHERE h.list = $list AND a.alt['confidence'] >= $min \
               AND (h.expires IS NULL OR CAST(a.ts AS DATE) <= h.expires) \
               ORDER BY ts_us";
    let df = ctx.sql(sql).await?.with_param_values(vec![
        ("list", ScalarValue::Utf8(Some(list.to_string()))),
        ("min", ScalarValue::Float32(Some(ALTERNATE_MIN))),
    ])?;
    let batches = df.collect().await?;
    let mut out = Vec::new();
    for b in &batches {
        let col = |i: usize| super::evidence::string_column(b, b.schema().field(i).name());
        let (ids, ts, cams, plates, lists, listed, reasons) = (
            col(0)?,
            col(1)?,
            col(2)?,
            col(3)?,
            col(4)?,
            col(5)?,
            col(6)?,
        );
        for i in 0..b.num_rows() {
            out.push(Alert {
                id: 0,
                read_id: ids[i].clone(),
                ts_us: ts[i].parse().unwrap_or_default(),
                camera_id: cams[i].clone(),
                read_plate: plates[i].clone(),
                list: lists[i].clone(),
                listed_plate: listed[i].clone(),
                reason: reasons[i].clone(),
                status: "unverified".into(),
            });
        }
    }
    Ok(out)
}

/// Inserts alerts inside `tx` (duplicates of an existing alert are
/// ignored); returns how many are new.
pub fn insert_all_in(
    tx: &Connection,
    alerts: &[Alert],
    found_by: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut added = 0;
    for a in alerts {
        added += insert_in(tx, a, found_by, now).map_err(catalog_err)?;
    }
    Ok(added)
}

/// Inserts an alert unless the same read already alerted on the same entry;
/// returns 1 when new.
fn insert_in(
    tx: &Connection,
    a: &Alert,
    found_by: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT OR IGNORE INTO alerts (read_id, ts, camera_id, read_plate, list, listed_plate,
         reason, found_at, found_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            a.read_id,
            a.ts_us,
            a.camera_id,
            a.read_plate,
            a.list,
            a.listed_plate,
            a.reason,
            now.to_rfc3339(),
            found_by
        ],
    )
}

/// Alerts, newest first, optionally only those with `status`.
pub fn list(conn: &Connection, status: Option<&str>) -> Result<Vec<Alert>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, read_id, ts, camera_id, read_plate, list, listed_plate, reason, status
             FROM alerts WHERE ?1 IS NULL OR status = ?1 ORDER BY ts DESC, id DESC",
        )
        .map_err(catalog_err)?;
    let rows = stmt
        .query_map([status], |r| {
            Ok(Alert {
                id: r.get(0)?,
                read_id: r.get(1)?,
                ts_us: r.get(2)?,
                camera_id: r.get(3)?,
                read_plate: r.get(4)?,
                list: r.get(5)?,
                listed_plate: r.get(6)?,
                reason: r.get(7)?,
                status: r.get(8)?,
            })
        })
        .map_err(catalog_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(catalog_err)
}

/// Records a disposition on alert `id` (with its audit entry).
pub fn dispose(access: &Access, id: i64, disposition: Disposition, note: &str) -> Result<()> {
    if note.trim().is_empty() {
        return Err(Error::bad_input(
            "a disposition needs --note saying what was checked",
        ));
    }
    let detail = serde_json::json!({
        "alert": id, "disposition": disposition.as_str(), "note": note,
    });
    access.change(Action::DisposeHit, detail, |tx| {
        let n = tx
            .execute(
                "UPDATE alerts SET status = ?1 WHERE id = ?2",
                params![disposition.as_str(), id],
            )
            .map_err(catalog_err)?;
        if n != 1 {
            return Err(Error::bad_input(format!("no alert {id}")));
        }
        tx.execute(
            "INSERT INTO dispositions (alert_id, disposition, note, user, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                disposition.as_str(),
                note,
                access.principal.name,
                Utc::now().to_rfc3339()
            ],
        )
        .map_err(catalog_err)?;
        Ok(())
    })
}

fn catalog_err(e: rusqlite::Error) -> Error {
    Error::bad_input(format!("catalog: {e}"))
}
