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
//!
//! A launcher whose process-management interface does not match the MPI library's (Slurm's
//! `srun` without `--mpi=pmix`) starts every rank as a singleton: each would run the whole job
//! alone and report it, a silent waste of the allocation. [`check_world`] catches it from the
//! size the launcher announced.

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

/// The variables in which a launcher announces how many ranks it started, most authoritative
/// first: OpenMPI's `mpirun` sets the first for the processes it starts itself (and outranks
/// a Slurm allocation that `mpirun` runs inside), `srun` the second.
const ANNOUNCED_SIZE: [&str; 2] = ["OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"];

/// Checks MPI's world of `size` ranks against the size the launcher announced in the
/// environment (read through `var`, so that it can be tested without one): a launcher that
/// started N > 1 ranks of which MPI sees a world of another size started them without a
/// matching process-management interface, and every rank would run the whole job alone.
pub fn check_world(size: usize, var: impl Fn(&str) -> Option<String>) -> Result<()> {
    let announced = ANNOUNCED_SIZE.iter().find_map(|name| {
        let n = var(name)?.trim().parse::<usize>().ok()?;
        Some((*name, n))
    });
    match announced {
        Some((name, n)) if n != size => Err(Error::io(
            "starting MPI",
            std::io::Error::other(format!(
                "the launcher started {n} ranks ({name}={n}) but MPI sees a world of {size}, so \
                 every rank would run the whole job alone: the launcher and the MPI library do \
                 not share a process-management interface; under Slurm use `srun --mpi=pmix` \
                 (`srun --mpi=list` shows the ones available), or start the job with `mpirun`"
            )),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_world_that_matches_the_launcher_or_no_launcher_is_fine() {
        assert!(check_world(1, env(&[])).is_ok());
        assert!(check_world(4, env(&[("SLURM_NTASKS", "4")])).is_ok());
        assert!(check_world(2, env(&[("OMPI_COMM_WORLD_SIZE", "2")])).is_ok());
        // `mpirun -n 2` inside a 16-task Slurm allocation: mpirun's own count decides.
        let nested = [("SLURM_NTASKS", "16"), ("OMPI_COMM_WORLD_SIZE", "2")];
        assert!(check_world(2, env(&nested)).is_ok());
        // A value that is no count says nothing.
        assert!(check_world(1, env(&[("SLURM_NTASKS", "lots")])).is_ok());
    }

    #[test]
    fn singletons_under_srun_without_pmi_are_an_error_naming_the_fix() {
        for (vars, name) in [
            (&[("SLURM_NTASKS", "4")][..], "SLURM_NTASKS=4"),
            (
                &[("OMPI_COMM_WORLD_SIZE", "2")][..],
                "OMPI_COMM_WORLD_SIZE=2",
            ),
            (
                &[("SLURM_NTASKS", "4"), ("OMPI_COMM_WORLD_SIZE", "3")][..],
                "OMPI_COMM_WORLD_SIZE=3",
            ),
        ] {
            let e = check_world(1, env(vars)).unwrap_err();
            assert!(!e.is_usage(), "a failed start, not bad input: {e}");
            let text = e.to_string();
            assert!(text.contains(name), "{text}");
            assert!(text.contains("a world of 1"), "{text}");
            assert!(text.contains("srun --mpi=pmix"), "{text}");
            assert_eq!(text.lines().count(), 1, "{text}");
        }
    }
}
