//! The GIL backends: OS threads that run kernels only while they hold a modelled global
//! interpreter lock, following CPython's own algorithms.
//!
//! - [`new::Gil`] (`gil`): CPython 3.2+'s "new GIL" with a switch interval, drop requests and
//!   forced switching.
//! - [`legacy::GilLegacy`] (`gil-legacy`): Python 2's lock, a semaphore released and re-taken
//!   every `check_interval` ticks with no hand-off, each release waking a waiter for nothing.
//!
//! Both run the same thread driver (`run_model`): each worker thread takes the lock before it
//! runs any kernel code (as a Python thread must before it runs bytecode), runs its parts with a
//! [`Ticker`] that polls the lock at every kernel check point and releases it around blocking
//! calls, and drops it when its work is done. Every acquisition is logged with its start and end
//! so the run reports hand-offs, hold times and waits ([`GilStats`]) and so tests can prove that
//! no two threads ever held the lock at once. See `README.md` beside this file for the model.

pub mod convoy;
pub mod legacy;
pub mod new;
mod stats;

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

pub use stats::GilStats;
pub(crate) use stats::Ledger;

use crate::backend::control::{Control, Parts, Watched};
use crate::backend::{Policy, check_workers};
use crate::error::Result;
use crate::job::Job;
use crate::kernels::{Ticker, Total, nap};
use crate::observer::Observer;

/// The [`Backend`](crate::backend::Backend) of a GIL model and its `run_instrumented`, the same
/// for both models: `|s| lock` builds a fresh lock from the backend `s`'s settings for each run.
macro_rules! gil_backend {
    ($backend:ty, |$s:ident| $lock:expr) => {
        impl $backend {
            /// Runs `job` and returns the total with the lock's statistics.
            pub fn run_instrumented(
                &self,
                job: &$crate::job::Job,
                workers: usize,
                observer: &dyn $crate::observer::Observer,
            ) -> $crate::error::Result<($crate::kernels::Total, $crate::backend::gil::GilStats)>
            {
                let $s = self;
                $crate::backend::gil::run_model(&$lock, job, workers, observer, self.policy)
            }
        }

        impl $crate::backend::Backend for $backend {
            fn run(
                &self,
                job: &$crate::job::Job,
                workers: usize,
                observer: &dyn $crate::observer::Observer,
            ) -> $crate::error::Result<$crate::kernels::Total> {
                self.run_instrumented(job, workers, observer)
                    .map(|(t, _)| t)
            }

            fn run_with_stats(
                &self,
                job: &$crate::job::Job,
                workers: usize,
                observer: &dyn $crate::observer::Observer,
            ) -> $crate::error::Result<(
                $crate::kernels::Total,
                Option<$crate::backend::gil::GilStats>,
            )> {
                self.run_instrumented(job, workers, observer)
                    .map(|(t, s)| (t, Some(s)))
            }
        }
    };
}
pub(crate) use gil_backend;

/// Why a thread let go of the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// At a kernel check point: a drop request (`gil`) or the check interval (`gil-legacy`).
    CheckPoint,
    /// Around a blocking call.
    Blocking,
    /// The thread's work is done.
    Exit,
}

/// What one thread saw of the lock.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The thread's index.
    pub thread: usize,
    /// True while the thread holds the lock.
    holding: bool,
    /// Releases at check points.
    pub forced: u64,
    /// Releases around blocking calls and at exit.
    pub voluntary: u64,
    /// Drop requests this thread set while waiting (`gil` only).
    pub requests: u64,
    /// Total time spent waiting to acquire.
    pub waited: Duration,
    /// Check points at which this thread found the lock not held by itself alone.
    pub violations: u64,
    /// Releases at check points it took straight back without logging them (`gil-legacy`
    /// with nobody waiting): acquisitions the ledger did not see.
    pub retakes: u64,
}

impl Record {
    fn new(thread: usize) -> Self {
        Record {
            thread,
            holding: false,
            forced: 0,
            voluntary: 0,
            requests: 0,
            waited: Duration::ZERO,
            violations: 0,
            retakes: 0,
        }
    }

    /// Notes that the lock was acquired after waiting since `asked`; only the holder calls
    /// this, so the ledger sees acquisitions in their true order. The time is read under the
    /// ledger's lock: a release logged late by a thread that held the ledger while the lock
    /// was free (`gil-legacy`'s unlogged check points) then always comes before it.
    pub(crate) fn acquired(&mut self, asked: Instant, ledger: &parking_lot::Mutex<Ledger>) {
        let mut ledger = ledger.lock();
        let now = Instant::now();
        self.waited += now - asked;
        self.holding = true;
        ledger.acquired(self.thread, now);
    }

    /// Notes that the lock is about to be released.
    pub(crate) fn releasing(&mut self, why: Release, ledger: &parking_lot::Mutex<Ledger>) {
        self.releasing_in(why, &mut ledger.lock());
    }

    /// [`Record::releasing`] with the ledger already locked by the caller.
    pub(crate) fn releasing_in(&mut self, why: Release, ledger: &mut Ledger) {
        assert!(self.holding, "released a lock it did not hold");
        self.holding = false;
        ledger.released(self.thread, Instant::now(), why);
        match why {
            Release::CheckPoint => self.forced += 1,
            Release::Blocking | Release::Exit => self.voluntary += 1,
        }
    }
}

