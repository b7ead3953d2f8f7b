//! Integration tests: one binary, a module per area.

mod cli;
mod common;
mod crash;
mod gpu;
mod interop;
mod ocr;
mod recognize;
mod samples;
mod slt;
