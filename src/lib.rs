//! `alpr`: batch analytics over automated licence plate reader (ALPR) data.
//!
//! Data flows one way:
//!
//! ```text
//! inputs -> ingest -> recognize (detect + ocr, on gpu kernels or CPU twins)
//!        -> store (schema, partition writer, retention) -> query (DataFusion)
//!                      synth (generated reads for tests, demos, benchmarks) -> store
//!          audit (users, purpose-bound access, hash-chained log) wraps every door
//! ```
//!
//! - [`ingest`] turns photos, archives and footage into frames with their
//!   camera, time and place, and runs them through a reader into the store,
//!   exactly once (ledger) and resumably.
//! - [`recognize`] finds plates in frames; [`ocr`] reads plate crops.
//! - [`store`] owns the one Arrow schema of a read, the Hive-partitioned
//!   Parquet layout, its crash-safe writer and retention's partition drops.
//! - [`query`] builds the single DataFusion session: tables, UDFs, saved queries.
//! - [`audit`] owns accountability: the catalog, users and roles, searches,
//!   the audit log, holds, evidence, releases, alerts.
//! - [`plate`] holds plate-text knowledge shared by the UDFs and the recogniser:
//!   normalisation, OCR confusion classes, partial-plate patterns, distances,
//!   serial formats and the US states they tell.
//! - [`gpu`] owns GPU compute: device, shader registry, pipelines, pooled
//!   buffers, and the kernels with their CPU twins (the fallback).
//! - [`synth`] generates realistic reads with planted truths; [`synth_plates`]
//!   generates plate images (the reader's training data) and scenes.
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
