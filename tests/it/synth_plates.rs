//! `alpr synth-plates`: N PNGs that decode, a labels.csv naming each with a
//! valid plate, the same labels as a groundtruth.csv that `alpr eval`
//! reads, a montage on request, and a clear error for a bad count.

use std::process::Command;

use crate::common::alpr_bin;

#[test]
fn synth_plates_writes_images_labels_and_montage() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plates");
    let montage = dir.path().join("montage.png");
    let o = Command::new(alpr_bin())
        .args(["synth-plates", "--count", "12", "--seed", "5", "--out"])
        .arg(&out)
        .arg("--montage")
        .arg(&montage)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let csv = std::fs::read_to_string(out.join("labels.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("file,style,PLATE"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 12);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 3, "{row:?}");
        assert_eq!(row[0], format!("{i:06}.png"));
        assert!(row[1] == "eu" || row[1].starts_with("us-"), "{row:?}");
        let plate = row[2];
        assert!(
            (1..=8).contains(&plate.len())
                && plate
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
            "{row:?}"
        );
        let img = image::open(out.join(row[0])).unwrap();
        assert!(img.width() >= 60 && img.height() >= 8);
    }
    // The same crops in the labelled crops' format: no header, a US
    // style's state, none for the European style.
    let truth = std::fs::read_to_string(out.join("groundtruth.csv")).unwrap();
    let truth: Vec<Vec<&str>> = truth.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(truth.len(), 12);
    for (row, label) in truth.iter().zip(&rows) {
        let state = label[1]
            .strip_prefix("us-")
            .unwrap_or("")
            .to_ascii_uppercase();
        assert_eq!(row, &vec![label[0], state.as_str(), label[2]]);
    }
    // Exactly the images and the labels: no staging files left behind.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 14);
    // `alpr eval` reads it as it is: twelve crops (no header taken for
    // one), the US ones with a state.
    let o = Command::new(alpr_bin())
        .args(["eval", "--gpu", "off", "--json"])
        .arg(out.join("groundtruth.csv"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (f["images"].as_u64(), f["predicted"].as_u64()),
        (Some(12), Some(12)),
        "{f}"
    );
    let us = rows.iter().filter(|r| r[1] != "eu").count() as u64;
    assert_eq!(f["states"]["labelled"].as_u64().unwrap_or(0), us, "{f}");
    let grid = image::open(&montage).unwrap();
    assert!(grid.width() > 0 && grid.height() > 0);

    // The same seed gives the same labels.
    let again = dir.path().join("again");
    let o = Command::new(alpr_bin())
        .args(["synth-plates", "--count", "12", "--seed", "5", "--out"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(again.join("labels.csv")).unwrap(),
        csv
    );
}

#[test]
fn zero_count_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(alpr_bin())
        .args(["synth-plates", "--count", "0", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--count"));
}
