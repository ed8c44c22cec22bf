//! The parent's scheduling loop: hands parts to workers, collects their totals in part order,
//! and handles a worker's failure (timeouts, retries, the first failure that ends the run).
//!
//! The loop knows a worker only as a [`Conn`]: something parts are sent to and answers come
//! from. The `processes` backend drives worker processes over pipes ([`super::pipes`]); the
//! tests (`schedule/tests.rs`) drive scripted workers, so that the loop's rules are checked
//! without a process.
//!
//! - Static split: every part goes out at once, part k to worker k.
//! - `chunks:SIZE`: each worker holds a window of chunks, at most [`MAX_WINDOW`], shrinking
//!   towards the end of the job so that the last chunks go to whoever is idle.
//! - A worker answers its parts in the order it got them, so each worker's parts wait in a FIFO
//!   and every answer must be for the head of it.
//! - A worker that has not greeted within its start limit is killed and reported (the start-up
//!   watchdog), so that a worker that never starts does not hold the run forever; so is a
//!   worker stopped by a signal (SIGSTOP), seen within [`STOP_CHECK`].
//! - A failed worker is reported with the part it held. With retries left for that part, it is
//!   replaced by a fresh worker (which injects no fault) and its parts run again.

use std::collections::{HashMap, VecDeque};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::handle::cause_of;
use super::protocol::Frame;
use crate::backend::Policy;
use crate::backend::combine::Combiner;
use crate::error::{Error, PidNote, Result, WorkerCause};
use crate::interrupt;
use crate::observer::Observer;
use crate::span::Part;
use crate::split::Plan;

/// Most chunks one worker holds at a time with `chunks:SIZE`.
const MAX_WINDOW: u64 = 64;
/// The longest the loop waits without looking at the interrupt flag.
const TICK: Duration = Duration::from_millis(100);
/// How often the loop looks for workers stopped by a signal (a system call per worker).
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Why a connection to a worker broke.
#[derive(Debug)]
pub(super) enum Broken {
    /// The worker failed, for this reason; it is reported with its part and PID.
    Worker(WorkerCause),
    /// Parlab could not even tell how (reaping it failed).
    Parent(Error),
}

impl From<WorkerCause> for Broken {
    fn from(cause: WorkerCause) -> Self {
        Broken::Worker(cause)
    }
}

/// One worker as the scheduling loop sees it.
pub(super) trait Conn: Sized {
    /// The worker's PID.
    fn pid(&self) -> u32;
    /// Queues `part` for the worker.
    fn send(&mut self, part: Part);
    /// Sends what is queued.
    fn flush(&mut self) -> std::result::Result<(), Broken>;
    /// Reads what the worker sent and appends the frames that follow its greeting to
    /// `replies`, in order (answers, unless it misbehaves). An error comes after the frames
    /// read before it.
    fn receive(&mut self, replies: &mut Vec<Frame>) -> std::result::Result<(), Broken>;
    /// `Some(limit)` when the worker has not finished starting (greeted) within `limit` of
    /// being started: it is taken for hung (the start-up watchdog). Scripted workers start at
    /// once.
    fn start_overdue(&self) -> Option<Duration> {
        None
    }
    /// The signal that stopped the worker (SIGSTOP, SIGTSTP), if it is stopped now: it would
    /// never answer, so it fails as a hang would. Scripted workers are never stopped.
    fn stopped(&self) -> Option<i32> {
        None
    }
    /// Kills the worker and reaps it; a worker already reaped is left alone.
    fn kill(&mut self);
    /// Tells the worker there is no more work: it is to exit.
    fn close(&mut self) -> std::result::Result<(), Broken>;
    /// Waits for the worker to exit (a short while, then kills it) and reaps it.
    fn wait_exit(&mut self) -> Result<ExitStatus>;
    /// Waits up to `wait` until some of `conns` have something to read (or broke); returns
    /// their positions.
    fn wait_readable(conns: &[Self], wait: Duration) -> Result<Vec<usize>>;
}

/// The parts one worker holds, in the order it answers them.
#[derive(Debug, Default)]
struct Held {
    parts: VecDeque<Part>,
    /// Since when the worker has been on the head of `parts`.
    since: Option<Instant>,
}

impl Held {
    fn holds(&self, index: u64) -> bool {
        self.parts.front().is_some_and(|p| p.index == index)
    }
}

