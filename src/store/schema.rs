//! The one Arrow schema of a plate read, defined here and nowhere else.
//!
//! Every Parquet file of the store carries this schema and its version in
//! the file's key-value metadata (`alpr.schema_version`), so other Arrow tools
//! and later versions of `alpr` know what they are opening. The partition
//! column `date` (UTC date of `ts`) lives in the directory name
//! (`date=YYYY-MM-DD/`), never inside the file.
//!
//! [`Read`] is the row form used by producers (synthesis, ingest);
//! [`ReadBatchBuilder`] turns rows into a [`RecordBatch`] of [`read_schema`].

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::array::{
    ArrayRef, BinaryBuilder, Float32Builder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, RecordBatch, StringBuilder, StructBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Version of [`read_schema`]; bump on any change and keep readers able to
/// open older versions.
pub const SCHEMA_VERSION: &str = "2";

/// Key of the schema version in Arrow schema and Parquet file metadata.
pub const SCHEMA_VERSION_KEY: &str = "alpr.schema_version";

/// Name of the Hive partition column (UTC date of `ts`, `YYYY-MM-DD`).
pub const PARTITION_COLUMN: &str = "date";

/// Time zone of every timestamp in the store.
pub const TZ: &str = "UTC";

/// The timestamp type of `ts`: microseconds, UTC.
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(TZ.into()))
}

fn alternate_fields() -> Fields {
    Fields::from(vec![
        Field::new("plate", DataType::Utf8, false),
        Field::new("confidence", DataType::Float32, false),
    ])
}

fn box_fields() -> Fields {
    Fields::from(vec![
        Field::new("x", DataType::Int32, false),
        Field::new("y", DataType::Int32, false),
        Field::new("w", DataType::Int32, false),
        Field::new("h", DataType::Int32, false),
    ])
}

/// The schema of one plate read, as stored in every Parquet file.
pub fn read_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let fields = vec![
                Field::new("read_id", DataType::Utf8, false),
                Field::new("ts", ts_type(), false),
                Field::new("camera_id", DataType::Utf8, false),
                Field::new("lat", DataType::Float64, true),
                Field::new("lon", DataType::Float64, true),
                Field::new("heading", DataType::Float32, true),
                Field::new("plate", DataType::Utf8, false),
                Field::new("confidence", DataType::Float32, false),
                Field::new(
                    "alternates",
                    DataType::List(Arc::new(Field::new(
                        "item",
                        DataType::Struct(alternate_fields()),
                        true,
                    ))),
                    false,
                ),
                Field::new(
                    "char_confidence",
                    DataType::List(Arc::new(Field::new("item", DataType::Float32, true))),
                    false,
                ),
                Field::new("region", DataType::Utf8, true),
                Field::new("plate_box", DataType::Struct(box_fields()), true),
                Field::new("source_file", DataType::Utf8, false),
                Field::new("source_frame", DataType::Int64, false),
                Field::new("source_sha256", DataType::Utf8, false),
                Field::new("model_version", DataType::Utf8, false),
                Field::new("crop_jpeg", DataType::Binary, true),
                Field::new("batch_id", DataType::Utf8, false),
                // Version 2: frames a video read stands for (null for photos).
                Field::new("pass_frames", DataType::Int32, true),
            ];
            let metadata =
                HashMap::from([(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string())]);
            Arc::new(Schema::new_with_metadata(fields, metadata))
        })
        .clone()
}

/// A pixel box `[x, y, w, h]` in the source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlateBox {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// One plate read in row form.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub read_id: String,
    /// Capture time, microseconds since the Unix epoch, UTC.
    pub ts_micros: i64,
    pub camera_id: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub heading: Option<f32>,
    /// Best read, normalised (see `plate::normalize`).
    pub plate: String,
    pub confidence: f32,
    /// The reader's other candidates (never `plate` itself), most likely
    /// first, each with its confidence.
    pub alternates: Vec<(String, f32)>,
    /// Confidence of each character of `plate`.
    pub char_confidence: Vec<f32>,
    pub region: Option<String>,
    pub plate_box: Option<PlateBox>,
    pub source_file: String,
    pub source_frame: i64,
    pub source_sha256: String,
    pub model_version: String,
    pub crop_jpeg: Option<Vec<u8>>,
    pub batch_id: String,
    /// Frames of the vehicle pass this read stands for (video); `None` for
    /// a photo.
    pub pass_frames: Option<i32>,
}

/// Accumulates [`Read`]s column by column and finishes a [`RecordBatch`].
pub struct ReadBatchBuilder {
    read_id: StringBuilder,
    ts: TimestampMicrosecondBuilder,
    camera_id: StringBuilder,
    lat: Float64Builder,
    lon: Float64Builder,
    heading: Float32Builder,
    plate: StringBuilder,
    confidence: Float32Builder,
    alternates: ListBuilder<StructBuilder>,
    char_confidence: ListBuilder<Float32Builder>,
    region: StringBuilder,
    plate_box: StructBuilder,
    source_file: StringBuilder,
    source_frame: Int64Builder,
    source_sha256: StringBuilder,
    model_version: StringBuilder,
    crop_jpeg: BinaryBuilder,
    batch_id: StringBuilder,
    pass_frames: Int32Builder,
    len: usize,
}

