//! `cargo bench --bench query`: the query benchmark of `alpr bench query`.
//!
//! Uses the store named by `ALPR_BENCH_STORE`, or generates a 1-million-read
//! store in a temporary directory. For the 10-million-read figures:
//! `alpr synth-reads --store S --reads 10000000` then
//! `ALPR_BENCH_STORE=S cargo bench --bench query` (or `alpr bench query --store S`).
//! `benches/query_duckdb.py S` times the same queries in DuckDB for a ratio.

use alpr::query::bench;
use alpr::store::Store;
use alpr::synth::{Synth, SynthConfig};

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let _tmp;
    let store = match std::env::var_os("ALPR_BENCH_STORE") {
        Some(path) => Store::open(path)?,
        None => {
            _tmp = tempfile::tempdir()?;
            let store = Store::create(_tmp.path().join("store"))?;
            let synth = Synth::new(SynthConfig {
                reads: 1_000_000,
                ..SynthConfig::default()
            })?;
            alpr::synth::write_store(&synth, &store, |_| {})?;
            store
        }
    };
    for r in runtime.block_on(bench::run(&store, 7))? {
        println!(
            "{:<34} median {:>8.1} ms  min {:>8.1} ms  rows {}",
            r.name, r.median_ms, r.min_ms, r.rows
        );
    }
    Ok(())
}
