//! Releases to other agencies. Data leaves only on a written request kept on
//! file (`STORE/releases/<sha256>.<ext>`), approved by a supervisor, and
//! only the reads the request names (a plate pattern in a time window).
//! Requests from out-of-state or federal agencies are flagged (California
//! Civil Code 1798.90.55(b)): approving one needs an explicit override
//! whose reason goes into the audit log.
//!
//! ```text
//! request (analyst) -> pending -> approve / deny (supervisor) -> export (approved only)
//! ```

use std::path::{Path, PathBuf};

use chrono::Utc;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::Access;
use super::access::Action;
use super::evidence::{self, Custody};
use super::holds::Scope;
use crate::error::{Error, Result};
use crate::plate::Pattern;
use crate::query::session;
use crate::store::Store;
use crate::store::durable::write_atomic;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgencyType {
    /// A California city or county agency.
    Local,
    /// A California state agency.
    State,
    /// An agency of another state: flagged.
    OutOfState,
    /// A federal agency: flagged.
    Federal,
}

impl AgencyType {
    pub fn as_str(self) -> &'static str {
        match self {
            AgencyType::Local => "local",
            AgencyType::State => "state",
            AgencyType::OutOfState => "out-of-state",
            AgencyType::Federal => "federal",
        }
    }

    /// Whether a release to this kind of agency needs an explicit override.
    pub fn flagged(self) -> bool {
        matches!(self, AgencyType::OutOfState | AgencyType::Federal)
    }
}

/// A new request, as received in writing.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub agency: String,
    pub agency_type: AgencyType,
    pub requester: String,
    pub purpose: String,
    pub case_number: String,
    pub plate_pattern: String,
    /// `[from, to)` in microseconds, UTC.
    pub window: (i64, i64),
    /// The written request (a scan, a PDF, an e-mail).
    pub document: PathBuf,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Request {
    pub id: i64,
    pub agency: String,
    pub agency_type: String,
    pub requester: String,
    pub purpose: String,
    pub case_number: String,
    pub plate_pattern: String,
    pub from_ts: i64,
    pub to_ts: i64,
    pub document: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub override_reason: Option<String>,
}

fn catalog_err(e: rusqlite::Error) -> Error {
    Error::bad_input(format!("catalog: {e}"))
}

/// Files a request: the document is kept on file, the request is pending.
pub fn request(access: &Access, store: &Store, r: &NewRequest) -> Result<i64> {
    for (what, v) in [
        ("agency", &r.agency),
        ("requester", &r.requester),
        ("purpose", &r.purpose),
        ("case", &r.case_number),
    ] {
        if v.trim().is_empty() {
            return Err(Error::bad_input(format!(
                "a release request needs --{what}"
            )));
        }
    }
    super::search::validate_case_number(&r.case_number).map_err(Error::bad_input)?;
    Pattern::parse(&r.plate_pattern)?;
    if r.window.0 >= r.window.1 {
        return Err(Error::bad_input(
            "the request's window must end after it starts",
        ));
    }
    let bytes = std::fs::read(&r.document).map_err(|e| Error::io(&r.document, e))?;
    if bytes.is_empty() {
        return Err(Error::bad_input(format!(
            "{}: the written request is empty",
            r.document.display()
        )));
    }
    let sha = hex::encode(Sha256::digest(&bytes));
    let ext = r
        .document
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()) && e.len() <= 8)
        .unwrap_or_else(|| "bin".into());
    let kept = store.root().join("releases").join(format!("{sha}.{ext}"));
    write_atomic(&kept, &bytes)?;
    let detail = serde_json::json!({
        "agency": r.agency, "agency_type": r.agency_type.as_str(), "requester": r.requester,
        "purpose": r.purpose, "case": r.case_number, "plate_pattern": r.plate_pattern,
        "window": [r.window.0, r.window.1], "document_sha256": sha,
        "flagged": r.agency_type.flagged(),
    });
    access.change(Action::RequestRelease, detail, |tx| {
        tx.execute(
            "INSERT INTO releases (agency, agency_type, requester, purpose, case_number,
             plate_pattern, from_ts, to_ts, document, document_sha256, requested_by,
             requested_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending')",
            params![
                r.agency,
                r.agency_type.as_str(),
                r.requester,
                r.purpose,
                r.case_number,
                r.plate_pattern,
                r.window.0,
                r.window.1,
                kept.display().to_string(),
                sha,
                access.principal.name,
                Utc::now().to_rfc3339()
            ],
        )
        .map_err(catalog_err)?;
        Ok(tx.last_insert_rowid())
    })
}

