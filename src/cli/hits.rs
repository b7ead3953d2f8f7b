//! `alpr hotlist import` and `alpr hits list|dispose`: hot lists in, alerts
//! out, and the person who verifies each one.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::login::Login;
use crate::audit::access::Action;
use crate::audit::alerts::{self, Disposition};
use crate::audit::log::Outcome;

#[derive(Debug, Subcommand)]
pub enum HotlistCommand {
    /// Import (or replace) a hot list from a CSV with the header
    /// plate,reason,source,vehicle,expires; past reads of its plates
    /// become alerts.
    Import {
        #[command(flatten)]
        login: Login,
        file: PathBuf,
        /// The list's name (e.g. stolen, amber).
        #[arg(long)]
        list: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum HitsCommand {
    /// List alerts, newest first.
    List {
        #[command(flatten)]
        login: Login,
        /// Only alerts with this status (unverified, confirmed, misread,
        /// wrong-state, dismissed).
        #[arg(long)]
        status: Option<String>,
    },
    /// Record what checking an alert found.
    Dispose {
        #[command(flatten)]
        login: Login,
        id: i64,
        #[arg(long = "as", value_enum)]
        disposition: Disposition,
        /// What was checked (plate, state, vehicle description).
        #[arg(long)]
        note: String,
    },
}

pub async fn hotlist(cmd: &HotlistCommand) -> anyhow::Result<ExitCode> {
    let HotlistCommand::Import { login, file, list } = cmd;
    let (store, access) = login.access(Action::ImportHotlist)?;
    let r = alerts::import_hotlist(&access, &store, file, list).await?;
    println!(
        "Hot list '{list}': {} entries; {} new alert(s) from past reads (unverified: a person \
         verifies each before any action).",
        r.entries, r.retro_hits
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(cmd: &HitsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        HitsCommand::List { login, status } => {
            let (_, access) = login.access(Action::ListHits)?;
            let all = access
                .catalog
                .read(|c| alerts::list(c, status.as_deref()))?;
            // The plates shown: each read's, and the listed one where an
            // alternate matched it.
            let mut plates: Vec<&str> = all
                .iter()
                .flat_map(|a| [a.read_plate.as_str(), a.listed_plate.as_str()])
                .collect();
            plates.sort_unstable();
            plates.dedup();
            let mut entry = access.principal.entry(
                Action::ListHits,
                Outcome::Ok,
                serde_json::json!({ "status": status, "touched": { "plates": plates } }),
            );
            entry.rows = Some(all.len() as i64);
            access.record_entry(entry, chrono::Utc::now())?;
            println!(
                "{:>5} {:<26} {:<8} {:<10} {:<10} {:<9} {:<10} {:<12} reason",
                "id", "time (UTC)", "camera", "read", "listed", "match", "list", "status"
            );
            for a in all {
                println!(
                    "{:>5} {:<26} {:<8} {:<10} {:<10} {:<9} {:<10} {:<12} {}",
                    a.id,
                    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(a.ts_us)
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default(),
                    a.camera_id,
                    a.read_plate,
                    a.listed_plate,
                    a.matched(),
                    a.list,
                    a.status,
                    a.reason
                );
            }
        }
        HitsCommand::Dispose {
            login,
            id,
            disposition,
            note,
        } => {
            let (_, access) = login.access(Action::DisposeHit)?;
            alerts::dispose(&access, *id, *disposition, note)?;
            println!("Alert {id}: {}.", disposition.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}