/// A modelled interpreter lock.
pub(crate) trait Lock: Sync {
    /// Name of the backend using it.
    const NAME: &'static str;

    /// Spacing of the kernels' check points ([`Ticker::SCALE`]).
    const SCALE: u64;

    /// Blocks until thread `t` holds the lock.
    fn acquire(&self, t: usize, rec: &mut Record);

    /// Releases the lock held by thread `t`.
    fn release(&self, t: usize, rec: &mut Record, why: Release);

    /// Called at every kernel check point of the holder; true when it must release now.
    /// `ticks` is the holder's own tick counter.
    fn must_release(&self, ticks: &mut u32) -> bool;

    /// At a check point where [`Lock::must_release`] said so: let go and take the lock again,
    /// as the interpreter does.
    fn check_point(&self, t: usize, rec: &mut Record) {
        self.release(t, rec, Release::CheckPoint);
        // Other threads may run now.
        self.acquire(t, rec);
    }

    /// How many threads currently believe they hold the lock (1 while a holder runs).
    fn holders(&self) -> usize;

    /// The holder's log of the run.
    fn ledger(&self) -> &parking_lot::Mutex<Ledger>;
}

/// The ticker a GIL thread runs its kernel with: the interpreter's eval-breaker check.
struct Held<'a, L: Lock> {
    lock: &'a L,
    thread: usize,
    rec: &'a mut Record,
    ticks: u32,
    /// Asks this thread to stop its part (timeout), if a run watches it.
    stop: Option<&'a AtomicBool>,
}

impl<'a, L: Lock> Held<'a, L> {
    /// `thread`'s ticker while it holds `lock`, its events logged in `rec`.
    fn new(lock: &'a L, thread: usize, rec: &'a mut Record, stop: Option<&'a AtomicBool>) -> Self {
        Held {
            lock,
            thread,
            rec,
            ticks: 0,
            stop,
        }
    }
}

impl<L: Lock> Ticker for Held<'_, L> {
    const SCALE: u64 = L::SCALE;

    #[inline]
    fn tick(&mut self) {
        if self.lock.must_release(&mut self.ticks) {
            self.lock.check_point(self.thread, self.rec);
        }
        // The invariant, checked where it matters: the thread running kernel code is the one
        // and only holder.
        if self.lock.holders() != 1 {
            self.rec.violations += 1;
        }
        if let Some(stop) = self.stop {
            Watched::check(stop);
        }
    }

    fn blocking(&mut self, call: &mut dyn FnMut()) {
        self.lock.release(self.thread, self.rec, Release::Blocking);
        call();
        self.lock.acquire(self.thread, self.rec);
    }

    /// Sleeps without the lock, in slices; a stop asked for meanwhile ends the sleep, and the
    /// part stops once the lock is held again (a stopped part lets go of it on the way out).
    fn sleep(&mut self, time: Duration) {
        // A thread with no stop flag (the convoy's) is not watched: it sleeps its time.
        let Some(stop) = self.stop else {
            return self.blocking(&mut || std::thread::sleep(time));
        };
        self.blocking(&mut || {
            nap(time, || Watched::asked(Some(stop)));
        });
        Watched::check(stop);
    }
}

/// Runs `job` on `workers` threads under `lock`; returns the total and the lock's statistics.
pub(crate) fn run_model<L: Lock>(
    lock: &L,
    job: &Job,
    workers: usize,
    observer: &dyn Observer,
    policy: Policy,
) -> Result<(Total, GilStats)> {
    let workers = check_workers(workers)?;
    let plan = job.plan(workers);
    let ctl = Control::new(policy, workers, observer)?;
    let records = Mutex::new(Vec::with_capacity(workers));
    let parts = Parts::new(&plan, &job.kernel);
    let started = Instant::now();

    ctl.on_threads(workers, &format!("parlab-{}", L::NAME), &parts, |worker| {
        observer.worker_started(worker, None);
        let mut rec = Record::new(worker);
        lock.acquire(worker, &mut rec);
        for part in parts.of(worker) {
            let mut ticker = Held::new(lock, worker, &mut rec, Some(ctl.stop_flag(worker)));
            let run = |job: &Job, part: crate::span::Part, t: &mut Held<'_, L>| {
                job.kernel.run_with(part.span(), t)
            };
            match ctl.run_part(job, part, worker, &mut ticker, run) {
                // Appended to the shared list while holding the lock, as a Python thread
                // appends to a list.
                Ok(total) => parts.done(part, total, worker, observer),
                Err(e) => {
                    parts.fail(e);
                    break;
                }
            }
        }
        lock.release(worker, &mut rec, Release::Exit);
        records.lock().expect("records lock").push(rec);
    });
    let elapsed = started.elapsed();

    let total = parts.finish()?;
    let stats = lock.ledger().lock().finish(
        L::NAME,
        workers,
        elapsed,
        &records.into_inner().expect("records lock"),
    );
    Ok((total, stats))
}
