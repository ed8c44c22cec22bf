//! `processes`: worker processes running the program itself, fed over pipes with a binary
//! protocol. Workers start as Python's do, by one of two [`StartMethod`]s: `spawn` executes the
//! program afresh for each worker; `forkserver` (the default on Linux) executes it once, as a
//! server that forks the workers (see [`forkserver`]).
//!
//! The design (frames, batching, failure handling) is described in `README.md` beside this
//! file. In short: the parent starts every worker at once, sends each a `Setup` frame and its
//! first parts without waiting for the workers to be up, then runs a single `poll(2)` loop over
//! the workers' output pipes. That loop is the seed's one result queue: every total from every
//! worker arrives through it and goes into an in-order combiner. With `chunks:SIZE` each worker
//! keeps a small window of chunks in flight so tiny chunks cost one system call per batch, not
//! per chunk. A worker that closes its pipe, dies, or sends a bad frame is reported with the
//! part it held, its PID and its exit code or signal; all other workers are killed and reaped.
//!
//! Files: `start.rs` the start methods; `builder.rs` the backend's settings and how it starts
//! workers; `idle.rs` idle workers; `handle.rs` a worker process to signal and reap;
//! `pipes.rs` one worker's pipes and frames; `schedule.rs` the scheduling loop (its tests, with
//! scripted workers, in `schedule/tests.rs`); `protocol.rs` the frames; `worker.rs` and
//! `serve.rs` the worker's side; `forkserver/` the fork server, parlab's side and the server's.

mod builder;
#[cfg(target_os = "linux")]
pub mod forkserver;
mod handle;
mod idle;
mod pipes;
pub mod protocol;
mod schedule;
mod serve;
mod start;
pub mod worker;

pub use self::builder::{Processes, START_LIMIT};
pub use self::idle::IdleWorker;
pub use self::start::StartMethod;

use self::schedule::{Conn, Schedule};
use crate::backend::combine::Combiner;
use crate::backend::{Backend, check_workers};
use crate::error::Result;
use crate::fault::Fault;
use crate::job::Job;
use crate::kernels::Total;
use crate::limits;
use crate::observer::Observer;

/// Stops the fork servers started so far and reaps them, so that none is left for the system
/// to reap after this process exits. Call it at the end of `main` in a program that used the
/// `forkserver` start method; a later run starts a fresh server.
pub fn shut_down() {
    #[cfg(target_os = "linux")]
    forkserver::shut_down();
}

impl Backend for Processes {
    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        // Read once for the whole run: the first workers inject it, their replacements not.
        let fault = Fault::from_env()?;
        let plan = job.plan(workers);
        if plan.is_empty() {
            return Ok(job.kernel.zero());
        }
        let n = if plan.is_dynamic() {
            workers.min(usize::try_from(plan.len()).unwrap_or(usize::MAX))
        } else {
            workers
        };
        limits::make_room_for(n);
        let mut conns = Vec::with_capacity(n);
        let mut failed = None;
        for (index, started) in self.start(0..n, job.kernel, fault).into_iter().enumerate() {
            match started {
                Ok(proc) => {
                    observer.worker_started(index, Some(proc.pid()));
                    conns.push(proc);
                }
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            // Dropping the workers that did start stops them.
            return Err(e);
        }
        // A replacement injects no fault, so that a retried part can succeed.
        let mut schedule = Schedule::new(conns, self.policy, |i| {
            self.start(i..i + 1, job.kernel, None)
                .pop()
                .expect("one worker asked for")
        });
        let mut results = Combiner::new(&job.kernel, plan.len());
        // On error dropping the schedule kills and reaps every worker; on success they exit
        // by themselves and are checked by `shut_down`.
        schedule
            .drive(&plan, &mut results, observer)
            .and_then(|()| schedule.shut_down())
            .map_err(|e| results.incomplete(e, &plan))?;
        Ok(results.finish())
    }
}
