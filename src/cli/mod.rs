//! The command line: clap structs that only validate, and `run`, which
//! resolves them into runtime objects (store, SQL session, thread pool) once
//! and dispatches to one module per command.

mod admin;
mod audit;
mod bench;
mod bench_ocr;
mod demo;
mod eval;
mod hits;
mod ingest;
pub mod login;
mod query;
mod read_crops;
mod reader_args;
mod recognize;
mod release;
mod retention;
mod synth;
mod synth_frames;
mod synth_plates;
#[cfg(feature = "train")]
mod train_ocr;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::query::output::Format;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure while running (I/O, query engine, damaged store, training)
  2  bad command line or bad input (unknown query, bad parameter, bad path)
  3  (recognize) some inputs were skipped
  4  access refused (credentials, role, training, missing purpose); audited

Commands that read or change a store's data log in: --user (or ALPR_USER)
and a password from --password-file, ALPR_PASSWORD, or a prompt.";

/// Batch analytics for automated licence plate reader (ALPR) data.
#[derive(Debug, Parser)]
#[command(name = "alpr", version, about, after_help = EXIT_CODES, max_term_width = 80)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate realistic synthetic reads (with planted truths) into a store.
    SynthReads(SynthArgs),
    /// Run SQL or a saved query over a store.
    Query(QueryArgs),
    /// List the saved queries with their parameters.
    Queries,
    /// Measure speed: queries, localisation, the reader, ingest, training.
    Bench(BenchArgs),
    /// Build a demo store and run every saved investigation on it.
    Demo(DemoArgs),
    /// Find licence plates in images: one JSON line per image.
    Recognize(recognize::RecognizeArgs),
    /// Set up a store's accountability: the catalog and first administrator.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Manage users: add, disable, passwords, training records.
    #[command(subcommand)]
    Users(admin::UsersCommand),
    /// Verify the tamper-evident audit log; usage reports.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Drop expired date partitions (held reads go to evidence first).
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Legal holds that protect reads from retention.
    #[command(subcommand)]
    Hold(retention::HoldCommand),
    /// Requests from other agencies: file, approve or deny, export.
    #[command(subcommand)]
    Release(release::ReleaseCommand),
    /// Import hot lists (past reads of listed plates become alerts).
    #[command(subcommand)]
    Hotlist(hits::HotlistCommand),
    /// Hot-list alerts and their verification by a person.
    #[command(subcommand)]
    Hits(hits::HitsCommand),
    /// Read photos, archives and video into the store (resumable).
    Ingest(Box<ingest::IngestArgs>),
    /// The camera registry.
    #[command(subcommand)]
    Cameras(ingest::CamerasCommand),
    /// Accuracy on your own labelled photos or crops (score-plates' figures).
    Eval(eval::EvalArgs),
    /// Read plate crops with the OCR model: one JSON line per crop.
    ReadCrops(read_crops::ReadCropsArgs),
    /// Train the OCR model on generated plates (built with --features train).
    #[cfg(feature = "train")]
    TrainOcr(train_ocr::TrainOcrArgs),
    /// Average the weights of OCR models continued from the same weights
    /// (built with --features train).
    #[cfg(feature = "train")]
    SoupOcr(train_ocr::SoupOcrArgs),
    /// Generate synthetic plate crops and labels (training data for the reader).
    SynthPlates(synth_plates::SynthPlatesArgs),
    /// Generate camera frames with plates (and a clip) to try ingest on.
    SynthFrames(synth_frames::SynthFramesArgs),
}

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Store directory (created if missing).
    #[arg(long)]
    pub store: PathBuf,
    /// Approximate number of reads to generate.
    #[arg(long, default_value_t = 200_000)]
    pub reads: u64,
    /// Number of days, starting at --start.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// First day (UTC), YYYY-MM-DD.
    #[arg(long, default_value = "2026-10-01")]
    pub start: chrono::NaiveDate,
    /// Number of cameras.
    #[arg(long, default_value_t = 300)]
    pub cameras: u32,
    /// Random seed: the same seed gives the same store.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the planted truths (JSON) to this file.
    #[arg(long)]
    pub truths: Option<PathBuf>,
    /// Administrator to log in as, when the store already has users.
    #[arg(long, env = "ALPR_USER")]
    pub user: Option<String>,
    /// Password file (else ALPR_PASSWORD, else a prompt).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub login: login::Login,
    /// Why you search (required).
    #[arg(long, value_enum)]
    pub purpose: Option<crate::audit::access::Purpose>,
    /// The case or incident number the search serves (required).
    #[arg(long = "case")]
    pub case_number: Option<String>,
    /// Ad-hoc SQL (tables: reads, cameras, hotlist).
    #[arg(conflicts_with = "saved", required_unless_present = "saved")]
    pub sql: Option<String>,
    /// Name of a saved query (see `alpr queries`).
    #[arg(long)]
    pub saved: Option<String>,
    /// A saved query's parameter, NAME=VALUE (repeatable).
    #[arg(long = "param", value_parser = parse_key_value, requires = "saved")]
    pub params: Vec<(String, String)>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
    /// The CPU twins of the kernels and the reader's pixel loops use no
    /// wider vector instructions than these, to time an older CPU's paths
    /// on this one (default: the widest it has; `bench train`'s products
    /// are `gemm`'s, which chooses its own).
    #[arg(long, value_enum, global = true)]
    pub cpu_vectors: Option<crate::gpu::vectors::Vectors>,
}

