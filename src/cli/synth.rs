//! `alpr synth-reads`: generate days in parallel and write them to a store.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::SynthArgs;
use crate::store::writer::WriteOutcome;
use crate::store::{Store, durable};
use crate::synth::{Synth, SynthConfig, write_store};

/// Generates the store described by `args`; returns the generator (for its
/// truths) and the summed write outcome.
pub fn run(args: &SynthArgs) -> anyhow::Result<(Synth, WriteOutcome)> {
    // The options are checked before the store is made: a mistake on the
    // command line leaves no empty store behind.
    let synth = generator(args)?;
    let store = Store::create(&args.store)?;
    let access =
        super::admin::maintain(&store, args.user.as_deref(), args.password_file.as_deref())?;
    generate(args, synth, &store, access.as_ref())
}

/// The generator `args` describe, or a bad-input error naming the option.
pub fn generator(args: &SynthArgs) -> anyhow::Result<Synth> {
    Ok(Synth::new(SynthConfig {
        seed: args.seed,
        reads: args.reads,
        days: args.days,
        start: args.start,
        cameras: args.cameras,
    })?)
}

/// Generates `synth`'s reads into `store`, recording the run in the audit
/// log when the store has users (`access` is then the administrator who
/// asked).
pub fn generate(
    args: &SynthArgs,
    synth: Synth,
    store: &Store,
    access: Option<&crate::audit::Access>,
) -> anyhow::Result<(Synth, WriteOutcome)> {
    let started = Instant::now();
    // indicatif draws only on a terminal: pipes and CI stay quiet.
    let bar = ProgressBar::new(u64::from(args.days)).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} days {msg}")
            .expect("valid template"),
    );
    let rows = AtomicUsize::new(0);
    let outcome = write_store(&synth, store, |day| {
        let total = rows.fetch_add(day.rows_written, Ordering::Relaxed) + day.rows_written;
        bar.set_message(format!("{total} reads"));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    if let Some(path) = &args.truths {
        let json = serde_json::to_vec_pretty(synth.truths())?;
        durable::write_atomic(path, &json)?;
    }
    if let Some(access) = access {
        access.record(
            crate::audit::access::Action::Maintain,
            crate::audit::log::Outcome::Ok,
            serde_json::json!({
                "synth_reads": outcome.rows_written, "seed": args.seed, "days": args.days,
            }),
        )?;
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
