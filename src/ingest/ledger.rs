//! The ingest ledger (a catalog table): which source, by content hash, has
//! been read with which model version, in which batch.
//!
//! ```text
//! plan: rows 'planned' (source sha, model, batch id) committed before any read is written
//! work: the batch's reads written (idempotent per batch id and date)
//! done: rows 'done' in the same transaction as the batch's alerts
//! ```
//!
//! A crash leaves 'planned' rows; the next run redoes exactly those batches
//! under the same ids, so whatever files the crashed run had written are
//! skipped, not duplicated.

use std::collections::HashMap;

use chrono::Utc;
use rusqlite::{Connection, params};

use crate::error::{Error, Result};

/// A source's state for the current model version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    New,
    Planned { batch_id: String },
    Done,
}

fn err(e: rusqlite::Error) -> Error {
    Error::bad_input(format!("ingest ledger: {e}"))
}

/// The state of every source hash under `model`.
pub fn states(conn: &Connection, model: &str) -> Result<HashMap<String, State>> {
    let mut stmt = conn
        .prepare(
            "SELECT source_sha256, batch_id, status FROM ingest_ledger WHERE model_version = ?1",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([model], |r| {
            let (sha, batch, status): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            Ok((
                sha,
                if status == "done" {
                    State::Done
                } else {
                    State::Planned { batch_id: batch }
                },
            ))
        })
        .map_err(err)?;
    rows.collect::<rusqlite::Result<HashMap<_, _>>>()
        .map_err(err)
}

/// Sources already read with another model version, by hash: what
/// `--reprocess` re-reads.
pub fn other_versions(conn: &Connection, model: &str) -> Result<HashMap<String, Vec<String>>> {
    let mut stmt = conn
        .prepare(
            "SELECT source_sha256, batch_id FROM ingest_ledger
             WHERE model_version != ?1 AND status = 'done'",
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

/// Records `sources` (hash, path) as planned in `batch_id`.
pub fn plan_in(
    tx: &Connection,
    model: &str,
    batch_id: &str,
    sources: &[(String, String)],
) -> Result<()> {
    for (sha, path) in sources {
        tx.execute(
            "INSERT INTO ingest_ledger (source_sha256, model_version, source, batch_id, status,
             updated_at) VALUES (?1, ?2, ?3, ?4, 'planned', ?5)
             ON CONFLICT (source_sha256, model_version) DO NOTHING",
            params![sha, model, path, batch_id, Utc::now().to_rfc3339()],
        )
        .map_err(err)?;
    }
    Ok(())
}

/// Marks the sources of `batch_id` done with their counts.
pub fn done_in(
    tx: &Connection,
    model: &str,
    batch_id: &str,
    counts: &[(String, i64, i64)],
) -> Result<()> {
    for (sha, frames, reads) in counts {
        tx.execute(
            "UPDATE ingest_ledger SET status = 'done', frames = ?1, reads = ?2, updated_at = ?3
             WHERE source_sha256 = ?4 AND model_version = ?5 AND batch_id = ?6",
            params![frames, reads, Utc::now().to_rfc3339(), sha, model, batch_id],
        )
        .map_err(err)?;
    }
    Ok(())
}

/// Forgets the done rows of older model versions of `sha` (after their
/// reads were replaced).
pub fn forget_older_in(tx: &Connection, sha: &str, model: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM ingest_ledger WHERE source_sha256 = ?1 AND model_version != ?2",
        params![sha, model],
    )
    .map_err(err)?;
    Ok(())
}
