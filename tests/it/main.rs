//! parlab's integration tests: one binary, one module per concern.

mod backends;
mod bench;
mod cli;
mod faults;
mod gil;
#[cfg(feature = "gpu")]
mod gpu;
#[cfg(feature = "mpi")]
mod mpi;
mod probe;
mod processes;
mod reproduce;
mod signals;
mod soak;

use parlab::backend::processes::Processes;
use parlab::backend::processes::worker::WORKER_ARG;

/// The processes backend with the parlab binary built for these tests as its worker.
pub fn processes_backend() -> Processes {
    Processes::with_worker(env!("CARGO_BIN_EXE_parlab"), [WORKER_ARG])
}
