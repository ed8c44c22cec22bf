//! One road at one worker count on one interpreter: its workers, kept between rounds, and one
//! round of the whole range (or of every item) through them.
//!
//! - `sequential`, `threads`, `subinterpreters`: one interpreter gets the whole plan in one
//!   request and reports each part as it starts and ends, so a part that outlives the timeout
//!   is seen; the interpreter is then killed, as threads cannot be.
//! - `processes`: N interpreters, each given one part at a time as it becomes free (dynamic,
//!   whatever the split); a part that outlives the timeout has its worker killed.
//!
//! In map mode a part is a chunk of items. The one-interpreter roads get the items at start-up
//! (sequential and threads keep them as objects; the subinterpreters' host keeps them pickled
//! and hands each subinterpreter its chunk pickled) and keep their results until parlab asks
//! for them after the round, outside its time; a process gets each chunk's items pickled with
//! the chunk and sends its results back pickled, inside the time, as `ProcessPoolExecutor` does.
//!
//! The `processes` round lives in `cell/dispatch.rs`. Any failure ends the round with an
//! [`Error::Worker`] naming the part; with `retries` left, a failed process is replaced and its
//! part runs again, and a failed single interpreter is restarted and the round run again. Beside the per-part timeout, a round may have a limit of
//! its own ([`RunLimit`]), which ends it the same way.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use num_bigint::BigInt;

use super::conn::{Interp, Launch, TICK, Unanswered, WorkerMode, wait_readable};
use super::event::{Event, PythonException};
use super::forms::Forms;
use super::{PoolStart, Road};
use crate::error::{Error, PidNote, Result, WorkerCause};
use crate::interrupt;
use crate::span::Part;
use crate::split::Plan;

/// How long a worker interpreter may take to start the worker script, and to import the
/// user's file when no `--timeout` bounds that (and, in map mode, to take its items or hand
/// back a round's results).
pub(crate) const START_LIMIT: Duration = Duration::from_secs(120);

/// How long an executor's pool may take to shut down, its workers ending.
const POOL_CLOSE_LIMIT: Duration = Duration::from_secs(10);

/// What one round answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// The exact sum of the parts' ints.
    Int(BigInt),
    /// Every item's result, in item order.
    Forms(Forms),
}

/// The most one round may take, and why, in words for its error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunLimit {
    /// The limit.
    pub limit: Duration,
    /// Where it comes from: "parlab's default, 10x the sequential run ...".
    pub why: String,
}

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
    /// Map mode: the items, as the helper sent them.
    items: Option<Arc<Forms>>,
    run_limit: Option<RunLimit>,
    /// An executor road's pool: how its workers start (`None`: the interpreter's default) and,
    /// in map mode, the items a task (`executor:process`; the others take one).
    pool: Option<(Option<PoolStart>, u64)>,
    interps: Vec<Interp>,
    /// Processes the function left running, killed as its interpreters stopped.
    left: Arc<AtomicUsize>,
    /// CPU seconds the interpreter's process used on the last round, where it said (one
    /// interpreter: sequential, threads, subinterpreters).
    pub last_cpu_s: Option<f64>,
    /// What the function (or the crossing of a value) raised, where that ended the last
    /// round or start-up.
    pub last_fault: Option<PythonException>,
    /// Whether the round limit ended the last round.
    pub limited: bool,
    /// `executor:process`: the start method its pool used, as the interpreter named it.
    pub start_method: Option<String>,
}

impl Cell {
    /// A cell not started yet; map mode's cells get the items.
    pub(crate) fn new(
        road: Road,
        workers: usize,
        launch: Launch,
        plan: Plan,
        timeout: Option<Duration>,
        retries: u32,
        items: Option<Arc<Forms>>,
    ) -> Cell {
        Cell {
            road,
            workers,
            launch,
            plan,
            timeout,
            retries,
            items,
            run_limit: None,
            pool: None,
            interps: Vec::new(),
            left: Arc::new(AtomicUsize::new(0)),
            last_cpu_s: None,
            last_fault: None,
            limited: false,
            start_method: None,
        }
    }

    /// An executor road's pool: started by `start` (`None`: the interpreter's default), each
    /// task `chunksize` items (map mode's `executor:process`; 1 otherwise).
    pub(crate) fn with_pool(mut self, start: Option<PoolStart>, chunksize: u64) -> Cell {
        self.pool = Some((start, chunksize));
        self
    }

