//! The SQL session: the single place where tables, UDFs and saved queries
//! meet DataFusion.
//!
//! ```text
//! Store --session()--> SessionContext
//!                        tables: reads (partitioned Parquet), cameras, hotlist
//!                        UDFs:   haversine_m, plate_norm, plate_match,
//!                                plate_distance, plate_confusion_key
//! queries/*.sql --saved::SavedQuery::bind--> DataFrame (parameters bound, not spliced)
//! ```

pub mod bench;
pub mod output;
pub mod reads_table;
pub mod saved;
pub mod udf;

use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::{ParquetFormat, transform_schema_to_view};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext, col};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::reference::{cameras_schema, hotlist_schema};
use crate::store::schema::{PARTITION_COLUMN, read_schema};
use reads_table::ReadsTable;

/// Builds the session over `store`: tables registered, UDFs installed.
pub async fn session(store: &Store) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_information_schema(true)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true);
    let ctx = SessionContext::new_with_config(config);
    for f in udf::all() {
        ctx.register_udf(f);
    }
    ctx.register_table("reads", Arc::new(reads_table(store)?))?;
    register_parquet_or_empty(
        &ctx,
        "cameras",
        &store.cameras_path().to_string_lossy(),
        cameras_schema(),
    )
    .await?;
    let hotlist_files = format!("{}/", store.hotlist_dir().display());
    register_parquet_or_empty(&ctx, "hotlist", &hotlist_files, hotlist_schema()).await?;
    Ok(ctx)
}

fn reads_table(store: &Store) -> Result<ReadsTable> {
    let dir = store.reads_dir();
    let url = ListingTableUrl::parse(format!("{}/", dir.display()))?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(PARTITION_COLUMN.to_string(), DataType::Utf8)])
        .with_file_sort_order(vec![vec![col("ts").sort(true, false)]]);
    let file_schema: SchemaRef = Arc::new(transform_schema_to_view(&read_schema()));
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema);
    Ok(ReadsTable::new(ListingTable::try_new(config)?))
}

/// Registers a small table from Parquet file(s) at `path`, or an empty table
/// of `schema` when nothing has been written yet.
async fn register_parquet_or_empty(
    ctx: &SessionContext,
    name: &str,
    path: &str,
    schema: SchemaRef,
) -> Result<()> {
    let has_files = std::fs::metadata(path)
        .map(|m| {
            m.is_file()
                || std::fs::read_dir(path)
                    .map(|d| {
                        d.flatten()
                            .any(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
                    })
                    .unwrap_or(false)
        })
        .unwrap_or(false);
    if has_files {
        let url = ListingTableUrl::parse(path)?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(Arc::new(transform_schema_to_view(&schema)));
        ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    } else {
        let empty = MemTable::try_new(schema, vec![vec![]])?;
        ctx.register_table(name, Arc::new(empty))?;
    }
    Ok(())
}

/// Runs `sql` (no parameters) and collects the batches.
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<arrow::array::RecordBatch>> {
    let df = ctx.sql(sql).await?;
    df.collect().await.map_err(Error::from)
}
