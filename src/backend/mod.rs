//! Execution backends: interchangeable ways to run the parts of a job.
//!
//! Every backend implements [`Backend`] and must return exactly the total the [`sequential`]
//! backend returns, for every kernel, range, split and worker count. How parts reach workers:
//!
//! | backend | workers | static split | `chunks:SIZE` |
//! |---|---|---|---|
//! | `sequential` | the calling thread | parts in order | chunks in order |
//! | `threads` | one OS thread per worker | thread k runs part k | threads pull chunks from a shared counter |
//! | `pool` | a rayon pool of N threads | work-stealing over parts | work-stealing over chunks |
//! | `processes` | N worker processes (re-executed binary) | process k gets part k | chunks handed to idle processes over pipes |
//! | `gil` | N OS threads under a model of CPython 3's GIL | thread k runs part k | threads pull chunks |
//! | `gil-legacy` | N OS threads under a model of Python 2's GIL | thread k runs part k | threads pull chunks |
//! | `mpi` | the K ranks of an MPI job (`mpirun -n K`; the `mpi` feature) | rank r computes part r | rank 0 hands chunks to the others |
//! | `gpu` | one device (the `gpu` feature); W only sets the static split's parts | consecutive parts in as few submissions as the device holds, dispatches sized by the adapter, one map per submission while the next runs | the same |

pub(crate) mod combine;
pub(crate) mod control;
pub mod gil;
pub mod gpu;
pub mod mpi;
pub mod pool;
pub mod processes;
pub mod record;
pub mod sequential;
pub mod threads;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

/// The most workers any backend accepts. More would only measure the scheduler, and a
/// thousand worker processes is already far past any machine's useful parallelism.
pub const MAX_WORKERS: usize = 1024;

/// A way to run the parts of a job.
pub trait Backend: Send + Sync {
    /// Runs `job` on `workers` workers and returns the total of all parts combined in order.
    ///
    /// `workers` must be in `1..=MAX_WORKERS` ([`check_workers`]).
    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total>;

    /// Runs like [`Backend::run`] and also returns what the GIL models' lock saw (hand-offs,
    /// hold times, waits); every other backend returns `None`. The statistics travel only
    /// this way, as a return value, never through the observer.
    fn run_with_stats(
        &self,
        job: &Job,
        workers: usize,
        observer: &dyn Observer,
    ) -> Result<(Total, Option<gil::GilStats>)> {
        Ok((self.run(job, workers, observer)?, None))
    }

    /// False for jobs this backend refuses by design (the GPU cannot `sleep`, and counts
    /// primes below 2^32 only), so that `verify` and the tests shared by every backend leave
    /// them out instead of reporting them as failures. The split plays no part.
    fn supports(&self, _job: &Job) -> bool {
        true
    }
}

/// The backends parlab has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// One thread, parts in order: the reference answer.
    Sequential,
    /// One OS thread per worker.
    Threads,
    /// rayon's work-stealing pool.
    Pool,
    /// Worker processes speaking a binary protocol over pipes.
    Processes,
    /// Threads under a model of CPython 3's GIL.
    Gil,
    /// Threads under a model of Python 2's GIL.
    GilLegacy,
    /// Ranks of an MPI job (the `mpi` cargo feature).
    Mpi,
    /// Compute shaders on a GPU (the `gpu` cargo feature).
    Gpu,
}

/// How a backend treats failing parts, the same for every backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// A part that runs longer than this fails (`--timeout`); `None` waits for ever.
    pub timeout: Option<Duration>,
    /// How many times a failed or timed-out part runs again on a fresh worker (`--retries`);
    /// 0, the default, fails the run at the first failure.
    pub retries: u32,
}

/// Settings of the backends that have any: everything [`BackendKind::create_with`], the one
/// place that builds backends, needs.
#[derive(Debug, Clone)]
pub struct BackendOptions {
    /// `gil`: the switch interval (CPython's `sys.setswitchinterval`, default 5 ms).
    pub switch_interval: Duration,
    /// `gil-legacy`: ticks between releases (Python 2's `sys.setcheckinterval`, default 100).
    pub check_interval: u32,
    /// Timeouts and retries, for every backend.
    pub policy: Policy,
    /// `processes`: how worker processes are started.
    pub start: processes::StartMethod,
    /// `processes`: the worker program (by default this program itself); its start method and
    /// policy are the ones above.
    pub processes: processes::Processes,
    /// `mpi`: the launcher and its flags that start each run as an MPI job from this process
    /// (`mpirun --oversubscribe`, as `bench` does); `None` for a process that is itself a rank
    /// under `mpirun`.
    pub mpirun: Option<Vec<String>>,
}

