//! `alpr ingest` with the real localiser and reader on generated frames:
//! photos with sidecars, a zip, an MP4 and bad files; then kill -9 at
//! random moments and rerun: the store ends as a clean run leaves it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use std::time::Duration;

use alpr::store::Store;
use alpr::synth_plates::PlateSynth;
use rand::{Rng, SeedableRng};

use crate::common::{add_users, alpr_as, first_column, parquet_files};

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Inputs: 12 photos with sidecars, a zip of 6, a 2 s clip, a corrupt photo
/// and a truncated video.
fn inputs(dir: &Path) -> PathBuf {
    let synth = PlateSynth::new().unwrap();
    let root = dir.join("in");
    std::fs::create_dir_all(root.join("gate")).unwrap();
    for i in 0..12u64 {
        let scene = synth.scene(5, i, 320, 200);
        std::fs::write(root.join(format!("gate/p{i:02}.png")), png(&scene.image)).unwrap();
        let ts = format!("2026-10-0{}T0{}:00:00Z", 1 + i % 3, i % 10);
        std::fs::write(
            root.join(format!("gate/p{i:02}.json")),
            format!("{{\"ts\": \"{ts}\"}}"),
        )
        .unwrap();
    }
    let mut z = zip::ZipWriter::new(std::fs::File::create(root.join("export.zip")).unwrap());
    for i in 12..18u64 {
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file(format!("cam/p{i}.png"), opts).unwrap();
        z.write_all(&png(&synth.scene(5, i, 320, 200).image))
            .unwrap();
        z.start_file(format!("cam/p{i}.json"), opts).unwrap();
        z.write_all(b"{\"ts\": \"2026-10-04T10:00:00Z\"}").unwrap();
    }
    z.finish().unwrap();
    let scene = synth.scene(5, 99, 320, 192);
    let frames: Vec<Vec<u8>> = (0..20).map(|_| scene.image.as_raw().clone()).collect();
    let clip = alpr::ingest::video::tests_support::encode_mp4(&frames, 320, 192, 10);
    std::fs::write(root.join("patrol.mp4"), &clip).unwrap();
    std::fs::write(root.join("cut.mp4"), &clip[..clip.len() / 3]).unwrap();
    std::fs::write(root.join("gate/broken.png"), b"\x89PNG\r\n\x1a\nno").unwrap();
    root
}

fn ingest(store: &Path, input: &Path) -> Command {
    let mut c = alpr_as("it-administrator");
    c.arg("ingest")
        .arg(input)
        .arg("--store")
        .arg(store)
        .args(["--camera", "CAM-1", "--gpu", "off", "--fps", "5"])
        .args(["--video-start", "2026-10-05T12:00:00Z"]);
    c
}

fn read_ids(store: &Store) -> Vec<String> {
    first_column(store, "SELECT read_id FROM reads ORDER BY read_id")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn new_store(dir: &Path) -> Store {
    let store = Store::create(dir).unwrap();
    add_users(&store);
    store
}

#[test]
fn ingest_reads_everything_once_names_what_it_skips_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let input = inputs(dir.path());

    let clean = new_store(&dir.path().join("clean"));
    let o = ingest(clean.root(), &input).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "bad inputs are skipped: {}",
        text(&o)
    );
    let err = text(&o);
    assert!(err.contains("broken.png"), "{err}");
    assert!(err.contains("cut.mp4"), "{err}");
    // 12 + 6 photos and 10 frames of the clip at 5 fps; the cut clip lost
    // its index (written at the end) and yields none.
    assert!(err.contains("28 frames"), "{err}");
    let clean_ids = read_ids(&clean);
    assert!(
        !clean_ids.is_empty(),
        "the reader read some of the generated plates: {err}"
    );
    let again = ingest(clean.root(), &input).output().unwrap();
    assert!(text(&again).contains("0 reads"), "{}", text(&again));
    // What could not be read is still not in the store: said again.
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(text(&again).contains("broken.png"), "{}", text(&again));
    assert!(text(&again).contains("earlier run"), "{}", text(&again));
    assert_eq!(read_ids(&clean), clean_ids, "a rerun adds nothing");

    let crashed = new_store(&dir.path().join("crashed"));
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(17);
    let mut killed = 0;
    for _ in 0..5 {
        let mut child = ingest(crashed.root(), &input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(100..1500)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    let o = ingest(crashed.root(), &input).output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let ids = read_ids(&crashed);
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(ids.len(), distinct.len(), "no duplicates");
    assert_eq!(
        ids, clean_ids,
        "killed {killed} times: same read ids as a clean run"
    );
    let files = parquet_files(&crashed.reads_dir());
    assert!(files.iter().all(|f| !f.to_string_lossy().contains(".tmp")));
}

#[test]
fn a_source_without_camera_or_time_names_the_flag_that_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir.path().join("s"));
    let synth = PlateSynth::new().unwrap();
    let photo = dir.path().join("lone.png");
    std::fs::write(&photo, png(&synth.scene(1, 1, 320, 200).image)).unwrap();
    let o = alpr_as("it-administrator")
        .arg("ingest")
        .arg(&photo)
        .arg("--store")
        .arg(store.root())
        .args(["--gpu", "off"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("lone.png") && text(&o).contains("--camera"),
        "{}",
        text(&o)
    );
    let o = alpr_as("it-analyst")
        .arg("ingest")
        .arg(&photo)
        .arg("--store")
        .arg(store.root())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(4),
        "analysts do not ingest: {}",
        text(&o)
    );
}

