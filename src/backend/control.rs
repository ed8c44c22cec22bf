//! Failure handling shared by the in-process backends (sequential, threads, pool, gil,
//! gil-legacy): injected faults, per-part timeouts, retries, and stopping on a signal.
//!
//! A thread cannot be killed from outside, so stopping a part is cooperative: kernels run with a
//! ticker that looks at the worker's stop flag at every check point (every 0.5 µs of work at
//! most) and, when it is set, unwinds out of the kernel with [`std::panic::resume_unwind`],
//! which skips the panic hook, so nothing is printed. A watchdog thread sets a worker's flag
//! when its part has run past the timeout; a signal sets the process-wide interrupt flag, which
//! every ticker also reads. The unwinding is caught around the part, which then fails with a
//! timeout or interrupt error, or runs again if retries are allowed.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::Scope;
use std::time::{Duration, Instant};

use crate::backend::combine::Combiner;
use crate::backend::{Policy, panic_message};
use crate::error::{Error, PidNote, Result, WorkerCause};
use crate::fault::{Fault, FaultKind};
use crate::interrupt;
use crate::job::Job;
use crate::kernels::{Kernel, Ticker, Total, nap};
use crate::limits;
use crate::observer::Observer;
use crate::span::Part;
use crate::split::Plan;

/// The unwinding payload of a stopped part.
struct Stop;

/// One worker's state as the watchdog sees it.
#[derive(Debug, Default)]
struct Slot {
    stop: AtomicBool,
    since: Mutex<Option<Instant>>,
}

/// Per-run failure handling for in-process workers.
pub struct Control<'a> {
    policy: Policy,
    fault: Option<Fault>,
    slots: Vec<Slot>,
    observer: &'a dyn Observer,
    finished: Mutex<bool>,
    wake: Condvar,
    /// Set when the run failed outside any part (a thread the OS refused): parts stop and
    /// are not retried.
    halted: AtomicBool,
}

impl<'a> Control<'a> {
    /// Control for `workers` workers; reads the injected fault, if any.
    pub fn new(policy: Policy, workers: usize, observer: &'a dyn Observer) -> Result<Self> {
        Ok(Control {
            policy,
            fault: Fault::from_env()?.filter(Fault::in_process),
            slots: (0..workers).map(|_| Slot::default()).collect(),
            observer,
            finished: Mutex::new(false),
            wake: Condvar::new(),
            halted: AtomicBool::new(false),
        })
    }

