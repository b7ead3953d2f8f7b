//! The `alpr` binary: parse, run, print the error chain, exit with a
//! documented code (see `alpr --help`).

use std::process::ExitCode;

use clap::Parser;

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
