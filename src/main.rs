//! The `parlab` command line: a thin layer over the library (see `cli/`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