/// Approves or denies a pending request. A flagged agency needs
/// `override_reason` to be approved.
pub fn decide(
    access: &Access,
    id: i64,
    approve: bool,
    note: &str,
    override_reason: Option<&str>,
) -> Result<()> {
    let req = get(&access.catalog, id)?;
    if req.status != "pending" {
        return Err(Error::bad_input(format!(
            "release {id} is {}, not pending",
            req.status
        )));
    }
    let flagged = AgencyType::from_str(&req.agency_type).is_some_and(AgencyType::flagged);
    let override_reason = override_reason.map(str::trim).filter(|s| !s.is_empty());
    if approve && flagged && override_reason.is_none() {
        return Err(Error::Refused(format!(
            "release {id} is to a {} agency ({}): approving it needs --override REASON, \
             recorded in the audit log",
            req.agency_type, req.agency
        )));
    }
    let status = if approve { "approved" } else { "denied" };
    let detail = serde_json::json!({
        "release": id, "decision": status, "note": note, "flagged": flagged,
        "override": override_reason,
    });
    access.change(Action::DecideRelease, detail, |tx| {
        tx.execute(
            "UPDATE releases SET status = ?1, decided_by = ?2, decided_at = ?3,
             decision_note = ?4, override_reason = ?5 WHERE id = ?6 AND status = 'pending'",
            params![
                status,
                access.principal.name,
                Utc::now().to_rfc3339(),
                note,
                override_reason,
                id
            ],
        )
        .map_err(catalog_err)?;
        Ok(())
    })
}

/// Exports the reads of an approved request into `out/release-<id>` with a
/// manifest; returns the package path and the number of reads.
pub async fn export(
    access: &Access,
    store: &Store,
    id: i64,
    out: &Path,
) -> Result<(PathBuf, usize)> {
    let req = get(&access.catalog, id)?;
    if req.status != "approved" {
        let reason = format!(
            "release {id} is {}: only an approved request is exported",
            req.status
        );
        access.record(
            Action::ExportRelease,
            super::log::Outcome::Refused,
            serde_json::json!({ "release": id, "reason": reason }),
        )?;
        return Err(Error::Refused(reason));
    }
    let scope = Scope {
        plate_pattern: Some(req.plate_pattern.clone()),
        area: None,
        window: Some((req.from_ts, req.to_ts)),
    };
    let ctx = session(store).await?;
    let df = ctx.table("reads").await?.filter(scope.expr())?;
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    let reads: usize = batches.iter().map(|b| b.num_rows()).sum();
    let package = out.join(format!("release-{id}"));
    let now = Utc::now();
    let custody = Custody {
        case_number: req.case_number.clone(),
        reason: format!(
            "release {id} to {} ({}), requested by {} for: {}",
            req.agency, req.agency_type, req.requester, req.purpose
        ),
        exported_by: access.principal.name.clone(),
        organisation: access.principal.organisation.clone(),
        exported_at: now.to_rfc3339(),
        source_store: store.root().display().to_string(),
        context: serde_json::json!({ "release": req }),
    };
    let (manifest, sha) = evidence::export(&package, schema, &batches, &custody)?;
    let detail = serde_json::json!({
        "release": id, "agency": req.agency, "reads": reads, "package": package.display().to_string(),
        "manifest_sha256": sha, "plate_pattern": req.plate_pattern, "read_ids": manifest.read_ids.len(),
    });
    access.change(Action::ExportRelease, detail, |tx| {
        tx.execute(
            "UPDATE releases SET status = 'exported', exported_by = ?1, exported_at = ?2,
             export_dir = ?3 WHERE id = ?4",
            params![
                access.principal.name,
                now.to_rfc3339(),
                package.display().to_string(),
                id
            ],
        )
        .map_err(catalog_err)?;
        Ok(())
    })?;
    Ok((package, reads))
}

impl AgencyType {
    fn from_str(s: &str) -> Option<AgencyType> {
        [
            AgencyType::Local,
            AgencyType::State,
            AgencyType::OutOfState,
            AgencyType::Federal,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One request.
pub fn get(catalog: &super::catalog::Catalog, id: i64) -> Result<Request> {
    catalog
        .read(|c| query(c, Some(id)))?
        .into_iter()
        .next()
        .ok_or_else(|| Error::bad_input(format!("no release request {id}")))
}

/// Every request, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<Request>> {
    query(conn, None)
}

fn query(conn: &Connection, id: Option<i64>) -> Result<Vec<Request>> {
    let mut stmt = conn
        .prepare(
            "SELECT id, agency, agency_type, requester, purpose, case_number, plate_pattern,
                    from_ts, to_ts, document, status, decided_by, override_reason
             FROM releases WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
        )
        .map_err(catalog_err)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(Request {
                id: r.get(0)?,
                agency: r.get(1)?,
                agency_type: r.get(2)?,
                requester: r.get(3)?,
                purpose: r.get(4)?,
                case_number: r.get(5)?,
                plate_pattern: r.get(6)?,
                from_ts: r.get(7)?,
                to_ts: r.get(8)?,
                document: r.get(9)?,
                status: r.get(10)?,
                decided_by: r.get(11)?,
                override_reason: r.get(12)?,
            })
        })
        .map_err(catalog_err)?;
    let out = rows
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(catalog_err)?;
    Ok(out)
}
