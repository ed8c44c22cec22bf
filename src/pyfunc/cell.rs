//! One road at one worker count on one interpreter: its workers, kept between rounds, and one
//! round of the whole range through them.
//!
//! - `sequential`, `threads`, `subinterpreters`: one interpreter gets the whole plan in one
//!   request and reports each part as it starts and ends, so a part that outlives the timeout
//!   is seen; the interpreter is then killed, as threads cannot be.
//! - `processes`: N interpreters, each given one part at a time as it becomes free (dynamic,
//!   whatever the split); a part that outlives the timeout has its worker killed.
//!
//! Any failure ends the round with an [`Error::Worker`] naming the part; with `retries` left,
//! a failed process is replaced and its part runs again, and a failed single interpreter is
//! restarted and the round run again.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use num_bigint::BigInt;

use super::Road;
use super::conn::{Event, Interp, Launch, Mode, wait_readable};
use crate::error::{Error, PidNote, Result, WorkerCause};
use crate::interrupt;
use crate::span::Part;
use crate::split::Plan;

/// The longest a wait goes without looking at the interrupt flag.
const TICK: Duration = Duration::from_millis(100);
/// How long a worker interpreter may take to start the worker script, and to import the
/// user's file when no `--timeout` bounds that.
pub(crate) const START_LIMIT: Duration = Duration::from_secs(120);

/// A road's workers at one worker count.
#[derive(Debug)]
pub(crate) struct Cell {
    /// The road.
    pub road: Road,
    /// Threads, processes or subinterpreters.
    pub workers: usize,
    launch: Launch,
    plan: Plan,
    timeout: Option<Duration>,
    retries: u32,
    interps: Vec<Interp>,
    /// Processes the function left running, killed as its interpreters stopped.
    left: Arc<AtomicUsize>,
    /// CPU seconds the interpreter's process used on the last round, where it said (one
    /// interpreter: sequential, threads, subinterpreters).
    pub last_cpu_s: Option<f64>,
}

impl Cell {
    /// A cell not started yet.
    pub(crate) fn new(
        road: Road,
        workers: usize,
        launch: Launch,
        plan: Plan,
        timeout: Option<Duration>,
        retries: u32,
    ) -> Cell {
        Cell {
            road,
            workers,
            launch,
            plan,
            timeout,
            retries,
            interps: Vec::new(),
            left: Arc::new(AtomicUsize::new(0)),
            last_cpu_s: None,
        }
    }

