//! The camera registry as agencies keep it: a CSV with the header
//! `id,name,lat,lon,heading,agency` (heading may be empty: a patrol car's
//! camera has none), imported whole into `cameras/cameras.parquet`.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float32Type, Float64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::reference::{Camera, cameras_batch};
use super::writer::write_table;
use super::{Store, csv};
use crate::error::{Error, Result};

const HEADER: [&str; 6] = ["id", "name", "lat", "lon", "heading", "agency"];

/// Parses a registry CSV; a bad line is an error naming file and line.
pub fn parse_csv(path: &Path) -> Result<Vec<Camera>> {
    let bad = |line: usize, why: String| csv::bad(path, line, why);
    let mut out: Vec<Camera> = Vec::new();
    for (n, f) in csv::rows(path, &HEADER, HEADER.len())? {
        let id = f[0].as_str();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(bad(
                n,
                format!("'{id}' is not a camera id (letters, digits, - _ .)"),
            ));
        }
        if out.iter().any(|c| c.camera_id == id) {
            return Err(bad(n, format!("camera '{id}' is listed twice")));
        }
        let num = |s: &str, what: &str| {
            s.parse::<f64>()
                .map_err(|_| bad(n, format!("{what} '{s}' is not a number")))
        };
        let (lat, lon) = (num(&f[2], "lat")?, num(&f[3], "lon")?);
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(bad(n, format!("{lat},{lon} is not on Earth")));
        }
        let heading = match f[4].as_str() {
            "" => None,
            h => Some(num(h, "heading")? as f32),
        };
        out.push(Camera {
            camera_id: id.to_string(),
            name: f[1].to_string(),
            lat,
            lon,
            heading,
            agency: f[5].to_string(),
        });
    }
    if out.is_empty() {
        return Err(bad(2, "no cameras".into()));
    }
    Ok(out)
}

/// Replaces the store's registry with `cameras`.
pub fn write(store: &Store, cameras: &[Camera]) -> Result<()> {
    write_table(&store.cameras_path(), &cameras_batch(cameras))
}

/// The store's registry by id (empty when there is none).
pub fn load(store: &Store) -> Result<HashMap<String, Camera>> {
    let path = store.cameras_path();
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let mut out = HashMap::new();
    for batch in reader {
        let b: RecordBatch = batch?;
        let s = |i: usize| b.column(i).as_string::<i32>().clone();
        let (ids, names, agencies) = (s(0), s(1), s(5));
        let lat = b.column(2).as_primitive::<Float64Type>();
        let lon = b.column(3).as_primitive::<Float64Type>();
        let heading = b.column(4).as_primitive::<Float32Type>();
        for i in 0..b.num_rows() {
            use arrow::array::Array;
            let c = Camera {
                camera_id: ids.value(i).to_string(),
                name: names.value(i).to_string(),
                lat: lat.value(i),
                lon: lon.value(i),
                heading: (!heading.is_null(i)).then(|| heading.value(i)),
                agency: agencies.value(i).to_string(),
            };
            out.insert(c.camera_id.clone(), c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_round_trips_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s")).unwrap();
        let csv = dir.path().join("c.csv");
        std::fs::write(
            &csv,
            "id,name,lat,lon,heading,agency\nCAM-1,Main & 5th,34.1,-117.3,90,SO\nCAR-7,Unit 7,0,0,,SO\n",
        )
        .unwrap();
        let cams = parse_csv(&csv).unwrap();
        write(&store, &cams).unwrap();
        let back = load(&store).unwrap();
        assert_eq!(back["CAM-1"], cams[0]);
        assert_eq!(back["CAR-7"].heading, None);
        std::fs::write(&csv, "id,name,lat,lon,heading,agency\nCAM-1,x,95,0,,SO\n").unwrap();
        let e = parse_csv(&csv).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("not on Earth"), "{e}");
    }
}