    /// How many processes the function left running so far (each killed when its interpreter
    /// stopped).
    pub(crate) fn left(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    fn interp(&self) -> Result<Interp> {
        Interp::start(&self.launch, WorkerMode::Serve(self.road), &self.left)
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

    /// Sets the most a round may take from now on.
    pub(crate) fn limit_runs(&mut self, limit: RunLimit) {
        self.run_limit = Some(limit);
    }

    /// Starts the workers and waits until each has loaded the function (and, for
    /// subinterpreters, made them; in map mode, taken the items); returns how long that took.
    pub(crate) fn start(&mut self) -> Result<Duration> {
        let t0 = Instant::now();
        let n = if self.road == Road::Processes {
            self.workers
        } else {
            1
        };
        self.interps.clear();
        if let Some(items) = &self.items
            && self.road.sends()
            && let Some((at, kind)) = items.first_unpicklable()
        {
            let fault = PythonException {
                kind: "PicklingError".to_string(),
                message: format!(
                    "item {at} is a {kind}, which cannot be pickled, and {} receive their items \
                     pickled",
                    self.road
                ),
                place: String::new(),
                item: None,
                cross: Some(kind),
            };
            let cause = WorkerCause::Kernel(fault.to_string());
            self.last_fault = Some(fault);
            return Err(Error::Worker {
                worker: 0,
                pid: PidNote(None),
                part: None::<Part>.into(),
                cause,
            });
        }
        for _ in 0..n {
            let interp = self.interp()?;
            self.interps.push(interp);
        }
        for i in 0..n {
            self.await_ready(i)?;
        }
        if let Some(items) = self.items.clone()
            && self.road != Road::Processes
        {
            self.hand_items(&items)?;
        }
        if self.road == Road::Subinterpreters {
            self.request(0, &format!("prepare {}", self.workers), &[])?;
        }
        if let (Some(kind), Some((start, _))) = (self.road.executor(), self.pool) {
            let start = start.map_or("default", PoolStart::name);
            let line = format!("xprepare {kind} {} {start}", self.workers);
            let limit = self.import_limit().max(START_LIMIT);
            let reply = self.interps[0]
                .call(&line, &[], limit)
                .map_err(|u| self.unanswered(u))?;
            self.start_method = reply
                .info
                .first()
                .and_then(|v| v.get("start_method"))
                .and_then(|m| m.as_str())
                .map(str::to_string);
            // Its children are the pool's (its workers, and from 3.14 on the fork server and
            // the resource tracker, which outlive the pool), not processes the function left:
            // killed with it, never counted.
            self.interps[0].pool_children = self.road == Road::ExecutorProcess;
        }
        Ok(t0.elapsed())
    }

    /// Map mode: gives the one interpreter its items. Items that cannot be pickled (only
    /// sequential and threads get this far with them) it loads from SOURCE itself, and they
    /// must be the helper's, record for record.
    fn hand_items(&mut self, items: &Forms) -> Result<()> {
        if items.first_unpicklable().is_some() {
            let reply = self.interps[0]
                .call("own-items", &[], START_LIMIT)
                .map_err(|u| self.unanswered(u))?;
            let own = Forms::parse(reply.data.into_iter().next().unwrap_or_default())
                .map_err(|why| self.error(0, None, WorkerCause::Protocol(why)))?;
            let differ = items.differing(&own);
            if own.len() != items.len() || !differ.is_empty() {
                let at = differ
                    .first()
                    .copied()
                    .unwrap_or(own.len().min(items.len()));
                let why = format!(
                    "SOURCE gave other items in this interpreter than in the first one to load \
                     it (from item {at} on; {} items against {}): items that cannot be pickled \
                     are loaded by each interpreter, and must come in the same order each time",
                    own.len(),
                    items.len()
                );
                return Err(self.error(0, None, WorkerCause::Kernel(why)));
            }
            return Ok(());
        }
        let keep = if self.road == Road::Subinterpreters {
            "bytes"
        } else {
            "objects"
        };
        let line = format!("items {} {keep}", items.bytes().len());
        self.interps[0]
            .call(&line, items.bytes(), START_LIMIT)
            .map_err(|u| self.unanswered(u))?;
        Ok(())
    }

    /// Stops the workers (an executor's pool shut down first, its workers ending as they
    /// would in the user's program).
    pub(crate) fn stop(&mut self) {
        if self.road.is_executor()
            && let Some(host) = self.interps.first_mut()
            && host.ready
        {
            let _ = host.call("xclose", &[], POOL_CLOSE_LIMIT);
        }
        for interp in &mut self.interps {
            interp.quit();
        }
        self.interps.clear();
    }

    /// Runs the whole plan once; returns the answer (the exact sum of the parts' ints, or every
    /// item's result) and how long the run took (in map mode, not counting the hand-back of a
    /// one-interpreter road's results, which only parlab's check needs).
    pub(crate) fn round(&mut self) -> Result<(Answer, Duration)> {
        self.last_cpu_s = None;
        self.last_fault = None;
        self.limited = false;
        if self.interps.is_empty() {
            self.start()?;
        }
        let mut tries = 0;
        loop {
            let t0 = Instant::now();
            let outcome = if self.road == Road::Processes {
                self.dispatch().map(|a| (a, t0.elapsed()))
            } else {
                self.one_round(t0)
            };
            match outcome {
                Err(e) if tries < self.retries && e.interrupted_by().is_none() => {
                    tries += 1;
                    self.last_fault = None;
                    self.limited = false;
                    if self.road != Road::Processes {
                        self.interps.clear();
                        self.start()?;
                    }
                }
                other => return other,
            }
        }
    }

    /// A round of a one-interpreter road.
    fn one_round(&mut self, t0: Instant) -> Result<(Answer, Duration)> {
        let map = self.items.is_some();
        let verb = match (self.road, map) {
            (road, false) if road.is_executor() => "xrange".to_string(),
            (road, true) if road.is_executor() => {
                format!("xmap {}", self.pool.map_or(1, |(_, c)| c))
            }
            (Road::Sequential, false) => "seq".to_string(),
            (Road::Sequential, true) => "mseq".to_string(),
            (Road::Threads, false) => format!("threads {}", self.workers),
            (Road::Threads, true) => format!("mthreads {}", self.workers),
            (_, false) => format!("subs {}", self.workers),
            (_, true) => format!("msubs {}", self.workers),
        };
        let parts: Vec<Part> = self.plan.parts().collect();
        let list: Vec<String> = parts
            .iter()
            .map(|p| format!("{}:{}:{}", p.index, p.start, p.end))
            .collect();
        let total = self.request(0, &format!("{verb} {}", list.join(",")), &parts)?;
        let took = t0.elapsed();
        if !map {
            return Ok((Answer::Int(total), took));
        }
        let reply = self.interps[0]
            .call("results", &[], START_LIMIT)
            .map_err(|u| self.unanswered(u))?;
        let forms = Forms::parse(reply.data.into_iter().next().unwrap_or_default())
            .map_err(|why| self.error(0, None, WorkerCause::Protocol(why)))?;
        let want = self.plan.range().len() as usize;
        if forms.len() != want {
            let why = format!("sent {} results for {want} items", forms.len());
            return Err(self.error(0, None, WorkerCause::Protocol(why)));
        }
        Ok((Answer::Forms(forms), took))
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
                let why = format!("it sent {} before it was ready", e.brief());
                return Err(self.error(i, None, WorkerCause::Protocol(why)));
            }
            events.clear();
            if let Err(why) = read {
                return Err(self.error(i, None, self.start_failure(i, why)));
            }
        }
        Ok(())
    }