/// `synth-frames` labels each frame as `eval` reads labels, so fresh
/// generated frames are one command from a score.
#[test]
fn generated_frames_are_labelled_for_eval() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(crate::common::alpr_bin())
        .args([
            "synth-frames",
            "--count",
            "2",
            "--width",
            "320",
            "--height",
            "240",
        ])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("labels.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let label = std::fs::read_to_string(dir.path().join("frame0000.txt")).unwrap();
    let fields: Vec<&str> = label.trim_end().split('\t').collect();
    assert_eq!(
        fields,
        [row[0], row[2], row[3], row[4], row[5], row[1]],
        "{label:?} against {csv:?}"
    );
    eval_json(dir.path(), 2);
}

/// `synth-frames --on-car` draws the same plates at the same places, labels
/// them alike, and names the car's parts in each frame's sidecar.
#[test]
fn frames_on_a_car_label_the_plain_frames_plates_and_name_their_parts() {
    let frames = |on_car: bool| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(crate::common::alpr_bin());
        cmd.args(["synth-frames", "--count", "3", "--seed", "21", "--out"])
            .arg(dir.path());
        if on_car {
            cmd.arg("--on-car");
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        dir
    };
    let (plain, car) = (frames(false), frames(true));
    let labels = |d: &tempfile::TempDir| std::fs::read_to_string(d.path().join("labels.csv"));
    assert_eq!(labels(&plain).unwrap(), labels(&car).unwrap());
    let sidecar = |d: &tempfile::TempDir, i: u32| -> serde_json::Value {
        let s = std::fs::read_to_string(d.path().join(format!("frame{i:04}.json"))).unwrap();
        serde_json::from_str(&s).unwrap()
    };
    for i in 0..3 {
        assert!(sidecar(&plain, i).get("car").is_none());
        let parts = sidecar(&car, i)["car"].as_array().unwrap().clone();
        let known = alpr::synth_plates::CarParts::NAMES;
        assert!(
            parts.iter().all(|p| known.contains(&p.as_str().unwrap())),
            "{parts:?}"
        );
    }
}

/// `alpr eval --json --per-image` on a labelled folder of `images` photos,
/// each with a prediction: its figures, and its per-image lines, one for
/// each photo, which count what the figures count.
fn eval_json(dir: &std::path::Path, images: u64) -> (serde_json::Value, Vec<serde_json::Value>) {
    let out = tempfile::tempdir().unwrap();
    let per_image = out.path().join("per-image.jsonl");
    let o = Command::new(crate::common::alpr_bin())
        .args(["eval", "--gpu", "off", "--json", "--per-image"])
        .arg(&per_image)
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (f["images"].as_u64(), f["predicted"].as_u64()),
        (Some(images), Some(images)),
        "{f}"
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&per_image)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, images, "{lines:?}");
    type Pick = fn(&serde_json::Value) -> bool;
    let share = |pick: Pick| lines.iter().filter(|l| pick(l)).count() as f64 / images as f64;
    let picks: [(&serde_json::Value, Pick); 6] = [
        (&f["top1"], |l| l["top1"] == true),
        (&f["top10"], |l| l["top10"] == true),
        (&f["det_recall"], |l| l["box_found"] == true),
        (&f["at_labelled_boxes"]["top1"], |l| l["at_box"][1] == true),
        (&f["at_labelled_boxes"]["top10"], |l| l["at_box"][2] == true),
        (&f["stored"]["plate"], |l| l["stored"][0] == true),
    ];
    for (figure, pick) in picks {
        assert_eq!(figure.as_f64(), Some(share(pick)), "{f} against {lines:?}");
    }
    (f, lines)
}

