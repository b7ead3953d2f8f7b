//! `alpr synth-frames`: whole camera frames with a generated plate in each
//! (JPEG, a sidecar with capture time and camera, `labels.csv` with plate
//! and box, and each frame's label beside it as `alpr eval` and
//! `score-plates` read it), and optionally a short MP4 clip: inputs for
//! trying `alpr ingest` end to end, and fresh frames to measure the reader
//! on. The bundled `data-samples/ingest/` was made with it. `--on-car` puts
//! the plates on a car whose parts compete with them (the sidecar names
//! the parts): frames to judge the ranking of a frame's reads on.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::error::Error;
use crate::store::durable;
use crate::synth_plates::PlateSynth;

#[derive(Debug, clap::Args)]
pub struct SynthFramesArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of photos.
    #[arg(long, default_value_t = 8)]
    pub count: u64,
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// Camera id written into the sidecars.
    #[arg(long, default_value = "CAM-0001")]
    pub camera: String,
    /// Capture time of the first photo (RFC 3339); one minute apart.
    #[arg(long, default_value = "2026-10-02T17:30:00Z")]
    pub start: String,
    /// Also write `clip.mp4`, this many seconds at 10 frames/s, one plate.
    #[arg(long, default_value_t = 0)]
    pub clip_seconds: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Draw the car's parts around each plate (the plate's recess, bumper
    /// edges, grille, badge, model lettering, lights, sometimes a sign):
    /// the same plates at the same places as without, with what competes
    /// with them for a frame's first read.
    #[arg(long)]
    pub on_car: bool,
}

pub fn run(args: &SynthFramesArgs) -> anyhow::Result<()> {
    if args.count > 100_000
        || !(64..=4096).contains(&args.width)
        || !(64..=4096).contains(&args.height)
    {
        return Err(Error::bad_input("--count up to 100000, --width/--height 64..4096").into());
    }
    let start = chrono::DateTime::parse_from_rfc3339(&args.start)
        .map_err(|e| Error::bad_input(format!("--start '{}': {e}", args.start)))?;
    let synth = PlateSynth::new()?;
    durable::create_dir_durable(&args.out)?;
    let rows: Vec<String> = (0..args.count)
        .into_par_iter()
        .map(|i| -> anyhow::Result<String> {
            let scene = if args.on_car {
                synth.scene_on_car(args.seed, i, args.width, args.height)
            } else {
                synth.scene(args.seed, i, args.width, args.height)
            };
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 88)
                .encode_image(&scene.image)?;
            let name = format!("frame{i:04}");
            durable::write_atomic(&args.out.join(format!("{name}.jpg")), &jpeg)?;
            let ts = start + chrono::Duration::minutes(i as i64);
            let mut sidecar = serde_json::json!({ "ts": ts.to_rfc3339(), "camera": args.camera });
            if args.on_car {
                sidecar["car"] = serde_json::json!(scene.parts.names());
            }
            durable::write_atomic(
                &args.out.join(format!("{name}.json")),
                sidecar.to_string().as_bytes(),
            )?;
            let [x, y, w, h] = scene.bbox;
            durable::write_atomic(
                &args.out.join(format!("{name}.txt")),
                format!("{name}.jpg\t{x}\t{y}\t{w}\t{h}\t{}\n", scene.text).as_bytes(),
            )?;
            Ok(format!("{name}.jpg,{},{x},{y},{w},{h}", scene.text))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut labels = String::from("file,PLATE,x,y,w,h\n");
    for r in rows {
        labels.push_str(&r);
        labels.push('\n');
    }
    durable::write_atomic(&args.out.join("labels.csv"), labels.as_bytes())?;
    if args.clip_seconds > 0 {
        let (w, h) = (args.width & !15, args.height & !15);
        let scene = synth.scene(args.seed, 1_000_000, w, h);
        let frames: Vec<Vec<u8>> = (0..args.clip_seconds * 10)
            .map(|k| {
                // The car drifts left, a few pixels a frame.
                let shifted =
                    image::imageops::crop_imm(&scene.image, (k * 3) % (w / 8), 0, w - w / 8, h)
                        .to_image();
                image::imageops::resize(&shifted, w, h, image::imageops::FilterType::Triangle)
                    .into_raw()
            })
            .collect();
        let clip =
            crate::ingest::video::tests_support::encode_mp4(&frames, w as usize, h as usize, 10);
        durable::write_atomic(&args.out.join("clip.mp4"), &clip)?;
        eprintln!("clip.mp4: plate {} ({} frames)", scene.text, frames.len());
    }
    eprintln!(
        "synth-frames: {} photos -> {}",
        args.count,
        args.out.display()
    );
    Ok(())
}