    /// Sends `line` to worker `i` and reads events until `end`, adding the answers of `parts`
    /// (in map mode, counting the chunks kept).
    fn request(&mut self, i: usize, line: &str, parts: &[Part]) -> Result<BigInt> {
        let t0 = Instant::now();
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
            let wait = self.next_wait(t0, running.values().copied());
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
                        Event::Ok(k) if by_index.contains_key(&k) => {
                            running.remove(&k);
                            answered += 1;
                        }
                        Event::Fail(k, fault) => {
                            self.interps[i].kill();
                            let cause = WorkerCause::Kernel(fault.to_string());
                            self.last_fault = Some(fault);
                            return Err(self.error(i, by_index.get(&k).copied(), cause));
                        }
                        Event::End(cpu) if answered == parts.len() => {
                            self.last_cpu_s = cpu;
                            return Ok(total);
                        }
                        other => {
                            self.interps[i].kill();
                            let why = format!("sent {} out of turn", other.brief());
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
            if let Some(cause) = self.past_run_limit(t0) {
                self.interps[i].kill();
                let part = running.keys().min().and_then(|k| by_index.get(k).copied());
                return Err(self.error(i, part, cause));
            }
        }
    }

    /// The round limit's failure, once a round begun at `t0` has reached it.
    fn past_run_limit(&mut self, t0: Instant) -> Option<WorkerCause> {
        let limit = self.run_limit.as_ref()?;
        if t0.elapsed() < limit.limit {
            return None;
        }
        self.limited = true;
        Some(WorkerCause::Kernel(format!(
            "the run did not finish within {}, {}",
            crate::units::seconds(limit.limit.as_secs_f64()),
            limit.why
        )))
    }

    /// How long to wait for events: until the earliest running part's timeout or the round's
    /// limit, at most [`TICK`].
    fn next_wait(&self, t0: Instant, since: impl Iterator<Item = Instant>) -> Duration {
        let now = Instant::now();
        let mut wait = TICK;
        if let Some(limit) = self.timeout {
            for t in since {
                wait = wait.min((t + limit).saturating_duration_since(now));
            }
        }
        if let Some(limit) = &self.run_limit {
            wait = wait.min((t0 + limit.limit).saturating_duration_since(now));
        }
        wait
    }

    /// The error of a request to the one interpreter that went unanswered.
    fn unanswered(&mut self, u: Unanswered) -> Error {
        let cause = match u {
            Unanswered::Stopped(e) => return e,
            Unanswered::Fault(fault) => {
                let cause = WorkerCause::Kernel(fault.to_string());
                self.last_fault = Some(fault);
                cause
            }
            Unanswered::Gone(why) => WorkerCause::Protocol(why),
            Unanswered::Late(limit) => WorkerCause::TimedOut(limit),
        };
        self.error(0, None, cause)
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

fn check_interrupt() -> Result<()> {
    match interrupt::requested() {
        Some(signal) => Err(interrupt::error(signal)),
        None => Ok(()),
    }
}

mod dispatch;
