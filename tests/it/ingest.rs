//! The ingest pipeline through its library API, with a stand-in reader:
//! frames carry their plate in a colour code, so these tests check the
//! plumbing (archives, sidecars, rules, ledger, passes, reprocess, alerts,
//! bad input) independently of how well plates are read. The real reader
//! is exercised end to end elsewhere.

use std::io::Write;
use std::path::{Path, PathBuf};

use alpr::audit::Access;
use alpr::audit::access::Action;
use alpr::audit::users::Credentials;
use alpr::gpu::Planes;
use alpr::ingest::context::{Rules, parse_offset};
use alpr::ingest::video::tests_support::encode_mp4;
use alpr::ingest::{Config, Summary, run};
use alpr::recognize::detect::PlateBox;
use alpr::recognize::reader::{FoundPlate, FrameReader};
use alpr::store::Store;

use crate::common::{PASSWORD, add_users};

const PLATES: [&str; 4] = ["7ABC123", "8XYZ999", "5KLM246", "6TRM418"];

/// Reads the plate a test frame encodes: the red level of its top-left
/// pixel, in steps of 50, picks a plate; 250 and up means none.
struct ColourReader {
    version: &'static str,
}

impl FrameReader for ColourReader {
    fn model_version(&self) -> String {
        self.version.into()
    }

    fn read(&self, frames: &[&Planes]) -> alpr::Result<Vec<Vec<FoundPlate>>> {
        Ok(frames
            .iter()
            .map(|f| {
                let [r, g, _, _] = f.plane(0)[0].to_le_bytes();
                let i = ((r as usize) + 25) / 50;
                if i >= PLATES.len() {
                    return vec![];
                }
                vec![FoundPlate {
                    bbox: PlateBox {
                        x: 1,
                        y: 1,
                        w: 20,
                        h: 10,
                        confidence: 1.0,
                        tilt: 0.0,
                    },
                    text: PLATES[i].into(),
                    confidence: g as f32 / 255.0,
                    alternates: vec![],
                    char_confidence: vec![0.9; PLATES[i].len()],
                    region: None,
                    crop_jpeg: vec![0xFF, 0xD8],
                }]
            })
            .collect())
    }
}

