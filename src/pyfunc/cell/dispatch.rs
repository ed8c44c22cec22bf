//! The `processes` road's round: N interpreters, each given the next part (in map mode, the
//! next chunk of items, pickled) as it becomes free; a failed worker replaced and its part run
//! again while it has retries left.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use num_bigint::BigInt;

use super::{Answer, Cell, check_interrupt};
use crate::error::{Error, Result, WorkerCause};
use crate::pyfunc::conn::{Interp, wait_readable};
use crate::pyfunc::event::Event;
use crate::pyfunc::forms::Forms;
use crate::span::Part;

impl Cell {
    /// The `processes` round: each free worker gets the next part.
    pub(super) fn dispatch(&mut self) -> Result<Answer> {
        let t0 = Instant::now();
        let n = self.interps.len();
        let map = self.items.clone();
        let mut todo: VecDeque<Part> = self.plan.parts().collect();
        let mut held: Vec<Option<(Part, Instant)>> = vec![None; n];
        let mut failures: HashMap<u64, u32> = HashMap::new();
        let mut left = todo.len();
        let mut total = BigInt::from(0);
        let mut chunks: Vec<Option<Forms>> = vec![None; todo.len()];
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
                held[i] = Some((part, Instant::now()));
                let sent = match &map {
                    None => {
                        let line = format!("part {} {} {}", part.index, part.start, part.end);
                        self.interps[i].send(&line)
                    }
                    Some(items) => {
                        let data = items.slice(part.start as usize, part.end as usize);
                        let line = format!(
                            "chunk {} {} {} {}",
                            part.index,
                            part.start,
                            part.end,
                            data.len()
                        );
                        self.interps[i].send_with(&line, data)
                    }
                };
                if let Err(why) = sent {
                    let e = self.error(i, Some(part), WorkerCause::Protocol(why));
                    self.retry(i, e, &mut held, &mut todo, &mut failures)?;
                }
            }
            let since: Vec<Instant> = held.iter().flatten().map(|(_, t)| *t).collect();
            let wait = self.next_wait(t0, since.into_iter());
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
                        Event::Done(k, v) if holds(k) && map.is_none() => {
                            total += v;
                            left -= 1;
                            held[i] = None;
                        }
                        Event::Data(k, data) if holds(k) && map.is_some() => {
                            let part = held[i].expect("held").0;
                            match Forms::parse(data) {
                                Ok(f) if f.len() as u64 == part.span().len() => {
                                    chunks[part.index as usize] = Some(f);
                                    left -= 1;
                                    held[i] = None;
                                }
                                Ok(f) => {
                                    let why = format!(
                                        "sent {} results for a chunk of {} items",
                                        f.len(),
                                        part.span().len()
                                    );
                                    failed = Some(WorkerCause::Protocol(why));
                                }
                                Err(why) => failed = Some(WorkerCause::Protocol(why)),
                            }
                        }
                        Event::Fail(k, fault) if holds(k) => {
                            failed = Some(WorkerCause::Kernel(fault.to_string()));
                            self.last_fault = Some(fault);
                        }
                        other => {
                            let why = format!("sent {} out of turn", other.brief());
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
            if let Some(cause) = self.past_run_limit(t0) {
                let i = (0..n).find(|&i| held[i].is_some()).unwrap_or(0);
                let e = self.error(i, held[i].map(|(p, _)| p), cause);
                for interp in &mut self.interps {
                    interp.kill();
                }
                return Err(e);
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
        Ok(match map {
            None => Answer::Int(total),
            Some(_) => Answer::Forms(Forms::joined(chunks.into_iter().flatten().collect())),
        })
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
        self.last_fault = None;
        self.interps[i] = self.interp()?;
        todo.push_front(part);
        Ok(())
    }
}
