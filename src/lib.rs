//! `alpr`: batch analytics over automated licence plate reader (ALPR) data.
//!
//! Data flows one way:
//!
//! ```text
//! inputs -> ingest -> recognize -> store (schema, partition writer) -> query (DataFusion)
//!                      synth (generated reads for tests, demos, benchmarks) -> store
//! ```
//!
//! - [`store`] owns the one Arrow schema of a read, the Hive-partitioned
//!   Parquet layout and its crash-safe writer.
//! - [`query`] builds the single DataFusion session: tables, UDFs, saved queries.
//! - [`plate`] holds plate-text knowledge shared by the UDFs and the recogniser:
//!   normalisation, OCR confusion classes, partial-plate patterns, distances.
//! - [`gpu`] owns GPU compute: device, shader registry, pipelines, pooled
//!   buffers, and the image kernels with their exact CPU twins (the fallback).
//! - [`synth`] generates realistic reads with planted truths.
//! - [`cli`] parses the command line into a configuration and runs it.

pub mod audit;
pub mod cli;
pub mod error;
pub mod gpu;
pub mod ingest;
pub mod ocr;
pub mod plate;
pub mod query;
pub mod recognize;
pub mod store;
pub mod synth;
pub mod synth_plates;

pub use error::{Error, Result};
