//! The `reads` table: the Hive-partitioned listing table of the store,
//! wrapped so that time filters also prune date partitions.
//!
//! DataFusion prunes partitions only on predicates over the partition column
//! (`date`); a filter on `ts` alone would open every file. [`ReadsTable`]
//! looks at the filters pushed into the scan, and for every bound on `ts`
//! against a constant adds the matching bound on `date`. Analysts write
//! `ts BETWEEN ...` and get partition pruning, in saved and ad-hoc queries
//! alike. This wrapper is also the seam where access rules will apply.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::TableType;
use datafusion::datasource::listing::ListingTable;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{col, lit};

use crate::store::schema::PARTITION_COLUMN;
use crate::store::writer::utc_date;

/// The `reads` table provider.
#[derive(Debug)]
pub struct ReadsTable {
    inner: Arc<ListingTable>,
}

impl ReadsTable {
    pub fn new(inner: ListingTable) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

#[async_trait]
impl TableProvider for ReadsTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let mut all = filters.to_vec();
        all.extend(date_filters_from_ts(filters));
        self.inner.scan(state, projection, &all, limit).await
    }
}

/// A bound on `ts` as microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TsBound {
    /// `ts >= v` or `ts > v`
    Lower(i64),
    /// `ts <= v`
    UpperInclusive(i64),
    /// `ts < v`
    UpperExclusive(i64),
}

/// Partition predicates (`date >= 'YYYY-MM-DD'`, `date <= ...`) implied by
/// constant bounds on `ts` among `filters`.
pub fn date_filters_from_ts(filters: &[Expr]) -> Vec<Expr> {
    let mut bounds = Vec::new();
    for filter in filters {
        for conjunct in split_conjunction(filter) {
            collect_bounds(conjunct, &mut bounds);
        }
    }
    let day = |micros: i64| lit(utc_date(micros).format("%Y-%m-%d").to_string());
    let date = || col(PARTITION_COLUMN);
    bounds
        .into_iter()
        .map(|b| match b {
            TsBound::Lower(v) => date().gt_eq(day(v)),
            TsBound::UpperInclusive(v) => date().lt_eq(day(v)),
            TsBound::UpperExclusive(v) => date().lt_eq(day(v.saturating_sub(1))),
        })
        .collect()
}

fn collect_bounds(expr: &Expr, out: &mut Vec<TsBound>) {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (value, op) = match (is_ts(left), is_ts(right)) {
                (true, false) => (ts_micros(right), *op),
                (false, true) => match op.swap() {
                    Some(op) => (ts_micros(left), op),
                    None => return,
                },
                _ => return,
            };
            let Some(v) = value else { return };
            match op {
                Operator::Gt | Operator::GtEq => out.push(TsBound::Lower(v)),
                Operator::Lt => out.push(TsBound::UpperExclusive(v)),
                Operator::LtEq => out.push(TsBound::UpperInclusive(v)),
                Operator::Eq => {
                    out.push(TsBound::Lower(v));
                    out.push(TsBound::UpperInclusive(v));
                }
                _ => {}
            }
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_ts(expr) => {
            if let (Some(lo), Some(hi)) = (ts_micros(low), ts_micros(high)) {
                out.push(TsBound::Lower(lo));
                out.push(TsBound::UpperInclusive(hi));
            }
        }
        _ => {}
    }
}

fn is_ts(expr: &Expr) -> bool {
    matches!(expr, Expr::Column(c) if c.name == "ts")
}

/// A constant timestamp as microseconds, whatever its unit.
fn ts_micros(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Expr {
        let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        lit(ScalarValue::TimestampMicrosecond(
            Some(t.timestamp_micros()),
            Some("UTC".into()),
        ))
    }

    #[test]
    fn derives_date_bounds_from_ts_bounds() {
        let f = col("ts")
            .gt_eq(ts("2026-10-02T23:00:00Z"))
            .and(col("ts").lt(ts("2026-10-04T00:00:00Z")))
            .and(col("plate").eq(lit("X")));
        let got = date_filters_from_ts(&[f]);
        assert_eq!(
            got,
            vec![
                col("date").gt_eq(lit("2026-10-02")),
                col("date").lt_eq(lit("2026-10-03")),
            ]
        );
    }

    #[test]
    fn handles_between_and_flipped_comparisons() {
        let between = col("ts").between(ts("2026-10-01T01:00:00Z"), ts("2026-10-01T03:00:00Z"));
        let flipped = ts("2026-10-05T00:00:00Z").gt(col("ts"));
        let got = date_filters_from_ts(&[between, flipped]);
        assert_eq!(
            got,
            vec![
                col("date").gt_eq(lit("2026-10-01")),
                col("date").lt_eq(lit("2026-10-01")),
                col("date").lt_eq(lit("2026-10-04")),
            ]
        );
    }

    #[test]
    fn ignores_non_constant_and_other_columns() {
        let f = col("ts")
            .gt(col("other"))
            .or(col("ts").lt(ts("2026-10-01T00:00:00Z")));
        assert!(date_filters_from_ts(&[f]).is_empty());
    }
}