fn photo(plate: usize, confidence: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 32, image::Rgb([(plate * 50) as u8, confidence, 0]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn sidecar(ts: &str, camera: &str) -> Vec<u8> {
    format!("{{\"ts\": \"{ts}\", \"camera\": \"{camera}\"}}").into_bytes()
}

struct Setup {
    dir: tempfile::TempDir,
    store: Store,
    access: Access,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("store")).unwrap();
    setup_in(dir, store)
}

fn setup_in(dir: tempfile::TempDir, store: Store) -> Setup {
    add_users(&store);
    let creds = Credentials {
        user: "it-administrator".into(),
        password: PASSWORD.into(),
    };
    let access = Access::login(&store, &creds, Action::Ingest).unwrap();
    Setup { dir, store, access }
}

fn config(inputs: Vec<PathBuf>) -> Config {
    Config {
        inputs,
        rules: Rules {
            camera: Some("CAM-7".into()),
            exif_offset: Some(parse_offset("-08:00").unwrap()),
            ..Rules::default()
        },
        fps: 100.0,
        reprocess: false,
        threads: None,
    }
}

fn ingest(s: &Setup, config: &Config, version: &'static str) -> Summary {
    run(
        &s.access,
        &s.store,
        config,
        &ColourReader { version },
        &|_| {},
    )
    .unwrap()
}

/// Every read as (read id, plate, camera, ts), sorted.
fn reads(store: &Store) -> Vec<(String, String, String, String)> {
    let sql = "SELECT read_id, plate, camera_id, CAST(ts AS VARCHAR) FROM reads ORDER BY 1";
    crate::common::rows(store, sql)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
        .collect()
}

fn write_zip(path: &Path, files: &[(&str, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in files {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn folders_and_archives_become_reads_once_with_their_time_and_camera() {
    let s = setup();
    let input = s.dir.path().join("in");
    std::fs::create_dir_all(input.join("north")).unwrap();
    std::fs::write(input.join("north/a.png"), photo(0, 200)).unwrap();
    std::fs::write(
        input.join("north/a.json"),
        sidecar("2026-10-02T08:00:00-07:00", "CAM-N"),
    )
    .unwrap();
    std::fs::write(input.join("north/b.png"), photo(1, 200)).unwrap();
    std::fs::write(
        input.join("north/b.json"),
        sidecar("2026-10-02T08:05:00Z", "CAM-N"),
    )
    .unwrap();
    // An archive whose sidecars come after their photos, a corrupt photo,
    // a photo without any time, and a stray file.
    write_zip(
        &input.join("export.zip"),
        &[
            ("day1/c.png", photo(2, 200)),
            ("day1/c.json", sidecar("2026-10-03T10:00:00Z", "CAM-Z")),
            ("day1/broken.png", b"\x89PNG\r\n\x1a\n garbage".to_vec()),
            ("day1/notime.png", photo(3, 200)),
            ("day1/readme.txt", b"hello".to_vec()),
        ],
    );
    let cfg = config(vec![input.clone()]);
    let first = ingest(&s, &cfg, "v1");
    assert_eq!(
        (first.sources, first.batches, first.reads),
        (3, 2, 3),
        "{first:?}"
    );
    let skipped: Vec<String> = first
        .skipped
        .iter()
        .map(|(w, why)| format!("{w}: {why}"))
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:#?}");
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("export.zip!day1/broken.png"))
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("notime.png") && s.contains("no capture time"))
    );
    assert!(skipped.iter().any(|s| s.contains("readme.txt")));
    let got = reads(&s.store);
    let summary: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|r| (r.1.as_str(), r.2.as_str(), r.3.as_str()))
        .collect();
    let mut summary = summary;
    summary.sort();
    assert_eq!(
        summary,
        vec![
            ("5KLM246", "CAM-Z", "2026-10-03T10:00:00Z"),
            ("7ABC123", "CAM-N", "2026-10-02T15:00:00Z"),
            ("8XYZ999", "CAM-N", "2026-10-02T08:05:00Z"),
        ]
    );
    // Again: the photos are done; the archive, which had a fixable problem
    // (a photo without a time), is read again and replaces its own reads.
    let again = ingest(&s, &cfg, "v1");
    assert_eq!((again.already_done, again.batches, again.reads), (2, 1, 1));
    assert_eq!(reads(&s.store), got);
    // With the time known, the archive is complete and done.
    write_zip(
        &input.join("export.zip"),
        &[
            ("day1/c.png", photo(2, 200)),
            ("day1/c.json", sidecar("2026-10-03T10:00:00Z", "CAM-Z")),
            ("day1/notime.png", photo(3, 200)),
            ("day1/notime.json", sidecar("2026-10-03T11:00:00Z", "CAM-Z")),
        ],
    );
    let fixed = ingest(&s, &cfg, "v1");
    assert_eq!((fixed.batches, fixed.reads), (1, 2), "{fixed:?}");
    assert!(fixed.skipped.is_empty(), "{fixed:?}");
    assert_eq!(
        reads(&s.store).len(),
        5,
        "the old archive's read is still there"
    );
    assert_eq!(ingest(&s, &cfg, "v1").batches, 0);
}

#[test]
fn a_crashed_batch_is_redone_under_its_id_and_nothing_doubles() {
    let s = setup();
    let input = s.dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..5 {
        std::fs::write(input.join(format!("p{i}.png")), photo(i % 4, 100 + i as u8)).unwrap();
        std::fs::write(
            input.join(format!("p{i}.json")),
            sidecar(&format!("2026-10-0{}T12:00:00Z", 1 + i), "CAM-1"),
        )
        .unwrap();
    }
    let cfg = config(vec![input.clone()]);
    let clean = {
        let c = setup();
        ingest(&c, &cfg, "v1");
        reads(&c.store)
    };
    // Simulate a crash after the plan and part of the writes: run fully,
    // then put the ledger back to 'planned' and delete one partition file.
    ingest(&s, &cfg, "v1");
    let raw = rusqlite::Connection::open(alpr::audit::catalog::Catalog::path_in(&s.store)).unwrap();
    raw.execute("UPDATE ingest_ledger SET status = 'planned'", [])
        .unwrap();
    let day = s.store.partitions().unwrap()[2];
    for f in std::fs::read_dir(s.store.partition_dir(day)).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let resumed = ingest(&s, &cfg, "v1");
    assert_eq!(resumed.batches, 1);
    assert_eq!(reads(&s.store), clean, "same read ids, no duplicates");
}

#[test]
fn reprocess_replaces_the_reads_of_an_older_model() {
    let s = setup();
    let input = s.dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("a.png"), photo(0, 90)).unwrap();
    std::fs::write(
        input.join("a.json"),
        sidecar("2026-10-02T08:00:00Z", "CAM-1"),
    )
    .unwrap();
    let mut cfg = config(vec![input.clone()]);
    ingest(&s, &cfg, "v1");
    let v1 = reads(&s.store);
    // A new model without --reprocess leaves old sources alone... but reads
    // new ones; with --reprocess the old reads are replaced.
    cfg.reprocess = true;
    let r = ingest(&s, &cfg, "v2");
    assert_eq!((r.batches, r.replaced_batches), (1, 1), "{r:?}");
    let v2 = reads(&s.store);
    assert_eq!(v2.len(), 1);
    assert_ne!(v1[0].0, v2[0].0, "a new read id for the new model's read");
    assert_eq!(v2[0].1, "7ABC123");
    let again = ingest(&s, &cfg, "v2");
    assert_eq!((again.batches, again.already_done), (0, 1));
    // The old batch's files are gone, not just hidden.
    let files = crate::common::parquet_files(&s.store.reads_dir());
    assert_eq!(files.len(), 1, "{files:?}");
}

