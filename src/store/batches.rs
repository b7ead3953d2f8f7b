//! Which write batches readers see. A batch is normally visible as soon as
//! its files exist; re-reading sources with a new model must swap old reads
//! for new ones so that a reader never sees both or neither. The switch is
//! one small file, `STORE/hidden-batches.json`, replaced atomically; the
//! `reads` table of [`crate::query::session`] leaves out hidden batches.
//!
//! ```text
//! hide(new) -> write new files -> swap: hide(old), show(new) -> delete old files
//! ```
//!
//! Other Arrow tools read the files directly and see both for as long as the
//! old files exist (between the swap and their deletion, milliseconds).

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::Store;
use super::durable::write_atomic;
use crate::error::{Error, Result};

fn path(store: &Store) -> PathBuf {
    store.root().join("hidden-batches.json")
}

/// The hidden batch ids.
pub fn hidden(store: &Store) -> Result<BTreeSet<String>> {
    let p = path(store);
    match std::fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::BadData {
            path: p,
            message: format!("damaged list of hidden batches: {e}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// Hides `hide` and shows `show` in one atomic step.
pub fn update(store: &Store, hide: &[String], show: &[String]) -> Result<()> {
    let mut set = hidden(store)?;
    set.extend(hide.iter().cloned());
    for s in show {
        set.remove(s);
    }
    let bytes = serde_json::to_vec(&set).expect("ids serialise");
    write_atomic(&path(store), &bytes)
}

/// Deletes every partition file of the batches `ids`.
pub fn delete_files(store: &Store, ids: &[String]) -> Result<usize> {
    let mut removed = 0;
    for date in store.partitions()? {
        let dir = store.partition_dir(date);
        for id in ids {
            let f = dir.join(format!("part-{id}.parquet"));
            match std::fs::remove_file(&f) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(f, e)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hide_show_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        assert!(hidden(&store).unwrap().is_empty());
        update(&store, &["new".into()], &[]).unwrap();
        update(&store, &["old".into()], &["new".into()]).unwrap();
        let h: Vec<String> = hidden(&store).unwrap().into_iter().collect();
        assert_eq!(h, vec!["old".to_string()]);
    }
}
