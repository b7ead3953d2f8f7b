//! Query results out: a table for people, CSV, JSON lines or Parquet for
//! other tools. Files are written atomically like everything else.

use std::io::Write;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow::util::pretty::pretty_format_batches;
use parquet::arrow::ArrowWriter;

use crate::error::{Error, Result};
use crate::store::durable;

/// Output format of `alpr query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned text table.
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Parquet (needs --output).
    Parquet,
}

/// Writes `batches` in `format` to `out`, or to stdout when `out` is `None`.
///
/// `schema` is the result's schema, so that an empty result still gets its
/// CSV header, table header or Parquet schema.
pub fn write(
    schema: SchemaRef,
    batches: &[RecordBatch],
    format: Format,
    out: Option<&Path>,
) -> Result<()> {
    let empty;
    let batches = if batches.is_empty() {
        empty = [RecordBatch::new_empty(schema)];
        &empty[..]
    } else {
        batches
    };
    match out {
        Some(path) if format == Format::Parquet => {
            durable::replace_with(path, |file| write_parquet(batches, file))
        }
        Some(path) => durable::replace_with(path, |file| encode(batches, format, file, path)),
        None if format == Format::Parquet => Err(Error::bad_input(
            "--format parquet needs --output FILE (Parquet is not written to a terminal)",
        )),
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            encode(batches, format, &mut lock, Path::new("<stdout>"))?;
            lock.flush().map_err(|e| Error::io("<stdout>", e))
        }
    }
}

fn encode<W: Write>(
    batches: &[RecordBatch],
    format: Format,
    sink: &mut W,
    path: &Path,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io(path, e);
    match format {
        Format::Table => {
            let text = pretty_format_batches(batches)?;
            writeln!(sink, "{text}").map_err(io)?;
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            writeln!(sink, "{rows} row{}", if rows == 1 { "" } else { "s" }).map_err(io)?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(sink);
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Jsonl => {
            let mut w = arrow::json::LineDelimitedWriter::new(sink);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
        Format::Parquet => unreachable!("Parquet is written by write_parquet"),
    }
    Ok(())
}

fn write_parquet(batches: &[RecordBatch], file: &mut std::fs::File) -> Result<()> {
    let schema = batches
        .first()
        .expect("write() passes at least one batch")
        .schema();
    let mut w = ArrowWriter::try_new(file, schema, None)?;
    for b in batches {
        w.write(b)?;
    }
    w.close()?;
    Ok(())
}

/// Every row of `batches` as display strings (NULL for nulls), for tests,
/// benchmarks and other places that compare values as text.
pub fn rows_as_text(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    Ok(rows)
}
