//! `mpi`: the same jobs on a cluster, through OpenMPI (the `mpi` cargo feature).
//!
//! Under `mpirun -n K parlab run --backend mpi ...` (or Slurm's `srun`), every rank builds the
//! same job from the same command line. The ranks are the workers:
//!
//! - static split: K parts; rank r computes part r and sends its total to rank 0;
//! - `chunks:SIZE`: rank 0 is the master, the others ask it for chunks and send back each total
//!   with their next request, so uneven kernels such as `primes` balance;
//! - rank 0 combines the totals in part order and alone reports the result.
//!
//! Messages are the `processes` backend's frames (`Hello` to ask for a first chunk, `Part`,
//! `Done`, `Failed`, `Shutdown`), so the two backends share one tested encoding. A rank that
//! fails reports its error and aborts the whole job (`MPI_Abort`), so a failure never leaves the
//! other ranks waiting. Started without `mpirun`, the program runs as a singleton (one rank).
//! A process can initialise MPI only once: one job per process.

pub mod launcher;

#[cfg(feature = "mpi")]
mod enabled;
#[cfg(feature = "mpi")]
pub use enabled::MpiRun;

#[cfg(not(feature = "mpi"))]
mod disabled;
#[cfg(not(feature = "mpi"))]
pub use disabled::MpiRun;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// The `mpi` backend as a [`Backend`]: one job, in a process started as an MPI rank (or alone,
/// as a singleton). The command line uses [`MpiRun`] directly, so that only rank 0 prints.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mpi;

impl Backend for Mpi {
    fn run(&self, job: &Job, _workers: usize, observer: &dyn Observer) -> Result<Total> {
        let mpi = MpiRun::init()?;
        match mpi.run(job, observer)? {
            Some(total) => Ok(total),
            None => Err(Error::io(
                "the mpi backend",
                std::io::Error::other(format!(
                    "rank {} of {} holds no result: only rank 0 does",
                    mpi.rank(),
                    mpi.size()
                )),
            )),
        }
    }
}