#[test]
fn a_hot_listed_plate_becomes_an_unverified_alert_at_ingest() {
    let s = setup();
    let list = s.dir.path().join("stolen.csv");
    std::fs::write(
        &list,
        "plate,reason,source,vehicle,expires\n8XYZ999,stolen,NCIC,,\n",
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(alpr::audit::alerts::import_hotlist(
        &s.access_as("it-supervisor"),
        &s.store,
        &list,
        "stolen",
    ))
    .unwrap();
    let input = s.dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (i, plate) in [1usize, 0, 1].into_iter().enumerate() {
        std::fs::write(input.join(format!("p{i}.png")), photo(plate, 200 + i as u8)).unwrap();
        std::fs::write(
            input.join(format!("p{i}.json")),
            sidecar(&format!("2026-10-02T08:0{i}:00Z"), "CAM-1"),
        )
        .unwrap();
    }
    let r = ingest(&s, &config(vec![input]), "v1");
    assert_eq!((r.reads, r.alerts), (3, 2));
    let alerts = s
        .access
        .catalog
        .read(|c| alpr::audit::alerts::list(c, Some("unverified")))
        .unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts
            .iter()
            .all(|a| a.read_plate == "8XYZ999" && a.list == "stolen")
    );
}

#[test]
fn footage_gives_one_read_per_pass() {
    let s = setup();
    // 3 s at 10 fps: 1 s of plate 0, 1 s of nothing, 1 s of plate 1; the
    // colour code survives H.264 in big flat frames.
    let (w, h) = (64, 48);
    let frames: Vec<Vec<u8>> = (0..30)
        .map(|i| {
            let (r, g) = match i / 10 {
                0 => (0u8, 100 + i as u8 * 10),
                1 => (255, 0),
                _ => (50, 200),
            };
            (0..w * h).flat_map(|_| [r, g, 0]).collect()
        })
        .collect();
    let mp4 = encode_mp4(&frames, w, h, 10);
    let path = s.dir.path().join("patrol.mp4");
    std::fs::write(&path, &mp4).unwrap();
    let mut cfg = config(vec![path.clone()]);
    let r = ingest(&s, &cfg, "v1");
    assert_eq!(r.skipped.len(), 1, "no start time: {r:?}");
    assert!(r.skipped[0].1.contains("--video-start"), "{r:?}");
    cfg.rules.video_start = Some("2026-10-02T08:00:00Z".parse().unwrap());
    // The fixable source is retried on the next run with the same model.
    let r = ingest(&s, &cfg, "v1");
    assert_eq!((r.frames, r.reads), (30, 2), "{r:?}");
    assert!(r.skipped.is_empty(), "{r:?}");
    assert_eq!(ingest(&s, &cfg, "v1").already_done, 1);
    let got = reads(&s.store);
    let plates: Vec<&str> = got.iter().map(|r| r.1.as_str()).collect();
    assert!(
        plates.contains(&"7ABC123") && plates.contains(&"8XYZ999"),
        "{got:?}"
    );
}

