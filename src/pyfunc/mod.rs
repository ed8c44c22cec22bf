//! `parlab python FILE:FUNCTION`: a user's own Python function, measured on every road, with
//! a recommendation.
//!
//! Two modes ([`Calls`]):
//!
//! - range mode: `FUNCTION(start, end)` returns an int for the half-open part `start..end`;
//!   parlab cuts the range with its splits, as it does for its own kernels, and adds the parts'
//!   ints exactly (Python ints are unbounded: they cross the pipe as decimals and are added as
//!   [`num_bigint::BigInt`]).
//! - map mode (`--items SOURCE`, [`items`]): `FUNCTION(item)` returns any value for each item;
//!   the items are handed out in chunks, and every item's result is checked against the
//!   sequential one, in item order, after the crossing its road imposes (pickling for
//!   processes and subinterpreters, as `ProcessPoolExecutor` and `InterpreterPoolExecutor`
//!   do). A helper interpreter per version loads the items once and compares results whose
//!   bytes differ with `==` (`forms.rs`, `helper.rs`).
//!
//! The Python side is one script, `worker.py` beside this file, embedded in the binary and
//! written to a new temporary file for each [`PythonLab`]. Before anything is measured, every
//! interpreter runs it once in `check` mode (`check.rs`): a syntax error, a missing function or
//! one that cannot take two arguments is bad input. Then each cell (`cell.rs`) starts its worker
//! interpreters in `serve` mode, which load the function once and answer requests on a
//! descriptor of their own (`conn.rs`; the function's standard input is `/dev/null`, what it
//! prints goes to standard error):
//!
//! - `sequential` (the baseline) and `threads`: one interpreter runs the parts in its main
//!   thread, or in N threads taking the parts in turn;
//! - `processes`: N interpreters, each given one part at a time as it becomes free;
//! - `subinterpreters`: one interpreter makes N subinterpreters, each with its own GIL
//!   (`concurrent.interpreters` on 3.14+, the private `_interpreters` on 3.13 and
//!   `_xxsubinterpreters` on 3.12), and each runs every Nth part in a thread of its own.
//!
//! The interpreters report every part as it starts and ends (`conn.rs`), so a part that runs
//! past `--timeout` is seen whichever road runs it: its process is killed (for threads and
//! subinterpreters, the interpreter running them, as a thread cannot be killed); so is the
//! import of the user's file, in the check and in every worker. Workers are started with
//! `PR_SET_PDEATHSIG`, ignore SIGINT (parlab stops them itself), and are killed and reaped when
//! their cell is dropped, so none outlives parlab; each is a child subreaper, and what the
//! function left running is killed (and counted in a note) before it (docs/failures.md).
//!
//! Once the sequential run is timed, every run may take at most 10 times as long, or 10 s
//! ([`measure::DEFAULT_LIMIT_TIMES`]), unless `--timeout` says otherwise.
//!
//! [`measure`] times the rounds; [`advice`] turns the rows into a recommendation for each
//! interpreter and one overall.

pub mod advice;
mod cell;
mod check;
mod code;
mod conn;
mod event;
pub mod export;
mod forms;
mod helper;
pub mod items;
pub mod measure;
mod row;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use advice::Recommendation;
pub use event::PythonException;
pub use items::{DEFAULT_MAX_ITEMS, ItemSource};
pub use measure::PythonProgress;
pub use row::{Failure, PythonRow};
pub use target::{PoolStart, Road, Target};

use crate::cpython::{Python, Script};
use crate::error::Result;
use crate::span::Span;
use crate::split::Split;

/// The worker script, as shipped.
pub const WORKER_SCRIPT: &str = include_str!("worker.py");

/// What FUNCTION is called with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calls {
    /// `FUNCTION(start, end) -> int`, over the parts of [`PythonOptions::ranges`].
    Range,
    /// `FUNCTION(item)`, over the items of SOURCE.
    Map {
        /// SOURCE.
        source: ItemSource,
        /// SOURCE as the user wrote it.
        shown: String,
        /// The most items taken from it: past them, SOURCE is refused (an endless iterator).
        max_items: u64,
    },
}

