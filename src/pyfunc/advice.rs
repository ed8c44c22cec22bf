//! The recommendation: which road and worker count (and chunk size) to use, and why, for each
//! interpreter from its own rows (each interpreter's speedups are against its own baseline),
//! and overall: the recommended row that ran fastest, in seconds.
//!
//! The fastest row is the one with the highest speedup; among rows whose interval reaches its
//! interval (the data cannot tell them apart) the cheapest is recommended: threads before
//! processes (no interpreter to start, memory shared) before subinterpreters (private modules
//! before 3.14), then the fewest workers, then the largest chunks.
//! A parallel road is recommended only when [the judge](crate::measure::judge()) calls it
//! faster (its whole interval above 1, and not within the 5% margin of it: the same words as
//! every other command's); otherwise the sequential road is, with the reason.
//!
//! Where the standard library's executors were measured (`executor:thread`, `executor:process`,
//! `executor:interpreter`), only they (or one thread) are recommended: they are what the user
//! will write, and the recommendation carries the code to paste (`code.rs`). parlab's own
//! roads are then the ceiling of each kind of parallelism, and the reason says what the
//! executor lost against its own kind at this item size, judged on the paired runs. Where no
//! executor is faster than one thread, the code is the plain loop, and the reason sets the
//! executors' measured cost a task against the function's own work a task.
//!
//! A road with a row that failed on its own (it raised, answered otherwise, hung, or could not
//! send a value) is never recommended, and the recommendation says why, in words drawn from how
//! it failed ([`Failure`]): an exception or another answer on threads only means that the
//! function shares state between calls.

use serde::Serialize;

mod executors;

use executors::{failures_on, gap_words, overhead_words};

use super::Road;
use super::row::{Failure, PythonRow};
use crate::measure::stall::stall;
use crate::measure::{BOOTSTRAP_ROUNDS, Bounds, Verdict, busy, judge};
use crate::span::Span;
use crate::stats::{Estimate, paired_speedup};
use crate::units::seconds;

/// What to use, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The road.
    pub road: Road,
    /// Its worker count.
    pub workers: usize,
    /// Map mode: its chunk size (absent for the sequential road and in range mode).
    pub chunksize: Option<u64>,
    /// The interpreter it ran on.
    pub python: String,
    /// Why, in words, with the best speedup of each road.
    pub reason: String,
    /// The smallest range measured (`--range` with several) at which the recommended road and
    /// worker count beat one thread; absent when only one range was measured or for the
    /// sequential road.
    pub smallest_range: Option<String>,
    /// `executor:process`: how its pool started its workers.
    pub start_method: Option<String>,
    /// The code to paste: plain Python running FUNCTION the way the recommended row ran it, on
    /// its interpreter (`code.rs`); absent where one of parlab's own roads is
    /// recommended (no executor was measured), which no few lines of user code reproduce.
    pub code: Option<String>,
    /// What the user's code meets on the recommended executor when FUNCTION raises, never
    /// returns, or its worker dies.
    pub failures: Option<String>,
}

impl Recommendation {
    /// `processes x2`, `threads x4 (chunks of 16)`, `one thread`.
    ///
    /// An executor's chunk size of 1 (its `map`'s own) is not named, and `executor:process`
    /// names its start method: `executor:process x2 (chunks of 16, started by forkserver)`.
    pub fn setting(&self) -> String {
        if self.road == Road::Sequential {
            return "one thread".to_string();
        }
        let mut said = Vec::new();
        match self.chunksize {
            Some(1) if self.road.is_executor() => {}
            Some(c) => said.push(format!("chunks of {c}")),
            None => {}
        }
        if let Some(m) = self
            .start_method
            .as_ref()
            .filter(|_| self.road == Road::ExecutorProcess)
        {
            said.push(format!("started by {m}"));
        }
        match said.is_empty() {
            true => format!("{} x{}", self.road, self.workers),
            false => format!("{} x{} ({})", self.road, self.workers, said.join(", ")),
        }
    }

    /// Whether `row` is the row it recommends.
    pub(crate) fn is(&self, row: &PythonRow) -> bool {
        row.python == self.python
            && row.road == self.road
            && row.workers == self.workers
            && row.chunksize == self.chunksize
    }
}

