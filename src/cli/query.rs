//! `alpr query` and `alpr queries`.
//!
//! A query runs only for a logged-in analyst or supervisor, with a purpose
//! and a case number; ad-hoc SQL may only read (no DDL, no `COPY`, no
//! `SET`), so every row that leaves goes through the audit entry.

use std::process::ExitCode;

use datafusion::execution::context::SQLOptions;

use super::QueryArgs;
use crate::audit::access::Action;
use crate::audit::log::Outcome;
use crate::audit::search::{self, Request};
use crate::query::{output, saved, session};

/// What ad-hoc SQL may do: read.
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

pub async fn run(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    let (store, access) = args.login.access(Action::Query)?;
    let request = Request {
        sql: match (&args.saved, &args.sql) {
            (Some(name), _) => saved::find(name)?.sql.clone(),
            (None, Some(sql)) => sql.clone(),
            (None, None) => unreachable!("clap requires SQL or --saved"),
        },
        saved: args.saved.clone(),
        params: args.params.clone(),
        output: args.output.as_ref().map(|p| p.display().to_string()),
    };
    let reason =
        search::require_reason(&access, args.purpose, args.case_number.as_deref(), &request)?;
    let ctx = session(&store).await?;
    let planned = match &args.saved {
        Some(name) => match saved::find(name)?.bind(&args.params) {
            Ok(bound) => bound.plan(&ctx).await,
            Err(e) => Err(e),
        },
        None => ctx
            .sql_with_options(&request.sql, read_only())
            .await
            .map_err(crate::Error::from),
    };
    let df = match planned {
        Ok(df) => df,
        Err(e) => {
            let mut entry = access.principal.entry(
                Action::Query,
                Outcome::Failed,
                serde_json::json!({ "request": request, "error": e.to_string() }),
            );
            entry.purpose = Some(reason.purpose.as_str().to_string());
            entry.case_number = Some(reason.case_number.clone());
            access.record_entry(entry, chrono::Utc::now())?;
            return Err(e.into());
        }
    };
    let (schema, batches) = search::run(&access, &reason, &request, df).await?;
    output::write(schema, &batches, args.format, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

pub fn list() -> anyhow::Result<ExitCode> {
    for q in saved::builtin()? {
        println!("{}", q.describe());
    }
    println!(
        "Run one with: alpr query --store DIR --user NAME --purpose P --case N \
         --saved NAME --param NAME=VALUE ..."
    );
    println!(
        "Timestamps: RFC 3339 (2026-10-02T08:00:00Z or with an offset), \
         'YYYY-MM-DD HH:MM[:SS]' in UTC, or YYYY-MM-DD for 00:00 UTC that day."
    );
    Ok(ExitCode::SUCCESS)
}
