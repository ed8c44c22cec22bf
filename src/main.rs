//! The `parlab` command line: a thin layer over the library (see `cli/`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A worker process of the processes backend serves parts and exits here, before any
    // argument parsing: it is on the critical path of every worker's start.
    parlab::worker::init();
    let code = cli::main();
    // The fork server, if one was started, is reaped here rather than left to the system.
    parlab::backend::processes::shut_down();
    code
}