#[test]
fn eval_scores_labelled_photos_and_crops_like_score_plates() {
    let dir = tempfile::tempdir().unwrap();
    let synth = PlateSynth::new().unwrap();
    let mut csv = String::new();
    let mut texts = Vec::new();
    for i in 0..3u64 {
        let scene = synth.scene(9, i, 320, 200);
        texts.push(alpr::recognize::eval::norm(&scene.text));
        std::fs::write(dir.path().join(format!("s{i}.png")), png(&scene.image)).unwrap();
        let [x, y, w, h] = scene.bbox;
        std::fs::write(
            dir.path().join(format!("s{i}.txt")),
            format!("s{i}.png\t{x}\t{y}\t{w}\t{h}\t{}\n", scene.text),
        )
        .unwrap();
        let crop = synth.sample(9, i);
        std::fs::write(dir.path().join(format!("c{i}.png")), png(&crop.image)).unwrap();
        csv.push_str(&format!("c{i}.png,xx,{}\n", crop.text));
    }
    let (f, lines) = eval_json(dir.path(), 3);
    // One line per photo, in file-name order, each with its own label.
    let labelled: Vec<&str> = lines.iter().map(|l| l["label"].as_str().unwrap()).collect();
    assert_eq!(labelled, texts, "{lines:?}");
    for k in [
        "det_recall",
        "top1",
        "top1_any",
        "top10",
        "char_acc",
        "ms_p50",
    ] {
        assert!(f[k].as_f64().is_some_and(|v| v >= 0.0), "{k}: {f}");
    }
    let binned: u64 = f["by_width"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["images"].as_u64().unwrap())
        .sum();
    assert_eq!(binned, 3, "every labelled plate in a width bin: {f}");
    // The reader alone at the labelled boxes, beside the end-to-end figures.
    let at = &f["at_labelled_boxes"];
    assert_eq!(at["images"].as_u64(), Some(3), "{f}");
    let (top1, top10) = (at["top1"].as_f64().unwrap(), at["top10"].as_f64().unwrap());
    assert!((0.0..=1.0).contains(&top1) && top10 >= top1, "{f}");
    // A label whose box lies outside its photo is named, and a miss there.
    let far = "s0.png\t900\t900\t50\t20\tABC123\n";
    let stray = dir.path().join("far");
    std::fs::create_dir(&stray).unwrap();
    std::fs::copy(dir.path().join("s0.png"), stray.join("s0.png")).unwrap();
    std::fs::write(stray.join("s0.txt"), far).unwrap();
    let per_image = dir.path().join("far.jsonl");
    let o = Command::new(crate::common::alpr_bin())
        .args(["eval", "--gpu", "off", "--json", "--per-image"])
        .arg(&per_image)
        .arg(&stray)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(f["at_labelled_boxes"]["images"].as_u64(), Some(1), "{f}");
    assert_eq!(f["at_labelled_boxes"]["top10"].as_f64(), Some(0.0), "{f}");
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&per_image).unwrap().trim()).unwrap();
    assert_eq!(
        (
            &line["image"],
            &line["label"],
            &line["box_found"],
            &line["at_box"]
        ),
        (
            &serde_json::json!("s0.png"),
            &serde_json::json!("ABC123"),
            &serde_json::json!(false),
            &serde_json::json!(["", false, false])
        ),
        "{line}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("s0.png") && err.contains("lies outside the 320x200 photo"),
        "{err}"
    );
    std::fs::write(dir.path().join("groundtruth.csv"), csv).unwrap();
    let o = Command::new(crate::common::alpr_bin())
        .args(["eval", "--gpu", "off"])
        .arg(dir.path().join("groundtruth.csv"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("images      3\npredicted   3\ntop1"),
        "{out}"
    );
    assert!(!out.contains("det_recall"), "{out}");
    // The crops' labels give states: how many the reader named, and how
    // many right (none can be: no state is "XX").
    let states = out.lines().find(|l| l.starts_with("states ")).unwrap_or("");
    assert!(states.contains(" of 3 named, 0 right"), "{out}");
}
