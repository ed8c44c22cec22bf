//! Measuring like `bench`: every cell (interpreter × range × road × workers) is started once,
//! with its start-up timed apart; then warm-up rounds and measured rounds, each running every
//! interpreter's sequential baseline and its cells (in an order that turns each round, the
//! baseline included), so that each cell's time is paired with a baseline run of the same
//! round. The first round runs the baseline first: its answer is the reference. Every answer is
//! checked against the first sequential answer of its interpreter.
//!
//! A cell that fails (the function raised, hung past the timeout, answered wrongly) keeps its
//! error and leaves the rounds; the others go on. Only Ctrl-C or SIGTERM ends the whole
//! measurement, and every worker is killed and reaped on the way out.

use std::time::Instant;

use num_bigint::BigInt;
use serde::Serialize;

use super::Road;
use super::cell::Cell;
use super::conn::Launch;
use super::{Interpreter, Settings};
use crate::bench::ceiling::Probe;
use crate::error::{Error, Result};
use crate::stats::{Estimate, median, median_interval, paired_speedup};

/// Bootstrap resamples for each interval.
const RESAMPLES: usize = 2000;

/// One row of the report: a road at a worker count on one interpreter.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The interpreter's label, e.g. `3.11.7` or `3.13.0t`.
    pub python: String,
    /// The range, `START..END`.
    pub range: String,
    /// The road.
    pub road: Road,
    /// Threads, processes or subinterpreters (1 for the sequential baseline).
    pub workers: usize,
    /// The exact answer, in decimal; absent when the row failed before answering.
    pub result: Option<String>,
    /// Seconds to start the workers and load the function (and make the subinterpreters).
    pub startup_s: Option<f64>,
    /// Median seconds of one run of the whole range, workers already started.
    pub median_s: Option<f64>,
    /// Paired speedup against the same interpreter's sequential baseline, with its 95%
    /// interval.
    pub speedup: Option<Estimate>,
    /// The machine's ceiling at this worker count: the median over the measured rounds of
    /// what a perfectly parallel loop reached just before each ([`crate::bench::ceiling`]);
    /// absent at one worker.
    pub ceiling: Option<f64>,
    /// CPUs the row kept busy: its interpreter's CPU time over its wall time, every thread
    /// counted, median of the runs with its 95% interval (one interpreter: sequential, threads,
    /// subinterpreters; absent for processes).
    pub cpus_busy: Option<Estimate>,
    /// Measured runs.
    pub runs: usize,
    /// Why the row failed, in one line.
    pub error: Option<String>,
    #[serde(skip)]
    times: Vec<f64>,
    #[serde(skip)]
    base: Vec<f64>,
    #[serde(skip)]
    busy: Vec<f64>,
}

impl Row {
    /// A row measured with `speedup`, as the recommendation's tests need.
    #[cfg(test)]
    pub(crate) fn measured(
        python: &str,
        range: &str,
        road: Road,
        workers: usize,
        speedup: Estimate,
    ) -> Row {
        Row {
            python: python.to_string(),
            range: range.to_string(),
            road,
            workers,
            result: Some("0".to_string()),
            startup_s: Some(0.1),
            median_s: Some(1.0 / speedup.value),
            speedup: Some(speedup),
            ceiling: None,
            cpus_busy: None,
            runs: 5,
            error: None,
            times: Vec::new(),
            base: Vec::new(),
            busy: Vec::new(),
        }
    }
}

/// What the rounds tell, as they go.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Runs done.
    pub done: usize,
    /// Runs in all.
    pub total: usize,
    /// What runs now, e.g. `processes x4 on 3.11.7`.
    pub what: String,
}

struct Slot {
    /// The interpreter and range: the baseline of each group is its first slot.
    group: usize,
    cell: Cell,
    row: Row,
}