/// How much a road costs beside its speed, for choosing among rows the data cannot tell apart.
fn cost(road: Road) -> u8 {
    match road.own() {
        Road::Threads => 1,
        Road::Processes => 2,
        Road::Subinterpreters => 3,
        _ => 0,
    }
}

/// Why the threads of `row` did not scale, from the CPUs they kept busy ([`stall`]), in words
/// that begin with the row: "threads x2 kept 1.01 (1.00-1.02) CPUs busy, about one: they waited
/// on the GIL, ...". The lock is the GIL on a build with one, else a lock of the function's own;
/// on a `loaded` machine no lock is claimed ([`stall`]).
fn threads_stall(row: &PythonRow, cpus: usize, loaded: bool) -> Option<String> {
    let speedup = row.speedup?;
    let ceiling = row.ceiling.map(Estimate::exact);
    let s = stall(speedup, row.cpus_busy?, row.workers, cpus, ceiling, loaded)?;
    let lock = if row.python.ends_with('t') {
        "a lock of the function's own"
    } else {
        "the GIL"
    };
    let words = s.words(lock);
    Some(format!(
        "{}: {}",
        row.setting(),
        words
            .strip_prefix("they ")
            .map_or(words.clone(), |w| format!("the threads {w}"))
    ))
}

/// A message cut to its first `most` characters.
fn short(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(most - 3).collect::<String>())
    }
}

/// How `row` failed, and what that says of the function on its road: "threads x2 raised
/// AttributeError ('NoneType' object has no attribute 'link'): the function shares state
/// between calls; it is not safe on threads".
fn failure_words(row: &PythonRow, failure: &Failure) -> String {
    // The road fails at any chunk size: the row's is left out.
    let setting = format!("{} x{}", row.road, row.workers);
    let what = match failure {
        Failure::Raised { kind, message } if message.is_empty() => {
            format!("{setting} raised {kind}")
        }
        Failure::Raised { kind, message } => {
            format!("{setting} raised {kind} ({})", short(message, 60))
        }
        Failure::Differs { item: Some(i) } => {
            format!("{setting} gave another answer (from item {i} on)")
        }
        Failure::Differs { item: None } => format!("{setting} gave another answer"),
        Failure::TimedOut { default: true, .. } => format!(
            "{setting} did not finish within the default limit (10x the sequential run, at \
             least 10 s)"
        ),
        Failure::TimedOut { limit, .. } => format!("{setting} did not finish within {limit}"),
        Failure::CannotCross { kind } => {
            format!("{setting} could not send a {kind} between interpreters (values cross pickled)")
        }
        Failure::Crashed | Failure::Baseline => {
            let error = row.error.as_deref().unwrap_or("");
            let last = error.rsplit_once(": ").map_or(error, |(_, l)| l);
            format!("{setting} failed ({})", short(last, 60))
        }
    };
    let unsafe_on = |what: &str| format!("{what}; it is not safe on {}", row.road);
    let why = match (row.road.own(), failure) {
        (Road::Processes, Failure::Raised { kind, .. }) if kind == "BrokenProcessPool" => {
            "a worker process died, and this is what the user's code would see".to_string()
        }
        (_, Failure::CannotCross { .. }) => {
            format!("its values cannot be sent as {} send them", row.road)
        }
        (
            Road::Threads,
            Failure::Raised { .. }
            | Failure::Differs { .. }
            | Failure::TimedOut { default: true, .. },
        ) => unsafe_on("the function shares state between calls"),
        (Road::Processes, Failure::Raised { .. } | Failure::Differs { .. }) => unsafe_on(
            "the function depends on state that earlier calls left, which each process holds apart",
        ),
        (Road::Subinterpreters, Failure::Raised { .. } | Failure::Differs { .. }) => unsafe_on(
            "the function depends on state or modules that each subinterpreter holds apart",
        ),
        (road, Failure::TimedOut { default: true, .. }) => {
            format!("it does not finish on {road}")
        }
        _ => String::new(),
    };
    if why.is_empty() {
        what
    } else {
        format!("{what}: {why}")
    }
}

