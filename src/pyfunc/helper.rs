//! Map mode's helper: one more interpreter of each version, the function's module loaded, which
//! takes no part in the measuring. It loads SOURCE's items once, so that every road gets the
//! same items in the same order (a set of str iterates in another order in another process),
//! and it compares, with `==`, the results whose bytes differ from the sequential ones.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Road;
use super::conn::{Interp, Launch, TICK, Unanswered, WorkerMode, wait_readable};
use super::event::Event;
use super::forms::Forms;
use crate::error::{Error, PidNote, Result, WorkerCause};
use crate::span::Part;

/// How long the helper may take to start, to load the items, or to compare one road's results.
const LIMIT: Duration = Duration::from_secs(120);

/// What the sequential results hold that `==` cannot compare.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct SelfCheck {
    /// Values unequal to a copy of themselves (NaN, a type without `==`): compared by their
    /// pickled bytes, else their repr.
    pub unequal: u64,
    /// The first of them: `item 3, nan, a float`.
    pub first_unequal: Option<String>,
    /// Values that cannot be pickled: compared by their repr.
    pub unpicklable: u64,
    /// The first of them: `item 0, a generator`.
    pub first_unpicklable: Option<String>,
}

/// The first item whose value differs from the sequential one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Differs {
    /// Its position.
    pub item: u64,
    /// Its value's repr, shortened.
    pub got: String,
    /// The sequential value's repr, shortened.
    pub expected: String,
}

#[derive(Debug, Deserialize)]
struct Verdict {
    differs: Option<Differs>,
}

/// The helper of one interpreter.
#[derive(Debug)]
pub(crate) struct Helper {
    interp: Interp,
    /// SOURCE as the user wrote it, for messages.
    source: String,
}

impl Helper {
    /// Starts it and waits until it has loaded the function's module.
    pub(crate) fn start(launch: &Launch, source: String) -> Result<Helper> {
        let mut helper = Helper {
            // What the import leaves running is counted by the check and the cells already.
            interp: Interp::start(
                launch,
                WorkerMode::Serve(Road::Sequential),
                &Arc::new(AtomicUsize::new(0)),
            )?,
            source,
        };
        let t0 = Instant::now();
        let mut events = Vec::new();
        while !helper.interp.ready {
            if let Some(signal) = crate::interrupt::requested() {
                return Err(crate::interrupt::error(signal));
            }
            if t0.elapsed() > LIMIT {
                helper.interp.kill();
                let why = format!("it did not load the function within {LIMIT:?}");
                return Err(helper.failed(WorkerCause::Spawn(why)));
            }
            if wait_readable(&[&helper.interp], TICK)?.is_empty() {
                if let Some(cause) = helper.interp.gone() {
                    return Err(helper.failed(cause));
                }
                continue;
            }
            let read = helper.interp.receive(&mut events);
            if let Some(e) = events
                .iter()
                .find(|e| !matches!(e, Event::Ready | Event::Loading))
            {
                let why = format!("it sent {} before it was ready", e.brief());
                return Err(helper.failed(WorkerCause::Protocol(why)));
            }
            events.clear();
            read.map_err(|why| helper.failed(WorkerCause::Spawn(why)))?;
        }
        Ok(helper)
    }

    /// SOURCE's items; a SOURCE that fails now is bad input, as it was at the check.
    pub(crate) fn items(&mut self) -> Result<Forms> {
        let reply = self
            .interp
            .call("load", &[], LIMIT)
            .map_err(|u| self.unanswered("loading the items", u))?;
        let data = reply.data.into_iter().next().unwrap_or_default();
        Forms::parse(data).map_err(|why| self.failed(WorkerCause::Protocol(why)))
    }

    /// What the sequential results hold that `==` cannot compare.
    pub(crate) fn self_check(&mut self, reference: &Forms) -> Result<SelfCheck> {
        let line = format!("reference {}", reference.bytes().len());
        let reply = self
            .interp
            .call(&line, reference.bytes(), LIMIT)
            .map_err(|u| self.unanswered("looking at the sequential results", u))?;
        self.read(reply.info.into_iter().next())
    }

    /// The first item whose value in `other` is not equal to `reference`'s, where any is.
    pub(crate) fn compare(&mut self, reference: &Forms, other: &Forms) -> Result<Option<Differs>> {
        let at = reference.differing(other);
        if at.is_empty() {
            return Ok(None);
        }
        let pairs = reference.pairs(other, &at);
        let line = format!("judge {}", pairs.len());
        let reply = self
            .interp
            .call(&line, &pairs, LIMIT)
            .map_err(|u| self.unanswered("comparing results", u))?;
        let verdict: Verdict = self.read(reply.info.into_iter().next())?;
        Ok(verdict.differs)
    }

    /// Stops it.
    pub(crate) fn stop(&mut self) {
        self.interp.quit();
    }

    fn read<T: serde::de::DeserializeOwned>(&self, info: Option<serde_json::Value>) -> Result<T> {
        let info = info
            .ok_or_else(|| self.failed(WorkerCause::Protocol("it answered nothing".to_string())))?;
        serde_json::from_value(info).map_err(|e| {
            self.failed(WorkerCause::Protocol(format!(
                "it sent an unreadable answer: {e}"
            )))
        })
    }

    fn unanswered(&self, doing: &str, u: Unanswered) -> Error {
        match u {
            Unanswered::Stopped(e) => e,
            Unanswered::Fault(f) if f.kind == "SourceError" => {
                Error::invalid("items", self.source.clone(), f.message)
            }
            Unanswered::Fault(f) => self.failed(WorkerCause::Kernel(format!("{doing}: {f}"))),
            Unanswered::Gone(why) => self.failed(WorkerCause::Protocol(format!("{doing}: {why}"))),
            Unanswered::Late(limit) => self.failed(WorkerCause::Protocol(format!(
                "{doing} took more than {limit:?}"
            ))),
        }
    }

    fn failed(&self, cause: WorkerCause) -> Error {
        let cause = match cause {
            WorkerCause::Kernel(m) => WorkerCause::Kernel(format!("the helper interpreter: {m}")),
            WorkerCause::Protocol(m) => {
                WorkerCause::Protocol(format!("the helper interpreter: {m}"))
            }
            other => other,
        };
        Error::Worker {
            worker: 0,
            pid: PidNote(Some(self.interp.pid())),
            part: None::<Part>.into(),
            cause,
        }
    }
}
