//! The ingest ledger (a catalog table): which source, by content hash, has
//! been read with which model version, in which batch, and which older
//! reads its batch replaces.
//!
//! ```text
//! plan:  rows 'planned' (source, model, batch id, replaces) committed before any read is written
//! work:  the batch's reads written (idempotent per batch id and date), then the swap
//! done:  rows 'done' (or 'partial': a fixable problem skipped part of an
//!        archive or video, retried next run) in one transaction with the alerts
//! ```
//!
//! A crash leaves 'planned' rows; the next run redoes exactly those batches
//! under the same ids and replacements, so whatever the crashed run wrote
//! is skipped, not duplicated.

use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{Connection, params};

use crate::error::{Error, Result};

/// Reads a batch replaces: `(old batch id, source hash or "*")`.
pub type Replaces = Vec<(String, String)>;

/// A source's state for the current model version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Planned {
        batch_id: String,
        replaces: Replaces,
    },
    /// Read, but a fixable problem (camera, time) skipped part of it.
    Partial { batch_id: String },
    /// Read; `problems` names what of it could not be read (a corrupt
    /// member, a truncated clip), which rereading the same bytes would not
    /// change, so later runs report them again instead of retrying.
    Done { problems: Vec<(String, String)> },
}

fn err(e: rusqlite::Error) -> Error {
    Error::bad_input(format!("ingest ledger: {e}"))
}

/// The state of every source hash under `model`.
pub fn states(conn: &Connection, model: &str) -> Result<HashMap<String, State>> {
    let mut stmt = conn
        .prepare(
            "SELECT source_sha256, batch_id, status, replaces, problems FROM ingest_ledger
             WHERE model_version = ?1",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([model], |r| {
            let (sha, batch, status, replaces): (String, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let problems: String = r.get(4)?;
            let state = match status.as_str() {
                "done" => State::Done {
                    problems: serde_json::from_str(&problems).unwrap_or_default(),
                },
                "partial" => State::Partial { batch_id: batch },
                _ => State::Planned {
                    batch_id: batch,
                    replaces: serde_json::from_str(&replaces).unwrap_or_default(),
                },
            };
            Ok((sha, state))
        })
        .map_err(err)?;
    rows.collect::<rusqlite::Result<HashMap<_, _>>>()
        .map_err(err)
}

/// Batches of sources read with another model version, by source hash:
/// what `--reprocess` replaces.
pub fn other_versions(conn: &Connection, model: &str) -> Result<HashMap<String, Vec<String>>> {
    let mut stmt = conn
        .prepare(
            "SELECT source_sha256, batch_id FROM ingest_ledger
             WHERE model_version != ?1 AND status IN ('done', 'partial')",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([model], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(err)?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for row in rows {
        let (sha, batch) = row.map_err(err)?;
        out.entry(sha).or_default().push(batch);
    }
    Ok(out)
}

/// Records `sources` (hash, path) as planned in `batch_id`, replacing
/// `replaces` when it lands.
pub fn plan_in(
    tx: &Connection,
    model: &str,
    batch_id: &str,
    sources: &[(String, String)],
    replaces: &Replaces,
) -> Result<()> {
    let replaces = serde_json::to_string(replaces).expect("pairs serialise");
    for (sha, path) in sources {
        tx.execute(
            "INSERT INTO ingest_ledger (source_sha256, model_version, source, batch_id, status,
             replaces, updated_at) VALUES (?1, ?2, ?3, ?4, 'planned', ?5, ?6)
             ON CONFLICT (source_sha256, model_version) DO UPDATE SET
               batch_id = excluded.batch_id, status = 'planned', replaces = excluded.replaces,
               updated_at = excluded.updated_at",
            params![
                sha,
                model,
                path,
                batch_id,
                replaces,
                Utc::now().to_rfc3339()
            ],
        )
        .map_err(err)?;
    }
    Ok(())
}

/// How one source of a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Done,
    /// Retry next run (fixable problem in an archive or a video).
    Partial,
    /// Nothing read, fixable: forget it, so the next run reads it afresh.
    Forget,
}

/// How one source of a batch ended: its hash, ending, frames, reads, and
/// what of it could not be read (what, why).
pub type Finished = (String, Ending, i64, i64, Vec<(String, String)>);

/// Records how each source of `batch_id` ended, with its counts.
pub fn finish_in(tx: &Connection, model: &str, batch_id: &str, endings: &[Finished]) -> Result<()> {
    for (sha, ending, frames, reads, problems) in endings {
        match ending {
            Ending::Forget => tx.execute(
                "DELETE FROM ingest_ledger
                 WHERE source_sha256 = ?1 AND model_version = ?2 AND batch_id = ?3",
                params![sha, model, batch_id],
            ),
            Ending::Done | Ending::Partial => tx.execute(
                "UPDATE ingest_ledger SET status = ?1, frames = ?2, reads = ?3, replaces = '[]',
                 updated_at = ?4, problems = ?8
                 WHERE source_sha256 = ?5 AND model_version = ?6 AND batch_id = ?7",
                params![
                    if *ending == Ending::Done {
                        "done"
                    } else {
                        "partial"
                    },
                    frames,
                    reads,
                    Utc::now().to_rfc3339(),
                    sha,
                    model,
                    batch_id,
                    serde_json::to_string(problems).unwrap_or_else(|_| "[]".into())
                ],
            ),
        }
        .map_err(err)?;
    }
    Ok(())
}

/// Forgets the rows of older model versions of `sha` (after their reads
/// were replaced).
pub fn forget_older_in(tx: &Connection, sha: &str, model: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM ingest_ledger WHERE source_sha256 = ?1 AND model_version != ?2",
        params![sha, model],
    )
    .map_err(err)?;
    Ok(())
}

/// Whether any source other than those in `except` still has reads in
/// `batch_id` (if none, its files can be deleted).
pub fn batch_in_use(conn: &Connection, batch_id: &str, except: &[String]) -> Result<bool> {
    let mut stmt = conn
        .prepare("SELECT source_sha256 FROM ingest_ledger WHERE batch_id = ?1")
        .map_err(err)?;
    let rows = stmt
        .query_map([batch_id], |r| r.get::<_, String>(0))
        .map_err(err)?;
    for row in rows {
        if !except.contains(&row.map_err(err)?) {
            return Ok(true);
        }
    }
    Ok(false)
}