/// The report's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `FUNCTION(start, end) -> int`.
    Range,
    /// `FUNCTION(item)`.
    Map,
}

/// Map mode's items, as the report says them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Items {
    /// SOURCE as given.
    pub source: String,
    /// How many it gave (on the first interpreter).
    pub count: u64,
}

/// What to measure, besides the function.
#[derive(Debug, Clone)]
pub struct PythonOptions {
    /// Range mode: the ranges cut into parts, each measured in full, in this order; the last is
    /// the one the recommendation is made for.
    pub ranges: Vec<Span>,
    /// Range mode: how they are cut.
    pub split: Split,
    /// Map mode: the chunk sizes, each its own rows; empty: about four chunks per worker
    /// ([`measure::default_chunksize`]).
    pub chunksizes: Vec<u64>,
    /// Worker counts.
    pub workers: Vec<usize>,
    /// Roads beside the sequential baseline.
    pub roads: Vec<Road>,
    /// How `executor:process` starts its workers; `None`: the interpreter's default.
    pub start: Option<PoolStart>,
    /// Unmeasured rounds first.
    pub warmup: usize,
    /// Measured rounds.
    pub runs: usize,
    /// The longest one part may run.
    pub timeout: Option<Duration>,
    /// Whether each run may take at most 10 times the sequential run, or 10 s (the default
    /// without `--timeout`).
    pub default_limit: bool,
    /// How often a failed part (or, on one interpreter, the round) runs again.
    pub retries: u32,
}

impl Default for PythonOptions {
    /// `parlab python` without options: the range 0..1e6 split statically (map mode: about
    /// four chunks per worker), 1, 2 and 4 workers on every road (parlab's and the executors'),
    /// one warm-up round and 5 measured, each run within 10 times the sequential run or 10 s,
    /// no retries.
    fn default() -> Self {
        PythonOptions {
            ranges: vec![Span {
                start: 0,
                end: 1_000_000,
            }],
            split: Split::Static,
            chunksizes: Vec::new(),
            workers: vec![1, 2, 4],
            roads: Road::DEFAULT.to_vec(),
            start: None,
            warmup: 1,
            runs: 5,
            timeout: None,
            default_limit: true,
            retries: 0,
        }
    }
}

/// "1 process", "3 processes".
pub(crate) fn processes(n: usize) -> String {
    format!("{n} process{}", if n == 1 { "" } else { "es" })
}

/// An interpreter the function runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interpreter {
    /// Its version as rows show it: `3.11.7`, `3.13.0t`.
    pub label: String,
    /// Its real path.
    pub executable: PathBuf,
    /// A free-threaded build.
    pub free_threaded: bool,
    /// Whether the GIL is on: at start-up, then once FILE was imported.
    pub gil_enabled: bool,
    /// Why a free-threaded build runs with its GIL on, where it does: `PYTHON_GIL=1` in the
    /// environment, `-X gil=1`, or importing FILE (an extension module without free-threading
    /// support).
    pub gil_back_on: Option<String>,
    /// The module that makes subinterpreters with their own GIL, if any.
    pub subinterpreters: Option<String>,
}

impl Interpreter {
    /// The interpreter `py` found by [`crate::cpython::discover`].
    pub fn of(py: &Python) -> Interpreter {
        Interpreter {
            label: py.version.clone(),
            executable: py.info.executable.clone(),
            free_threaded: py.info.free_threaded,
            gil_enabled: py.info.gil_enabled,
            gil_back_on: py.info.gil_back_on(),
            subinterpreters: py.info.subinterpreters.clone(),
        }
    }
}

