//! The `alpr` binary: parse, run, print the error chain, exit with a
//! documented code (see `alpr --help`).

use std::process::ExitCode;

use clap::Parser;

/// Training on candle allocates and frees tensors of several megabytes every
/// step; glibc's malloc returns them to the kernel each time, mimalloc keeps
/// them (`alpr train-ocr --engine candle` from random weights ran 1.7 times
/// as fast).
#[cfg(feature = "train")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = alpr::cli::Cli::parse();
    match alpr::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("alpr: error: {err:#}");
            alpr::cli::exit_code_for(&err)
        }
    }
}
