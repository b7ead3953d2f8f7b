//! `alpr bench query`: prints the medians of `query::bench`.

use std::path::Path;
use std::process::ExitCode;

use crate::query::bench;
use crate::store::Store;

pub async fn run(store: &Path, runs: usize, show_sql: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(store)?;
    let rows = bench::run(&store, runs).await?;
    println!(
        "store {} ({} partitions), median of {runs} runs after a warm-up",
        store.root().display(),
        store.partitions()?.len()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8}",
        "query", "median ms", "min ms", "rows"
    );
    for r in rows {
        println!(
            "{:<34} {:>10.1} {:>10.1} {:>8}",
            r.name, r.median_ms, r.min_ms, r.rows
        );
        if show_sql {
            println!("    {}", r.sql);
        }
    }
    Ok(ExitCode::SUCCESS)
}
