//! Writes a generator's output into a store: the camera registry, the hot
//! lists (`hotlist/<list>.parquet`, one file per list as an import writes
//! them) and every day's reads, days in parallel.
//! How the files are laid out and made durable is `store::writer`'s
//! business; what the reads are is the generator's.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::Synth;
use crate::Result;
use crate::store::reference::{HotlistEntry, cameras_batch};
use crate::store::schema::ReadBatchBuilder;
use crate::store::writer::{WriteOutcome, write_reads, write_table};
use crate::store::{Store, hotlist};

/// Writes cameras, hot list and every day of `synth` into `store`; days
/// already written (same batch id) are skipped, so a rerun is harmless.
/// `on_day` is called after each day is durable (for progress displays).
pub fn write_store(
    synth: &Synth,
    store: &Store,
    on_day: impl Fn(&WriteOutcome) + Sync,
) -> Result<WriteOutcome> {
    write_table(&store.cameras_path(), &cameras_batch(synth.cameras()))?;
    let mut lists: BTreeMap<&str, Vec<HotlistEntry>> = BTreeMap::new();
    for entry in synth.hotlist() {
        lists.entry(&entry.list).or_default().push(entry.clone());
    }
    for (list, entries) in lists {
        hotlist::write(store, list, &entries)?;
    }
    let outcomes = (0..synth.config().days)
        .into_par_iter()
        .map(|day| {
            let mut builder = ReadBatchBuilder::new();
            for read in synth.day(day) {
                builder.append(&read);
            }
            let outcome = write_reads(store, &synth.batch_id(day), &[builder.finish()])?;
            on_day(&outcome);
            Ok(outcome)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(outcomes
        .into_iter()
        .fold(WriteOutcome::default(), |mut acc, o| {
            acc.files_written += o.files_written;
            acc.files_skipped += o.files_skipped;
            acc.rows_written += o.rows_written;
            acc
        }))
}
