//! The catalog: one SQLite database inside the store (`STORE/catalog.sqlite`)
//! holding everything that is not a read: users, the audit log, the
//! retention policy, legal holds, release requests, hot-list metadata,
//! alerts with their dispositions, and the ingest ledger.
//!
//! SQLite gives transactions, so an audit entry and the change it records
//! commit together. The audit table refuses `UPDATE` and `DELETE` through
//! triggers; [`super::log`] adds a hash chain so that edits made around
//! SQLite (a hex editor, a dropped trigger) are still detected.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::Store;

/// File name of the catalog inside a store.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// Schema version written into `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    organisation TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    trained_on TEXT,
    training_expires TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    user TEXT NOT NULL,
    organisation TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    purpose TEXT,
    case_number TEXT,
    detail TEXT NOT NULL,
    rows INTEGER,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE policy (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL,
    kind TEXT NOT NULL,
    plate_pattern TEXT,
    lat REAL, lon REAL, radius_m REAL,
    from_ts INTEGER, to_ts INTEGER,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    lifted_by TEXT,
    lifted_at TEXT
);
CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL,
    agency_type TEXT NOT NULL,
    requester TEXT NOT NULL,
    purpose TEXT NOT NULL,
    case_number TEXT NOT NULL,
    plate_pattern TEXT NOT NULL,
    from_ts INTEGER NOT NULL,
    to_ts INTEGER NOT NULL,
    document TEXT NOT NULL,
    document_sha256 TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT,
    override_reason TEXT,
    exported_by TEXT,
    exported_at TEXT,
    export_dir TEXT
);
CREATE TABLE hotlists (
    name TEXT PRIMARY KEY,
    entries INTEGER NOT NULL,
    source_file TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    read_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    camera_id TEXT NOT NULL,
    read_plate TEXT NOT NULL,
    list TEXT NOT NULL,
    listed_plate TEXT NOT NULL,
    reason TEXT NOT NULL,
    found_at TEXT NOT NULL,
    found_by TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'unverified',
    UNIQUE (read_id, list, listed_plate)
);
CREATE TABLE ingest_ledger (
    source_sha256 TEXT NOT NULL,
    model_version TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    status TEXT NOT NULL,
    replaces TEXT NOT NULL DEFAULT '[]',
    frames INTEGER,
    reads INTEGER,
    updated_at TEXT NOT NULL,
    problems TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (source_sha256, model_version)
);
CREATE TABLE dispositions (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    disposition TEXT NOT NULL,
    note TEXT NOT NULL,
    user TEXT NOT NULL,
    at TEXT NOT NULL
);
";

/// An open catalog. The connection is behind a mutex so a catalog can be
/// shared by the async query code; every use is short.
#[derive(Debug)]
pub struct Catalog {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Catalog {
    /// Path of the catalog of `store`.
    pub fn path_in(store: &Store) -> PathBuf {
        store.root().join(CATALOG_FILE)
    }

    /// Whether `store` has a catalog yet.
    pub fn exists(store: &Store) -> bool {
        Catalog::path_in(store).exists()
    }

    /// Creates the catalog of `store`; an error if it already has one.
    pub fn create(store: &Store) -> Result<Catalog> {
        let path = Catalog::path_in(store);
        if path.exists() {
            return Err(Error::bad_input(format!(
                "{} already exists: this store is initialised",
                path.display()
            )));
        }
        let conn = connect(&path)?;
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(|e| sql_error(&path, e))?;
        Ok(Catalog {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// Opens the catalog of `store`; a clear error if there is none.
    pub fn open(store: &Store) -> Result<Catalog> {
        let path = Catalog::path_in(store);
        if !path.exists() {
            return Err(Error::bad_input(format!(
                "store {} has no users yet: create the first administrator with \
                 `alpr admin init --store {}`",
                store.root().display(),
                store.root().display()
            )));
        }
        let conn = connect(&path)?;
        let mut version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| sql_error(&path, e))?;
        if version == 1 {
            // Version 2 remembers what could not be read of an ingested source.
            conn.execute_batch(
                "BEGIN IMMEDIATE;
                 ALTER TABLE ingest_ledger ADD COLUMN problems TEXT NOT NULL DEFAULT '[]';
                 PRAGMA user_version = 2;
                 COMMIT;",
            )
            .map_err(|e| sql_error(&path, e))?;
            version = 2;
        }
        if version != SCHEMA_VERSION {
            return Err(Error::BadData {
                path,
                message: format!(
                    "catalog schema version {version}, this alpr reads version {SCHEMA_VERSION}"
                ),
            });
        }
        Ok(Catalog {
            path,
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection inside one immediate transaction, so that
    /// a change and its audit entry commit together or not at all.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&self.path, e))?;
        let out = f(&tx)?;
        tx.commit().map_err(|e| sql_error(&self.path, e))?;
        Ok(out)
    }

    /// Runs a read-only `f` on the connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Wraps a SQLite error with the catalog's path.
    pub fn err(&self, e: rusqlite::Error) -> Error {
        sql_error(&self.path, e)
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| sql_error(path, e))?;
    // FULL: a committed audit entry survives a power cut.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(|e| sql_error(path, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| sql_error(path, e))?;
    restrict_permissions(path);
    Ok(conn)
}

/// The catalog holds password hashes and the audit log: owner only.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::BadData {
        path: path.to_path_buf(),
        message: format!("catalog: {e}"),
    }
}

/// Reads one policy value.
pub fn policy_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM policy WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

/// Sets one policy value.
pub fn policy_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO policy (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_open_and_refuse_twice() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let err = Catalog::open(&store).unwrap_err().to_string();
        assert!(err.contains("alpr admin init"), "{err}");
        Catalog::create(&store).unwrap();
        assert!(Catalog::create(&store).is_err());
        let cat = Catalog::open(&store).unwrap();
        cat.transaction(|tx| {
            policy_set(tx, "k", "v").unwrap();
            Ok(())
        })
        .unwrap();
        let v = cat.read(|c| Ok(policy_get(c, "k").unwrap())).unwrap();
        assert_eq!(v.as_deref(), Some("v"));
    }

    #[test]
    fn a_version_1_catalog_is_upgraded_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let path = Catalog::path_in(&store);
        drop(Catalog::create(&store).unwrap());
        // A version 1 catalog, as the previous alpr wrote it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE ingest_ledger DROP COLUMN problems; PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(conn);
        drop(Catalog::open(&store).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        let column: i64 = conn
            .query_row(
                "SELECT count(*) FROM pragma_table_info('ingest_ledger') WHERE name = 'problems'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!((version, column), (SCHEMA_VERSION, 1));
    }

    #[test]
    fn audit_rows_cannot_be_updated_or_deleted_through_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let cat = Catalog::create(&store).unwrap();
        cat.read(|c| {
            c.execute(
                "INSERT INTO audit_log (seq, ts, user, organisation, role, action, outcome,
                 detail, prev_hash, hash) VALUES (1, 't', 'u', 'o', 'r', 'a', 'ok', '{}', 'p', 'h')",
                [],
            )
            .unwrap();
            let e = c
                .execute("UPDATE audit_log SET user = 'x'", [])
                .unwrap_err();
            assert!(e.to_string().contains("append-only"), "{e}");
            let e = c.execute("DELETE FROM audit_log", []).unwrap_err();
            assert!(e.to_string().contains("append-only"), "{e}");
            Ok(())
        })
        .unwrap();
    }
}
