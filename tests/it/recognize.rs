//! Plate localisation (issue 3) on images the tests draw themselves: a
//! synthetic plate is found; the GPU and the CPU twins give the same boxes
//! (with an adapter; see `gpu.rs` for `ALPR_ALLOW_NO_GPU`), frame by frame
//! and in batches of frames of mixed sizes; bad files are
//! named and skipped while the rest of the batch goes on; the CLI's JSON lines
//! carry what `score-plates` reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use alpr::gpu::{Gpu, GpuMode, Planes};
use alpr::recognize::detect::{self, PlateBox, Stages};
use alpr::recognize::{self as rec, decode};
use image::{ImageEncoder, Rgb, RgbImage};
use rand::{Rng, SeedableRng};

use crate::common::{alpr_bin, lying_jpeg};

/// The plate drawn by [`scene`]: x, y, w, h.
const PLATE: (u32, u32, u32, u32) = (220, 260, 160, 80);

/// A 640x480 noisy street-grey frame with a white 2:1 plate carrying seven
/// dark block glyphs (bars and crossbars, like H, I, L, U, E).
fn scene(seed: u64) -> RgbImage {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut img = RgbImage::from_fn(640, 480, |_, _| {
        let v = rng.random_range(70..150u8);
        Rgb([v, v, v.saturating_add(10)])
    });
    let (px, py, pw, ph) = PLATE;
    fill(&mut img, px, py, pw, ph, 235);
    // Seven glyphs 14 wide, 40 tall, pitch 20, centred.
    let (gw, gh, pitch) = (14, 40, 20);
    let x0 = px + (pw - (6 * pitch + gw)) / 2;
    let y0 = py + (ph - gh) / 2;
    for i in 0..7u32 {
        let x = x0 + i * pitch;
        let stroke = 4;
        match i % 4 {
            0 => {
                // H
                fill(&mut img, x, y0, stroke, gh, 20);
                fill(&mut img, x + gw - stroke, y0, stroke, gh, 20);
                fill(&mut img, x, y0 + gh / 2 - 2, gw, stroke, 20);
            }
            1 => {
                // L
                fill(&mut img, x, y0, stroke, gh, 20);
                fill(&mut img, x, y0 + gh - stroke, gw, stroke, 20);
            }
            2 => {
                // U
                fill(&mut img, x, y0, stroke, gh, 20);
                fill(&mut img, x + gw - stroke, y0, stroke, gh, 20);
                fill(&mut img, x, y0 + gh - stroke, gw, stroke, 20);
            }
            _ => {
                // E
                fill(&mut img, x, y0, stroke, gh, 20);
                for dy in [0, gh / 2 - 2, gh - stroke] {
                    fill(&mut img, x, y0 + dy, gw, stroke, 20);
                }
            }
        }
    }
    img
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, v: u8) {
    for yy in y..y + h {
        for xx in x..x + w {
            img.put_pixel(xx, yy, Rgb([v, v, v]));
        }
    }
}

fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn jpeg_bytes(img: &RgbImage) -> Vec<u8> {
    jpeg_with_exif(img, Vec::new())
}

