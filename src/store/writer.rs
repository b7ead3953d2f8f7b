//! The partition writer: a batch of reads in, one sorted Parquet file per
//! UTC date out, each made visible atomically.
//!
//! ```text
//! batches -> validate schema -> sort by ts -> split by UTC date
//!         -> per date: skip if part-<batch>.parquet exists (idempotent)
//!                      else stage .part-<batch>.parquet.<pid>.tmp, fsync,
//!                      rename, fsync directory
//! ```
//!
//! A batch id names one immutable set of reads: writing the same batch again
//! adds nothing, and rerunning a batch interrupted by a crash writes exactly
//! the dates that are missing. Two processes must not write the same batch
//! id at once (ingest's ledger sees to that); distinct batches may run in
//! parallel.

use std::fs::File;

use arrow::array::{Array, RecordBatch, TimestampMicrosecondArray};
use arrow::compute::{concat_batches, sort_to_indices, take_record_batch};
use chrono::{DateTime, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::Store;
use super::durable;
use super::schema::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, read_schema};
use crate::error::{Error, Result};

/// Rows per row group: small enough for statistics to prune time ranges,
/// large enough for efficient scans.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Rows per data page; the page index prunes at this granularity.
const PAGE_ROWS: usize = 8 * 1024;

/// What one call to [`write_reads`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Partition files created by this call.
    pub files_written: usize,
    /// Partition files that already existed (the batch was written before).
    pub files_skipped: usize,
    /// Rows in the files this call created.
    pub rows_written: usize,
}

/// Writes a batch of reads into the store, idempotently by `batch_id`.
pub fn write_reads(store: &Store, batch_id: &str, batches: &[RecordBatch]) -> Result<WriteOutcome> {
    validate_batch_id(batch_id)?;
    let schema = read_schema();
    for b in batches {
        if b.schema().fields() != schema.fields() {
            return Err(Error::bad_input(format!(
                "batch {batch_id}: reads do not follow the store schema version {SCHEMA_VERSION}"
            )));
        }
    }
    let all = concat_batches(&schema, batches)?;
    let mut outcome = WriteOutcome::default();
    if all.num_rows() == 0 {
        return Ok(outcome);
    }
    let sorted = sort_by_ts(&all)?;
    let file_name = format!("part-{batch_id}.parquet");
    for (date, slice) in split_by_date(&sorted) {
        let dir = store.partition_dir(date);
        let target = dir.join(&file_name);
        if target.exists() {
            outcome.files_skipped += 1;
            continue;
        }
        durable::create_dir_durable(&dir)?;
        durable::remove_stale_staging(&dir, &format!("{file_name}."))?;
        durable::replace_with(&target, |file| write_parquet(file, &slice))?;
        outcome.files_written += 1;
        outcome.rows_written += slice.num_rows();
    }
    Ok(outcome)
}

/// Writes one small reference table (cameras, a hot list) atomically.
pub fn write_table(path: &std::path::Path, batch: &RecordBatch) -> Result<()> {
    if let Some(name) = path.file_name() {
        let dir = durable::parent_dir(path);
        durable::remove_stale_staging(dir, &format!("{}.", name.to_string_lossy()))?;
    }
    durable::replace_with(path, |file| {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let mut writer = ArrowWriter::try_new(
            file.try_clone().map_err(|e| Error::io(path, e))?,
            batch.schema(),
            Some(props),
        )?;
        writer.write(batch)?;
        writer.close()?;
        Ok(())
    })
}

/// Batch ids become file names: keep them to a safe alphabet.
pub fn validate_batch_id(batch_id: &str) -> Result<()> {
    let ok = !batch_id.is_empty()
        && batch_id.len() <= 128
        && !batch_id.starts_with('.')
        && batch_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad_input(format!(
            "batch id {batch_id:?} must be 1-128 characters of A-Z a-z 0-9 - _ . and not start with '.'"
        )))
    }
}

/// Parquet settings of every reads file; see the module doc of `store`.
pub fn reads_writer_properties() -> WriterProperties {
    let schema = read_schema();
    let ts_idx = schema.index_of("ts").expect("ts in read_schema") as i32;
    let col = |name: &str| ColumnPath::from(name);
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_sorting_columns(Some(vec![SortingColumn {
            column_idx: ts_idx,
            descending: false,
            nulls_first: false,
        }]))
        .set_column_bloom_filter_enabled(col("plate"), true)
        .set_column_bloom_filter_fpp(col("plate"), 0.01)
        .set_column_bloom_filter_max_ndv(col("plate"), ROW_GROUP_ROWS as u64)
        // Unique or opaque columns: dictionaries and statistics only cost.
        .set_column_dictionary_enabled(col("read_id"), false)
        .set_column_dictionary_enabled(col("crop_jpeg"), false)
        .set_column_statistics_enabled(col("crop_jpeg"), EnabledStatistics::None)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            SCHEMA_VERSION_KEY.to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build()
}

