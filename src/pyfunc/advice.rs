//! The recommendation: which road and worker count to use, and why, from the measured rows
//! of the first interpreter named (each interpreter's speedups are against its own baseline).
//!
//! The fastest row is the one with the highest speedup; among rows whose interval reaches its
//! interval (the data cannot tell them apart) the cheapest is recommended: threads before
//! processes (no interpreter to start, memory shared) before subinterpreters (private modules
//! before 3.14), then the fewest workers.
//! A parallel road is recommended only when [the judge](crate::measure::judge()) calls it
//! faster (its whole interval above 1, and not within the 5% margin of it: the same words as
//! every other command's); otherwise the sequential road is, with the reason.

use serde::Serialize;

use super::Road;
use super::measure::Row;
use crate::measure::stall::stall;
use crate::measure::{Bounds, Verdict, busy, judge};
use crate::span::Span;
use crate::stats::Estimate;

/// What to use, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The road.
    pub road: Road,
    /// Its worker count.
    pub workers: usize,
    /// The interpreter it ran on.
    pub python: String,
    /// Why, in words, with the best speedup of each road.
    pub reason: String,
    /// The smallest range measured (`--range` with several) at which the recommended road and
    /// worker count beat one thread; absent when only one range was measured or for the
    /// sequential road.
    pub smallest_range: Option<String>,
}

/// How much a road costs beside its speed, for choosing among rows the data cannot tell apart.
fn cost(road: Road) -> u8 {
    match road {
        Road::Sequential => 0,
        Road::Threads => 1,
        Road::Processes => 2,
        Road::Subinterpreters => 3,
    }
}

/// Why the threads of `row` did not scale, from the CPUs they kept busy ([`stall`]), in words
/// that begin with the row: "threads x2 kept 1.01 (1.00-1.02) CPUs busy, about one: they waited
/// on the GIL, ...". The lock is the GIL on a build with one, else a lock of the function's own;
/// on a `loaded` machine no lock is claimed ([`stall`]).
fn threads_stall(row: &Row, cpus: usize, loaded: bool) -> Option<String> {
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
        "{} x{}: {}",
        row.road,
        row.workers,
        words
            .strip_prefix("they ")
            .map_or(words.clone(), |w| format!("the threads {w}"))
    ))
}

/// The recommendation at `range` from `rows` (failed rows and rows without a speedup are left
/// out); `None` when no row was measured.
pub fn recommend(rows: &[Row], range: &str) -> Option<Recommendation> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    recommend_on(rows, range, cpus)
}

