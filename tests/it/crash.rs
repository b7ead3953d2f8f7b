//! Kill -9 during a write, then rerun: the store equals a clean run's, with
//! no duplicate, missing or partial file.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::common::{alpr_bin, parquet_files};

fn synth_cmd(store: &Path) -> Command {
    let mut c = Command::new(alpr_bin());
    c.args([
        "synth-reads",
        "--reads",
        "40000",
        "--days",
        "8",
        "--cameras",
        "30",
        "--seed",
        "11",
    ])
    .arg("--store")
    .arg(store)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// Relative path and SHA-256 of every visible Parquet file.
fn snapshot(store: &Path) -> Vec<(String, String)> {
    parquet_files(store)
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(store.join(&rel)).unwrap();
            (
                rel.display().to_string(),
                hex::encode(Sha256::digest(&bytes)),
            )
        })
        .collect()
}

/// Every visible Parquet file opens and decodes completely.
fn assert_all_readable(store: &Path) {
    for rel in parquet_files(store) {
        let file = std::fs::File::open(store.join(&rel)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap_or_else(|e| panic!("partial file {}: {e}", rel.display()))
            .build()
            .unwrap();
        for batch in reader {
            batch.unwrap_or_else(|e| panic!("partial file {}: {e}", rel.display()));
        }
    }
}

#[test]
fn kill_9_during_writes_then_rerun_equals_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean");
    assert!(synth_cmd(&clean).status().unwrap().success());
    let expected = snapshot(&clean);
    assert!(expected.len() >= 8, "{expected:?}");

    let crashed = dir.path().join("crashed");
    // Kill each run just after it makes one more file visible: the other
    // writer thread is then mid-write. The first kill comes before any file.
    for round in 0..6 {
        let before = if crashed.exists() {
            parquet_files(&crashed).len()
        } else {
            0
        };
        let mut child = synth_cmd(&crashed).spawn().unwrap();
        loop {
            std::thread::sleep(Duration::from_millis(2));
            let exited = child.try_wait().unwrap().is_some();
            let now = if crashed.exists() {
                parquet_files(&crashed).len()
            } else {
                0
            };
            if exited || round == 0 || now > before {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        if crashed.exists() {
            assert_all_readable(&crashed);
        }
    }
    let partial = parquet_files(&crashed).len();
    assert!(
        partial < expected.len(),
        "the kills came too late to test anything"
    );
    assert!(synth_cmd(&crashed).status().unwrap().success());
    assert_eq!(snapshot(&crashed), expected);
    // And a third run adds nothing.
    assert!(synth_cmd(&crashed).status().unwrap().success());
    assert_eq!(snapshot(&crashed), expected);
    let leftovers: Vec<_> = walk(&crashed)
        .into_iter()
        .filter(|p| p.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "staging files left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}