/// The recommendation for each interpreter at `range`, in the order the rows name them; an
/// interpreter whose baseline failed, or that measured nothing, has none.
pub fn recommend(rows: &[PythonRow], range: &str) -> Vec<Recommendation> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut pythons: Vec<&str> = Vec::new();
    for r in rows {
        if !pythons.contains(&r.python.as_str()) {
            pythons.push(&r.python);
        }
    }
    pythons
        .into_iter()
        .filter_map(|py| {
            let mine: Vec<PythonRow> = rows.iter().filter(|r| r.python == py).cloned().collect();
            recommend_on(&mine, range, cpus)
        })
        .collect()
}

/// The recommendation overall, from each interpreter's (`recs`, from [`recommend`]): the one
/// whose row ran fastest, in seconds, with each interpreter's in words; with one interpreter,
/// its own.
pub fn overall(rows: &[PythonRow], recs: &[Recommendation], range: &str) -> Option<Recommendation> {
    if recs.len() < 2 {
        return recs.first().cloned();
    }
    let row_of = |rec: &Recommendation| {
        rows.iter()
            .find(|r| rec.is(r) && r.range == range && r.median_s.is_some())
    };
    let timed: Vec<(&Recommendation, &PythonRow)> = recs
        .iter()
        .filter_map(|rec| Some((rec, row_of(rec)?)))
        .collect();
    let (best, best_row) = *timed.iter().min_by(|a, b| {
        let m = |r: &PythonRow| r.median_s.unwrap_or(f64::MAX);
        m(a.1).total_cmp(&m(b.1))
    })?;
    let each: Vec<String> = recs
        .iter()
        .map(|rec| {
            let speed = row_of(rec)
                .and_then(|r| r.speedup)
                .filter(|_| rec.road != Road::Sequential)
                .map_or(String::new(), |s| format!(" at {:.2}x", s.value));
            format!("on {}, {}{speed}", rec.python, rec.setting())
        })
        .collect();
    // The runner-up in seconds: is the best faster than it beyond doubt?
    let runner = timed
        .iter()
        .filter(|(rec, _)| rec.python != best.python)
        .min_by(|a, b| {
            let m = |r: &PythonRow| r.median_s.unwrap_or(f64::MAX);
            m(a.1).total_cmp(&m(b.1))
        });
    let against = runner.map_or(String::new(), |(rec, row)| {
        let (a, b) = (best_row.times(), row.times());
        let mut text = format!(
            ", {} a run against {} for {} on {}",
            seconds(best_row.median_s.unwrap_or(0.0)),
            seconds(row.median_s.unwrap_or(0.0)),
            rec.setting(),
            rec.python
        );
        if a.len() == b.len() && !a.is_empty() {
            let ratio = paired_speedup(&b, &a, BOOTSTRAP_ROUNDS);
            if judge(&ratio, Bounds::default()) == Verdict::Faster {
                text.push_str(&format!(" ({} as fast)", ratio.ratio()));
            } else {
                text.push_str(&format!(
                    "; the two cannot be told apart ({})",
                    ratio.ratio()
                ));
            }
        }
        text
    });
    let mut rec = best.clone();
    rec.reason = format!(
        "{}; fastest overall: {} on {}{against}",
        each.join("; "),
        best.setting(),
        best.python
    );
    Some(rec)
}

