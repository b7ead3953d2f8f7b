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
        retention::drop_partitions(store, &report.plan.expired)?;
        report.dropped = report.plan.expired.clone();
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{Days, NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::audit::holds::{Area, Scope};
    use crate::audit::users::Credentials;
    use crate::audit::users::tests::{PW, setup};
    use crate::store::schema::{Read, ReadBatchBuilder};
    use crate::store::writer::write_reads;

    const PLATES: [&str; 5] = ["7ABC123", "8XYZ999", "5KLM246", "8BD0521", "BBD0521"];
    const BASE: (f64, f64) = (34.0, -117.3);

    fn day0() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
    }

    fn micros(day: u64, hour: u32) -> i64 {
        let d = day0().checked_add_days(Days::new(day)).unwrap();
        Utc.from_utc_datetime(&d.and_hms_opt(hour, 0, 0).unwrap())
            .timestamp_micros()
    }

    /// (day, hour, plate index, metres north of BASE)
    type GenRead = (u64, u32, usize, f64);
    /// (plate index or none, area radius or none, window days or none, lifted)
    type GenHold = (Option<usize>, Option<f64>, Option<(u64, u64)>, bool);

    fn read(i: usize, (day, hour, plate, north): GenRead) -> Read {
        Read {
            lat: Some(BASE.0 + north / 111_195.0),
            lon: Some(BASE.1),
            crop_jpeg: Some(vec![0xFF, 0xD8, i as u8]),
            ..Read::for_test(&format!("r{i:04}"), micros(day, hour), PLATES[plate])
        }
    }

    fn scope((plate, radius, window, _): GenHold) -> Scope {
        Scope {
            plate_pattern: plate.map(|p| PLATES[p].to_string()),
            area: radius.map(|radius_m| Area {
                lat: BASE.0,
                lon: BASE.1,
                radius_m,
            }),
            window: window.map(|(from, len)| (micros(from, 0), micros(from + len, 0))),
        }
    }

    fn admin(store: &Store) -> Access {
        let creds = Credentials {
            user: "administrator".into(),
            password: PW.into(),
        };
        Access::login(store, &creds, Action::ManageRetention).unwrap()
    }

    fn check(reads: Vec<GenRead>, holds: Vec<GenHold>, period: u32, today: u64) {
        let (dir, store, _) = setup();
        let rows: Vec<Read> = reads.iter().enumerate().map(|(i, r)| read(i, *r)).collect();
        let mut b = ReadBatchBuilder::new();
        rows.iter().for_each(|r| b.append(r));
        write_reads(&store, "b1", &[b.finish()]).unwrap();
        let access = admin(&store);
        set_period(&access, period, "property test", true).unwrap();
        let now = Utc.from_utc_datetime(
            &day0()
                .checked_add_days(Days::new(today))
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap(),
        );
        let mut scopes = Vec::new();
        access
            .catalog
            .transaction(|tx| {
                for h in &holds {
                    let s = scope(*h);
                    if s.validate().is_err() {
                        continue;
                    }
                    let id = holds::add_in(tx, "C-1", &s, "test", "administrator", now)?;
                    if h.3 {
                        holds::lift_in(tx, id, "administrator", now)?;
                    } else {
                        scopes.push(s);
                    }
                }
                Ok(())
            })
            .unwrap();
        let evidence_dir = dir.path().join("evidence");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let report = rt
            .block_on(run(&access, &store, &evidence_dir, now, false))
            .unwrap();

        let cutoff = report.plan.cutoff;
        let mut must_keep = BTreeSet::new();
        for r in &rows {
            let date = crate::store::writer::utc_date(r.ts_micros);
            let expired = date < cutoff;
            assert_eq!(
                store.partition_dir(date).exists(),
                !expired,
                "partition {date} (cutoff {cutoff})"
            );
            let held = scopes
                .iter()
                .any(|s| s.covers(&r.plate, r.lat, r.lon, r.ts_micros));
            if expired && held {
                must_keep.insert(r.read_id.clone());
            }
        }
        let mut exported = BTreeSet::new();
        for h in &report.held {
            if let Some(p) = &h.package {
                assert!(evidence::verify(p).unwrap().is_empty());
                let m: evidence::Manifest =
                    serde_json::from_slice(&std::fs::read(p.join("manifest.json")).unwrap())
                        .unwrap();
                exported.extend(m.read_ids);
            }
        }
        assert_eq!(
            exported, must_keep,
            "held expired reads and evidence differ"
        );
        assert!(
            crate::audit::log::verify(&access.catalog)
                .unwrap()
                .is_intact()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// Retention never loses a held read and always removes expired
        /// unheld data (and keeps everything not yet expired).
        #[test]
        fn retention_keeps_every_held_read_and_drops_every_expired_partition(
            reads in prop::collection::vec(
                (0u64..20, 0u32..24, 0usize..PLATES.len(), 0.0f64..2_000.0), 1..40),
            holds in prop::collection::vec(
                (prop::option::of(0usize..PLATES.len()),
                 prop::option::of(100.0f64..1_500.0),
                 prop::option::of((0u64..20, 1u64..6)),
                 prop::bool::weighted(0.2)), 0..4),
            period in 1u32..15,
            today in 5u64..30,
        ) {
            check(reads, holds, period, today);
        }
    }

    #[test]
    fn a_dry_run_changes_nothing_and_a_short_period_needs_confirmation() {
        let (dir, store, _) = setup();
        let mut b = ReadBatchBuilder::new();
        b.append(&read(0, (0, 10, 0, 0.0)));
        write_reads(&store, "b1", &[b.finish()]).unwrap();
        let access = admin(&store);
        let e = set_period(&access, 30, "because", false).unwrap_err();
        assert!(e.to_string().contains("--confirm-shorter"), "{e}");
        assert_eq!(period(&access).unwrap(), MIN_PERIOD_DAYS);
        access
            .catalog
            .transaction(|tx| {
                let s = Scope {
                    plate_pattern: Some("7AB*".into()),
                    ..Scope::default()
                };
                holds::add_in(tx, "C-9", &s, "order", "administrator", Utc::now())
            })
            .unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let report = rt
            .block_on(run(
                &access,
                &store,
                &dir.path().join("ev"),
                Utc::now(),
                true,
            ))
            .unwrap();
        assert_eq!(
            report.plan.expired.len(),
            1,
            "2025-01-01 is over a year old"
        );
        assert_eq!(report.held[0].reads, 1);
        assert!(report.dropped.is_empty() && report.held[0].package.is_none());
        assert_eq!(store.partitions().unwrap().len(), 1);
        assert!(!dir.path().join("ev").exists());
    }

    #[test]
    fn a_rerun_after_a_crash_between_export_and_drop_reuses_the_package() {
        let (dir, store, _) = setup();
        let mut b = ReadBatchBuilder::new();
        b.append(&read(0, (0, 10, 0, 0.0)));
        b.append(&read(1, (0, 11, 1, 0.0)));
        write_reads(&store, "b1", &[b.finish()]).unwrap();
        let access = admin(&store);
        access
            .catalog
            .transaction(|tx| {
                let s = Scope {
                    plate_pattern: Some("7ABC123".into()),
                    ..Scope::default()
                };
                holds::add_in(tx, "C-9", &s, "order", "administrator", Utc::now())
            })
            .unwrap();
        let ev = dir.path().join("ev");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let first = rt
            .block_on(run(&access, &store, &ev, Utc::now(), false))
            .unwrap();
        let package = first.held[0].package.clone().unwrap();
        // Simulate the crash: the partition comes back as if never dropped.
        let mut b = ReadBatchBuilder::new();
        b.append(&read(0, (0, 10, 0, 0.0)));
        b.append(&read(1, (0, 11, 1, 0.0)));
        write_reads(&store, "b1", &[b.finish()]).unwrap();
        let again = rt
            .block_on(run(&access, &store, &ev, Utc::now(), false))
            .unwrap();
        assert_eq!(again.held[0].package.as_ref(), Some(&package));
        assert_eq!(again.held[0].reads, 1);
        assert!(store.partitions().unwrap().is_empty());
        // A damaged package is never silently reused.
        std::fs::write(package.join("manifest.json"), b"{}").unwrap();
        let mut b = ReadBatchBuilder::new();
        b.append(&read(0, (0, 10, 0, 0.0)));
        write_reads(&store, "b2", &[b.finish()]).unwrap();
        assert!(
            rt.block_on(run(&access, &store, &ev, Utc::now(), false))
                .is_err()
        );
        assert_eq!(store.partitions().unwrap().len(), 1, "nothing dropped");
    }
}
