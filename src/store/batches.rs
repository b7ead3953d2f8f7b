//! Which reads readers see. Reads are normally visible as soon as their
//! files exist; re-reading sources (a new model, or a retry after a fixable
//! error) must swap old reads for new ones so that a reader never sees both
//! or neither. The switch is one small file, `STORE/hidden-reads.json`,
//! replaced atomically; the `reads` table of [`crate::query::session`]
//! leaves out what it lists.
//!
//! ```text
//! hide(new batch) -> write new files -> one swap: hide(old), show(new)
//!                 -> delete old files whose every source was replaced
//! ```
//!
//! An entry is a batch id and the `source_sha256` of the reads hidden in it,
//! or `*` for the whole batch. Other Arrow tools read the files directly and
//! may see both while old files remain.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use datafusion::logical_expr::{Expr, col, lit};

use super::Store;
use super::durable::write_atomic;
use crate::error::{Error, Result};

/// Hidden reads: batch id -> source hashes (`*`: all of the batch).
pub type Hidden = BTreeMap<String, BTreeSet<String>>;

/// The whole of a batch.
pub const ALL: &str = "*";

fn path(store: &Store) -> PathBuf {
    store.root().join("hidden-reads.json")
}

/// What is hidden.
pub fn hidden(store: &Store) -> Result<Hidden> {
    let p = path(store);
    match std::fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::BadData {
            path: p,
            message: format!("damaged list of hidden reads: {e}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Hidden::new()),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// Hides the `(batch, source)` pairs of `hide` and shows the whole batches
/// `show`, in one atomic step.
pub fn update(store: &Store, hide: &[(String, String)], show: &[String]) -> Result<()> {
    let mut h = hidden(store)?;
    for (batch, source) in hide {
        h.entry(batch.clone()).or_default().insert(source.clone());
    }
    for s in show {
        h.remove(s);
    }
    let bytes = serde_json::to_vec(&h).expect("ids serialise");
    write_atomic(&path(store), &bytes)
}

/// The predicate that keeps visible reads; `None` when nothing is hidden.
pub fn visible(h: &Hidden) -> Option<Expr> {
    h.iter()
        .map(|(batch, sources)| {
            let in_batch = col("batch_id").eq(lit(batch.clone()));
            if sources.contains(ALL) {
                in_batch
            } else {
                let list = sources.iter().map(|s| lit(s.clone())).collect();
                in_batch.and(col("source_sha256").in_list(list, false))
            }
        })
        .reduce(Expr::or)
        .map(|hidden| !hidden)
}

/// Deletes every partition file of the batches `ids` and forgets them in
/// the hidden list (once all their reads are hidden, files are dead weight).
pub fn delete(store: &Store, ids: &[String]) -> Result<usize> {
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
    update(store, &[], ids)?;
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
        assert!(visible(&Hidden::new()).is_none());
        update(&store, &[("new".into(), ALL.into())], &[]).unwrap();
        update(&store, &[("old".into(), "abc".into())], &["new".into()]).unwrap();
        let h = hidden(&store).unwrap();
        assert_eq!(h.len(), 1);
        assert!(h["old"].contains("abc"));
        let e = visible(&h).unwrap().to_string();
        assert!(e.contains("batch_id") && e.contains("source_sha256"), "{e}");
    }
}