/// Runs the measurement; rows come out in the order interpreter, range, road, workers; the
/// answers are those of each interpreter's baseline at each range (interpreter-major).
pub(crate) fn measure(
    settings: &Settings,
    pythons: &[Interpreter],
    launches: &[Launch],
    notes: &mut Vec<String>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Vec<Row>, Vec<Option<BigInt>>)> {
    let mut slots: Vec<Slot> = Vec::new();
    let groups: Vec<(usize, crate::span::Span)> = (0..pythons.len())
        .flat_map(|p| settings.ranges.iter().map(move |r| (p, *r)))
        .collect();
    for (g, &(p, range)) in groups.iter().enumerate() {
        let py = &pythons[p];
        let mut add = |road: Road, workers: usize| {
            let plan = settings.split.plan(range, workers);
            let cell = Cell::new(
                road,
                workers,
                launches[p].clone(),
                plan,
                settings.timeout,
                settings.retries,
            );
            slots.push(Slot {
                group: g,
                cell,
                row: Row {
                    python: py.label.clone(),
                    range: range.to_string(),
                    road,
                    workers,
                    result: None,
                    startup_s: None,
                    median_s: None,
                    speedup: None,
                    ceiling: None,
                    cpus_busy: None,
                    runs: 0,
                    error: None,
                    times: Vec::new(),
                    base: Vec::new(),
                    busy: Vec::new(),
                },
            });
        };
        add(Road::Sequential, 1);
        for &road in &settings.roads {
            if road == Road::Subinterpreters && py.subinterpreters.is_none() {
                if range != settings.ranges[0] {
                    continue;
                }
                notes.push(format!(
                    "{}: no subinterpreters with their own GIL (CPython 3.12 or later has them)",
                    py.label
                ));
                continue;
            }
            for &w in &settings.workers {
                add(road, w);
            }
        }
    }
    let rounds = settings.warmup + settings.runs;
    let total = slots.len() * (1 + rounds);
    let mut done = 0;
    for slot in &mut slots {
        progress(&Progress {
            done,
            total,
            what: format!("starting {}", name(&slot.row)),
        });
        match slot.cell.start() {
            Ok(t) => slot.row.startup_s = Some(t.as_secs_f64()),
            Err(e) => fail(&mut slot.row, &mut slot.cell, e)?,
        }
        done += 1;
    }
    let mut reference: Vec<Option<BigInt>> = vec![None; groups.len()];
    let mut probe = Probe::new(&settings.workers);
    let mut ceilings: Vec<(usize, f64)> = Vec::new();
    for round in 0..rounds {
        let measured = round >= settings.warmup;
        let t0 = Instant::now();
        if measured {
            ceilings.extend(probe.sample()?.0);
        }
        for (g, reference) in reference.iter_mut().enumerate() {
            let mine: Vec<usize> = (0..slots.len()).filter(|&s| slots[s].group == g).collect();
            let base = mine[0];
            // The baseline takes its turn in the order too: whatever runs first in a round
            // (after the ceiling probe, which leaves the machine's scheduler owing others)
            // is slowed, and a baseline always first would make every cell look faster.
            let mut b = None;
            let mut cells = Vec::new();
            for k in 0..mine.len() {
                let s = mine[(k + round) % mine.len()];
                done += 1;
                if slots[s].row.error.is_some() {
                    continue;
                }
                progress(&Progress {
                    done,
                    total,
                    what: name(&slots[s].row),
                });
                let t = run_checked(&mut slots[s], reference)?;
                match t {
                    Some(t) if s == base => b = Some(t),
                    Some(t) => cells.push((s, t)),
                    None => {}
                }
            }
            // A failed baseline, or a changed answer, leaves nothing to compare with.
            let Some(b) = b else {
                for &s in &mine[1..] {
                    if slots[s].row.error.is_none() {
                        let why = "the sequential baseline failed, so nothing to check against";
                        slots[s].row.error = Some(why.to_string());
                        slots[s].cell.stop();
                    }
                }
                continue;
            };
            if measured {
                for (s, t) in cells.into_iter().chain([(base, b)]) {
                    slots[s].row.times.push(t);
                    slots[s].row.base.push(b);
                    if let Some(cpu) = slots[s].cell.last_cpu_s.filter(|_| t > 0.0) {
                        slots[s].row.busy.push(cpu / t);
                    }
                }
            }
        }
        // The probe is sized to a small share of a round, once one is known.
        probe.fit(t0.elapsed());
    }
    let mut rows = Vec::new();
    for mut slot in slots {
        slot.cell.stop();
        let left = slot.cell.left();
        if left > 0 {
            notes.push(format!(
                "{}: the function left {} running; {} killed when the row ended",
                name(&slot.row),
                super::processes(left),
                if left == 1 { "it was" } else { "they were" }
            ));
        }
        let row = &mut slot.row;
        row.runs = row.times.len();
        if !row.times.is_empty() {
            row.median_s = Some(median(&row.times));
            let at: Vec<f64> = ceilings
                .iter()
                .filter(|(w, _)| *w == row.workers)
                .map(|(_, c)| *c)
                .collect();
            row.ceiling = (!at.is_empty() && row.road != Road::Sequential).then(|| median(&at));
            // Every run said, or the figure would stand on some runs only.
            row.cpus_busy =
                (row.busy.len() == row.times.len()).then(|| median_interval(&row.busy, RESAMPLES));
            row.speedup = Some(if row.road == Road::Sequential {
                Estimate::exact(1.0)
            } else {
                paired_speedup(&row.base, &row.times, RESAMPLES)
            });
        }
        rows.push(slot.row);
    }
    Ok((rows, reference))
}

/// Runs one round of `slot`, checks its answer against `reference` (setting it on the first
/// answer) and returns its seconds; `None` when it failed (the row keeps why). Only an
/// interruption is an error.
fn run_checked(slot: &mut Slot, reference: &mut Option<BigInt>) -> Result<Option<f64>> {
    let t0 = Instant::now();
    let answer = match slot.cell.round() {
        Ok(answer) => answer,
        Err(e) => {
            fail(&mut slot.row, &mut slot.cell, e)?;
            return Ok(None);
        }
    };
    let seconds = t0.elapsed().as_secs_f64();
    match reference {
        None => *reference = Some(answer.clone()),
        Some(r) if *r == answer => {}
        Some(r) => {
            let what = if slot.row.road == Road::Sequential {
                "the sequential run (the answer changed between runs)".to_string()
            } else {
                name(&slot.row)
            };
            let e = Error::WrongAnswer {
                what,
                got: answer.to_string(),
                expected: r.to_string(),
            };
            fail(&mut slot.row, &mut slot.cell, e)?;
            return Ok(None);
        }
    }
    slot.row.result = Some(answer.to_string());
    Ok(Some(seconds))
}

/// Records `e` as the row's failure and stops its workers; an interruption is passed on.
fn fail(row: &mut Row, cell: &mut Cell, e: Error) -> Result<()> {
    if e.interrupted_by().is_some() {
        return Err(e); // the workers are killed as the cells are dropped
    }
    cell.stop();
    row.error = Some(format!("{}: {e}", name(row)));
    Ok(())
}

/// `processes x4 on 3.11.7`.
fn name(row: &Row) -> String {
    format!("{} x{} on {}", row.road, row.workers, row.python)
}
