//! `alpr retention ...` and `alpr hold ...`: the administrator's tools for
//! keeping data no longer than the policy allows and no shorter than a case
//! needs.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::Subcommand;

use super::login::Login;
use crate::audit::access::Action;
use crate::audit::holds::{self, Area, Scope};
use crate::audit::log::Outcome;
use crate::audit::policy;
use crate::query::saved::parse_timestamp;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Plan, print and apply retention: drop expired date partitions after
    /// exporting every held read in them to evidence.
    Run {
        #[command(flatten)]
        login: Login,
        /// Print the plan without exporting or dropping anything.
        #[arg(long)]
        dry_run: bool,
        /// Where evidence packages of held reads go (default STORE/evidence).
        #[arg(long)]
        evidence: Option<PathBuf>,
    },
    /// Change the retention period (audited; below 365 days only with
    /// --confirm-shorter).
    Period {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        days: u32,
        /// Why (e.g. the policy document and its date).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        confirm_shorter: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Put reads under a legal hold. Give at least one of --plate, --area,
    /// --window; a read is held when it meets all that are given.
    Add {
        #[command(flatten)]
        login: Login,
        /// The case the hold serves.
        #[arg(long = "case")]
        case_number: String,
        /// Why (court order, preservation request...).
        #[arg(long)]
        reason: String,
        /// Plate pattern (`*`, `?`; OCR confusions forgiven).
        #[arg(long)]
        plate: Option<String>,
        /// LAT,LON,RADIUS_M.
        #[arg(long)]
        area: Option<String>,
        /// FROM,TO (timestamps, see `alpr queries`).
        #[arg(long)]
        window: Option<String>,
    },
    /// List holds.
    List {
        #[command(flatten)]
        login: Login,
    },
    /// Lift a hold (kept on record; its reads become subject to retention).
    Lift {
        #[command(flatten)]
        login: Login,
        id: i64,
    },
}

pub async fn run(cmd: &RetentionCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RetentionCommand::Run {
            login,
            dry_run,
            evidence,
        } => {
            let (store, access) = login.access(Action::ManageRetention)?;
            let evidence = evidence
                .clone()
                .unwrap_or_else(|| store.root().join("evidence"));
            let report = policy::run(&access, &store, &evidence, Utc::now(), *dry_run).await?;
            let plan = &report.plan;
            println!(
                "Retention: period {} days, cutoff {} (partitions before it expire).",
                plan.period_days, plan.cutoff
            );
            match (plan.expired.first(), plan.expired.last()) {
                (Some(a), Some(b)) => println!(
                    "{} expired partition(s), {a} to {b}; {} kept.",
                    plan.expired.len(),
                    plan.kept
                ),
                _ => println!("Nothing has expired; {} partition(s) kept.", plan.kept),
            }
            for h in &report.held {
                let to = h
                    .package
                    .as_ref()
                    .map(|p| format!(" -> {}", p.display()))
                    .unwrap_or_default();
                println!(
                    "hold {} (case {}): {} held read(s){to}",
                    h.hold_id, h.case_number, h.reads
                );
            }
            if *dry_run {
                println!("Dry run: nothing exported or dropped.");
            } else {
                println!("Dropped {} partition(s).", report.dropped.len());
            }
        }
        RetentionCommand::Period {
            login,
            days,
            reason,
            confirm_shorter,
        } => {
            let (_, access) = login.access(Action::ManageRetention)?;
            policy::set_period(&access, *days, reason, *confirm_shorter)?;
            println!("Retention period is now {days} days.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_area(s: &str) -> crate::Result<Area> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| crate::Error::bad_input(format!("--area '{s}': expected LAT,LON,RADIUS_M")))?;
    match v[..] {
        [lat, lon, radius_m] => Ok(Area { lat, lon, radius_m }),
        _ => Err(crate::Error::bad_input(format!(
            "--area '{s}': expected LAT,LON,RADIUS_M"
        ))),
    }
}

/// `FROM,TO` as microseconds.
pub fn parse_window(s: &str) -> crate::Result<(i64, i64)> {
    let bad = |why: String| crate::Error::bad_input(format!("--window '{s}': {why}"));
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| bad("expected FROM,TO".into()))?;
    Ok((
        parse_timestamp(a).map_err(bad)?,
        parse_timestamp(b).map_err(bad)?,
    ))
}

pub fn hold(cmd: &HoldCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        HoldCommand::Add {
            login,
            case_number,
            reason,
            plate,
            area,
            window,
        } => {
            let (_, access) = login.access(Action::ManageHolds)?;
            crate::audit::search::validate_case_number(case_number)
                .map_err(crate::Error::bad_input)?;
            let scope = Scope {
                plate_pattern: plate.clone(),
                area: area.as_deref().map(parse_area).transpose()?,
                window: window.as_deref().map(parse_window).transpose()?,
            };
            scope.validate()?;
            let detail = serde_json::json!({
                "hold": "add", "case": case_number, "scope": scope.describe(), "reason": reason,
            });
            let id = access.change(Action::ManageHolds, detail, |tx| {
                holds::add_in(
                    tx,
                    case_number,
                    &scope,
                    reason,
                    &access.principal.name,
                    Utc::now(),
                )
            })?;
            println!("Hold {id} for case {case_number}: {}.", scope.describe());
        }
        HoldCommand::List { login } => {
            let (_, access) = login.access(Action::ManageHolds)?;
            let all = access.catalog.read(holds::list)?;
            access.record(
                Action::ManageHolds,
                Outcome::Ok,
                serde_json::json!({ "hold": "list", "holds": all.len() }),
            )?;
            for h in all {
                println!(
                    "{:>4}  {:<8} case {:<14} {}  ({}, by {} on {})",
                    h.id,
                    if h.lifted { "lifted" } else { "active" },
                    h.case_number,
                    h.scope.describe(),
                    h.reason,
                    h.created_by,
                    h.created_at
                );
            }
        }
        HoldCommand::Lift { login, id } => {
            let (_, access) = login.access(Action::ManageHolds)?;
            let detail = serde_json::json!({ "hold": "lift", "id": id });
            access.change(Action::ManageHolds, detail, |tx| {
                holds::lift_in(tx, *id, &access.principal.name, Utc::now())
            })?;
            println!("Hold {id} lifted.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
