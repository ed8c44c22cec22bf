//! A row of `parlab python`'s report: one road at one worker count (and chunk size) on one
//! interpreter, with its figures and its samples, and how it failed where it did.

use serde::Serialize;

use super::Road;
use crate::measure::Sample;
use crate::span::Span;
use crate::stats::Estimate;

/// How a row failed, as the recommendation speaks of it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The function raised: the exception's type and message.
    Raised {
        /// `AttributeError`.
        kind: String,
        /// `'NoneType' object has no attribute 'link'`.
        message: String,
    },
    /// A value of this type could not be pickled to cross between interpreters.
    CannotCross {
        /// `generator`.
        kind: String,
    },
    /// The answer differs from the sequential one.
    Differs {
        /// In map mode, the first item whose result differs.
        item: Option<u64>,
    },
    /// A part ran past `--timeout`, or the run past the default limit.
    TimedOut {
        /// The limit, in words.
        limit: String,
        /// Whether it was the default limit (many times the sequential run), not `--timeout`.
        default: bool,
    },
    /// The interpreter ended or broke the protocol.
    Crashed,
    /// The sequential baseline failed, so there was nothing to compare with.
    Baseline,
}

/// One row of the report: a road at a worker count on one interpreter.
#[derive(Debug, Clone, Serialize)]
pub struct PythonRow {
    /// The interpreter's label, e.g. `3.11.7` or `3.13.0t`.
    pub python: String,
    /// The range, `START..END` (in map mode, the items' positions).
    pub range: String,
    /// The road.
    pub road: Road,
    /// Threads, processes or subinterpreters (1 for the sequential baseline).
    pub workers: usize,
    /// Map mode: items per chunk handed out (absent for the sequential baseline, which maps
    /// them in order, and in range mode).
    pub chunksize: Option<u64>,
    /// The exact answer, in decimal; absent when the row failed before answering, and in map
    /// mode (every item's result was checked; `error` is absent when all were equal).
    pub result: Option<String>,
    /// `executor:process`: how its pool started its workers (`fork`, `forkserver`, `spawn`).
    pub start_method: Option<String>,
    /// Seconds to start the workers and load the function (and make the subinterpreters;
    /// in map mode, hand one interpreter its items).
    pub startup_s: Option<f64>,
    /// Median seconds of one run of the whole range (of every item), workers already started.
    pub median_s: Option<f64>,
    /// Paired speedup against the same interpreter's sequential baseline, with its 95%
    /// interval.
    pub speedup: Option<Estimate>,
    /// The machine's ceiling at this worker count: the median over the measured rounds of
    /// what a perfectly parallel loop reached just before each ([`crate::measure::ceiling`]);
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
    /// The sequential baseline and the executor roads: the plain Python that runs FUNCTION as
    /// this row did (`super::code`); absent for parlab's own roads and for a failed row.
    pub code: Option<String>,
    #[serde(skip)]
    pub(crate) failure: Option<Failure>,
    /// Each measured run, in round order, with the baseline run of its round.
    #[serde(skip)]
    pub(crate) samples: Vec<Sample>,
}

impl PythonRow {
    pub(crate) fn new(
        python: &str,
        range: Span,
        road: Road,
        workers: usize,
        chunksize: Option<u64>,
    ) -> PythonRow {
        PythonRow {
            python: python.to_string(),
            range: range.to_string(),
            road,
            workers,
            chunksize,
            result: None,
            start_method: None,
            startup_s: None,
            median_s: None,
            speedup: None,
            ceiling: None,
            cpus_busy: None,
            runs: 0,
            error: None,
            code: None,
            failure: None,
            samples: Vec::new(),
        }
    }

    /// The seconds of each measured run, in round order.
    pub(crate) fn times(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.wall_s).collect()
    }

    /// `processes x4 on 3.11.7`, `threads x2 (chunks of 16) on 3.12.1`.
    pub fn name(&self) -> String {
        format!("{} on {}", self.setting(), self.python)
    }

    /// `processes x4`, `threads x2 (chunks of 16)`.
    pub fn setting(&self) -> String {
        match self.chunksize {
            // One item a task, whatever the chunk size: none to name.
            Some(_) if self.road.is_executor() && self.road != Road::ExecutorProcess => {
                format!("{} x{}", self.road, self.workers)
            }
            Some(c) => format!("{} x{} (chunks of {c})", self.road, self.workers),
            None => format!("{} x{}", self.road, self.workers),
        }
    }

    /// A row measured with `speedup`, as the recommendation's tests need.
    #[cfg(test)]
    pub(crate) fn measured(
        python: &str,
        range: &str,
        road: Road,
        workers: usize,
        speedup: Estimate,
    ) -> PythonRow {
        let mut row = PythonRow::new(python, Span::new(0, 0).unwrap(), road, workers, None);
        row.range = range.to_string();
        row.result = Some("0".to_string());
        row.startup_s = Some(0.1);
        row.median_s = Some(1.0 / speedup.value);
        row.speedup = Some(speedup);
        row.runs = 5;
        row.samples = vec![
            Sample {
                wall_s: 1.0 / speedup.value,
                baseline_s: Some(1.0),
                ..Sample::default()
            };
            5
        ];
        row
    }

    /// A row that failed with `failure`, as the recommendation's tests need.
    #[cfg(test)]
    pub(crate) fn failed(
        python: &str,
        range: &str,
        road: Road,
        workers: usize,
        f: Failure,
    ) -> PythonRow {
        let mut row = PythonRow::new(python, Span::new(0, 0).unwrap(), road, workers, None);
        row.range = range.to_string();
        row.error = Some(format!("{}: it failed", row.name()));
        row.failure = Some(f);
        row
    }
}
