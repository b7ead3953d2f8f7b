//! Reference tables kept beside the reads: the camera registry and hot lists.
//!
//! Both are small, so each is one Parquet file rewritten whole
//! (`cameras/cameras.parquet`, `hotlist/<list>.parquet`) with the same
//! stage-fsync-rename discipline as the reads.

use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, Date32Array, Float32Array, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;

/// A fixed or mobile camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Camera {
    pub camera_id: String,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    /// Degrees clockwise from north the camera looks along.
    pub heading: Option<f32>,
    pub agency: String,
}

/// One plate on a hot list.
#[derive(Debug, Clone, PartialEq)]
pub struct HotlistEntry {
    /// Name of the list (e.g. `stolen`, `amber`).
    pub list: String,
    /// Normalised plate.
    pub plate: String,
    pub reason: String,
    /// Who put it on the list (e.g. `NCIC`, a case number).
    pub source: String,
    pub vehicle: Option<String>,
    /// Last day the entry is valid; `None` for no expiry.
    pub expires: Option<NaiveDate>,
}

/// Schema of the `cameras` table.
pub fn cameras_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("camera_id", DataType::Utf8, false),
            Field::new("name", DataType::Utf8, false),
            Field::new("lat", DataType::Float64, false),
            Field::new("lon", DataType::Float64, false),
            Field::new("heading", DataType::Float32, true),
            Field::new("agency", DataType::Utf8, false),
        ]))
    })
    .clone()
}

/// Schema of the `hotlist` table.
pub fn hotlist_schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("list", DataType::Utf8, false),
            Field::new("plate", DataType::Utf8, false),
            Field::new("reason", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("vehicle", DataType::Utf8, true),
            Field::new("expires", DataType::Date32, true),
        ]))
    })
    .clone()
}

/// Cameras as one batch of [`cameras_schema`].
pub fn cameras_batch(cameras: &[Camera]) -> RecordBatch {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            cameras.iter().map(|c| &c.camera_id),
        )),
        Arc::new(StringArray::from_iter_values(
            cameras.iter().map(|c| &c.name),
        )),
        Arc::new(Float64Array::from_iter_values(
            cameras.iter().map(|c| c.lat),
        )),
        Arc::new(Float64Array::from_iter_values(
            cameras.iter().map(|c| c.lon),
        )),
        Arc::new(Float32Array::from_iter(cameras.iter().map(|c| c.heading))),
        Arc::new(StringArray::from_iter_values(
            cameras.iter().map(|c| &c.agency),
        )),
    ];
    RecordBatch::try_new(cameras_schema(), columns).expect("columns follow cameras_schema")
}

/// Hot-list entries as one batch of [`hotlist_schema`].
pub fn hotlist_batch(entries: &[HotlistEntry]) -> RecordBatch {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| &e.list),
        )),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| &e.plate),
        )),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| &e.reason),
        )),
        Arc::new(StringArray::from_iter_values(
            entries.iter().map(|e| &e.source),
        )),
        Arc::new(StringArray::from_iter(
            entries.iter().map(|e| e.vehicle.as_deref()),
        )),
        Arc::new(Date32Array::from_iter(entries.iter().map(|e| {
            e.expires
                .map(|d| d.signed_duration_since(epoch).num_days() as i32)
        }))),
    ];
    RecordBatch::try_new(hotlist_schema(), columns).expect("columns follow hotlist_schema")
}
