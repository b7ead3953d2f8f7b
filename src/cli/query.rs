//! `alpr query` and `alpr queries`.

use std::process::ExitCode;

use super::QueryArgs;
use crate::query::{output, saved, session};
use crate::store::Store;

pub async fn run(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.store)?;
    let ctx = session(&store).await?;
    let df = match (&args.saved, &args.sql) {
        (Some(name), _) => saved::find(name)?.bind(&args.params)?.plan(&ctx).await?,
        (None, Some(sql)) => ctx.sql(sql).await?,
        (None, None) => unreachable!("clap requires SQL or --saved"),
    };
    let schema = df.schema().inner().clone();
    let batches = df.collect().await?;
    output::write(schema, &batches, args.format, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

pub fn list() -> anyhow::Result<ExitCode> {
    for q in saved::builtin()? {
        println!("{}", q.describe());
    }
    println!("Run one with: alpr query --store DIR --saved NAME --param NAME=VALUE ...");
    println!(
        "Timestamps: RFC 3339 (2026-10-02T08:00:00Z or with an offset), \
         'YYYY-MM-DD HH:MM[:SS]' in UTC, or YYYY-MM-DD for 00:00 UTC that day."
    );
    Ok(ExitCode::SUCCESS)
}
