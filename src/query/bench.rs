//! Query benchmark: the four investigation shapes named by the spine issue
//! (canvass, exact plate, partial plate, counts per camera per day), timed
//! on a store as medians of several runs after one warm-up. Used by
//! `alpr bench query` and `benches/query.rs`; never by tests.

use std::time::Instant;

use datafusion::prelude::SessionContext;

use super::output::rows_as_text;
use super::{run_sql, session};
use crate::error::{Error, Result};
use crate::store::Store;

/// One query's figures.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub name: &'static str,
    pub sql: String,
    pub median_ms: f64,
    pub min_ms: f64,
    pub rows: usize,
}

/// The benchmark queries for `store`, with parameters taken from its data
/// (a mid-period day, the first camera, a plate read that day) so they
/// return rows on any store.
pub async fn queries(ctx: &SessionContext, store: &Store) -> Result<Vec<(&'static str, String)>> {
    let partitions = store.partitions()?;
    let Some(mid) = partitions.get(partitions.len() / 2) else {
        return Err(Error::bad_input(format!(
            "store {} has no reads to benchmark",
            store.root().display()
        )));
    };
    let day = mid.format("%Y-%m-%d");
    let cam = first_row(
        ctx,
        "SELECT lat, lon FROM cameras ORDER BY camera_id LIMIT 1",
    )
    .await?;
    let plate = first_row(
        ctx,
        &format!("SELECT plate FROM reads WHERE date = '{day}' ORDER BY read_id LIMIT 1"),
    )
    .await?;
    let (lat, lon, plate) = (&cam[0], &cam[1], &plate[0]);
    Ok(vec![
        (
            "canvass 500 m / 2 h",
            format!(
                "SELECT ts, camera_id, plate FROM reads \
                 WHERE ts BETWEEN '{day}T16:00:00Z' AND '{day}T18:00:00Z' \
                 AND lat BETWEEN {lat} - 500 / 111320.0 AND {lat} + 500 / 111320.0 \
                 AND lon BETWEEN {lon} - 500 / (111320.0 * cos(radians({lat}))) \
                 AND {lon} + 500 / (111320.0 * cos(radians({lat}))) \
                 AND haversine_m(lat, lon, {lat}, {lon}) <= 500"
            ),
        ),
        (
            "exact plate (all days)",
            format!("SELECT ts, camera_id, lat, lon FROM reads WHERE plate = '{plate}'"),
        ),
        (
            "partial plate LIKE '%7C6%'",
            "SELECT plate, count(*) FROM reads WHERE plate LIKE '%7C6%' GROUP BY plate".into(),
        ),
        (
            "partial plate_match('*7C6*', 0)",
            "SELECT plate, count(*) FROM reads WHERE plate_match(plate, '*7C6*', 0) GROUP BY plate"
                .into(),
        ),
        (
            "count per camera per day",
            "SELECT camera_id, date, count(*) AS n FROM reads GROUP BY camera_id, date".into(),
        ),
    ])
}

/// Runs every benchmark query `runs` times on a fresh session over `store`.
pub async fn run(store: &Store, runs: usize) -> Result<Vec<BenchRow>> {
    let ctx = session(store).await?;
    let mut out = Vec::new();
    for (name, sql) in queries(&ctx, store).await? {
        let count = |b: &[arrow::array::RecordBatch]| b.iter().map(|b| b.num_rows()).sum::<usize>();
        let mut rows = count(&run_sql(&ctx, &sql).await?);
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            rows = count(&run_sql(&ctx, &sql).await?);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        out.push(BenchRow {
            name,
            sql,
            median_ms: times[times.len() / 2],
            min_ms: times[0],
            rows,
        });
    }
    Ok(out)
}

/// The first row of a query, each value as display text.
async fn first_row(ctx: &SessionContext, sql: &str) -> Result<Vec<String>> {
    rows_as_text(&run_sql(ctx, sql).await?)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::bad_input(format!("no rows for: {sql}")))
}