/// Everything `parlab python` found: the JSON record of `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct PythonReport {
    /// `FILE:FUNCTION`.
    pub function: String,
    /// `range` (`FUNCTION(start, end)`) or `map` (`FUNCTION(item)`).
    pub mode: Mode,
    /// The range the recommendation is for (the last measured), `START..END`; in map mode,
    /// the items' positions.
    pub range: String,
    /// The split (range mode).
    pub split: String,
    /// Map mode: SOURCE and how many items it gave.
    pub items: Option<Items>,
    /// Map mode: the chunk sizes measured (empty in range mode).
    pub chunksize: Vec<u64>,
    /// The exact answer of the first interpreter's sequential run at `range`, in decimal
    /// (range mode).
    pub result: Option<String>,
    /// The interpreters.
    pub pythons: Vec<Interpreter>,
    /// One row per interpreter, road and worker count; the sequential baseline first.
    pub rows: Vec<PythonRow>,
    /// What to use, and why: overall (with one interpreter, its own).
    pub recommendation: Option<Recommendation>,
    /// What to use on each interpreter, in the order they were named.
    pub recommendations: Vec<Recommendation>,
    /// Rows left out, and why.
    pub notes: Vec<String>,
}

impl PythonReport {
    /// The first failed row's error, if any row failed.
    pub fn first_failure(&self) -> Option<&str> {
        self.rows.iter().find_map(|r| r.error.as_deref())
    }
}

/// A function checked on its interpreters, ready to be measured.
#[derive(Debug)]
pub struct PythonLab {
    target: Target,
    calls: Calls,
    pythons: Vec<Interpreter>,
    script: Script,
    /// Interpreters left out and processes the imports left, for the report.
    notes: Vec<String>,
}

impl PythonLab {
    /// Writes the worker script and checks `target` on every interpreter, each with whether
    /// the user named it (rather than `all` finding it); each import may take `timeout` (else
    /// two minutes). A file that does not compile, a missing function, one that cannot take
    /// `(start, end)` (in map mode, one item; or a SOURCE that gives no items) or a named
    /// interpreter that cannot run the script is an [`crate::Error::Invalid`]; an interpreter found by `all` that cannot serve the function
    /// (Python 2) is left out with a note, unless none is left. An import past the timeout is
    /// a failure; Ctrl-C, SIGTERM and a limit met are passed on.
    pub fn new(
        target: Target,
        calls: Calls,
        pythons: Vec<(Interpreter, bool)>,
        timeout: Option<Duration>,
    ) -> Result<PythonLab> {
        let script = Script::write("parlab-pyfunc", WORKER_SCRIPT)?;
        let mut kept = Vec::new();
        let mut notes = Vec::new();
        let mut first_failure = None;
        let words = source_words(&calls);
        let shown = match &calls {
            Calls::Map { shown, .. } => Some(shown.as_str()),
            Calls::Range => None,
        };
        for (mut py, named) in pythons {
            let launch = conn::Launch {
                program: py.executable.clone(),
                script: script.path().to_path_buf(),
                file: target.file.clone(),
                function: target.function.clone(),
                source: words.clone(),
            };
            match check::check(&launch, &target, shown, timeout) {
                Ok(checked) => {
                    if checked.left > 0 {
                        notes.push(format!(
                            "{}: importing {} left {} running; {} killed",
                            py.label,
                            target.file.display(),
                            processes(checked.left),
                            if checked.left == 1 {
                                "it was"
                            } else {
                                "they were"
                            }
                        ));
                    }
                    if py.free_threaded && !py.gil_enabled && checked.gil_after_import == Some(true)
                    {
                        py.gil_enabled = true;
                        py.label = format!("{} (GIL on)", py.label);
                        py.gil_back_on = Some(format!(
                            "importing {} turned it back on (an extension module without \
                             free-threading support)",
                            target.file.display()
                        ));
                    }
                    if let Some(why) = &py.gil_back_on {
                        notes.push(format!(
                            "{}: a free-threaded build running with its GIL on: {why}; its \
                             threads take turns as under any GIL",
                            py.label
                        ));
                    }
                    kept.push(py);
                }
                Err(e) if named || e.interrupted_by().is_some() || e.is_limit() => return Err(e),
                Err(e) => {
                    let why = match &e {
                        crate::Error::Invalid {
                            what: "python",
                            allowed,
                            ..
                        } => format!("not {allowed}"),
                        crate::Error::Invalid { allowed, .. } => allowed.clone(),
                        other => other.to_string(),
                    };
                    notes.push(format!(
                        "CPython {} ({}) is left out: {why}",
                        py.label,
                        py.executable.display()
                    ));
                    first_failure.get_or_insert(e);
                }
            }
        }
        if let (true, Some(e)) = (kept.is_empty(), first_failure) {
            return Err(e);
        }
        Ok(PythonLab {
            target,
            calls,
            pythons: kept,
            script,
            notes,
        })
    }