impl Default for BackendOptions {
    fn default() -> Self {
        BackendOptions {
            switch_interval: gil::new::DEFAULT_SWITCH_INTERVAL,
            check_interval: gil::legacy::DEFAULT_CHECK_INTERVAL,
            policy: Policy::default(),
            start: processes::StartMethod::default(),
            processes: processes::Processes::default(),
            mpirun: None,
        }
    }
}

impl BackendKind {
    /// Backends built only with a cargo feature (`mpi`, `gpu`).
    pub const OPTIONAL: [BackendKind; 2] = [BackendKind::Mpi, BackendKind::Gpu];

    /// The backends `verify` checks by default: every local one, and the GPU in a build that
    /// has it.
    pub fn verified() -> Vec<BackendKind> {
        let mut all = BackendKind::ALL.to_vec();
        if cfg!(feature = "gpu") {
            all.push(BackendKind::Gpu);
        }
        all
    }

    /// Every local backend, the reference first.
    pub const ALL: [BackendKind; 6] = [
        BackendKind::Sequential,
        BackendKind::Threads,
        BackendKind::Pool,
        BackendKind::Processes,
        BackendKind::Gil,
        BackendKind::GilLegacy,
    ];

    /// The backend's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            BackendKind::Sequential => "sequential",
            BackendKind::Threads => "threads",
            BackendKind::Pool => "pool",
            BackendKind::Processes => "processes",
            BackendKind::Gil => "gil",
            BackendKind::GilLegacy => "gil-legacy",
            BackendKind::Mpi => "mpi",
            BackendKind::Gpu => "gpu",
        }
    }

    /// A backend of this kind with default settings. Worker processes re-execute the current
    /// program (see [`processes`]).
    pub fn create(&self) -> Box<dyn Backend> {
        self.create_with(&BackendOptions::default())
    }

    /// A backend of this kind with the given settings.
    pub fn create_with(&self, options: &BackendOptions) -> Box<dyn Backend> {
        match self {
            BackendKind::Sequential => Box::new(sequential::Sequential {
                policy: options.policy,
            }),
            BackendKind::Threads => Box::new(threads::Threads {
                policy: options.policy,
            }),
            BackendKind::Pool => Box::new(pool::Pool {
                policy: options.policy,
            }),
            BackendKind::Processes => Box::new(
                options
                    .processes
                    .clone()
                    .with_start(options.start)
                    .with_policy(options.policy),
            ),
            BackendKind::Gil => Box::new(gil::new::Gil {
                switch_interval: options.switch_interval,
                policy: options.policy,
            }),
            BackendKind::GilLegacy => Box::new(gil::legacy::GilLegacy {
                check_interval: options.check_interval,
                policy: options.policy,
            }),
            BackendKind::Mpi => match &options.mpirun {
                Some(command) => Box::new(mpi::launcher::Launcher {
                    command: command.clone(),
                    policy: options.policy,
                }),
                None => Box::new(mpi::Mpi),
            },
            BackendKind::Gpu => Box::new(gpu::Gpu),
        }
    }
}

crate::named::by_name!(
    BackendKind,
    "backend",
    [BackendKind::ALL.as_slice(), &BackendKind::OPTIONAL].concat()
);

/// Checks a worker count: `1..=MAX_WORKERS`.
pub fn check_workers(workers: usize) -> Result<usize> {
    if (1..=MAX_WORKERS).contains(&workers) {
        Ok(workers)
    } else {
        Err(Error::invalid(
            "workers",
            workers.to_string(),
            format!("must be between 1 and {MAX_WORKERS}"),
        ))
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_round_trip_and_unknown_lists_valid() {
        let every = [BackendKind::ALL.as_slice(), &BackendKind::OPTIONAL].concat();
        crate::named::assert_names_round_trip(&every, "gpu2", "processes");
    }

    #[test]
    fn worker_bounds() {
        assert!(check_workers(0).unwrap_err().is_usage());
        assert!(check_workers(MAX_WORKERS + 1).is_err());
        assert_eq!(check_workers(17).unwrap(), 17);
    }
}
