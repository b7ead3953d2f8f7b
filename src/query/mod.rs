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
pub mod elements;
pub mod output;
pub mod reads_table;
pub mod saved;
pub mod udf;

use std::sync::Arc;

use std::path::Path;

use arrow::datatypes::{DataType, Schema};
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
    let reads_options = parquet_options()
        .with_table_partition_cols(vec![(PARTITION_COLUMN.to_string(), DataType::Utf8)])
        .with_file_sort_order(vec![vec![col("ts").sort(true, false)]]);
    let reads = Arc::new(ReadsTable::new(listing_table(
        &store.reads_dir(),
        &read_schema(),
        reads_options,
    )?));
    match crate::store::batches::visible(&crate::store::batches::hidden(store)?) {
        None => {
            ctx.register_table("reads", reads)?;
        }
        Some(visible) => {
            // Reads being replaced (reprocess, retry): a view that leaves
            // them out (filters and projections still reach the provider).
            let view = ctx.read_table(reads)?.filter(visible)?.into_view();
            ctx.register_table("reads", view)?;
        }
    }
    let cameras = listing_table(&store.cameras_dir(), &cameras_schema(), parquet_options())?;
    ctx.register_table("cameras", Arc::new(cameras))?;
    let hotlist = listing_table(&store.hotlist_dir(), &hotlist_schema(), parquet_options())?;
    ctx.register_table("hotlist", Arc::new(hotlist))?;
    Ok(ctx)
}

fn parquet_options() -> ListingOptions {
    ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet")
}

/// A table over every `*.parquet` file below `dir` (none yet is fine), read
/// with string columns as views, as DataFusion reads Parquet by default.
fn listing_table(dir: &Path, schema: &Schema, options: ListingOptions) -> Result<ListingTable> {
    let url = ListingTableUrl::parse(format!("{}/", dir.display()))?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(Arc::new(transform_schema_to_view(schema)));
    Ok(ListingTable::try_new(config)?)
}

/// Runs `sql` (no parameters) and collects the batches.
pub async fn run_sql(ctx: &SessionContext, sql: &str) -> Result<Vec<arrow::array::RecordBatch>> {
    let df = ctx.sql(sql).await?;
    df.collect().await.map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::output::rows_as_text;

    #[tokio::test]
    async fn a_new_store_has_empty_tables_of_the_right_shape() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let ctx = session(&store).await.unwrap();
        let sql = "SELECT (SELECT count(*) FROM reads) AS r, (SELECT count(*) FROM cameras) AS c, \
                   (SELECT count(*) FROM hotlist) AS h, \
                   (SELECT count(*) FROM reads WHERE plate_match(plate, '7*')) AS m";
        let rows = rows_as_text(&run_sql(&ctx, sql).await.unwrap()).unwrap();
        assert_eq!(rows, vec![vec!["0", "0", "0", "0"]]);
    }
}
