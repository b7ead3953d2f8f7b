//! `alpr release request|list|approve|deny|export`: sharing with another
//! agency only on an approved written request.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::login::Login;
use super::retention::parse_window;
use crate::audit::access::Action;
use crate::audit::log::Outcome;
use crate::audit::releases::{self, AgencyType, NewRequest};

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// File another agency's written request.
    Request {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        agency: String,
        #[arg(long, value_enum)]
        agency_type: AgencyType,
        /// The person asking, as named on the request.
        #[arg(long)]
        requester: String,
        /// The purpose stated on the request.
        #[arg(long)]
        purpose: String,
        #[arg(long = "case")]
        case_number: String,
        /// The plates asked for (pattern with `*`, `?`).
        #[arg(long)]
        plate: String,
        /// FROM,TO of the reads asked for.
        #[arg(long)]
        window: String,
        /// The written request (kept on file in the store).
        #[arg(long)]
        document: PathBuf,
    },
    /// List requests and their status.
    List {
        #[command(flatten)]
        login: Login,
    },
    /// Approve a pending request (supervisors).
    Approve {
        #[command(flatten)]
        login: Login,
        id: i64,
        #[arg(long)]
        note: String,
        /// Required for out-of-state and federal agencies: why the release is
        /// lawful anyway (recorded in the audit log).
        #[arg(long = "override")]
        override_reason: Option<String>,
    },
    /// Deny a pending request (supervisors).
    Deny {
        #[command(flatten)]
        login: Login,
        id: i64,
        #[arg(long)]
        note: String,
    },
    /// Export the reads of an approved request, with a manifest.
    Export {
        #[command(flatten)]
        login: Login,
        id: i64,
        /// Folder to write `release-<id>/` into.
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(cmd: &ReleaseCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReleaseCommand::Request {
            login,
            agency,
            agency_type,
            requester,
            purpose,
            case_number,
            plate,
            window,
            document,
        } => {
            let (store, access) = login.access(Action::RequestRelease)?;
            let request = NewRequest {
                agency: agency.clone(),
                agency_type: *agency_type,
                requester: requester.clone(),
                purpose: purpose.clone(),
                case_number: case_number.clone(),
                plate_pattern: plate.clone(),
                window: parse_window(window)?,
                document: document.clone(),
            };
            let id = releases::request(&access, &store, &request)?;
            let flag = if agency_type.flagged() {
                " It is FLAGGED: out-of-state and federal releases need a supervisor's --override."
            } else {
                ""
            };
            println!("Release request {id} filed, pending a supervisor's decision.{flag}");
        }
        ReleaseCommand::List { login } => {
            let (_, access) = login.access(Action::ListReleases)?;
            let all = access.catalog.read(releases::list)?;
            access.record(
                Action::ListReleases,
                Outcome::Ok,
                serde_json::json!({ "releases": all.len() }),
            )?;
            for r in all {
                let flagged = if r.agency_type == "out-of-state" || r.agency_type == "federal" {
                    " FLAGGED"
                } else {
                    ""
                };
                println!(
                    "{:>4}  {:<9} {} ({}{flagged}), requester {}, case {}: {}",
                    r.id, r.status, r.agency, r.agency_type, r.requester, r.case_number, r.purpose
                );
            }
        }
        ReleaseCommand::Approve {
            login,
            id,
            note,
            override_reason,
        } => {
            let (_, access) = login.access(Action::DecideRelease)?;
            releases::decide(&access, *id, true, note, override_reason.as_deref())?;
            println!("Release {id} approved.");
        }
        ReleaseCommand::Deny { login, id, note } => {
            let (_, access) = login.access(Action::DecideRelease)?;
            releases::decide(&access, *id, false, note, None)?;
            println!("Release {id} denied.");
        }
        ReleaseCommand::Export { login, id, out } => {
            let (store, access) = login.access(Action::ExportRelease)?;
            let (package, reads) = releases::export(&access, &store, *id, out).await?;
            println!(
                "Release {id}: {reads} read(s) exported to {} (see manifest.json).",
                package.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
