//! `alpr synth-reads`: generate days in parallel and write them to a store.

use std::time::Instant;

use super::SynthArgs;
use crate::store::writer::WriteOutcome;
use crate::store::{Store, durable};
use crate::synth::{Synth, SynthConfig, write_store};

/// Generates the store described by `args`; returns the generator (for its
/// truths) and the summed write outcome.
pub fn run(args: &SynthArgs) -> anyhow::Result<(Synth, WriteOutcome)> {
    let started = Instant::now();
    let synth = Synth::new(SynthConfig {
        seed: args.seed,
        reads: args.reads,
        days: args.days,
        start: args.start,
        cameras: args.cameras,
    })?;
    let store = Store::create(&args.store)?;
    let outcome = write_store(&synth, &store)?;
    if let Some(path) = &args.truths {
        let json = serde_json::to_vec_pretty(synth.truths())?;
        durable::write_atomic(path, &json)?;
    }
    eprintln!(
        "synth-reads: {} reads in {} new partition files ({} already present) in {:.1} s -> {}",
        outcome.rows_written,
        outcome.files_written,
        outcome.files_skipped,
        started.elapsed().as_secs_f64(),
        store.root().display()
    );
    Ok((synth, outcome))
}
