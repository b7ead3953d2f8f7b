//! Evidence packages: reads written out of the store into a folder that can
//! be booked into evidence or handed to another agency, with a manifest of
//! SHA-256 checksums and a chain-of-custody record.
//!
//! ```text
//! DIR/
//!   reads.parquet        the reads, every column (crops included)
//!   crops/<read_id>.jpg  each read's plate crop, for people without Arrow tools
//!   manifest.json        every file above: path, bytes, SHA-256; the read ids
//!   custody.json         who exported what, when, why; the manifest's SHA-256
//! ```
//!
//! The folder is built under a staging name and renamed into place, so a
//! package either exists whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, SchemaRef};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::durable::{STAGING_SUFFIX, create_dir_durable, parent_dir, sync_dir};
use crate::store::writer::write_table;

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct FileSum {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The manifest of a package.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Manifest {
    pub reads: usize,
    pub read_ids: Vec<String>,
    pub files: Vec<FileSum>,
}

/// What the custody record says besides the manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Custody {
    pub case_number: String,
    pub reason: String,
    pub exported_by: String,
    pub organisation: String,
    pub exported_at: String,
    pub source_store: String,
    /// Anything else worth recording (hold or release ids, partitions).
    pub context: serde_json::Value,
}

/// Writes `batches` as a package at `dir` (which must not exist yet).
/// Returns the manifest and the SHA-256 of `manifest.json`.
pub fn export(
    dir: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    custody: &Custody,
) -> Result<(Manifest, String)> {
    if dir.exists() {
        return Err(Error::bad_input(format!(
            "{} already exists: an evidence package is never overwritten",
            dir.display()
        )));
    }
    let parent = parent_dir(dir);
    create_dir_durable(parent)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.{}{STAGING_SUFFIX}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    let result = build(&staging, schema, batches, custody).and_then(|out| {
        std::fs::rename(&staging, dir).map_err(|e| Error::io(dir, e))?;
        sync_dir(parent)?;
        Ok(out)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn build(
    dir: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
    custody: &Custody,
) -> Result<(Manifest, String)> {
    std::fs::create_dir_all(dir.join("crops")).map_err(|e| Error::io(dir, e))?;
    let all = concat_batches(&schema, batches)?;
    let mut files = Vec::new();
    let reads_path = dir.join("reads.parquet");
    write_table(&reads_path, &all)?;
    files.push(sum(dir, &reads_path)?);
    let read_ids = string_column(&all, "read_id")?;
    if let Some(crops) = binary_column(&all, "crop_jpeg")? {
        for (i, id) in read_ids.iter().enumerate() {
            if crops.is_null(i) {
                continue;
            }
            let path = dir.join("crops").join(format!("{}.jpg", safe_name(id)));
            write_synced(&path, crops.value(i))?;
            files.push(sum(dir, &path)?);
        }
    }
    sync_dir(&dir.join("crops"))?;
    let manifest = Manifest {
        reads: all.num_rows(),
        read_ids,
        files,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
    write_synced(&dir.join("manifest.json"), &manifest_bytes)?;
    let manifest_sha = hex::encode(Sha256::digest(&manifest_bytes));
    let mut record = serde_json::to_value(custody).expect("custody serialises");
    record["manifest_sha256"] = manifest_sha.clone().into();
    let custody_bytes = serde_json::to_vec_pretty(&record).expect("custody serialises");
    write_synced(&dir.join("custody.json"), &custody_bytes)?;
    sync_dir(dir)?;
    Ok((manifest, manifest_sha))
}

/// Re-reads a package and checks every file against its manifest. Returns
/// the problems found (none for an intact package).
pub fn verify(dir: &Path) -> Result<Vec<String>> {
    let path = dir.join("manifest.json");
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| Error::BadData {
        path: path.clone(),
        message: format!("damaged manifest: {e}"),
    })?;
    let mut problems = Vec::new();
    for f in &manifest.files {
        match sum(dir, &dir.join(&f.path)) {
            Ok(now) if now.sha256 == f.sha256 && now.bytes == f.bytes => {}
            Ok(_) => problems.push(format!("{}: checksum differs from the manifest", f.path)),
            Err(_) => problems.push(format!("{}: missing", f.path)),
        }
    }
    Ok(problems)
}

fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

fn sum(dir: &Path, path: &Path) -> Result<FileSum> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let rel: PathBuf = path.strip_prefix(dir).unwrap_or(path).to_path_buf();
    Ok(FileSum {
        path: rel.to_string_lossy().replace('\\', "/"),
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

/// A string column as owned strings, whatever its string encoding.
pub fn string_column(batch: &RecordBatch, name: &str) -> Result<Vec<String>> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| Error::bad_input(format!("no column '{name}' in the exported rows")))?;
    let utf8 = cast(col, &DataType::Utf8)?;
    let arr = utf8.as_string::<i32>();
    Ok((0..arr.len())
        .map(|i| {
            if arr.is_null(i) {
                String::new()
            } else {
                arr.value(i).to_string()
            }
        })
        .collect())
}

fn binary_column(
    batch: &RecordBatch,
    name: &str,
) -> Result<Option<Arc<arrow::array::BinaryArray>>> {
    let Some(col) = batch.column_by_name(name) else {
        return Ok(None);
    };
    let bin = cast(col, &DataType::Binary)?;
    Ok(Some(Arc::new(bin.as_binary::<i32>().clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BinaryArray, StringArray};
    use arrow::datatypes::{Field, Schema};

    #[test]
    fn a_package_checks_out_and_detects_changes() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("read_id", DataType::Utf8, false),
            Field::new("crop_jpeg", DataType::Binary, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["r1", "r/2"])),
                Arc::new(BinaryArray::from(vec![Some(&b"jpeg"[..]), None])),
            ],
        )
        .unwrap();
        let custody = Custody {
            case_number: "C-1".into(),
            reason: "test".into(),
            exported_by: "admin".into(),
            organisation: "SO".into(),
            exported_at: "2026-11-30T00:00:00Z".into(),
            source_store: "/s".into(),
            context: serde_json::Value::Null,
        };
        let pkg = dir.path().join("evidence").join("p1");
        let (m, sha) =
            export(&pkg, schema.clone(), std::slice::from_ref(&batch), &custody).unwrap();
        assert_eq!(
            (m.reads, m.read_ids.clone()),
            (2, vec!["r1".into(), "r/2".into()])
        );
        assert_eq!(m.files.len(), 2, "reads.parquet and one crop");
        assert_eq!(sha.len(), 64);
        assert!(verify(&pkg).unwrap().is_empty());
        let custody_text = std::fs::read_to_string(pkg.join("custody.json")).unwrap();
        assert!(custody_text.contains(&sha));
        std::fs::write(pkg.join("crops/r1.jpg"), b"edited").unwrap();
        assert_eq!(verify(&pkg).unwrap().len(), 1);
        assert!(
            export(&pkg, schema, &[batch], &custody).is_err(),
            "never overwritten"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path().join("evidence"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["p1"], "no staging left");
    }
}