    /// Starts the watchdog in `scope` if there is a timeout; it stops by itself once
    /// [`Control::finish`] is called. A watchdog the OS refuses to start is an error naming the
    /// limit (nothing was started then).
    pub fn watch<'scope>(&'scope self, scope: &'scope Scope<'scope, '_>) -> Result<()> {
        let Some(limit) = self.policy.timeout else {
            return Ok(());
        };
        let every = (limit / 10).clamp(Duration::from_millis(1), Duration::from_millis(20));
        limits::spawn_scoped(scope, "parlab-watchdog", move || {
            let mut finished = self.finished.lock().expect("control lock");
            while !*finished {
                let now = Instant::now();
                for slot in &self.slots {
                    let since = *slot.since.lock().expect("slot lock");
                    if since.is_some_and(|t| now - t >= limit) {
                        slot.stop.store(true, Ordering::Relaxed);
                    }
                }
                finished = self
                    .wake
                    .wait_timeout(finished, every)
                    .expect("control lock")
                    .0;
            }
        })?;
        Ok(())
    }

    /// Runs `body(worker)` on `workers` scoped threads named `{name}-{worker}` under the
    /// watchdog, joins them and ends the watch. A thread the OS refuses to start (the watchdog
    /// or a worker) fails `parts` with the limit named, no further thread is started, and those
    /// started stop at their next part (no more are handed out). Parts run under
    /// `catch_unwind` ([`Control::run_part`]), so a worker thread does not panic.
    pub fn on_threads(
        &self,
        workers: usize,
        name: &str,
        parts: &Parts<'_>,
        body: impl Fn(usize) + Sync,
    ) {
        std::thread::scope(|scope| {
            let mut handles = Vec::with_capacity(workers);
            if let Err(e) = self.watch(scope) {
                parts.fail(e);
            }
            for worker in (0..workers).take_while(|_| !parts.stopped()) {
                let body = &body;
                match limits::spawn_scoped(scope, &format!("{name}-{worker}"), move || body(worker))
                {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        // Kept as the run's failure first; then a part already running stops
                        // at its next check point, so that the scope's wait ends soon.
                        parts.fail(e);
                        self.halt();
                        break;
                    }
                }
            }
            for h in handles {
                let _ = h.join();
            }
            self.finish();
        });
    }

    /// Asks every worker to stop its part, as a timeout does, and not to run it again.
    fn halt(&self) {
        self.halted.store(true, Ordering::SeqCst);
        for slot in &self.slots {
            slot.stop.store(true, Ordering::SeqCst);
        }
    }

    /// Tells the watchdog the run is over.
    pub fn finish(&self) {
        *self.finished.lock().expect("control lock") = true;
        self.wake.notify_all();
    }

    /// The ticker for `worker`: its stop flag and the interrupt flag, at every check point.
    pub fn ticker(&self, worker: usize) -> Watched<'_> {
        Watched {
            stop: self.stop_flag(worker),
        }
    }

    /// The flag that asks `worker` to stop its part, for tickers of its own (the GIL models').
    pub fn stop_flag(&self, worker: usize) -> &AtomicBool {
        &self.slots[worker].stop
    }

    /// Runs `part` on `worker` with `run`, which gets the worker's ticker, under the policy:
    /// an injected fault on the first attempt, the timeout, retries, the interrupt flag.
    pub fn run_part<T: Ticker>(
        &self,
        job: &Job,
        part: Part,
        worker: usize,
        ticker: &mut T,
        mut run: impl FnMut(&Job, Part, &mut T) -> Result<Total>,
    ) -> Result<Total> {
        let slot = &self.slots[worker];
        let mut attempt = 0;
        loop {
            if let Some(signal) = interrupt::requested() {
                return Err(interrupt::error(signal));
            }
            // A halt (a refused thread) that came before this part began, or while its flag is
            // reset here, still stops it: the flag is set again after the reset, and the
            // sequentially consistent order makes one of the two stores see the halt.
            slot.stop.store(false, Ordering::SeqCst);
            if self.halted.load(Ordering::SeqCst) {
                slot.stop.store(true, Ordering::SeqCst);
            }
            *slot.since.lock().expect("slot lock") = Some(Instant::now());
            let fault = self.fault.filter(|f| f.hits(part.index, attempt));
            let outcome = catch_unwind(AssertUnwindSafe(|| match fault {
                Some(f) if f.kind == FaultKind::Panic => resume_unwind(Box::new(f.panic_message())),
                Some(f) if f.kind == FaultKind::Hang => loop {
                    ticker.sleep(Duration::from_millis(2));
                    ticker.tick();
                },
                _ => run(job, part, ticker),
            }));
            *slot.since.lock().expect("slot lock") = None;
            let error = match outcome {
                Ok(Ok(total)) => return Ok(total),
                // Kernel errors (an overflow) come out the same every time: no retry.
                Ok(Err(e)) => return Err(e),
                Err(payload) if payload.is::<Stop>() => match interrupt::requested() {
                    Some(signal) => return Err(interrupt::error(signal)),
                    None => self.worker_error(
                        worker,
                        part,
                        WorkerCause::TimedOut(self.policy.timeout.unwrap_or_default()),
                    ),
                },
                Err(payload) => self.worker_error(
                    worker,
                    part,
                    WorkerCause::Panicked(panic_message(payload.as_ref())),
                ),
            };
            if attempt >= self.policy.retries || self.halted.load(Ordering::Relaxed) {
                return Err(error);
            }
            attempt += 1;
            self.observer.part_retried(part, attempt, &error);
        }
    }

    fn worker_error(&self, worker: usize, part: Part, cause: WorkerCause) -> Error {
        Error::Worker {
            worker,
            pid: PidNote(None),
            part: Some(part).into(),
            cause,
        }
    }
}

/// The ticker of an in-process worker: stops the kernel when asked.
pub struct Watched<'a> {
    stop: &'a AtomicBool,
}

impl Watched<'_> {
    /// Unwinds out of the kernel if the worker was asked to stop.
    #[inline]
    pub fn check(stop: &AtomicBool) {
        if Watched::asked(Some(stop)) {
            resume_unwind(Box::new(Stop));
        }
    }

    /// True when the worker whose flag is `stop` (if it has one) or the whole process
    /// (Ctrl-C, SIGTERM) was asked to stop.
    #[inline]
    pub fn asked(stop: Option<&AtomicBool>) -> bool {
        stop.is_some_and(|s| s.load(Ordering::Relaxed)) || interrupt::requested().is_some()
    }
}

