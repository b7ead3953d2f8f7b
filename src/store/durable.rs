//! Durable file replacement: stage a file no reader matches, fsync it,
//! rename it into place, fsync the directory. A crash at any step leaves
//! either the old state or the new one, never a partial file.
//!
//! Staging names end in `.tmp`, which neither the store's readers
//! (`*.parquet`) nor other Arrow tools pick up.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Suffix of staging files.
pub const STAGING_SUFFIX: &str = ".tmp";

/// The staging path for `target`: hidden, unique to this process, `.tmp`.
pub fn staging_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}{STAGING_SUFFIX}", std::process::id()))
}

/// Writes `target` through `write`, durably and atomically; its folder
/// (and any missing above it) is created durably first.
pub fn replace_with<F>(target: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut File) -> Result<()>,
{
    let dir = parent_dir(target);
    create_dir_durable(dir)?;
    let staging = staging_path(target);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&staging)
            .map_err(|e| Error::io(&staging, e))?;
        write(&mut file)?;
        file.sync_all().map_err(|e| Error::io(&staging, e))?;
        drop(file);
        std::fs::rename(&staging, target).map_err(|e| Error::io(target, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    result
}

/// Writes `bytes` to `target` durably and atomically.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    replace_with(target, |f| {
        f.write_all(bytes).map_err(|e| Error::io(target, e))
    })
}

/// The directory holding `path`: `.` for a bare relative name, whose
/// `Path::parent` is empty (no directory can be opened or created by that
/// name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Fsyncs a directory so a rename or creation inside it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Creates `dir` (and parents), fsyncing each parent whose entry was new.
pub fn create_dir_durable(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    create_dir_durable(parent_dir(dir))?;
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    }
    sync_dir(parent_dir(dir))
}

/// Removes staging files left in `dir` by crashed writers whose name starts
/// with `.{prefix}`. Callers guarantee no live writer stages that name.
pub fn remove_stale_staging(dir: &Path, prefix: &str) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let start = format!(".{prefix}");
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&start) && name.ends_with(STAGING_SUFFIX) {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_staging() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a").join("f.json");
        write_atomic(&target, b"one").unwrap();
        write_atomic(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["f.json"]);
    }

    #[test]
    fn a_bare_relative_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("f.json")), Path::new("."));
        assert_eq!(parent_dir(Path::new("a/f.json")), Path::new("a"));
        assert_eq!(parent_dir(Path::new("/f.json")), Path::new("/"));
        assert!(create_dir_durable(Path::new("")).is_ok());
    }

    #[test]
    fn failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("f");
        write_atomic(&target, b"old").unwrap();
        let err = replace_with(&target, |_| Err(Error::bad_input("boom"))).unwrap_err();
        assert!(err.to_string().contains("boom"));
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_staging_files_are_removed_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".part-b1.parquet.123.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join(".part-b2.parquet.123.tmp"), b"x").unwrap();
        assert_eq!(remove_stale_staging(dir.path(), "part-b1.").unwrap(), 1);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