    /// The interpreters the function is measured on: those that passed the check.
    pub fn pythons(&self) -> &[Interpreter] {
        &self.pythons
    }

    /// Measures every road; rows that failed keep their error, and only Ctrl-C or SIGTERM is
    /// an error here.
    pub fn measure(
        &self,
        settings: &PythonOptions,
        progress: &mut dyn FnMut(&PythonProgress),
    ) -> Result<PythonReport> {
        let words = source_words(&self.calls);
        let launches: Vec<conn::Launch> = self
            .pythons
            .iter()
            .map(|py| conn::Launch {
                program: py.executable.clone(),
                script: self.script.path().to_path_buf(),
                file: self.target.file.clone(),
                function: self.target.function.clone(),
                source: words.clone(),
            })
            .collect();
        let mut notes = self.notes.clone();
        let shown = match &self.calls {
            Calls::Map { shown, .. } => Some(shown.as_str()),
            Calls::Range => None,
        };
        let measured = measure::measure(
            settings,
            &self.pythons,
            &launches,
            shown,
            &mut notes,
            progress,
        )?;
        let mut rows = measured.rows;
        for row in &mut rows {
            row.code = self.code(settings, row);
        }
        let (mode, last, items, chunksize) = match &self.calls {
            Calls::Range => (
                Mode::Range,
                settings
                    .ranges
                    .last()
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                None,
                Vec::new(),
            ),
            Calls::Map { shown, .. } => {
                let count = measured.items.first().copied().unwrap_or(0);
                let mut sizes: Vec<u64> = rows.iter().filter_map(|r| r.chunksize).collect();
                sizes.sort_unstable();
                sizes.dedup();
                (
                    Mode::Map,
                    format!("0..{count}"),
                    Some(Items {
                        source: shown.clone(),
                        count,
                    }),
                    sizes,
                )
            }
        };
        let mut recommendations = advice::recommend(&rows, &last);
        let mut recommendation = advice::overall(&rows, &recommendations, &last);
        for rec in recommendations.iter_mut().chain(recommendation.as_mut()) {
            rec.code = rows
                .iter()
                .find(|r| rec.is(r) && r.range == last)
                .and_then(|r| r.code.clone());
        }
        Ok(PythonReport {
            function: self.target.to_string(),
            mode,
            range: last,
            split: settings.split.to_string(),
            items,
            chunksize,
            result: measured
                .answers
                .get(settings.ranges.len().saturating_sub(1))
                .cloned()
                .flatten()
                .map(|a| a.to_string())
                .filter(|_| mode == Mode::Range),
            pythons: self.pythons.clone(),
            rows,
            recommendation,
            recommendations,
            notes,
        })
    }
}

impl PythonLab {
    /// The code that runs FUNCTION as `row` did: an executor's or the plain loop's; none for
    /// parlab's own roads, or a row that failed.
    fn code(&self, settings: &PythonOptions, row: &PythonRow) -> Option<String> {
        if (row.road != Road::Sequential && !row.road.is_executor()) || row.error.is_some() {
            return None;
        }
        let plan = match self.calls {
            Calls::Range => Some(settings.split.plan(row.range.parse().ok()?, row.workers)),
            Calls::Map { .. } => None,
        };
        Some(code::code(&code::Recipe {
            target: &self.target,
            calls: &self.calls,
            python: &row.python,
            road: row.road,
            workers: row.workers,
            chunksize: row.chunksize,
            start_method: row.start_method.as_deref(),
            plan,
        }))
    }
}

/// Map mode's SOURCE as the worker script reads it.
fn source_words(calls: &Calls) -> Option<Vec<String>> {
    match calls {
        Calls::Range => None,
        Calls::Map {
            source, max_items, ..
        } => Some(source.words(*max_items)),
    }
}
