//! Runs every `tests/slt/*.slt` file against the small generated store.
//!
//! Besides SQL, a record may call a saved query exactly as `alpr query`
//! does: `SAVED name key=value key=value ...` (values may not contain
//! spaces). Regenerate expected rows with `ALPR_SLT_COMPLETE=1 cargo test
//! slt` and review the diff.

use std::path::PathBuf;

use alpr::query::output::rows_as_text;
use alpr::query::{saved, session};
use arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

use crate::common::small_store;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SltError(String);

struct AlprDb {
    ctx: SessionContext,
}

impl AlprDb {
    async fn execute(&mut self, sql: &str) -> alpr::Result<Vec<arrow::array::RecordBatch>> {
        let df = match sql.trim().strip_prefix("SAVED ") {
            Some(call) => {
                let mut words = call.split_whitespace();
                let name = words.next().unwrap_or_default();
                let params: Vec<(String, String)> = words
                    .map(|w| {
                        let (k, v) = w.split_once('=').unwrap_or((w, ""));
                        (k.to_string(), v.to_string())
                    })
                    .collect();
                saved::find(name)?.bind(&params)?.plan(&self.ctx).await?
            }
            None => self.ctx.sql(sql).await?,
        };
        Ok(df.collect().await?)
    }
}

#[async_trait::async_trait]
impl AsyncDB for AlprDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let batches = self
            .execute(sql)
            .await
            .map_err(|e| SltError(format!("{e}")))?;
        let mut rows = rows_as_text(&batches).map_err(|e| SltError(e.to_string()))?;
        // sqllogictest convention: an empty string is written `(empty)`.
        for v in rows.iter_mut().flatten().filter(|v| v.is_empty()) {
            *v = "(empty)".into();
        }
        let types = batches
            .first()
            .map(|b| {
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| column_type(f.data_type()))
                    .collect()
            })
            .unwrap_or_default();
        let is_statement = {
            let s = sql.trim_start().to_ascii_uppercase();
            s.starts_with("CREATE") || s.starts_with("SET") || s.starts_with("DROP")
        };
        if is_statement {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}
}

/// sqllogictest's column letters: I integer, R float, T text, ? other.
fn column_type(t: &DataType) -> DefaultColumnType {
    match t {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() => DefaultColumnType::FloatingPoint,
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slt"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files_pass() {
    let fixture = tokio::task::block_in_place(small_store);
    let ctx = session(&fixture.store).await.unwrap();
    let complete = std::env::var_os("ALPR_SLT_COMPLETE").is_some();
    let files = slt_files();
    assert!(files.len() >= 5, "expected the slt suite, found {files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let ctx = ctx.clone();
        let mut runner = sqllogictest::Runner::new(move || {
            let ctx = ctx.clone();
            async move { Ok::<_, SltError>(AlprDb { ctx }) }
        });
        if complete {
            runner
                .update_test_file(
                    file,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .unwrap();
        } else if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} slt failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
