//! The retention policy and its run: how long reads are kept (365 days
//! unless a recorded policy change says otherwise), and the run that drops
//! expired partitions after exporting every held read in them.
//!
//! ```text
//! plan (store::retention) -> for each active hold: held reads in expired partitions
//!     -> evidence package per hold (manifest, custody) -> drop partitions -> audit entry
//! ```
//!
//! A dry run does everything but the export and the drop, and says what
//! would happen. If any export fails, nothing is dropped.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::logical_expr::{col, lit};

use super::Access;
use super::access::Action;
use super::catalog::{policy_get, policy_set};
use super::evidence::{self, Custody};
use super::holds::{self, Hold};
use super::log::Outcome;
use crate::error::{Error, Result};
use crate::query::session;
use crate::store::Store;
use crate::store::retention::{self, MIN_PERIOD_DAYS, Plan};

const PERIOD_KEY: &str = "retention_days";

/// The retention period in days.
pub fn period(access: &Access) -> Result<u32> {
    let raw = access
        .catalog
        .read(|c| policy_get(c, PERIOD_KEY).map_err(|e| access.catalog.err(e)))?;
    match raw {
        None => Ok(MIN_PERIOD_DAYS),
        Some(v) => v.parse().map_err(|_| Error::BadData {
            path: access.catalog.path().to_path_buf(),
            message: format!("retention period '{v}' is not a number of days"),
        }),
    }
}

/// Changes the retention period; below the one-year minimum only with
/// `confirm_shorter`. The change and its reason are audited together.
pub fn set_period(access: &Access, days: u32, reason: &str, confirm_shorter: bool) -> Result<()> {
    if days == 0 {
        return Err(Error::bad_input(
            "the retention period must be at least one day",
        ));
    }
    if reason.trim().is_empty() {
        return Err(Error::bad_input("a policy change needs --reason"));
    }
    if days < MIN_PERIOD_DAYS && !confirm_shorter {
        return Err(Error::bad_input(format!(
            "{days} days is below the {MIN_PERIOD_DAYS}-day minimum; if the agency's policy \
             really says so, repeat with --confirm-shorter (the change is audited)"
        )));
    }
    let old = period(access)?;
    let detail = serde_json::json!({
        "policy": PERIOD_KEY, "from": old, "to": days, "reason": reason,
        "below_minimum": days < MIN_PERIOD_DAYS,
    });
    access.change(Action::ManageRetention, detail, |tx| {
        policy_set(tx, PERIOD_KEY, &days.to_string()).map_err(|e| access.catalog.err(e))
    })
}

/// Held reads of one hold in the expired partitions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldExport {
    pub hold_id: i64,
    pub case_number: String,
    pub reads: usize,
    /// The package (absent in a dry run or when nothing was held).
    pub package: Option<PathBuf>,
    pub manifest_sha256: Option<String>,
}

/// What a retention run did (or would do).
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub plan: Plan,
    pub dry_run: bool,
    pub held: Vec<HeldExport>,
    pub dropped: Vec<NaiveDate>,
}

/// Plans and (unless `dry_run`) applies retention on `store` for `today`.
pub async fn run(
    access: &Access,
    store: &Store,
    evidence_dir: &Path,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<RunReport> {
    retention::empty_trash(store)?;
    let period = period(access)?;
    let plan = retention::plan(store, now.date_naive(), period)?;
    let active: Vec<Hold> = access
        .catalog
        .read(holds::list)?
        .into_iter()
        .filter(|h| !h.lifted)
        .collect();
    let mut report = RunReport {
        plan,
        dry_run,
        held: Vec::new(),
        dropped: Vec::new(),
    };
    if !report.plan.expired.is_empty() && !active.is_empty() {
        let ctx = session(store).await?;
        let dates: Vec<_> = report
            .plan
            .expired
            .iter()
            .map(|d| lit(d.format("%Y-%m-%d").to_string()))
            .collect();
        let in_expired = col("date").in_list(dates, false);
        for hold in &active {
            let df = ctx
                .table("reads")
                .await?
                .filter(in_expired.clone().and(hold.scope.expr()))?;
            let held = if dry_run {
                HeldExport {
                    hold_id: hold.id,
                    case_number: hold.case_number.clone(),
                    reads: df.count().await?,
                    package: None,
                    manifest_sha256: None,
                }
            } else {
                export_held(access, store, evidence_dir, &report.plan, hold, df, now).await?
            };
            report.held.push(held);
        }
    }
    if !dry_run {
        for date in &report.plan.expired {
            retention::drop_partition(store, *date)?;
            report.dropped.push(*date);
        }
    }
    let detail = serde_json::json!({
        "dry_run": dry_run,
        "period_days": report.plan.period_days,
        "cutoff": report.plan.cutoff.to_string(),
        "expired": report.plan.expired.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "dropped": report.dropped.len(),
        "held": report.held,
    });
    access.record_entry(
        access
            .principal
            .entry(Action::ManageRetention, Outcome::Ok, detail),
        now,
    )?;
    Ok(report)
}

async fn export_held(
    access: &Access,
    store: &Store,
    evidence_dir: &Path,
    plan: &Plan,
    hold: &Hold,
    df: datafusion::dataframe::DataFrame,
    now: DateTime<Utc>,
) -> Result<HeldExport> {
    let (first, last) = (plan.expired[0], plan.expired[plan.expired.len() - 1]);
    let package = evidence_dir.join(format!("hold-{}-{first}_{last}", hold.id));
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    let reads: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut held = HeldExport {
        hold_id: hold.id,
        case_number: hold.case_number.clone(),
        reads,
        package: None,
        manifest_sha256: None,
    };
    if reads == 0 {
        return Ok(held);
    }
    // A run that crashed after exporting left a whole package (the export is
    // atomic): check it rather than export twice.
    if package.exists() {
        let problems = evidence::verify(&package)?;
        if !problems.is_empty() {
            return Err(Error::BadData {
                path: package,
                message: format!("existing evidence package fails its manifest: {problems:?}"),
            });
        }
    } else {
        let custody = Custody {
            case_number: hold.case_number.clone(),
            reason: format!(
                "legal hold {} ({}) before retention drops partitions {first} to {last}",
                hold.id,
                hold.scope.describe()
            ),
            exported_by: access.principal.name.clone(),
            organisation: access.principal.organisation.clone(),
            exported_at: now.to_rfc3339(),
            source_store: store.root().display().to_string(),
            context: serde_json::json!({ "hold_id": hold.id, "hold_reason": hold.reason }),
        };
        let (_, sha) = evidence::export(&package, schema, &batches, &custody)?;
        held.manifest_sha256 = Some(sha);
    }
    held.package = Some(package);
    Ok(held)
}
