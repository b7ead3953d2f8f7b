//! The read store: one Arrow schema, Hive-partitioned Parquet on disk, a
//! crash-safe partition writer and the small reference tables.
//!
//! ```text
//! STORE/
//!   alpr-store.json                  marker: format version
//!   reads/date=2026-10-01/part-<batch>.parquet   reads, sorted by ts
//!   cameras/cameras.parquet          camera registry
//!   hotlist/<list>.parquet           one file per hot list
//! ```
//!
//! Any Arrow tool opens `reads/` as a Hive-partitioned dataset. Querying is
//! left to [`crate::query`]; retention (dropping whole partitions) will live
//! here too.

pub mod batches;
pub mod cameras;
pub mod csv;
pub mod durable;
pub mod hotlist;
pub mod reference;
pub mod retention;
pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// Name of the marker file that makes a directory a store.
const MARKER: &str = "alpr-store.json";
/// Format version written into the marker.
const STORE_FORMAT: u32 = 1;

/// A store on local disk.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Creates the store at `root` (and its parents) or opens it if it exists.
    pub fn create(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        for dir in [
            root.join("reads"),
            root.join("cameras"),
            root.join("hotlist"),
        ] {
            durable::create_dir_durable(&dir)?;
        }
        let marker = root.join(MARKER);
        if !marker.exists() {
            let text = format!("{{\"format\": {STORE_FORMAT}}}\n");
            durable::write_atomic(&marker, text.as_bytes())?;
        }
        Store::open(root)
    }

    /// Opens an existing store; a clear error if `root` is not one.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        if !root.exists() {
            return Err(Error::bad_input(format!(
                "store {} does not exist (create one with `alpr synth-reads --store {}`)",
                root.display(),
                root.display()
            )));
        }
        let marker = root.join(MARKER);
        let text = std::fs::read_to_string(&marker).map_err(|_| Error::BadData {
            path: root.clone(),
            message: format!("not an alpr store (no {MARKER})"),
        })?;
        let format = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("format")?.as_u64());
        match format {
            Some(f) if f == u64::from(STORE_FORMAT) => Ok(Store { root }),
            Some(f) => Err(Error::BadData {
                path: marker,
                message: format!("store format {f}, this alpr reads format {STORE_FORMAT}"),
            }),
            None => Err(Error::BadData {
                path: marker,
                message: "damaged store marker".into(),
            }),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of the Hive-partitioned reads.
    pub fn reads_dir(&self) -> PathBuf {
        self.root.join("reads")
    }

    /// Directory of one date partition.
    pub fn partition_dir(&self, date: NaiveDate) -> PathBuf {
        self.reads_dir().join(format!(
            "{}={}",
            schema::PARTITION_COLUMN,
            date.format("%Y-%m-%d")
        ))
    }

    /// Directory of the camera registry.
    pub fn cameras_dir(&self) -> PathBuf {
        self.root.join("cameras")
    }

    pub fn cameras_path(&self) -> PathBuf {
        self.cameras_dir().join("cameras.parquet")
    }

    pub fn hotlist_dir(&self) -> PathBuf {
        self.root.join("hotlist")
    }

    /// Date partitions present on disk, oldest first.
    pub fn partitions(&self) -> Result<Vec<NaiveDate>> {
        let dir = self.reads_dir();
        let prefix = format!("{}=", schema::PARTITION_COLUMN);
        let mut dates = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let name = entry.file_name();
            let Some(value) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
                continue;
            };
            if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                dates.push(date);
            }
        }
        dates.sort();
        Ok(dates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_refuses_missing_and_foreign_directories() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = Store::open(&missing).unwrap_err().to_string();
        assert!(
            err.contains("does not exist") && err.contains("nope"),
            "{err}"
        );
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not an alpr store"), "{err}");
    }

    #[test]
    fn create_then_open_lists_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 10, 2).unwrap();
        std::fs::create_dir_all(store.partition_dir(d)).unwrap();
        std::fs::create_dir_all(store.reads_dir().join("junk")).unwrap();
        let again = Store::open(store.root()).unwrap();
        assert_eq!(again.partitions().unwrap(), vec![d]);
    }
}