#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Plate localisation: ms per frame, one core, all cores, batched.
    Detect {
        /// Images or folders to time (decoded once, before timing).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Passes over the images; the median per-frame time is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Where the image kernels run.
        #[arg(long, value_enum, default_value_t = crate::gpu::GpuMode::Off)]
        gpu: crate::gpu::GpuMode,
    },
    /// Ingest end to end: generated 1080p JPEGs, images/s per core.
    Ingest {
        /// Frames to generate and ingest.
        #[arg(long, default_value_t = 48)]
        count: usize,
        /// Where the image kernels run.
        #[arg(long, value_enum, default_value_t = crate::gpu::GpuMode::Off)]
        gpu: crate::gpu::GpuMode,
        #[command(flatten)]
        reader: reader_args::ReaderArgs,
    },
    /// The plate reader: ms per plate after decode, by batch size.
    Ocr {
        /// Crop images or folders (none: 256 generated plates, seed 1).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        reader: reader_args::ReaderArgs,
        /// Passes over the crops; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Where the network's kernels run.
        #[arg(long, value_enum, default_value_t = crate::gpu::GpuMode::Off)]
        gpu: crate::gpu::GpuMode,
    },
    /// Training (built with --features train): ms per native step on one
    /// thread and on every thread, and generated plates per second.
    #[cfg(feature = "train")]
    Train {
        /// Generated plates per step.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Steps per pass (their plates are made once, before timing).
        #[arg(long, default_value_t = 20)]
        steps: usize,
        /// Passes; the median step time is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Canvass, exact plate, partial plate and counts per camera per day.
    Query {
        /// Store directory (e.g. made by `alpr synth-reads --reads 10000000`).
        #[arg(long)]
        store: PathBuf,
        /// Runs per query; the median is reported.
        #[arg(long, default_value_t = 7)]
        runs: usize,
        /// Print each query's SQL (to rerun it in another engine).
        #[arg(long)]
        sql: bool,
        /// Administrator to log in as, when the store has users.
        #[arg(long, env = "ALPR_USER")]
        user: Option<String>,
        /// Password file (else ALPR_PASSWORD, else a prompt).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Store directory to create (or reuse).
    #[arg(long)]
    pub store: PathBuf,
    /// Reads to generate.
    #[arg(long, default_value_t = 300_000)]
    pub reads: u64,
    /// The bundled samples (photos, footage, hot list) to ingest.
    #[arg(long, default_value = "data-samples")]
    pub samples: PathBuf,
}

/// A number from 0 to 1 (a share or a probability; NaN refused).
pub(crate) fn parse_unit<T>(text: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    match text.parse::<T>() {
        Ok(v) if v >= T::from(0) && v <= T::from(1) => Ok(v),
        _ => Err(format!("{text:?} is not a number from 0 to 1")),
    }
}

pub(crate) fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got '{s}'")),
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Command::Bench(BenchArgs {
        cpu_vectors: Some(v),
        ..
    }) = &cli.command
    {
        crate::gpu::vectors::limit(*v);
    }
    match cli.command {
        Command::SynthReads(args) => synth::run(&args).map(|_| ExitCode::SUCCESS),
        Command::Query(args) => runtime.block_on(query::run(&args)),
        Command::Queries => query::list(),
        Command::Bench(BenchArgs {
            what:
                BenchWhat::Query {
                    store,
                    runs,
                    sql,
                    user,
                    password_file,
                },
            ..
        }) => {
            let store = crate::store::Store::open(&store)?;
            if let Some(access) =
                admin::maintain(&store, user.as_deref(), password_file.as_deref())?
            {
                access.record(
                    crate::audit::access::Action::Maintain,
                    crate::audit::log::Outcome::Ok,
                    serde_json::json!({ "bench": "query", "runs": runs }),
                )?;
            }
            runtime.block_on(bench::run(&store, runs, sql))
        }
        Command::Bench(BenchArgs {
            what: BenchWhat::Detect { paths, runs, gpu },
            ..
        }) => bench::detect(&paths, runs, gpu),
        Command::Bench(BenchArgs {
            what: BenchWhat::Ingest { count, gpu, reader },
            ..
        }) => bench::ingest(count, gpu, &reader),
        Command::Demo(args) => runtime.block_on(demo::run(&args)),
        Command::Recognize(args) => recognize::run(&args),
        Command::Admin(admin::AdminCommand::Init(args)) => admin::init(&args),
        Command::Users(cmd) => admin::run(&cmd),
        Command::Audit(cmd) => audit::run(&cmd),
        Command::Retention(cmd) => runtime.block_on(retention::run(&cmd)),
        Command::Hold(cmd) => retention::hold(&cmd),
        Command::Release(cmd) => runtime.block_on(release::run(&cmd)),
        Command::Hotlist(cmd) => runtime.block_on(hits::hotlist(&cmd)),
        Command::Hits(cmd) => hits::run(&cmd),
        Command::Ingest(args) => ingest::run(&args),
        Command::Cameras(cmd) => ingest::cameras(&cmd),
        Command::Eval(args) => eval::run(&args),
        Command::ReadCrops(args) => read_crops::run(&args),
        #[cfg(feature = "train")]
        Command::TrainOcr(args) => train_ocr::run(&args),
        #[cfg(feature = "train")]
        Command::SoupOcr(args) => train_ocr::soup(&args),
        Command::Bench(BenchArgs {
            what:
                BenchWhat::Ocr {
                    paths,
                    reader,
                    runs,
                    gpu,
                },
            ..
        }) => bench_ocr::run(&paths, &reader, runs, gpu),
        #[cfg(feature = "train")]
        Command::Bench(BenchArgs {
            what: BenchWhat::Train { batch, steps, runs },
            ..
        }) => train_ocr::bench(batch, steps, runs),
        Command::SynthPlates(args) => synth_plates::run(&args).map(|_| ExitCode::SUCCESS),
        Command::SynthFrames(args) => synth_frames::run(&args).map(|_| ExitCode::SUCCESS),
    }
}

