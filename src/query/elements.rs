//! What a query touches, read from its plan rather than its text, for the
//! audit log: the tables and columns it scans and the plate values it
//! looks for (literals compared with, matched against or passed alongside a
//! `*plate*` column). Reading the plan means saved and ad-hoc queries are
//! described the same way, whatever the SQL looks like.

use std::collections::BTreeSet;

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};
use serde::Serialize;

use crate::error::Result;

/// Tables, columns and plates a plan touches.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Elements {
    /// `table.column` for every column scanned.
    pub columns: BTreeSet<String>,
    pub tables: BTreeSet<String>,
    /// Plate values and patterns searched for.
    pub plates: BTreeSet<String>,
}

/// Describes `plan` (best given optimised, so scans carry projections).
pub fn of_plan(plan: &LogicalPlan) -> Result<Elements> {
    let mut out = Elements::default();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let table = scan.table_name.table().to_string();
            let schema = scan.source.schema();
            let indices: Vec<usize> = match &scan.projection {
                Some(p) => p.clone(),
                None => (0..schema.fields().len()).collect(),
            };
            for i in indices {
                out.columns
                    .insert(format!("{table}.{}", schema.field(i).name()));
            }
            out.tables.insert(table);
        }
        node.apply_expressions(|e| {
            collect_plates(e, &mut out.plates);
            Ok(TreeNodeRecursion::Continue)
        })
    })?;
    Ok(out)
}

/// Adds the string literals of every plate comparison inside `expr`.
fn collect_plates(expr: &Expr, plates: &mut BTreeSet<String>) {
    let _ = expr.apply(|e| {
        if is_connective(e) {
            return Ok(TreeNodeRecursion::Continue);
        }
        let children = direct_children(e);
        if children.len() > 1 && children.iter().any(mentions_plate) {
            for c in &children {
                string_literals(c, plates);
            }
            return Ok(TreeNodeRecursion::Jump);
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

fn is_connective(e: &Expr) -> bool {
    matches!(
        e,
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::And | Operator::Or,
            ..
        }) | Expr::Not(_)
    )
}

fn direct_children(e: &Expr) -> Vec<Expr> {
    let mut out = Vec::new();
    let _ = e.apply_children(|c| {
        out.push(c.clone());
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

fn mentions_plate(e: &Expr) -> bool {
    let mut found = false;
    let _ = e.apply(|x| {
        if let Expr::Column(c) = x
            && c.name.contains("plate")
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn string_literals(e: &Expr, out: &mut BTreeSet<String>) {
    let _ = e.apply(|x| {
        if let Expr::Literal(v, _) = x
            && let Some(s) = as_string(v)
        {
            out.insert(s);
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

fn as_string(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        ScalarValue::Dictionary(_, inner) => as_string(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::session;
    use crate::store::Store;

    async fn elements(sql: &str) -> Elements {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let ctx = session(&store).await.unwrap();
        let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
        of_plan(&plan).unwrap()
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn plates_compared_matched_and_listed_are_found() {
        let e = elements(
            "SELECT ts, camera_id FROM reads WHERE (plate = '7ABC123' OR plate IN ('X1', 'X2')) \
             AND camera_id = 'C7' AND plate_match(plate, '8BD*', 1) AND upper(plate) LIKE '%Q%'",
        )
        .await;
        assert_eq!(e.plates, set(&["%Q%", "7ABC123", "8BD*", "X1", "X2"]));
        assert_eq!(e.tables, set(&["reads"]));
        assert!(e.columns.contains("reads.plate") && e.columns.contains("reads.camera_id"));
        assert!(!e.columns.contains("reads.crop_jpeg"), "{:?}", e.columns);
    }

    #[tokio::test]
    async fn joins_and_subqueries_name_every_table() {
        let e = elements(
            "SELECT r.plate FROM reads r JOIN hotlist h ON r.plate = h.plate \
             WHERE r.camera_id IN (SELECT camera_id FROM cameras WHERE name = 'Main St')",
        )
        .await;
        assert_eq!(e.tables, set(&["cameras", "hotlist", "reads"]));
        assert!(e.plates.is_empty(), "{:?}", e.plates);
    }
}
