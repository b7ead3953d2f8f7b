//! Integration tests: one binary, a module per area.

mod access;
mod cli;
mod common;
mod crash;
mod dev_labels;
mod gpu;
mod ingest;
mod ingest_cli;
mod interop;
mod ocr;
mod recognize;
mod samples;
mod slt;
mod synth_plates;