/// Maps an error to the documented exit code.
pub fn exit_code_for(err: &anyhow::Error) -> ExitCode {
    if err
        .chain()
        .any(|e| matches!(e.downcast_ref::<Error>(), Some(Error::Refused(_))))
    {
        return ExitCode::from(4);
    }
    let bad_input = err.chain().any(|e| {
        matches!(e.downcast_ref::<Error>(), Some(Error::BadInput(_)))
            || e.downcast_ref::<datafusion::error::DataFusionError>()
                .is_some_and(|d| {
                    matches!(
                        d.find_root(),
                        datafusion::error::DataFusionError::Plan(_)
                            | datafusion::error::DataFusionError::SQL(..)
                    )
                })
    });
    ExitCode::from(if bad_input { 2 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bad input exits 2, a refusal 4, a failure while running (a training
    /// run that diverged among them) 1, found under the context a command
    /// wraps around them.
    #[test]
    fn errors_map_to_their_documented_exit_codes() {
        let code = |e: Error| exit_code_for(&anyhow::Error::from(e).context("while testing"));
        assert_eq!(code(Error::bad_input("no such query")), ExitCode::from(2));
        assert_eq!(code(Error::Refused("no purpose".into())), ExitCode::from(4));
        assert_eq!(code(Error::Training("diverged".into())), ExitCode::from(1));
        assert_eq!(
            code(Error::GpuFailed("device lost".into())),
            ExitCode::from(1)
        );
    }

    /// Every command's long help fits 80 columns (STYLE.md) whatever the
    /// terminal, but for the usage lines clap writes whole.
    #[test]
    fn help_fits_80_columns() {
        use clap::CommandFactory;
        fn check(cmd: &mut clap::Command, path: &str) {
            let help = cmd.render_long_help().to_string();
            for line in help.lines() {
                assert!(
                    line.starts_with("Usage:") || line.chars().count() <= 80,
                    "`{path} --help`: {line:?}"
                );
            }
            for sub in cmd.get_subcommands_mut() {
                let path = format!("{path} {}", sub.get_name());
                check(sub, &path);
            }
        }
        let mut cli = Cli::command();
        cli.build();
        check(&mut cli, "alpr");
    }
}
