//! `alpr ingest` (photos, archives, footage in; reads out) and
//! `alpr cameras import` (the camera registry).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{DateTime, FixedOffset, Utc};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use super::login::Login;
use super::parse_key_value;
use super::recognize::EXIT_SKIPPED;
use crate::audit::access::Action;
use crate::gpu::{Gpu, GpuMode};
use crate::ingest::context::{GpsTrack, Rules, parse_offset};
use crate::ingest::{self, Config};
use crate::query::saved::parse_timestamp;
use crate::recognize::PlateReader;
use crate::store::cameras;

const AFTER: &str = "\
Every frame needs a camera and a capture time:
  camera: --camera, --camera-rule GLOB=ID (matched against PATH or
          ARCHIVE!MEMBER), --camera-from-folder, or a sidecar X.json
  time:   a sidecar X.json {\"ts\": RFC 3339}, EXIF (with --exif-offset when
          the camera wrote no zone), or the video's creation time
          (--video-start when it has none)
  place:  sidecar lat/lon, EXIF GPS, --gps-track, or the camera registry
A frame without them is skipped and named; a source with such a problem is
retried on the next run. Exit code 3 when anything was skipped.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER)]
pub struct IngestArgs {
    #[command(flatten)]
    pub login: Login,
    /// Photos (.jpg .png), videos (.mp4), archives (.zip .tar .tar.gz) or
    /// folders (searched recursively).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Camera of every source.
    #[arg(long)]
    pub camera: Option<String>,
    /// GLOB=CAMERA_ID, first match wins (repeatable).
    #[arg(long = "camera-rule", value_parser = parse_key_value)]
    pub camera_rules: Vec<(String, String)>,
    /// The camera is the name of the folder holding the file.
    #[arg(long)]
    pub camera_from_folder: bool,
    /// Zone of EXIF times written without one (e.g. -08:00).
    #[arg(long, value_parser = parse_offset)]
    pub exif_offset: Option<FixedOffset>,
    /// Start of videos without a creation time (RFC 3339).
    #[arg(long)]
    pub video_start: Option<String>,
    /// GPS track of a patrol car: CSV ts,lat,lon[,heading].
    #[arg(long)]
    pub gps_track: Option<PathBuf>,
    /// Frames per second read from video.
    #[arg(long, default_value_t = 5.0)]
    pub fps: f64,
    /// Re-read sources read before with another model, replacing their
    /// reads (readers never see both or neither).
    #[arg(long)]
    pub reprocess: bool,
    /// Threads that decode and read (default: every core), e.g. to leave
    /// a shared workstation some.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Where the image kernels run.
    #[arg(long, value_enum, default_value_t = GpuMode::Auto)]
    pub gpu: GpuMode,
    #[command(flatten)]
    pub reader: super::reader_args::ReaderArgs,
}

#[derive(Debug, Subcommand)]
pub enum CamerasCommand {
    /// Replace the camera registry with a CSV: id,name,lat,lon,heading,agency.
    Import {
        #[command(flatten)]
        login: Login,
        file: PathBuf,
    },
}

pub fn cameras(cmd: &CamerasCommand) -> anyhow::Result<ExitCode> {
    let CamerasCommand::Import { login, file } = cmd;
    let (store, access) = login.access(Action::Ingest)?;
    let list = cameras::parse_csv(file)?;
    cameras::write(&store, &list)?;
    access.record(
        Action::Ingest,
        crate::audit::log::Outcome::Ok,
        serde_json::json!({ "cameras_imported": list.len(), "file": file.display().to_string() }),
    )?;
    println!("Camera registry: {} cameras.", list.len());
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let started_at = Utc::now();
    if !(args.fps > 0.0 && args.fps <= 120.0) {
        anyhow::bail!(crate::Error::bad_input("--fps must be in (0, 120]"));
    }
    let (store, access) = args.login.access(Action::Ingest)?;
    let video_start = args
        .video_start
        .as_deref()
        .map(|s| {
            parse_timestamp(s)
                .ok()
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .ok_or_else(|| {
                    crate::Error::bad_input(format!("--video-start '{s}' is not a time"))
                })
        })
        .transpose()?;
    let config = Config {
        inputs: args.inputs.clone(),
        rules: Rules {
            camera: args.camera.clone(),
            camera_rules: args.camera_rules.clone(),
            camera_from_folder: args.camera_from_folder,
            exif_offset: args.exif_offset,
            video_start,
            track: args.gps_track.as_deref().map(GpsTrack::load).transpose()?,
            registry: cameras::load(&store)?,
        },
        fps: args.fps,
        reprocess: args.reprocess,
        threads: args.threads.map(usize::from),
    };
    let gpu = Gpu::new(args.gpu)?;
    let reader = PlateReader::new(gpu, args.reader.reader()?)?;
    // indicatif draws only on a terminal: pipes and CI stay quiet.
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{elapsed_precise} {spinner} {msg}").expect("valid template"),
    );
    let progress = |s: &ingest::Summary| {
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{} batches, {} frames ({:.1}/s), {} reads, {} alerts, {} skipped",
            s.batches,
            s.frames,
            s.frames as f64 / secs,
            s.reads,
            s.alerts,
            s.skipped.len()
        ));
        bar.tick();
    };
    let summary = ingest::run(&access, &store, &config, &reader, &progress)?;
    bar.finish_and_clear();
    ingest::record_run(&access, &config, &summary, started_at)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "ingest: {} sources ({} already ingested, {} duplicates), {} batches, {} frames in {secs:.1} s \
         ({:.1} frames/s), {} reads, {} new hot-list alerts (unverified), {} replaced batches, \
         {} skipped",
        summary.sources,
        summary.already_done,
        summary.duplicates,
        summary.batches,
        summary.frames,
        summary.frames as f64 / secs.max(1e-3),
        summary.reads,
        summary.alerts,
        summary.replaced_batches,
        summary.skipped.len()
    );
    for (what, why) in &summary.skipped {
        eprintln!("  skipped {what}: {why}");
    }
    Ok(if summary.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SKIPPED)
    })
}
