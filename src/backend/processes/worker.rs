//! The worker program's entry points, [`init`] and [`serve`], and what a program that serves
//! as a worker needs to know: the environment that marks a worker, its exit codes, the loop
//! ([`serve_on`]).
//!
//! A worker is the parlab binary started with the hidden `__worker` subcommand, or any program
//! that calls [`init`] at the top of its `main` (see `examples/own_worker.rs`), or a process
//! forked from such a program running as a fork server (see `forkserver/`). The loop itself
//! lives in `serve.rs`, where the fork server finds it too.

use std::os::fd::AsFd;

#[cfg(target_os = "linux")]
use super::forkserver;
pub use super::serve::{
    EXIT_IO, EXIT_PROTOCOL, PARENT_ENV, WORKER_ARG, WORKER_ENV, WorkerError, serve_on,
};
use super::serve::{parent_from_env, quiet_panics, serve_pipes, tie_to_parent};
use crate::fault::Fault;

/// Lets a program that uses parlab as a library serve as its own worker process.
///
/// Call it first thing in `main`. In a normal run it returns at once; in a process started by
/// the `processes` backend (marked by [`WORKER_ENV`]) it serves parts, or with the `forkserver`
/// start method forks the workers that do, and exits, never returning. Pair it with
/// [`super::Processes::default`], which re-executes the current program, and call
/// [`super::shut_down`] at the end of `main` to reap the fork server.
///
/// ```no_run
/// // First thing in `main`:
/// parlab::worker::init();
/// // ... the program's own work, which may use the processes backend ...
/// ```
pub fn init() {
    match std::env::var_os(WORKER_ENV) {
        #[cfg(target_os = "linux")]
        Some(v) if v == forkserver::SERVER => std::process::exit(forkserver::serve()),
        Some(_) => std::process::exit(serve()),
        None => {}
    }
}

/// Serves parts on standard input and output until shutdown, with the fault set in
/// [`crate::fault::FAULT_ENV`] if any; returns the exit code.
pub fn serve() -> i32 {
    tie_to_parent(parent_from_env());
    quiet_panics();
    let pipes = (|| {
        let input = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        let output = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
        Ok::<_, std::io::Error>((input, output))
    })();
    let Ok((input, output)) = pipes else {
        return EXIT_IO;
    };
    // The parent checked the variable before starting us; an unreadable one injects nothing.
    serve_pipes(input, output, Fault::from_env().ok().flatten())
}