/// [`recommend`] on a machine of `cpus` CPUs.
fn recommend_on(rows: &[Row], range: &str, cpus: usize) -> Option<Recommendation> {
    // Speedups are against each interpreter's own baseline: the first interpreter's rows.
    let first = &rows.first()?.python;
    let ok = |r: &&Row| &r.python == first && r.error.is_none() && r.speedup.is_some();
    let measured: Vec<&Row> = rows
        .iter()
        .filter(ok)
        .filter(|r| r.range == range)
        .collect();
    let base = measured.iter().find(|r| r.road == Road::Sequential)?;
    let speed = |r: &Row| r.speedup.expect("measured").value;
    let best_of = |road: Road| {
        measured
            .iter()
            .filter(|r| r.road == road)
            .max_by(|a, b| speed(a).total_cmp(&speed(b)))
            .copied()
    };
    let roads: Vec<&Row> = [Road::Threads, Road::Processes, Road::Subinterpreters]
        .into_iter()
        .filter_map(best_of)
        .collect();
    let figures: Vec<String> = roads
        .iter()
        .map(|r| {
            format!(
                "{} x{} {}",
                r.road,
                r.workers,
                r.speedup.expect("measured").ratio()
            )
        })
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
    let wins = |r: &Row| judge(&r.speedup.expect("measured"), Bounds::default()) == Verdict::Faster;
    let best = measured
        .iter()
        .filter(|r| r.road != Road::Sequential && wins(r))
        .max_by(|a, b| speed(a).total_cmp(&speed(b)))
        .copied();
    let threads = best_of(Road::Threads);
    let stalled = threads.and_then(|t| threads_stall(t, cpus, !busy.is_empty()));
    let Some(best) = best else {
        let stalled = stalled.map_or(String::new(), |s| format!("; {s}"));
        return Some(Recommendation {
            road: Road::Sequential,
            workers: 1,
            python: base.python.clone(),
            // On a busy machine the cause cannot be told: only the figures are given.
            reason: if busy.is_empty() {
                format!(
                    "no road is faster than one thread by more than the 5% margin at this size: \
                     the work per part does not pay for handing parts out ({figures}){stalled}"
                )
            } else {
                format!(
                    "no road is faster than one thread by more than the 5% margin at this size \
                     ({figures}){stalled}{busy}"
                )
            },
            smallest_range: None,
        });
    };
    // Rows the data cannot tell from the best: the cheapest of them is recommended.
    let low = best.speedup.expect("measured").low;
    let pick = measured
        .iter()
        .filter(|r| r.road != Road::Sequential && wins(r))
        .filter(|r| r.speedup.expect("measured").high >= low)
        .min_by_key(|r| (cost(r.road), r.workers))
        .copied()
        .unwrap_or(best);
    let threads_win = threads.is_some_and(wins);
    let parallel = match pick.road {
        Road::Processes => "separate interpreters run the function in parallel",
        _ => "subinterpreters, each with its own GIL, run the function in parallel",
    };
    let why = match (pick.road, &stalled) {
        (Road::Threads, _) => "the function releases the GIL (or the interpreter has none), so \
                               threads run it in parallel at the least cost"
            .to_string(),
        (_, Some(s)) => format!("{s}; {parallel}"),
        _ if !threads_win && threads.is_some() => {
            format!("threads ran no faster than one thread; {parallel}")
        }
        _ => parallel.to_string(),
    };
    let tied = if pick.road != best.road || pick.workers != best.workers {
        format!(
            "; the fastest, {} x{}, cannot be told apart from it, which costs less",
            best.road, best.workers
        )
    } else {
        String::new()
    };
    let length = |r: &Row| r.range.parse::<Span>().map_or(u64::MAX, |s| s.len());
    let same = |r: &&Row| r.road == pick.road && r.workers == pick.workers;
    let at_ranges: Vec<&Row> = rows.iter().filter(ok).filter(same).collect();
    let smallest_range = (at_ranges.len() > 1)
        .then(|| {
            at_ranges
                .iter()
                .filter(|r| wins(r))
                .min_by_key(|r| length(r))
        })
        .flatten()
        .map(|r| r.range.clone());
    Some(Recommendation {
        road: pick.road,
        workers: pick.workers,
        python: pick.python.clone(),
        // Beyond the ceiling, the work is not bound by the CPUs (it waits): a busy machine
        // does not weaken it.
        reason: if most.is_some_and(|c| pick.speedup.expect("measured").low > c) {
            format!("{why}: {figures}{tied}")
        } else {
            format!("{why}: {figures}{tied}{busy}")
        },
        smallest_range,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Estimate;

    fn row(range: &str, road: Road, workers: usize, speedup: (f64, f64, f64)) -> Row {
        let (value, low, high) = speedup;
        Row::measured(
            "3.11.7",
            range,
            road,
            workers,
            Estimate { value, low, high },
        )
    }

    fn base(range: &str) -> Row {
        row(range, Road::Sequential, 1, (1.0, 1.0, 1.0))
    }

    fn busy(mut r: Row, cpus: f64) -> Row {
        r.cpus_busy = Some(Estimate {
            value: cpus,
            low: cpus - 0.02,
            high: cpus + 0.02,
        });
        r
    }

    #[test]
    fn threads_that_do_not_scale_are_explained_in_the_recommendation() {
        // A GIL build, threads keeping one CPU busy: the GIL.
        let rows = [
            base("0..100"),
            busy(row("0..100", Road::Threads, 2, (0.97, 0.95, 0.99)), 1.0),
            row("0..100", Road::Processes, 2, (1.86, 1.7, 1.95)),
        ];
        let rec = recommend_on(&rows, "0..100", 2).unwrap();
        assert_eq!(rec.road, Road::Processes);
        assert!(
            rec.reason.starts_with(
                "threads x2: the threads kept 1.00 (0.98-1.02) CPUs busy, about one: they \
                 waited on the GIL"
            ),
            "{}",
            rec.reason
        );
        // A free-threaded build, threads keeping both CPUs busy at 1.25x: contention.
        let ft = |mut r: Row| {
            r.python = "3.13.5t".into();
            r
        };
        let rows = [
            ft(base("0..100")),
            ft(busy(
                row("0..100", Road::Threads, 2, (1.25, 1.2, 1.3)),
                1.96,
            )),
            ft(row("0..100", Road::Processes, 2, (1.91, 1.85, 1.95))),
        ];
        let rec = recommend_on(&rows, "0..100", 2).unwrap();
        assert_eq!(rec.road, Road::Processes);
        assert!(
            rec.reason.contains("contended on shared state"),
            "{}",
            rec.reason
        );
        assert!(!rec.reason.contains("GIL"), "{}", rec.reason);
        // No faster anywhere, threads waiting on a lock: said beside the figures.
        let rows = [
            base("0..100"),
            busy(row("0..100", Road::Threads, 2, (0.98, 0.95, 1.01)), 1.01),
        ];
        let rec = recommend_on(&rows, "0..100", 2).unwrap();
        assert_eq!(rec.road, Road::Sequential);
        assert!(
            rec.reason.contains("; threads x2: the threads kept"),
            "{}",
            rec.reason
        );
    }

    #[test]
    fn processes_win_when_threads_hold_the_gil() {
        let rows = [
            base("0..100"),
            row("0..100", Road::Threads, 2, (0.97, 0.9, 1.05)),
            row("0..100", Road::Processes, 2, (1.86, 1.7, 1.95)),
        ];
        let rec = recommend(&rows, "0..100").unwrap();
        assert_eq!((rec.road, rec.workers), (Road::Processes, 2));
        // Without the CPUs the threads kept busy, no cause is claimed.
        assert!(
            rec.reason
                .starts_with("threads ran no faster than one thread; separate"),
            "{}",
            rec.reason
        );
        assert!(
            rec.reason
                .contains("threads x2 0.97x (0.90-1.05), processes x2 1.86x (1.70-1.95)"),
            "{}",
            rec.reason
        );
        assert_eq!(rec.smallest_range, None);
        assert!(!rec.reason.contains("busy"), "{}", rec.reason);
    }

    #[test]
    fn a_busy_machine_is_named() {
        let mut threads = row("0..100", Road::Threads, 2, (1.3, 1.1, 1.5));
        threads.ceiling = Some(1.16);
        let rec = recommend(&[base("0..100"), threads.clone()], "0..100").unwrap();
        assert!(
            rec.reason
                .contains("busy (a perfectly parallel loop of 2 threads reached at most 1.16x"),
            "{}",
            rec.reason
        );
        // Waiting, not computing: beyond the ceiling, the busy machine is not the point.
        threads.speedup = Some(Estimate {
            value: 3.9,
            low: 3.8,
            high: 4.0,
        });
        let rec = recommend(&[base("0..100"), threads], "0..100").unwrap();
        assert!(!rec.reason.contains("busy"), "{}", rec.reason);
    }

    #[test]
    fn the_cheapest_of_rows_that_cannot_be_told_apart_is_chosen() {
        let rows = [
            base("0..100"),
            row("0..100", Road::Threads, 4, (1.8, 1.6, 2.0)),
            row("0..100", Road::Processes, 2, (1.9, 1.7, 2.1)),
            row("0..100", Road::Subinterpreters, 2, (1.85, 1.7, 2.0)),
        ];
        let rec = recommend(&rows, "0..100").unwrap();
        assert_eq!((rec.road, rec.workers), (Road::Threads, 4));
        assert!(rec.reason.contains("releases the GIL"), "{}", rec.reason);
        assert!(
            rec.reason.contains("the fastest, processes x2"),
            "{}",
            rec.reason
        );
    }

    #[test]
    fn nothing_wins_when_every_interval_reaches_one() {
        let rows = [
            base("0..100"),
            row("0..100", Road::Threads, 2, (0.5, 0.4, 0.6)),
            row("0..100", Road::Processes, 2, (1.2, 0.95, 1.4)),
        ];
        let rec = recommend(&rows, "0..100").unwrap();
        assert_eq!((rec.road, rec.workers), (Road::Sequential, 1));
        assert!(
            rec.reason.starts_with("no road is faster than one thread"),
            "{}",
            rec.reason
        );
    }

    #[test]
    fn a_gain_within_the_margin_is_not_recommended() {
        // 1.02x (1.01-1.03) lies above 1 but within 5% of it: "no faster" in every command.
        let rows = [
            base("0..100"),
            row("0..100", Road::Processes, 2, (1.02, 1.01, 1.03)),
        ];
        let rec = recommend(&rows, "0..100").unwrap();
        assert_eq!((rec.road, rec.workers), (Road::Sequential, 1), "{rec:?}");
    }

    #[test]
    fn the_smallest_winning_range_is_named() {
        let rows = [
            base("0..10"),
            row("0..10", Road::Processes, 2, (0.3, 0.2, 0.4)),
            base("0..1000"),
            row("0..1000", Road::Processes, 2, (1.3, 1.1, 1.5)),
            base("0..100000"),
            row("0..100000", Road::Processes, 2, (1.9, 1.8, 2.0)),
        ];
        let rec = recommend(&rows, "0..100000").unwrap();
        assert_eq!(rec.road, Road::Processes);
        assert_eq!(rec.smallest_range.as_deref(), Some("0..1000"));
    }
}