fn write_parquet(file: &mut File, batch: &RecordBatch) -> Result<()> {
    let sink = file
        .try_clone()
        .map_err(|e| Error::io("<staging file>", e))?;
    let mut writer = ArrowWriter::try_new(sink, batch.schema(), Some(reads_writer_properties()))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

fn ts_column(batch: &RecordBatch) -> &TimestampMicrosecondArray {
    batch
        .column_by_name("ts")
        .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
        .expect("ts is a microsecond timestamp in read_schema")
}

fn sort_by_ts(batch: &RecordBatch) -> Result<RecordBatch> {
    let ts = batch.column_by_name("ts").expect("ts in read_schema");
    let indices = sort_to_indices(ts.as_ref(), None, None)?;
    Ok(take_record_batch(batch, &indices)?)
}

/// UTC date of a microsecond timestamp.
pub fn utc_date(ts_micros: i64) -> NaiveDate {
    DateTime::from_timestamp_micros(ts_micros)
        .map(|t| t.date_naive())
        .unwrap_or(NaiveDate::MIN)
}

/// Splits a batch sorted by `ts` into contiguous per-date slices.
fn split_by_date(sorted: &RecordBatch) -> Vec<(NaiveDate, RecordBatch)> {
    let ts = ts_column(sorted);
    let mut out = Vec::new();
    let mut start = 0;
    while start < ts.len() {
        let date = utc_date(ts.value(start));
        let mut end = start + 1;
        while end < ts.len() && utc_date(ts.value(end)) == date {
            end += 1;
        }
        out.push((date, sorted.slice(start, end - start)));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::{Read, ReadBatchBuilder};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    const DAY: i64 = 86_400_000_000;

    fn read(i: i64, ts: i64) -> Read {
        Read {
            lat: Some(34.0),
            lon: Some(-117.0),
            char_confidence: vec![0.9; 7],
            ..Read::for_test(&format!("r{i}"), ts, &format!("7ABC{i:03}"))
        }
    }

    fn batch(rows: &[(i64, i64)]) -> RecordBatch {
        let mut b = ReadBatchBuilder::new();
        for &(i, ts) in rows {
            b.append(&read(i, ts));
        }
        b.finish()
    }

    #[test]
    fn splits_by_utc_date_sorted_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let base = 20_000 * DAY; // 2024-10-04
        let input = batch(&[
            (1, base + DAY + 5),
            (2, base + 7),
            (3, base + 3),
            (4, base + DAY),
        ]);
        let out = write_reads(&store, "b1", std::slice::from_ref(&input)).unwrap();
        assert_eq!(out.files_written, 2);
        assert_eq!(out.rows_written, 4);
        assert_eq!(store.partitions().unwrap().len(), 2);

        let first = store.partition_dir(utc_date(base)).join("part-b1.parquet");
        let file = File::open(&first).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        assert!(kv.iter().any(|k| k.key == SCHEMA_VERSION_KEY));
        assert!(builder.schema().field_with_name("date").is_err());
        let got: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
        let ts: Vec<i64> = got
            .iter()
            .flat_map(|b| ts_column(b).values().to_vec())
            .collect();
        assert_eq!(ts, vec![base + 3, base + 7]);

        let again = write_reads(&store, "b1", &[input]).unwrap();
        assert_eq!(
            again,
            WriteOutcome {
                files_written: 0,
                files_skipped: 2,
                rows_written: 0
            }
        );
    }

    #[test]
    fn files_carry_bloom_filter_page_index_and_sort_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let rows: Vec<(i64, i64)> = (0..3000).map(|i| (i, 1000 - i)).collect();
        write_reads(&store, "b2", &[batch(&rows)]).unwrap();
        let path = store.partition_dir(utc_date(0)).join("part-b2.parquet");
        let options = parquet::arrow::arrow_reader::ArrowReaderOptions::new()
            .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required);
        let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(
            File::open(&path).unwrap(),
            options,
        )
        .unwrap();
        let meta = builder.metadata();
        let schema = read_schema();
        let plate = schema.index_of("plate").unwrap();
        let rg = meta.row_group(0);
        assert!(
            rg.column(plate).bloom_filter_offset().is_some(),
            "no Bloom filter on plate"
        );
        assert!(rg.column(plate).statistics().is_some());
        assert!(
            meta.column_index().is_some() && meta.offset_index().is_some(),
            "no page index"
        );
        let ts = schema.index_of("ts").unwrap() as i32;
        assert_eq!(rg.sorting_columns().unwrap()[0].column_idx, ts);
    }

    #[test]
    fn rejects_unsafe_batch_ids() {
        for bad in ["", "../x", ".hidden", "a/b", "a b"] {
            assert!(validate_batch_id(bad).is_err(), "{bad:?}");
        }
        validate_batch_id("synth-s42-2026-10-01").unwrap();
    }

    #[test]
    fn stale_staging_of_the_batch_is_cleared_and_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let d = utc_date(0);
        std::fs::create_dir_all(store.partition_dir(d)).unwrap();
        let stale = store.partition_dir(d).join(".part-b9.parquet.999.tmp");
        std::fs::write(&stale, b"half a file").unwrap();
        write_reads(&store, "b9", &[batch(&[(1, 5)])]).unwrap();
        assert!(!stale.exists());
    }
}
