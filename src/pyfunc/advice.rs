//! The recommendation: which road and worker count to use, and why, from the measured rows
//! of the first interpreter named (each interpreter's speedups are against its own baseline).
//!
//! The fastest row is the one with the highest speedup; among rows whose interval reaches its
//! interval (the data cannot tell them apart) the one with the fewest workers is recommended,
//! as it costs least. A parallel road is recommended only when its interval lies wholly above
//! 1x; otherwise the sequential road is, with the reason.

use serde::Serialize;

use super::Road;
use super::measure::Row;
use crate::stats::Side;

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
}

/// The recommendation from `rows` (failed rows and rows without a speedup are left out);
/// `None` when no row was measured.
pub fn recommend(rows: &[Row]) -> Option<Recommendation> {
    // Speedups are against each interpreter's own baseline: the first interpreter's rows.
    let first = &rows.first()?.python;
    let measured: Vec<&Row> = rows
        .iter()
        .filter(|r| &r.python == first && r.error.is_none() && r.speedup.is_some())
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
        .map(|r| format!("{} {:.2}x at {}", r.road, speed(r), r.workers))
        .collect();
    let figures = figures.join(", ");
    let wins = |r: &Row| r.speedup.expect("measured").side_of(1.0) == Side::Above;
    let best = measured
        .iter()
        .filter(|r| r.road != Road::Sequential && wins(r))
        .max_by(|a, b| speed(a).total_cmp(&speed(b)))
        .copied();
    let Some(best) = best else {
        return Some(Recommendation {
            road: Road::Sequential,
            workers: 1,
            python: base.python.clone(),
            reason: format!(
                "no road beats one thread beyond doubt at this size: the work per part does not \
                 pay for handing parts out ({figures})"
            ),
        });
    };
    // Rows the data cannot tell from the best: the cheapest of them is recommended.
    let low = best.speedup.expect("measured").low;
    let pick = measured
        .iter()
        .filter(|r| r.road != Road::Sequential && wins(r))
        .filter(|r| r.speedup.expect("measured").high >= low)
        .min_by_key(|r| (r.workers, r.road != best.road))
        .copied()
        .unwrap_or(best);
    let threads = best_of(Road::Threads);
    let threads_win = threads.is_some_and(wins);
    let why = match pick.road {
        Road::Threads => {
            "the function releases the GIL (or the interpreter has none), so threads \
                          run it in parallel at the least cost"
        }
        _ if !threads_win && threads.is_some() => {
            "the function holds the GIL, so threads take turns; separate interpreters run in \
             parallel"
        }
        Road::Processes => "separate interpreters run the function in parallel",
        _ => "subinterpreters, each with its own GIL, run the function in parallel",
    };
    let tied = if pick.road != best.road || pick.workers != best.workers {
        format!(
            "; the fastest, {} x{}, cannot be told apart from it with fewer workers",
            best.road, best.workers
        )
    } else {
        String::new()
    };
    Some(Recommendation {
        road: pick.road,
        workers: pick.workers,
        python: pick.python.clone(),
        reason: format!("{why}: {figures}{tied}"),
    })
}
