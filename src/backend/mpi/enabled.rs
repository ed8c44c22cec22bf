//! The `mpi` backend over rsmpi.

use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::backend::combine::Combiner;
use crate::backend::panic_message;
use crate::backend::processes::protocol::{Frame, VERSION};
use crate::error::{Error, PidNote, Result, WorkerCause};
use crate::fault::Fault;
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;
use crate::span::Part;

/// MPI, initialised for this process; dropping it finalises MPI.
pub struct MpiRun {
    world: SimpleCommunicator,
    // Declared last so it is dropped (MPI_Finalize) after the communicator.
    _universe: Universe,
}

impl std::fmt::Debug for MpiRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MpiRun(rank {} of {})", self.rank(), self.size())
    }
}

impl MpiRun {
    /// Initialises MPI (once per process), and fails when the launcher announced more ranks
    /// than MPI sees (see [`super::check_world`]).
    pub fn init() -> Result<Self> {
        // Read before MPI_Init, which may set variables of its own.
        let announced: Vec<(&str, Option<String>)> = super::ANNOUNCED_SIZE
            .iter()
            .map(|name| (*name, std::env::var(name).ok()))
            .collect();
        let universe = mpi::initialize().ok_or_else(|| {
            Error::io(
                "initialising MPI",
                std::io::Error::other(
                    "MPI was already initialised in this process: one job per process",
                ),
            )
        })?;
        let run = MpiRun {
            world: universe.world(),
            _universe: universe,
        };
        super::check_world(run.size(), |name| {
            announced
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, v)| v.clone())
        })?;
        Ok(run)
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        self.world.size() as usize
    }

    /// Aborts every rank of the job with `code` (after this rank reported its error).
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }

    /// Runs this rank's share of `job`. Rank 0 returns the combined total; the others `None`.
    pub fn run(&self, job: &Job, observer: &dyn Observer) -> Result<Option<Total>> {
        let (rank, size) = (self.rank(), self.size());
        let fault = Fault::from_env()?;
        let plan = job.plan(size);
        observer.worker_started(rank, Some(std::process::id()));
        if size == 1 {
            let mut total = job.kernel.zero();
            for part in plan.parts() {
                total = total.then(compute(job, part, rank, fault)?);
                observer.part_done(part, 0, part.index + 1, plan.len());
            }
            return Ok(Some(total));
        }
        let root = self.world.process_at_rank(0);
        if !plan.is_dynamic() {
            if rank != 0 {
                let part = plan.part(rank as u64);
                root.send(&answer(job, part, rank, fault)[..]);
                return Ok(None);
            }
            let mut results = Combiner::new(&job.kernel, plan.len());
            let own = plan.part(0);
            results.push(0, compute(job, own, 0, fault)?);
            for _ in 1..size {
                let (bytes, status) = self.world.any_process().receive_vec::<u8>();
                let (index, total) = done(&bytes, status.source_rank() as usize)?;
                results.push(index, total);
                observer.part_done(
                    plan.part(index),
                    status.source_rank() as usize,
                    results.done(),
                    plan.len(),
                );
            }
            return Ok(Some(results.finish()));
        }
        if rank != 0 {
            // A worker: ask with Hello, then answer every Part with Done until Shutdown.
            let mut first = Vec::new();
            Frame::Hello {
                version: VERSION,
                pid: std::process::id(),
            }
            .encode(&mut first);
            root.send(&first[..]);
            loop {
                let (bytes, _) = root.receive_vec::<u8>();
                match Frame::decode(&bytes) {
                    Ok(Some((Frame::Part { index, start, end }, _))) => {
                        let part = Part { index, start, end };
                        root.send(&answer(job, part, rank, fault)[..]);
                    }
                    Ok(Some((Frame::Shutdown, _))) => return Ok(None),
                    other => {
                        return Err(Error::io(
                            format!("rank {rank}"),
                            std::io::Error::other(format!("bad message from rank 0: {other:?}")),
                        ));
                    }
                }
            }
        }
        // The master: hand out chunks to whichever rank asks, collect totals.
        let mut results = Combiner::new(&job.kernel, plan.len());
        let mut next = 0u64;
        let mut working = size - 1;
        while working > 0 {
            let (bytes, status) = self.world.any_process().receive_vec::<u8>();
            let from = status.source_rank() as usize;
            match Frame::decode(&bytes) {
                Ok(Some((Frame::Hello { .. }, _))) => {}
                _ => {
                    let (index, total) = done(&bytes, from)?;
                    results.push(index, total);
                    observer.part_done(plan.part(index), from, results.done(), plan.len());
                }
            }
            let mut reply = Vec::new();
            if next < plan.len() {
                let p = plan.part(next);
                next += 1;
                Frame::Part {
                    index: p.index,
                    start: p.start,
                    end: p.end,
                }
                .encode(&mut reply);
            } else {
                Frame::Shutdown.encode(&mut reply);
                working -= 1;
            }
            self.world.process_at_rank(from as i32).send(&reply[..]);
        }
        Ok(Some(results.finish()))
    }
}

/// Computes one part on this rank, with an injected fault on it if one is set.
fn compute(job: &Job, part: Part, rank: usize, fault: Option<Fault>) -> Result<Total> {
    if let Some(f) = fault.filter(|f| f.hits(part.index, 0)) {
        // An exit, a signal or a hang ends or stalls this rank inside `strike`; what comes back
        // (a panic, or corrupt output, which a rank's messages have no room for) fails the part.
        let _ = f.strike();
        return Err(worker_error(
            rank,
            part,
            WorkerCause::Panicked(f.panic_message()),
        ));
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.kernel.run(part.span()))) {
        Ok(result) => result,
        Err(payload) => Err(worker_error(
            rank,
            part,
            WorkerCause::Panicked(panic_message(payload.as_ref())),
        )),
    }
}

/// A part's answer as a frame: `Done`, or `Failed` with the error.
fn answer(job: &Job, part: Part, rank: usize, fault: Option<Fault>) -> Vec<u8> {
    let frame = match compute(job, part, rank, fault) {
        Ok(total) => Frame::Done {
            index: part.index,
            total,
        },
        Err(e) => Frame::Failed {
            index: part.index,
            panic: false,
            message: e.to_string(),
        },
    };
    let mut bytes = Vec::new();
    frame.encode(&mut bytes);
    bytes
}

/// Reads a `Done` frame from `rank`; a `Failed` frame or garbage is that rank's error.
fn done(bytes: &[u8], rank: usize) -> Result<(u64, Total)> {
    match Frame::decode(bytes) {
        Ok(Some((Frame::Done { index, total }, _))) => Ok((index, total)),
        Ok(Some((Frame::Failed { message, .. }, _))) => Err(Error::io(
            format!("rank {rank}"),
            std::io::Error::other(message),
        )),
        other => Err(Error::io(
            format!("rank {rank}"),
            std::io::Error::other(format!("unexpected message {other:?}")),
        )),
    }
}

fn worker_error(rank: usize, part: Part, cause: WorkerCause) -> Error {
    Error::Worker {
        worker: rank,
        pid: PidNote(Some(std::process::id())),
        part: Some(part).into(),
        cause,
    }
}