/// All workers of one run and the parts each holds. Dropping it drops every connection, which
/// for worker processes kills and reaps every one still alive.
pub(super) struct Schedule<C, S> {
    conns: Vec<C>,
    held: Vec<Held>,
    policy: Policy,
    /// Starts a fresh worker in place of worker `i`.
    replace: S,
    /// Parts waiting to be sent again after a failure (`chunks:SIZE` only).
    again: VecDeque<Part>,
    /// How often each part has failed.
    failures: HashMap<u64, u32>,
    /// Answers just read, kept to reuse the allocation.
    replies: Vec<Frame>,
}

impl<C: Conn, S: FnMut(usize) -> Result<C>> Schedule<C, S> {
    /// A schedule over `conns`, worker `i` being `conns[i]`.
    pub(super) fn new(conns: Vec<C>, policy: Policy, replace: S) -> Self {
        Schedule {
            held: conns.iter().map(|_| Held::default()).collect(),
            conns,
            policy,
            replace,
            again: VecDeque::new(),
            failures: HashMap::new(),
            replies: Vec::new(),
        }
    }

    /// Hands out every part and collects every total into `results`.
    pub(super) fn drive(
        &mut self,
        plan: &Plan,
        results: &mut Combiner,
        observer: &dyn Observer,
    ) -> Result<()> {
        let n = self.conns.len();
        let mut next = 0u64;
        let mut looked_for_stops = Instant::now();
        if !plan.is_dynamic() {
            for part in plan.parts() {
                self.send(part.index as usize % n, part);
            }
        }
        while !results.is_complete() {
            if let Some(signal) = interrupt::requested() {
                return Err(interrupt::error(signal));
            }
            if plan.is_dynamic() {
                next = self.refill(plan, next);
            }
            for i in 0..n {
                if let Err(e) = self.conns[i].flush() {
                    let e = self.broken(i, e);
                    self.recover(i, e, plan, observer)?;
                }
            }
            let ready = C::wait_readable(&self.conns, self.wait())?;
            for i in ready {
                if let Err(e) = self.receive(i, results, plan, observer) {
                    self.recover(i, e, plan, observer)?;
                }
            }
            // Without it a worker that never starts would be waited for forever, as no part
            // timeout runs unless asked for.
            for i in 0..n {
                if let Some(limit) = self.conns[i].start_overdue() {
                    self.conns[i].kill();
                    let why = format!("it did not greet within {limit:?} of being started");
                    let e = self.error(i, WorkerCause::Spawn(why));
                    self.recover(i, e, plan, observer)?;
                }
            }
            // Without it a stopped worker would be waited for forever, as a hang is without a
            // timeout.
            if looked_for_stops.elapsed() >= STOP_CHECK {
                looked_for_stops = Instant::now();
                for i in 0..n {
                    if let Some(signal) = self.conns[i].stopped() {
                        self.conns[i].kill();
                        let e = self.error(i, WorkerCause::stopped(signal));
                        self.recover(i, e, plan, observer)?;
                    }
                }
            }
            if let Some(limit) = self.policy.timeout {
                let now = Instant::now();
                for i in 0..n {
                    if self.held[i].since.is_some_and(|t| now - t >= limit) {
                        self.conns[i].kill();
                        let e = self.error(i, WorkerCause::TimedOut(limit));
                        self.recover(i, e, plan, observer)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Tells every worker to exit and checks that each exits with code 0.
    pub(super) fn shut_down(&mut self) -> Result<()> {
        for i in 0..self.conns.len() {
            if let Err(e) = self.conns[i].close() {
                return Err(self.broken(i, e));
            }
        }
        for (i, conn) in self.conns.iter_mut().enumerate() {
            let status = conn.wait_exit()?;
            if !status.success() {
                return Err(worker_error(i, conn.pid(), None, cause_of(status)));
            }
        }
        Ok(())
    }

    fn send(&mut self, i: usize, part: Part) {
        let held = &mut self.held[i];
        if held.parts.is_empty() {
            held.since = Some(Instant::now());
        }
        held.parts.push_back(part);
        self.conns[i].send(part);
    }

    /// Reads worker `i`'s answers and records every total.
    fn receive(
        &mut self,
        i: usize,
        results: &mut Combiner,
        plan: &Plan,
        observer: &dyn Observer,
    ) -> Result<()> {
        let mut replies = std::mem::take(&mut self.replies);
        let read = self.conns[i].receive(&mut replies);
        let mut answered = Ok(());
        for reply in replies.drain(..) {
            let held = &mut self.held[i];
            let cause = match reply {
                Frame::Done { index, total } if held.holds(index) => {
                    let part = held.parts.pop_front().expect("held part");
                    held.since = (!held.parts.is_empty()).then(Instant::now);
                    results.push(index, total);
                    observer.part_done(part, i, results.done(), plan.len());
                    continue;
                }
                Frame::Failed {
                    index,
                    panic,
                    message,
                } if held.holds(index) => {
                    if panic {
                        WorkerCause::Panicked(message)
                    } else {
                        WorkerCause::Kernel(message)
                    }
                }
                other => {
                    let name = other.name();
                    let expected = match held.parts.front() {
                        Some(p) => format!("expected the answer to part {}", p.index),
                        None => "it holds no part".to_string(),
                    };
                    WorkerCause::Protocol(format!("sent an unexpected {name} frame; {expected}"))
                }
            };
            self.conns[i].kill();
            answered = Err(self.error(i, cause));
            break;
        }
        replies.clear();
        self.replies = replies;
        answered?;
        read.map_err(|e| self.broken(i, e))
    }

    /// After worker `i` failed with `error`: replaces it and queues its parts again if the part
    /// it was on may be retried, or returns the error.
    fn recover(
        &mut self,
        i: usize,
        error: Error,
        plan: &Plan,
        observer: &dyn Observer,
    ) -> Result<()> {
        // Ctrl-C in a terminal signals the whole process group: workers die of the same signal
        // that asked parlab to stop. That is the interruption, not a worker failure.
        if let Some(signal) = interrupt::requested() {
            return Err(interrupt::error(signal));
        }
        let Some(failed) = self.held[i].parts.front().copied() else {
            return Err(error);
        };
        let count = self.failures.entry(failed.index).or_insert(0);
        if *count >= self.policy.retries {
            return Err(error);
        }
        *count += 1;
        observer.part_retried(failed, *count, &error);
        self.conns[i].kill();
        let parts = std::mem::take(&mut self.held[i]).parts;
        let fresh = (self.replace)(i)?;
        observer.worker_started(i, Some(fresh.pid()));
        self.conns[i] = fresh;
        if plan.is_dynamic() {
            for part in parts.into_iter().rev() {
                self.again.push_front(part);
            }
        } else {
            for part in parts {
                self.send(i, part);
            }
        }
        Ok(())
    }

    /// Tops up every worker's window of chunks, parts to retry first; returns the next chunk
    /// never sent.
    fn refill(&mut self, plan: &Plan, mut next: u64) -> u64 {
        let n = self.conns.len() as u64;
        for i in 0..self.conns.len() {
            // Shrink the window towards the end so the last chunks go to whoever is idle.
            let left = plan.len() - next + self.again.len() as u64;
            let window = (left / (2 * n)).clamp(1, MAX_WINDOW) as usize;
            while self.held[i].parts.len() < window {
                if let Some(part) = self.again.pop_front() {
                    self.send(i, part);
                } else if next < plan.len() {
                    self.send(i, plan.part(next));
                    next += 1;
                } else {
                    break;
                }
            }
        }
        next
    }

    /// How long to wait for answers: until the first part's timeout expires, and never longer
    /// than [`TICK`], to look at the interrupt flag.
    fn wait(&self) -> Duration {
        let mut wait = TICK;
        if let Some(limit) = self.policy.timeout {
            let now = Instant::now();
            for since in self.held.iter().filter_map(|h| h.since) {
                wait = wait.min((since + limit).saturating_duration_since(now));
            }
        }
        wait
    }

    /// The error for worker `i`, with the part it is on.
    fn error(&self, i: usize, cause: WorkerCause) -> Error {
        worker_error(
            i,
            self.conns[i].pid(),
            self.held[i].parts.front().copied(),
            cause,
        )
    }

    fn broken(&self, i: usize, broken: Broken) -> Error {
        match broken {
            Broken::Worker(cause) => self.error(i, cause),
            Broken::Parent(e) => e,
        }
    }
}

fn worker_error(worker: usize, pid: u32, part: Option<Part>, cause: WorkerCause) -> Error {
    Error::Worker {
        worker,
        pid: PidNote(Some(pid)),
        part: part.into(),
        cause,
    }
}

#[cfg(test)]
mod tests;