impl Default for ReadBatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadBatchBuilder {
    pub fn new() -> Self {
        let schema = read_schema();
        let item_field = |name: &str| match schema.field_with_name(name).map(|f| f.data_type()) {
            Ok(DataType::List(item)) => item.clone(),
            _ => unreachable!("{name} is a list in read_schema"),
        };
        Self {
            read_id: StringBuilder::new(),
            ts: TimestampMicrosecondBuilder::new().with_timezone(TZ),
            camera_id: StringBuilder::new(),
            lat: Float64Builder::new(),
            lon: Float64Builder::new(),
            heading: Float32Builder::new(),
            plate: StringBuilder::new(),
            confidence: Float32Builder::new(),
            alternates: ListBuilder::new(StructBuilder::from_fields(alternate_fields(), 0))
                .with_field(item_field("alternates")),
            char_confidence: ListBuilder::new(Float32Builder::new())
                .with_field(item_field("char_confidence")),
            region: StringBuilder::new(),
            plate_box: StructBuilder::from_fields(box_fields(), 0),
            source_file: StringBuilder::new(),
            source_frame: Int64Builder::new(),
            source_sha256: StringBuilder::new(),
            model_version: StringBuilder::new(),
            crop_jpeg: BinaryBuilder::new(),
            batch_id: StringBuilder::new(),
            pass_frames: Int32Builder::new(),
            len: 0,
        }
    }

    /// Number of rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn append(&mut self, r: &Read) {
        self.read_id.append_value(&r.read_id);
        self.ts.append_value(r.ts_micros);
        self.camera_id.append_value(&r.camera_id);
        self.lat.append_option(r.lat);
        self.lon.append_option(r.lon);
        self.heading.append_option(r.heading);
        self.plate.append_value(&r.plate);
        self.confidence.append_value(r.confidence);

        let alts = self.alternates.values();
        for (plate, conf) in &r.alternates {
            field_builder::<StringBuilder>(alts, 0).append_value(plate);
            field_builder::<Float32Builder>(alts, 1).append_value(*conf);
            alts.append(true);
        }
        self.alternates.append(true);

        self.char_confidence
            .values()
            .append_slice(&r.char_confidence);
        self.char_confidence.append(true);

        self.region.append_option(r.region.as_deref());

        let b = r.plate_box.unwrap_or(PlateBox {
            x: 0,
            y: 0,
            w: 0,
            h: 0,
        });
        for (i, v) in [b.x, b.y, b.w, b.h].into_iter().enumerate() {
            field_builder::<Int32Builder>(&mut self.plate_box, i).append_value(v);
        }
        self.plate_box.append(r.plate_box.is_some());

        self.source_file.append_value(&r.source_file);
        self.source_frame.append_value(r.source_frame);
        self.source_sha256.append_value(&r.source_sha256);
        self.model_version.append_value(&r.model_version);
        self.crop_jpeg.append_option(r.crop_jpeg.as_deref());
        self.batch_id.append_value(&r.batch_id);
        self.pass_frames.append_option(r.pass_frames);
        self.len += 1;
    }

    /// Builds the batch and resets the builder.
    pub fn finish(&mut self) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.read_id.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.camera_id.finish()),
            Arc::new(self.lat.finish()),
            Arc::new(self.lon.finish()),
            Arc::new(self.heading.finish()),
            Arc::new(self.plate.finish()),
            Arc::new(self.confidence.finish()),
            Arc::new(self.alternates.finish()),
            Arc::new(self.char_confidence.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.plate_box.finish()),
            Arc::new(self.source_file.finish()),
            Arc::new(self.source_frame.finish()),
            Arc::new(self.source_sha256.finish()),
            Arc::new(self.model_version.finish()),
            Arc::new(self.crop_jpeg.finish()),
            Arc::new(self.batch_id.finish()),
            Arc::new(self.pass_frames.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(read_schema(), columns)
            .expect("ReadBatchBuilder columns follow read_schema")
    }
}

fn field_builder<T: arrow::array::ArrayBuilder>(b: &mut StructBuilder, i: usize) -> &mut T {
    b.field_builder::<T>(i)
        .expect("struct field builder types follow read_schema")
}

#[cfg(test)]
impl Read {
    /// A read of `plate` at `ts_micros` (camera `CAM-1`, confidence 0.9,
    /// batch `b1`), every optional field empty: tests fill what they need.
    pub(crate) fn for_test(read_id: &str, ts_micros: i64, plate: &str) -> Read {
        Read {
            read_id: read_id.into(),
            ts_micros,
            camera_id: "CAM-1".into(),
            lat: None,
            lon: None,
            heading: None,
            plate: plate.into(),
            confidence: 0.9,
            alternates: vec![],
            char_confidence: vec![],
            region: None,
            plate_box: None,
            source_file: "f.jpg".into(),
            source_frame: 0,
            source_sha256: "00".into(),
            model_version: "test".into(),
            crop_jpeg: None,
            batch_id: "b1".into(),
            pass_frames: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: &str, ts: i64) -> Read {
        Read {
            camera_id: "CAM-0001".into(),
            lat: Some(34.1),
            heading: Some(90.0),
            alternates: vec![("7A8C123".into(), 0.05), ("1ABC123".into(), 0.02)],
            char_confidence: vec![0.9; 7],
            region: Some("CA".into()),
            plate_box: Some(PlateBox {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
            }),
            source_file: "a.jpg".into(),
            source_sha256: "00".repeat(32),
            ..Read::for_test(id, ts, "7ABC123")
        }
    }

    #[test]
    fn builder_produces_batches_of_the_schema() {
        let mut b = ReadBatchBuilder::new();
        b.append(&sample("r1", 1));
        b.append(&Read {
            plate_box: None,
            alternates: vec![],
            ..sample("r2", 2)
        });
        let batch = b.finish();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), read_schema());
        assert!(b.is_empty());
        assert_eq!(
            read_schema()
                .metadata()
                .get(SCHEMA_VERSION_KEY)
                .map(String::as_str),
            Some(SCHEMA_VERSION)
        );
        let boxes = batch.column_by_name("plate_box").unwrap();
        assert!(boxes.is_valid(0) && boxes.is_null(1));
    }
}
