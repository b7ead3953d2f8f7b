//! The binary's promises: clear errors with the documented exit codes,
//! and the output formats.

use std::process::{Command, Output};

use crate::common::{PASSWORD, alpr_as, alpr_bin, small_store};

/// `alpr ARGS`, and for `query` logged in as an analyst with a purpose.
fn alpr(args: &[&str]) -> Output {
    if args.first() == Some(&"query") {
        return alpr_as("it-analyst")
            .args(args)
            .args(["--purpose", "investigation", "--case", "IT-2026-1"])
            .output()
            .unwrap();
    }
    Command::new(alpr_bin()).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn store_arg() -> String {
    small_store().store.root().display().to_string()
}

#[test]
fn relative_output_folders_are_created_under_the_working_directory() {
    // Commands that create a folder or write a named file, given paths
    // relative to the working directory whose folders do not exist yet:
    // each is created and fsynced in the directory above it, `.` for a bare
    // name. (The demo: its own test below; release export and retention's
    // evidence: the access tests run them from their temporary folder.)
    let cwd = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(alpr_bin())
            .current_dir(cwd.path())
            .args(args)
            .env("ALPR_NEW_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    };
    run(&[
        "synth-plates",
        "--out",
        "plates/new",
        "--count",
        "2",
        "--seed",
        "3",
        "--montage",
        "montage.png",
    ]);
    run(&[
        "synth-frames",
        "--out",
        "frames/new",
        "--count",
        "1",
        "--width",
        "320",
        "--height",
        "240",
    ]);
    run(&[
        "synth-reads",
        "--store",
        "reads/new",
        "--reads",
        "1000",
        "--days",
        "3",
        "--cameras",
        "10",
        "--truths",
        "truths.json",
    ]);
    run(&[
        "admin",
        "init",
        "--store",
        "users/new",
        "--user",
        "chief",
        "--organisation",
        "SO",
        "--trained-on",
        "2026-11-01",
    ]);
    #[cfg(feature = "train")]
    {
        run(&[
            "train-ocr",
            "--out",
            "model/new",
            "--steps",
            "2",
            "--batch",
            "2",
            "--eval-every",
            "2",
            "--val-size",
            "2",
            "--threads",
            "1",
        ]);
        assert!(cwd.path().join("model/new/ocr.safetensors").is_file());
    }
    let made = [
        "plates/new/labels.csv",
        "montage.png",
        "frames/new/labels.csv",
        "truths.json",
        "users/new/catalog.sqlite",
    ];
    for path in made {
        assert!(cwd.path().join(path).is_file(), "{path} missing");
    }
    assert!(!crate::common::parquet_files(&cwd.path().join("reads/new")).is_empty());
}

/// The README's main command, on a small store at a relative path: every
/// investigation runs, the stakeout finds the planted vehicle at all three
/// sites, the audit trail verifies, and the demo's passwords are the
/// owner's alone.
#[test]
fn the_demo_runs_end_to_end_in_a_relative_store() {
    let cwd = tempfile::tempdir().unwrap();
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples");
    let o = Command::new(alpr_bin())
        .current_dir(cwd.path())
        .args([
            "demo",
            "--store",
            "demo/new",
            "--reads",
            "2000",
            "--samples",
        ])
        .arg(&samples)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("0 skipped"), "{out}");
    assert!(out.contains("hash chain intact"), "{out}");
    let (_, truths) = out.split_once("Planted truths: ").expect("truths printed");
    let truths: serde_json::Value = serde_json::from_str(truths).unwrap();
    let plate = truths["stakeout_plate"].as_str().unwrap();
    let (_, stakeout) = out.split_once("== Stakeout").unwrap();
    let (stakeout, _) = stakeout.split_once("\n==").unwrap();
    assert!(
        stakeout.contains(&format!("| {plate} | 3 ")),
        "{plate} not at 3 sites:\n{stakeout}"
    );
    let store = cwd.path().join("demo/new");
    assert!(store.join("alpr-store.json").is_file());
    assert!(!crate::common::parquet_files(&store.join("reads")).is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.join("demo-credentials.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "credentials mode {mode:o}");
    }
}

#[test]
fn synth_reads_refuses_bad_options_before_it_makes_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let o = alpr(&[
        "synth-reads",
        "--store",
        store.to_str().unwrap(),
        "--days",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--days must be at least 3"),
        "{}",
        stderr(&o)
    );
    assert!(!store.exists(), "an empty store was left behind");
}

#[test]
fn missing_store_is_a_clear_bad_input_error() {
    let o = alpr(&["query", "--store", "/nonexistent/store", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/nonexistent/store does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_saved_query_lists_the_known_ones() {
    let store = store_arg();
    let o = alpr(&["query", "--store", &store, "--saved", "canvas"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("unknown saved query 'canvas'") && e.contains("canvass"),
        "{e}"
    );
}

#[test]
fn missing_and_ill_typed_parameters_are_named() {
    let store = store_arg();
    let o = alpr(&[
        "query", "--store", &store, "--saved", "canvass", "--param", "lat=34.1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("needs parameter 'lon'"),
        "{}",
        stderr(&o)
    );
    let o = alpr(&[
        "query",
        "--store",
        &store,
        "--saved",
        "plate_history",
        "--param",
        "plate=7ABC123",
        "--param",
        "from=last tuesday",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("'from' expects timestamp, got 'last tuesday'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wildcard_only_pattern_is_refused_in_saved_and_adhoc_queries() {
    let store = store_arg();
    let o = alpr(&[
        "query",
        "--store",
        &store,
        "--saved",
        "partial_plate",
        "--param",
        "pattern=*?*",
        "--param",
        "from=2026-10-01",
        "--param",
        "to=2026-10-08",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("'*?*'"), "{}", stderr(&o));
    let o = alpr(&[
        "query",
        "--store",
        &store,
        "SELECT count(*) FROM reads WHERE plate_match(plate, '*')",
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("'*'"), "{}", stderr(&o));
}

#[test]
fn hostile_parameter_is_bound_as_a_value() {
    let store = store_arg();
    let o = alpr(&[
        "query",
        "--store",
        &store,
        "--saved",
        "frequency",
        "--param",
        "from=2026-10-01",
        "--param",
        "to=2026-10-08",
        "--param",
        "camera=x' OR '1'='1",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1, "only the CSV header: {out}");
}

#[test]
fn formats_csv_jsonl_and_parquet() {
    let store = store_arg();
    let sql =
        "SELECT camera_id, count(*) AS n FROM reads GROUP BY camera_id ORDER BY camera_id LIMIT 3";
    let o = alpr(&["query", "--store", &store, sql, "--format", "csv"]);
    let csv = String::from_utf8_lossy(&o.stdout);
    assert_eq!(csv.lines().next(), Some("camera_id,n"));
    assert_eq!(csv.lines().count(), 4);
    let o = alpr(&["query", "--store", &store, sql, "--format", "jsonl"]);
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap()).unwrap();
    assert!(first["n"].as_i64().unwrap() > 0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.parquet");
    let o = alpr(&[
        "query",
        "--store",
        &store,
        sql,
        "--format",
        "parquet",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reader =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&out).unwrap())
            .unwrap();
    use parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
}

#[test]
fn explain_shows_only_the_partitions_of_the_time_window() {
    let store = store_arg();
    let o = alpr(&[
        "query",
        "--store",
        &store,
        "EXPLAIN SELECT plate FROM reads WHERE ts BETWEEN '2026-10-03T01:00:00Z' AND '2026-10-03T03:00:00Z'",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(plan.contains("date=2026-10-03"), "{plan}");
    for other in ["date=2026-10-02", "date=2026-10-04", "date=2026-10-01"] {
        assert!(!plan.contains(other), "{other} not pruned:\n{plan}");
    }
}

#[test]
fn queries_lists_every_saved_query_with_parameters() {
    let o = alpr(&["queries"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "canvass",
        "convoy",
        "frequency",
        "hotlist_hits",
        "partial_plate",
        "plate_history",
        "stakeout",
    ] {
        assert!(out.contains(name), "{name} missing:\n{out}");
    }
    assert!(out.contains("--param radius_m=<float>"), "{out}");
}

/// A zero count is a mistake on the command line (exit 2), in `train-ocr`
/// as in `bench train`, and nothing is written.
#[cfg(feature = "train")]
#[test]
fn zero_training_counts_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model");
    let out_arg = out.display().to_string();
    for flag in ["--steps", "--batch", "--eval-every"] {
        let o = alpr(&["train-ocr", "--out", &out_arg, flag, "0"]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains("must be positive"), "{}", stderr(&o));
    }
    assert!(!out.exists());
    for flag in ["--steps", "--batch", "--runs"] {
        let o = alpr(&["bench", "train", flag, "0"]);
        assert_eq!(o.status.code(), Some(2), "bench {flag}: {}", stderr(&o));
        assert!(stderr(&o).contains("must be positive"), "{}", stderr(&o));
    }
}

/// A bench of no passes is a mistake on the command line, not one pass.
#[test]
fn a_bench_of_no_runs_is_bad_input() {
    let o = alpr(&["bench", "ocr", "--runs", "0"]);
    assert_eq!(o.status.code(), Some(2), "bench ocr: {}", stderr(&o));
    assert!(stderr(&o).contains("must be positive"), "{}", stderr(&o));
}