/// The recommendation from one interpreter's `rows` at `range` (rows without a speedup are
/// left out, and so is every row of a road that failed); `None` when its baseline failed or
/// nothing was measured.
fn recommend_on(rows: &[PythonRow], range: &str, cpus: usize) -> Option<Recommendation> {
    let at: Vec<&PythonRow> = rows.iter().filter(|r| r.range == range).collect();
    let base = at
        .iter()
        .find(|r| r.road == Road::Sequential)
        .filter(|r| r.error.is_none() && r.speedup.is_some())?;
    // Each road that failed on its own, by its first failed row (the fewest workers).
    let mut failed: Vec<(&PythonRow, &Failure)> = Vec::new();
    for r in &at {
        if let Some(f) = r.failure.as_ref().filter(|f| **f != Failure::Baseline)
            && !failed.iter().any(|(o, _)| o.road == r.road)
        {
            failed.push((r, f));
        }
    }
    let broken = |road: Road| failed.iter().any(|(r, _)| r.road == road);
    let fine = |r: &&PythonRow| r.error.is_none() && r.speedup.is_some() && !broken(r.road);
    let measured: Vec<&PythonRow> = at.iter().copied().filter(fine).collect();
    let failures: Vec<String> = failed.iter().map(|(r, f)| failure_words(r, f)).collect();
    let failures = failures.join("; ");
    let lead = if failures.is_empty() {
        String::new()
    } else {
        format!("{failures}; ")
    };
    let speed = |r: &PythonRow| r.speedup.expect("measured").value;
    let best_of = |road: Road| {
        measured
            .iter()
            .filter(|r| r.road == road)
            .max_by(|a, b| speed(a).total_cmp(&speed(b)))
            .copied()
    };
    let roads: Vec<&PythonRow> = Road::DEFAULT.into_iter().filter_map(best_of).collect();
    // With an executor measured, only executors are recommended: they are the user's code.
    let executors = measured.iter().any(|r| r.road.is_executor());
    let pickable =
        |r: &PythonRow| r.road != Road::Sequential && (!executors || r.road.is_executor());
    let map = at.iter().any(|r| r.chunksize.is_some());
    if roads.is_empty() {
        return Some(Recommendation {
            road: Road::Sequential,
            workers: 1,
            chunksize: None,
            python: base.python.clone(),
            reason: if failures.is_empty() {
                "no parallel road was measured".to_string()
            } else {
                format!("{failures}; one thread is what remains")
            },
            smallest_range: None,
            start_method: None,
            code: None,
            failures: None,
        });
    }
    let figures: Vec<String> = roads
        .iter()
        .map(|r| format!("{} {}", r.setting(), r.speedup.expect("measured").ratio()))
        .collect();
    let figures = figures.join(", ");
    // A busy machine: the most that a perfectly parallel loop reached beside these rows, by the
    // one rule of every command ([`busy::by_ceiling`]).
    let most = measured
        .iter()
        .filter_map(|r| Some((r.ceiling?, r.workers)))
        .fold(None, |m: Option<(f64, usize)>, c| {
            Some(m.map_or(c, |m| if c.0 > m.0 { c } else { m }))
        });
    let busy = most
        .and_then(|(c, w)| busy::by_ceiling(c, w, cpus))
        .map_or(String::new(), |w| format!("; {w}"));
    let most = most.map(|(c, _)| c);
    // A Python function may wait rather than compute, so no CPU bound applies: the judge's
    // words with the one margin.
    // A row of one interpreter cannot run faster than the CPUs it kept busy allow against the
    // baseline's: a gain above that (a GIL build's threads at 1.2x on one CPU) met faster CPUs,
    // not parallelism, and is an artefact, never a win.
    let base_busy = base.cpus_busy.map(|b| b.value).filter(|b| *b > 0.0);
    let bounds = |r: &PythonRow| Bounds {
        cpus: None,
        busy: None,
        ceiling: r.cpus_busy.zip(base_busy).map(|(b, base)| Estimate {
            value: b.value / base,
            low: b.low / base,
            high: b.high / base,
        }),
    };
    let wins = |r: &PythonRow| judge(&r.speedup.expect("measured"), bounds(r)) == Verdict::Faster;
    let best = measured
        .iter()
        .filter(|r| pickable(r) && wins(r))
        .max_by(|a, b| speed(a).total_cmp(&speed(b)))
        .copied();
    // parlab's own road of an executor's kind, at the same workers (and chunk size, where both
    // have one that means the same): the most that kind of parallelism gave.
    let own_of = |exec: &PythonRow| {
        measured
            .iter()
            .filter(|r| r.road == exec.road.own() && r.workers == exec.workers)
            .filter(|r| exec.road != Road::ExecutorProcess || r.chunksize == exec.chunksize)
            .max_by(|a, b| speed(a).total_cmp(&speed(b)))
            .copied()
    };
    let threads = best_of(Road::Threads);
    let stalled = threads.and_then(|t| threads_stall(t, cpus, !busy.is_empty()));
    let Some(best) = best else {
        let stalled = stalled.map_or(String::new(), |s| format!("; {s}"));
        // The executors' cost a task, beside the function's own work a task.
        // Each executor's fastest row: what it cost a task, against the work a task.
        let costs: Vec<String> = [
            Road::ExecutorThread,
            Road::ExecutorProcess,
            Road::ExecutorInterpreter,
        ]
        .into_iter()
        .filter_map(best_of)
        .filter_map(|r| overhead_words(r, own_of(r), base, map))
        .collect();
        let stalled = match costs.is_empty() {
            true => stalled,
            false => format!("{stalled}; {}", costs.join("; ")),
        };
        return Some(Recommendation {
            road: Road::Sequential,
            workers: 1,
            chunksize: None,
            python: base.python.clone(),
            // Why, only as the figures say it: what the threads kept busy, what each executor
            // cost a task against the work a task, and a busy machine; never a fixed cause.
            reason: format!(
                "{lead}no road is faster than one thread by more than the 5% margin at this size \
                 ({figures}){stalled}{busy}"
            ),
            smallest_range: None,
            start_method: None,
            code: None,
            failures: None,
        });
    };
    // Rows the data cannot tell from the best: the cheapest of them is recommended.
    let low = best.speedup.expect("measured").low;
    let pick = measured
        .iter()
        .filter(|r| pickable(r) && wins(r))
        .filter(|r| r.speedup.expect("measured").high >= low)
        .min_by_key(|r| {
            (
                cost(r.road),
                r.workers,
                std::cmp::Reverse(r.chunksize.unwrap_or(0)),
            )
        })
        .copied()
        .unwrap_or(best);
    let threads_win = threads.is_some_and(wins);
    let parallel = match pick.road.own() {
        Road::Processes => "separate interpreters run the function in parallel",
        _ => "subinterpreters, each with its own GIL, run the function in parallel",
    };
    let why = match (pick.road.own(), &stalled) {
        (Road::Threads, _) => "the function releases the GIL (or the interpreter has none), so \
                               threads run it in parallel at the least cost"
            .to_string(),
        (_, Some(s)) => format!("{s}; {parallel}"),
        _ if !threads_win && threads.is_some() => {
            format!("threads ran no faster than one thread; {parallel}")
        }
        _ => parallel.to_string(),
    };
    let same_row = |a: &PythonRow, b: &PythonRow| {
        a.road == b.road && a.workers == b.workers && a.chunksize == b.chunksize
    };
    let tied = if !same_row(pick, best) {
        format!(
            "; the fastest, {}, cannot be told apart from it, which costs less",
            best.setting()
        )
    } else {
        String::new()
    };
    let length = |r: &PythonRow| r.range.parse::<Span>().map_or(u64::MAX, |s| s.len());
    let at_ranges: Vec<&PythonRow> = rows
        .iter()
        .filter(|r| r.error.is_none() && r.speedup.is_some() && same_row(r, pick))
        .collect();
    let smallest_range = (at_ranges.len() > 1)
        .then(|| {
            at_ranges
                .iter()
                .filter(|r| wins(r))
                .min_by_key(|r| length(r))
        })
        .flatten()
        .map(|r| r.range.clone());
    let gap = own_of(pick)
        .and_then(|o| gap_words(pick, o, base, map))
        .map_or(String::new(), |g| format!("; {g}"));
    Some(Recommendation {
        road: pick.road,
        workers: pick.workers,
        chunksize: pick.chunksize,
        python: pick.python.clone(),
        // Beyond the ceiling, the work is not bound by the CPUs (it waits): a busy machine
        // does not weaken it.
        reason: if most.is_some_and(|c| pick.speedup.expect("measured").low > c) {
            format!("{lead}{why}: {figures}{tied}{gap}")
        } else {
            format!("{lead}{why}: {figures}{tied}{gap}{busy}")
        },
        smallest_range,
        start_method: pick.start_method.clone(),
        code: None,
        failures: failures_on(pick.road, &pick.python),
    })
}

#[cfg(test)]
mod tests;