impl Ticker for Watched<'_> {
    /// Check points every 0.5 µs of `count` at most, as for the `gil` model.
    const SCALE: u64 = 16;

    #[inline]
    fn tick(&mut self) {
        Watched::check(self.stop);
    }

    /// Sleeps in slices, and stops the part as a check point does when asked to meanwhile.
    fn sleep(&mut self, time: Duration) {
        let stop = self.stop;
        nap(time, || Watched::asked(Some(stop)));
        Watched::check(stop);
    }
}

/// The parts of a run on in-process workers, and what comes back: hands part k to worker k
/// (static plan) or the next chunk to whichever worker asks; collects totals into the in-order
/// combiner (the seed's shared list); keeps the first failure, after which it hands out nothing.
pub struct Parts<'a> {
    plan: &'a Plan,
    next: AtomicU64,
    stopped: AtomicBool,
    results: Mutex<Combiner>,
    first_error: Mutex<Option<Error>>,
}

impl<'a> Parts<'a> {
    /// Parts of `plan` for `kernel`, none handed out yet.
    pub fn new(plan: &'a Plan, kernel: &Kernel) -> Self {
        Parts {
            plan,
            next: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            results: Mutex::new(Combiner::new(kernel, plan.len())),
            first_error: Mutex::new(None),
        }
    }

    /// The parts `worker` runs, in the order it gets them.
    pub fn of(&self, worker: usize) -> impl Iterator<Item = Part> + '_ {
        let mut own = Some(worker as u64);
        std::iter::from_fn(move || {
            if self.stopped.load(Ordering::Relaxed) {
                return None;
            }
            let k = if self.plan.is_dynamic() {
                self.next.fetch_add(1, Ordering::Relaxed)
            } else {
                own.take()?
            };
            (k < self.plan.len()).then(|| self.plan.part(k))
        })
    }

    /// Records the total of `part`, which `worker` computed.
    pub fn done(&self, part: Part, total: Total, worker: usize, observer: &dyn Observer) {
        let done = {
            let mut r = self.results.lock().expect("results lock");
            r.push(part.index, total);
            r.done()
        };
        observer.part_done(part, worker, done, self.plan.len());
    }

    /// True once a failure stopped the handing out of parts.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Records a failure: the first one is kept, and no more parts are handed out.
    pub fn fail(&self, error: Error) {
        self.stopped.store(true, Ordering::Relaxed);
        self.first_error
            .lock()
            .expect("error lock")
            .get_or_insert(error);
    }

    /// The combined total, or the first failure with what had finished.
    pub fn finish(self) -> Result<Total> {
        let results = self.results.into_inner().expect("results lock");
        match self.first_error.into_inner().expect("error lock") {
            Some(e) => Err(results.incomplete(e, self.plan)),
            None => Ok(results.finish()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::backend::{BackendKind, BackendOptions, Policy};
    use crate::job::Job;
    use crate::kernels::Kernel;
    use crate::limits::allow_threads;
    use crate::observer::Silent;

    /// The in-process backends, with a timeout, so that each starts a watchdog.
    const IN_PROCESS: [BackendKind; 5] = [
        BackendKind::Sequential,
        BackendKind::Threads,
        BackendKind::Pool,
        BackendKind::Gil,
        BackendKind::GilLegacy,
    ];

    /// A refused thread (the watchdog, or a worker after two others are asleep in an hour's
    /// part) fails the run with the limit named, and the parts already running stop at once:
    /// the run returns instead of waiting out the hour.
    #[test]
    fn a_refused_thread_fails_the_run_and_stops_the_parts_already_running() {
        let options = BackendOptions {
            policy: Policy {
                timeout: Some(Duration::from_secs(7200)),
                retries: 3,
            },
            ..BackendOptions::default()
        };
        let job = Job {
            kernel: Kernel::Sleep {
                per_item_ns: 3600 * 1_000_000_000,
            },
            range: "0..4".parse().unwrap(),
            ..Job::seed()
        };
        for kind in IN_PROCESS {
            // The watchdog alone, then the watchdog and two workers (rayon's own threads are
            // not counted here: for the pool, only its watchdog).
            for allowed in [0, 3] {
                if allowed == 3 && matches!(kind, BackendKind::Sequential | BackendKind::Pool) {
                    continue;
                }
                allow_threads(Some(allowed));
                let outcome = kind.create_with(&options).run(&job, 4, &Silent);
                allow_threads(None);
                let e = outcome.unwrap_err();
                assert!(e.is_limit(), "{kind:?} with {allowed}: {e}");
                assert!(e.to_string().contains("RLIMIT_NPROC"), "{kind:?}: {e}");
                assert!(e.interrupted_by().is_none(), "{kind:?}: {e}");
            }
        }
    }
}