impl Setup {
    fn access_as(&self, user: &str) -> Access {
        Access::login(
            &self.store,
            &Credentials {
                user: user.into(),
                password: PASSWORD.into(),
            },
            Action::ImportHotlist,
        )
        .unwrap()
    }
}

/// Records the threads it reads on; reads on the CPU or, it says, a GPU.
struct ThreadRecorder {
    on_cpu: bool,
    threads: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl FrameReader for ThreadRecorder {
    fn model_version(&self) -> String {
        "threads".into()
    }

    fn on_cpu(&self) -> bool {
        self.on_cpu
    }

    fn read(&self, frames: &[&Planes]) -> alpr::Result<Vec<Vec<FoundPlate>>> {
        let name = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        self.threads.lock().unwrap().insert(name);
        Ok(vec![vec![]; frames.len()])
    }
}

/// Ingests 40 distinct photos on `threads` threads with a reader on the CPU
/// or not; the names of the threads it read on.
fn read_on(threads: usize, on_cpu: bool) -> Vec<String> {
    let s = setup();
    let input = s.dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // Distinct photos (duplicates are read once), more chunks than the
    // decoding queue holds, so decoding waits on reading: a decoder blocked
    // on the queue while holding the reader's only thread would hang.
    for i in 0..40 {
        std::fs::write(
            input.join(format!("p{i:02}.png")),
            photo(i % 4, 100 + i as u8),
        )
        .unwrap();
        std::fs::write(
            input.join(format!("p{i:02}.json")),
            sidecar("2026-10-02T08:00:00Z", "CAM-N"),
        )
        .unwrap();
    }
    let mut cfg = config(vec![input]);
    cfg.threads = Some(threads);
    let (done, finished) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        let reader = ThreadRecorder {
            on_cpu,
            threads: Default::default(),
        };
        let summary = run(&s.access, &s.store, &cfg, &reader, &|_| {}).unwrap();
        done.send(()).unwrap();
        (summary, reader.threads.into_inner().unwrap())
    });
    finished
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the ingest finishes");
    let (summary, names) = runner.join().unwrap();
    assert_eq!((summary.sources, summary.frames), (40, 40), "{summary:?}");
    names.into_iter().collect()
}

#[test]
fn a_run_on_one_thread_reads_there_and_finishes() {
    assert_eq!(read_on(1, true), ["alpr-ingest-0"]);
}

#[test]
fn a_cpu_reader_gets_threads_of_its_own_and_a_gpu_reader_shares() {
    // Two threads: one decodes, one reads.
    assert_eq!(read_on(2, true), ["alpr-read-0"]);
    let shared = read_on(2, false);
    assert!(
        !shared.is_empty() && shared.iter().all(|n| n.starts_with("alpr-ingest-")),
        "{shared:?}"
    );
}