/// A JPEG (quality 90) of `img` carrying the EXIF block `exif` (a TIFF
/// block; none when empty).
fn jpeg_with_exif(img: &RgbImage, exif: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    encoder.set_exif_metadata(exif).unwrap();
    encoder
        .write_image(
            img,
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    out
}

fn truth() -> PlateBox {
    let (x, y, w, h) = PLATE;
    PlateBox {
        x,
        y,
        w,
        h,
        confidence: 1.0,
        tilt: 0.0,
    }
}

fn best_iou(boxes: &[PlateBox]) -> f32 {
    boxes.iter().map(|b| b.iou(&truth())).fold(0.0, f32::max)
}

/// Writes the good scene and every kind of bad file into `dir`; returns
/// (good files, bad files).
fn batch(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let img = scene(1);
    let png = png_bytes(&img);
    let jpeg = jpeg_bytes(&img);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = vec![write("a-good.png", &png), write("b-good.jpg", &jpeg)];
    let bad = vec![
        write("c-zero.jpg", b""),
        write("d-text.png", b"this is not an image at all\n"),
        write("e-truncated.png", &png[..png.len() / 2]),
        write("f-truncated.jpg", &jpeg[..jpeg.len() / 2]),
        write("g-huge.jpg", &lying_jpeg(30_000, 30_000)),
        write("h-zero-width.jpg", &lying_jpeg(0, 16)),
        write("i-corrupt.png", &{
            let mut b = png.clone();
            let mid = b.len() / 2;
            b[mid..mid + 64].fill(0x5a);
            b
        }),
    ];
    (good, bad)
}

#[test]
fn a_synthetic_plate_is_found() {
    let frame = decode::decode_bytes(Path::new("scene.png"), &png_bytes(&scene(7))).unwrap();
    let boxes = detect::detect(&frame, None, 10).unwrap();
    assert!(best_iou(&boxes) >= 0.5, "{boxes:?}");
    // Best first, confidences in 0..=1, at most the limit.
    assert!(boxes.windows(2).all(|w| w[0].confidence >= w[1].confidence));
    assert!(boxes.iter().all(|b| (0.0..=1.0).contains(&b.confidence)));
    assert!(detect::detect(&frame, None, 1).unwrap().len() <= 1);
}

#[test]
fn a_synthetic_plate_is_found_through_jpeg_too() {
    let frame = decode::decode_bytes(Path::new("scene.jpg"), &jpeg_bytes(&scene(8))).unwrap();
    let boxes = detect::detect(&frame, None, 10).unwrap();
    assert!(best_iou(&boxes) >= 0.5, "{boxes:?}");
}

/// An EXIF block (TIFF) whose one tag is the orientation `value`.
fn orientation_exif(value: u16) -> Vec<u8> {
    let mut w = exif::experimental::Writer::new();
    let field = exif::Field {
        tag: exif::Tag::Orientation,
        ifd_num: exif::In::PRIMARY,
        value: exif::Value::Short(vec![value]),
    };
    w.push_field(&field);
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    tiff.into_inner()
}

#[test]
fn a_photo_stored_sideways_is_read_upright() {
    // A phone held sideways stores the scene turned a quarter to the left
    // and tags it 6 (turn it right to view): the plate is where a viewer
    // shows it.
    let sideways = image::imageops::rotate270(&scene(9));
    let bytes = jpeg_with_exif(&sideways, orientation_exif(6));
    let frame = decode::decode_bytes(Path::new("sideways.jpg"), &bytes).unwrap();
    assert_eq!((frame.width(), frame.height()), (640, 480));
    let boxes = detect::detect(&frame, None, 10).unwrap();
    assert!(best_iou(&boxes) >= 0.5, "{boxes:?}");
}

#[test]
fn a_blank_frame_has_no_plate() {
    let frame = Planes::new(
        64,
        48,
        1,
        vec![alpr::gpu::pack_rgba(90, 90, 90, 255); 64 * 48],
    );
    assert!(
        detect::detect(&frame.unwrap(), None, 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn gpu_and_cpu_give_the_same_boxes() {
    let gpu = match Gpu::new(GpuMode::On) {
        Ok(Some(gpu)) => gpu,
        Ok(None) => panic!("GpuMode::On returned no GPU and no error"),
        Err(e) if std::env::var("ALPR_ALLOW_NO_GPU").as_deref() == Ok("1") => {
            eprintln!("SKIPPED: ALPR_ALLOW_NO_GPU=1: {e}");
            return;
        }
        Err(e) => panic!(
            "{e}\nThis test needs a GPU adapter: run .ci/setup (installs \
             mesa-vulkan-drivers), or set ALPR_ALLOW_NO_GPU=1 to skip it."
        ),
    };
    for (seed, (w, h)) in [(3, (640, 480)), (4, (1500, 900))] {
        let img = image::imageops::resize(&scene(seed), w, h, image::imageops::Triangle);
        let frame = decode::decode_bytes(Path::new("s.png"), &png_bytes(&img)).unwrap();
        for factor in detect::factors(w, h) {
            let on_gpu = Stages::run(&frame, factor, Some(&gpu)).unwrap();
            let on_cpu = Stages::run(&frame, factor, None).unwrap();
            assert!(on_gpu == on_cpu, "{w}x{h} factor {factor}: stages differ");
        }
        assert_eq!(
            detect::detect(&frame, Some(&gpu), 10).unwrap(),
            detect::detect(&frame, None, 10).unwrap()
        );
    }
}

/// Frames of two sizes, interleaved, detected as one batch: on the CPU and
/// on the GPU (with a budget that splits each kernel's batch over several
/// submissions), every frame gets exactly the boxes it gets alone, in input
/// order.
#[test]
fn a_batch_gives_each_frame_its_own_boxes() {
    let frames: Vec<Planes> = [
        (3, (640, 480)),
        (4, (1500, 900)),
        (5, (640, 480)),
        (6, (1500, 900)),
        (9, (640, 480)),
    ]
    .into_iter()
    .map(|(seed, (w, h))| {
        let img = image::imageops::resize(&scene(seed), w, h, image::imageops::Triangle);
        decode::decode_bytes(Path::new("s.png"), &png_bytes(&img)).unwrap()
    })
    .collect();
    let refs: Vec<&Planes> = frames.iter().collect();
    let alone: Vec<Vec<PlateBox>> = frames
        .iter()
        .map(|f| detect::detect(f, None, 10).unwrap())
        .collect();
    // Distinct answers, so a frame given another's boxes shows.
    for (i, a) in alone.iter().enumerate() {
        assert!(!a.is_empty(), "frame {i} has no boxes");
        assert!(
            alone[..i].iter().all(|b| b != a),
            "frame {i} repeats one before it"
        );
    }
    assert_eq!(detect::detect_batch(&refs, None, 10).unwrap(), alone);

    // Two 640x480 frames a submission at the first kernel.
    let Some(gpu) = crate::gpu::open_gpu(Some(2 * 640 * 480 * 4)) else {
        return;
    };
    assert_eq!(detect::detect_batch(&refs, Some(&gpu), 10).unwrap(), alone);
    let small = [&frames[0], &frames[2], &frames[4]];
    let stack = Planes::stack(&small).unwrap();
    for factor in detect::factors(640, 480) {
        let batch = Stages::run_batch(&stack, factor, Some(&gpu)).unwrap();
        let each: Vec<Stages> = small
            .iter()
            .map(|f| Stages::run(f, factor, None).unwrap())
            .collect();
        assert!(batch == each, "factor {factor}: batched stages differ");
    }
}

#[test]
fn bad_files_are_named_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = batch(dir.path());
    let (files, errors) = rec::discover(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(files.len(), good.len() + bad.len());
    let mut found = Vec::new();
    let mut failed = Vec::new();
    let reader = rec::PlateReader::new(None, alpr::ocr::Reader::embedded().unwrap()).unwrap();
    rec::recognize_files(&files, &reader, 10, |outcome| match outcome {
        Ok(r) => found.push(r),
        Err(e) => failed.push(e.to_string()),
    });
    let found_paths: Vec<&PathBuf> = found.iter().map(|r| &r.path).collect();
    assert_eq!(found_paths, good.iter().collect::<Vec<_>>());
    for r in &found {
        assert!(
            best_iou(&r.plates.iter().map(|p| p.bbox).collect::<Vec<_>>()) >= 0.5,
            "{}: {:?}",
            r.path.display(),
            r.plates
        );
    }
    assert_eq!(failed.len(), bad.len(), "{failed:#?}");
    for (path, message) in bad.iter().zip(&failed) {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(message.contains(name), "{message}");
    }
    assert!(failed[0].contains("empty"), "{}", failed[0]);
    assert!(failed[4].contains("30000x30000"), "{}", failed[4]);
}

#[test]
fn a_sure_reads_json_confidence_is_its_probability_not_its_ranking_key() {
    // A generated gate frame whose plate the reader is sure of: the
    // ranking key (box score x confidence x a format's odds of 8) passes 1
    // there, and `confidence` must still be the read's probability.
    let frame =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/ingest/gate/frame0000.jpg");
    let o = Command::new(alpr_bin())
        .args(["recognize", "--gpu", "off", "--max-candidates", "3"])
        .arg(&frame)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let plate = &line["plates"][0];
    let confidence = plate["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&confidence), "{plate}");
    assert_eq!(plate["text"], plate["candidates"][0]["text"], "{plate}");
    assert_eq!(
        plate["confidence"], plate["candidates"][0]["confidence"],
        "{plate}"
    );
    assert!(
        plate["score"].as_f64().unwrap() > 1.0,
        "a sure serial's key: {plate}"
    );
}

#[test]
fn cli_prints_one_json_line_per_image_and_exits_3_on_skips() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad) = batch(dir.path());
    let o = Command::new(alpr_bin())
        .args(["recognize", "--gpu", "off", "--max-candidates", "5"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    let stdout = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), good.len());
    for line in &lines {
        assert!(line["image"].as_str().unwrap().contains("good"), "{line}");
        assert!(line["ms"].as_f64().unwrap() >= 0.0);
        let plates = line["plates"].as_array().unwrap();
        assert!(!plates.is_empty() && plates.len() <= 5, "{line}");
        for p in plates {
            let b = p["box"].as_array().unwrap();
            assert_eq!(b.len(), 4);
            assert!(b.iter().all(|v| v.as_u64().is_some()));
            assert!((0.0..=1.0).contains(&p["confidence"].as_f64().unwrap()));
            assert!(p["score"].as_f64().unwrap() >= 0.0, "{line}");
            if let Some(region) = p.get("region") {
                let region = region.as_str().unwrap();
                assert!(region.len() == 2 && region.bytes().all(|b| b.is_ascii_uppercase()));
            }
        }
    }
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("alpr: skipped:"))
            .count(),
        bad.len(),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("2 images processed, {} inputs skipped", bad.len())),
        "{stderr}"
    );
    // Only good inputs: exit 0.
    let o = Command::new(alpr_bin())
        .args(["recognize", "--gpu", "off"])
        .args(&good)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A missing path is a skipped input too.
    let o = Command::new(alpr_bin())
        .args(["recognize", "--gpu", "off", "/nonexistent/x.jpg"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.jpg"));
}

#[test]
fn bench_detect_times_frames_and_names_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene.png");
    std::fs::write(&path, png_bytes(&scene(3))).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_alpr"))
        .args(["bench", "detect", "--runs", "1"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 frames") && text.contains("ms/frame") && text.contains("frames/s"),
        "{text}"
    );
    assert!(text.contains("batches of 1 frames"), "{text}");
    // Narrowed to the paths of a CPU without AVX2, and saying so.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_alpr"))
        .args(["bench", "--cpu-vectors", "plain", "detect", "--runs", "1"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("CPU kernels (no AVX2"), "{text}");
}

/// `bench ingest` on a pool of one thread prints one row (it used to make
/// the one-thread store twice and fail), and leaves nothing in the
/// temporary folder.
#[test]
fn bench_ingest_on_one_thread_gives_one_row_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(alpr_bin())
        .args(["bench", "ingest", "--count", "2", "--views", "1"])
        .env("RAYON_NUM_THREADS", "1")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("thread(s):").count(), 1, "{text}");
    assert!(
        text.contains("1 thread(s)") && text.contains("2 frames"),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
