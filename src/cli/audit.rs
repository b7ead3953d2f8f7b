//! `alpr audit verify|report|log`: reading the audit trail.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::login::Login;
use crate::audit::access::{Action, Role};
use crate::audit::log::{self, Outcome};
use crate::audit::report::{self, Thresholds};
use crate::query::saved::parse_timestamp;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the head record; exit 1 if anything was
    /// edited, deleted, reordered or cut off.
    Verify {
        #[command(flatten)]
        login: Login,
    },
    /// Searches per user and purpose, and the entries worth a second look.
    Report {
        #[command(flatten)]
        login: Login,
        #[command(flatten)]
        period: Period,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The entries themselves, one JSON object per line (plates redacted
    /// for auditors).
    Log {
        #[command(flatten)]
        login: Login,
        #[command(flatten)]
        period: Period,
    },
}

#[derive(Debug, clap::Args)]
pub struct Period {
    /// From (timestamp or YYYY-MM-DD, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// To, excluded.
    #[arg(long)]
    pub to: Option<String>,
}

type Bound = Option<DateTime<Utc>>;

impl Period {
    fn bounds(&self) -> crate::Result<(Bound, Bound)> {
        let one = |raw: &Option<String>, flag: &str| -> crate::Result<Bound> {
            raw.as_deref()
                .map(|r| {
                    parse_timestamp(r)
                        .ok()
                        .and_then(DateTime::<Utc>::from_timestamp_micros)
                        .ok_or_else(|| {
                            crate::Error::bad_input(format!("--{flag} '{r}' is not a timestamp"))
                        })
                })
                .transpose()
        };
        Ok((one(&self.from, "from")?, one(&self.to, "to")?))
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "from": self.from, "to": self.to })
    }
}

pub fn run(cmd: &AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { login } => {
            let (_, access) = login.access(Action::ReadAudit)?;
            let v = log::verify(&access.catalog)?;
            let detail = serde_json::json!({
                "audit": "verify", "entries": v.entries, "problems": v.problems.len(),
            });
            access.record(Action::ReadAudit, Outcome::Ok, detail)?;
            println!("{} entries checked.", v.entries);
            if let Some(h) = &v.head {
                println!("Head: entry {} {}", h.seq, h.hash);
            }
            if v.is_intact() {
                println!("The audit log is intact.");
                return Ok(ExitCode::SUCCESS);
            }
            for p in &v.problems {
                println!("TAMPERED: {p}");
            }
            Ok(ExitCode::from(1))
        }
        AuditCommand::Report {
            login,
            period,
            json,
        } => {
            let (_, access) = login.access(Action::ReadAudit)?;
            let (from, to) = period.bounds()?;
            let entries = log::entries(&access.catalog, from, to)?;
            let r = report::build(&entries, Thresholds::default());
            access.record(
                Action::ReadAudit,
                Outcome::Ok,
                serde_json::json!({ "audit": "report", "period": period.json(), "entries": r.entries }),
            )?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&r)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{} audit entries in the period.\n", r.entries);
            println!(
                "{:<20} {:<18} {:>8} {:>9} {:>6} {:>7}",
                "user", "purpose", "searches", "rows", "cases", "plates"
            );
            for u in &r.usage {
                println!(
                    "{:<20} {:<18} {:>8} {:>9} {:>6} {:>7}",
                    u.user, u.purpose, u.searches, u.rows, u.cases, u.plates
                );
            }
            println!("\n{} flag(s):", r.flags.len());
            for f in &r.flags {
                let seq = f.seq.map(|s| format!("#{s}")).unwrap_or_default();
                println!("  {:<14} {:<20} {seq:<7} {}", f.kind, f.user, f.detail);
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Log { login, period } => {
            let (_, access) = login.access(Action::ReadAudit)?;
            let show_plates = access.principal.role != Role::Auditor;
            let (from, to) = period.bounds()?;
            let entries = log::entries(&access.catalog, from, to)?;
            access.record(
                Action::ReadAudit,
                Outcome::Ok,
                serde_json::json!({ "audit": "log", "period": period.json(), "entries": entries.len() }),
            )?;
            for e in &entries {
                println!("{}", report::redact(e, show_plates));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
