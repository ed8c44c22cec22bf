//! The `mpi` backend in a build without the `mpi` feature: a clear error, no libmpi linked.

use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// How to get the backend, for the error message.
const HOW: &str = "this build has no MPI support: rebuild with `cargo build --release --features \
                   mpi` (needs OpenMPI and libclang: apt-get install libopenmpi-dev openmpi-bin \
                   libclang-dev)";

/// An MPI job in this process: never, in this build.
#[derive(Debug)]
pub struct MpiRun(());

impl MpiRun {
    /// Fails: this build has no MPI.
    pub fn init() -> Result<Self> {
        Err(Error::invalid("backend", "mpi", HOW))
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        0
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        1
    }

    /// Runs this rank's share of `job`.
    pub fn run(&self, _job: &Job, _observer: &dyn Observer) -> Result<Option<Total>> {
        Err(Error::invalid("backend", "mpi", HOW))
    }

    /// Ends this process with `code`.
    pub fn abort(&self, code: i32) -> ! {
        std::process::exit(code)
    }
}