    /// How many processes the function left running so far (each killed when its interpreter
    /// stopped).
    pub(crate) fn left(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    fn interp(&self) -> Result<Interp> {
        Interp::start(&self.launch, Mode::Serve(self.road), &self.left)
    }

    /// The longest the import of the user's file may take: `--timeout`, as for a part.
    fn import_limit(&self) -> Duration {
        self.timeout.unwrap_or(START_LIMIT)
    }

    /// Why worker `i`, not ready yet, is taken for failed: it did not start the worker script
    /// within [`START_LIMIT`], or did not import the user's file within the import limit.
    fn start_overdue(&self, i: usize) -> Option<String> {
        let interp = &self.interps[i];
        match interp.loading {
            None if interp.started.elapsed() > START_LIMIT => Some(format!(
                "it did not start the worker script within {START_LIMIT:?}"
            )),
            Some(t) if t.elapsed() > self.import_limit() => Some(format!(
                "importing {} did not finish within {}{:?}",
                self.launch.file.display(),
                if self.timeout.is_some() {
                    "the timeout of "
                } else {
                    ""
                },
                self.import_limit()
            )),
            _ => None,
        }
    }

    /// The cause for worker `i` failing before it was ready, for `why`: named as the import of
    /// the user's file when the interpreter had begun it (the file ended it: `os._exit`).
    fn start_failure(&self, i: usize, why: impl std::fmt::Display) -> WorkerCause {
        match self.interps[i].loading {
            Some(_) => WorkerCause::Spawn(format!(
                "importing {} ended it: {why}",
                self.launch.file.display()
            )),
            None => WorkerCause::Spawn(why.to_string()),
        }
    }

    /// Starts the workers and waits until each has loaded the function (and, for
    /// subinterpreters, made them); returns how long that took.
    pub(crate) fn start(&mut self) -> Result<Duration> {
        let t0 = Instant::now();
        let n = if self.road == Road::Processes {
            self.workers
        } else {
            1
        };
        self.interps.clear();
        for _ in 0..n {
            let interp = self.interp()?;
            self.interps.push(interp);
        }
        for i in 0..n {
            self.await_ready(i)?;
        }
        if self.road == Road::Subinterpreters {
            self.request(0, &format!("prepare {}", self.workers), &[])?;
        }
        Ok(t0.elapsed())
    }

    /// Stops the workers.
    pub(crate) fn stop(&mut self) {
        for interp in &mut self.interps {
            interp.quit();
        }
        self.interps.clear();
    }

    /// Runs the whole plan once; returns the exact sum of the parts' answers.
    pub(crate) fn round(&mut self) -> Result<BigInt> {
        self.last_cpu_s = None;
        if self.interps.is_empty() {
            self.start()?;
        }
        let mut tries = 0;
        loop {
            let outcome = if self.road == Road::Processes {
                self.dispatch()
            } else {
                let verb = match self.road {
                    Road::Sequential => "seq".to_string(),
                    Road::Threads => format!("threads {}", self.workers),
                    _ => format!("subs {}", self.workers),
                };
                let parts: Vec<Part> = self.plan.parts().collect();
                let list: Vec<String> = parts
                    .iter()
                    .map(|p| format!("{}:{}:{}", p.index, p.start, p.end))
                    .collect();
                self.request(0, &format!("{verb} {}", list.join(",")), &parts)
            };
            match outcome {
                Err(e) if tries < self.retries && e.interrupted_by().is_none() => {
                    tries += 1;
                    if self.road != Road::Processes {
                        self.interps.clear();
                        self.start()?;
                    }
                }
                other => return other,
            }
        }
    }

    /// Waits until worker `i` has said `ready`: within [`START_LIMIT`] to start the worker
    /// script, then within the import limit to import the user's file.
    fn await_ready(&mut self, i: usize) -> Result<()> {
        let mut events = Vec::new();
        while !self.interps[i].ready {
            check_interrupt()?;
            if let Some(why) = self.start_overdue(i) {
                self.interps[i].kill();
                return Err(self.error(i, None, WorkerCause::Spawn(why)));
            }
            if wait_readable(&[&self.interps[i]], TICK)?.is_empty() {
                if let Some(cause) = self.interps[i].gone() {
                    let cause = match cause {
                        WorkerCause::Stopped { .. } => cause,
                        other => self.start_failure(i, other),
                    };
                    return Err(self.error(i, None, cause));
                }
                continue;
            }
            let read = self.interps[i].receive(&mut events);
            if let Some(e) = events
                .iter()
                .find(|e| !matches!(e, Event::Ready | Event::Loading))
            {
                let why = format!("it sent {e:?} before it was ready");
                return Err(self.error(i, None, WorkerCause::Protocol(why)));
            }
            events.clear();
            if let Err(why) = read {
                return Err(self.error(i, None, self.start_failure(i, why)));
            }
        }
        Ok(())
    }

    /// Sends `line` to worker `i` and reads events until `end`, adding the answers of `parts`.
    fn request(&mut self, i: usize, line: &str, parts: &[Part]) -> Result<BigInt> {
        let by_index: HashMap<u64, Part> = parts.iter().map(|p| (p.index, *p)).collect();
        let mut running: HashMap<u64, Instant> = HashMap::new();
        let mut answered = 0usize;
        let mut total = BigInt::from(0);
        let mut events = Vec::new();
        self.interps[i]
            .send(line)
            .map_err(|why| self.error(i, None, WorkerCause::Protocol(why)))?;
        loop {
            if let Err(e) = check_interrupt() {
                self.interps[i].kill();
                return Err(e);
            }
            let wait = next_wait(self.timeout, running.values().copied());
            let readable = !wait_readable(&[&self.interps[i]], wait)?.is_empty();
            if !readable && let Some(cause) = self.interps[i].gone() {
                let part = running.keys().next().and_then(|k| by_index.get(k).copied());
                return Err(self.error(i, part, cause));
            }
            if readable {
                let read = self.interps[i].receive(&mut events);
                for event in events.drain(..) {
                    match event {
                        Event::Start(k) => {
                            running.insert(k, Instant::now());
                        }
                        Event::Done(k, v) if by_index.contains_key(&k) => {
                            running.remove(&k);
                            total += v;
                            answered += 1;
                        }
                        Event::Fail(k, fault) => {
                            self.interps[i].kill();
                            let cause = WorkerCause::Kernel(fault.to_string());
                            return Err(self.error(i, by_index.get(&k).copied(), cause));
                        }
                        Event::End(cpu) if answered == parts.len() => {
                            self.last_cpu_s = cpu;
                            return Ok(total);
                        }
                        other => {
                            self.interps[i].kill();
                            let why = format!("sent {other:?} out of turn");
                            return Err(self.error(i, None, WorkerCause::Protocol(why)));
                        }
                    }
                }
                if let Err(why) = read {
                    let part = running.keys().next().and_then(|k| by_index.get(k).copied());
                    return Err(self.error(i, part, WorkerCause::Protocol(why)));
                }
            }
            let limit = self.timeout.unwrap_or(Duration::MAX);
            if let Some((&k, _)) = running.iter().find(|(_, t)| t.elapsed() >= limit) {
                self.interps[i].kill();
                let part = by_index.get(&k).copied();
                return Err(self.error(i, part, WorkerCause::TimedOut(limit)));
            }
        }
    }

    /// The `processes` round: each free worker gets the next part.
    fn dispatch(&mut self) -> Result<BigInt> {
        let n = self.interps.len();
        let mut todo: VecDeque<Part> = self.plan.parts().collect();
        let mut held: Vec<Option<(Part, Instant)>> = vec![None; n];
        let mut failures: HashMap<u64, u32> = HashMap::new();
        let mut left = todo.len();
        let mut total = BigInt::from(0);
        let mut events = Vec::new();
        while left > 0 {
            check_interrupt()?;
            for i in 0..n {
                if held[i].is_some() || !self.interps[i].ready {
                    continue;
                }
                let Some(part) = todo.pop_front() else {
                    break;
                };
                let line = format!("part {} {} {}", part.index, part.start, part.end);
                held[i] = Some((part, Instant::now()));
                if let Err(why) = self.interps[i].send(&line) {
                    let e = self.error(i, Some(part), WorkerCause::Protocol(why));
                    self.retry(i, e, &mut held, &mut todo, &mut failures)?;
                }
            }
            let since = held.iter().flatten().map(|(_, t)| *t);
            let wait = next_wait(self.timeout, since);
            let conns: Vec<&Interp> = self.interps.iter().collect();
            let readable = wait_readable(&conns, wait)?;
            if readable.is_empty() {
                for i in 0..n {
                    if let Some(cause) = self.interps[i].gone() {
                        let cause = match cause {
                            WorkerCause::Stopped { .. } => cause,
                            _ if !self.interps[i].ready => self.start_failure(i, cause),
                            _ => cause,
                        };
                        self.interps[i].kill();
                        let e = self.error(i, held[i].map(|(p, _)| p), cause);
                        self.retry(i, e, &mut held, &mut todo, &mut failures)?;
                    }
                }
            }
            for i in readable {
                let read = self.interps[i].receive(&mut events);
                let mut failed = None;
                for event in events.drain(..) {
                    let holds = |k| held[i].is_some_and(|(p, _)| p.index == k);
                    match event {
                        Event::Ready | Event::Loading => {}
                        Event::Done(k, v) if holds(k) => {
                            total += v;
                            left -= 1;
                            held[i] = None;
                        }
                        Event::Fail(k, fault) if holds(k) => {
                            failed = Some(WorkerCause::Kernel(fault.to_string()));
                        }
                        other => {
                            let why = format!("sent {other:?} out of turn");
                            failed = Some(WorkerCause::Protocol(why));
                        }
                    }
                    if failed.is_some() {
                        break;
                    }
                }
                if let (None, Err(why)) = (&failed, read) {
                    failed = Some(match self.interps[i].ready {
                        true => WorkerCause::Protocol(why),
                        false => self.start_failure(i, why),
                    });
                }
                if let Some(cause) = failed {
                    self.interps[i].kill();
                    let e = self.error(i, held[i].map(|(p, _)| p), cause);
                    self.retry(i, e, &mut held, &mut todo, &mut failures)?;
                }
            }
            for i in 0..n {
                let overdue = (!self.interps[i].ready)
                    .then(|| self.start_overdue(i))
                    .flatten();
                let cause = match (self.timeout, held[i], overdue) {
                    (Some(limit), Some((_, t)), _) if t.elapsed() >= limit => {
                        WorkerCause::TimedOut(limit)
                    }
                    (_, _, Some(why)) => WorkerCause::Spawn(why),
                    _ => continue,
                };
                self.interps[i].kill();
                let e = self.error(i, held[i].map(|(p, _)| p), cause);
                self.retry(i, e, &mut held, &mut todo, &mut failures)?;
            }
        }
        Ok(total)
    }

    /// After worker `i` failed with `error`: starts a fresh worker in its place and queues its
    /// part again if that part has retries left, or returns the error.
    fn retry(
        &mut self,
        i: usize,
        error: Error,
        held: &mut [Option<(Part, Instant)>],
        todo: &mut VecDeque<Part>,
        failures: &mut HashMap<u64, u32>,
    ) -> Result<()> {
        check_interrupt()?;
        let Some((part, _)) = held[i].take() else {
            return Err(error);
        };
        let count = failures.entry(part.index).or_insert(0);
        if *count >= self.retries {
            return Err(error);
        }
        *count += 1;
        self.interps[i] = self.interp()?;
        todo.push_front(part);
        Ok(())
    }

    fn error(&self, i: usize, part: Option<Part>, cause: WorkerCause) -> Error {
        Error::Worker {
            worker: i,
            pid: PidNote(self.interps.get(i).map(Interp::pid)),
            part: part.into(),
            cause,
        }
    }
}

/// How long to wait for events: until the earliest running part's timeout, at most [`TICK`].
fn next_wait(timeout: Option<Duration>, since: impl Iterator<Item = Instant>) -> Duration {
    let mut wait = TICK;
    if let Some(limit) = timeout {
        let now = Instant::now();
        for t in since {
            wait = wait.min((t + limit).saturating_duration_since(now));
        }
    }
    wait
}

fn check_interrupt() -> Result<()> {
    match interrupt::requested() {
        Some(signal) => Err(interrupt::error(signal)),
        None => Ok(()),
    }
}
