//! Rows measured round by round: every row of a group runs once per round, and each row's
//! speedup is the median of its per-round ratios against its family's one-thread row.
//!
//! On a shared VM the same run takes twice as long in some seconds as in others. Timing each
//! row in a block of its own lets such an episode fall on one row and not another, and a
//! speedup of two medians taken seconds apart then measures the machine. Here every round runs
//! every row of the group, forwards in one round and backwards in the next so that no row is
//! always first or last, and a row's ratio in a round is against the one-thread run of the same
//! round: what the machine did in that round weighs on both. The interval is a bootstrap over
//! the rounds ([`stats::median_interval`]), as `bench` does over its paired runs.
//!
//! Before each round of CPU-bound rows the machine's ceiling is sampled
//! ([`Probe`]): a row of W > 1 workers gets the ceiling at W over its rounds, and its
//! share of it (each round's ratio over that round's ceiling).

use std::time::{Duration, Instant};

use super::row::{Spread, Variant, Who};
use crate::backend::gil::GilStats;
use crate::bench::ceiling::Probe;
use crate::error::{Error, Result};
use crate::stats;

/// Bootstrap resamples for every interval.
const BOOTSTRAP_ROUNDS: usize = 2000;

/// One run of a row.
#[derive(Debug, Clone)]
pub struct Run {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// The answer (its headline figure: indices counted, items slept).
    pub total: u128,
    /// What the GIL model saw (`gil` and `gil-legacy` rows).
    pub gil: Option<GilStats>,
    /// A remark on how the run went (e.g. CPython's start method).
    pub note: Option<String>,
}

/// How many rounds a group runs: at least `least`, then more until `budget` has passed, at
/// most `most`.
#[derive(Debug, Clone, Copy)]
pub struct Rounds {
    /// Fewest rounds.
    pub least: usize,
    /// Time after which no round is added past `least`.
    pub budget: Duration,
    /// Most rounds.
    pub most: usize,
}

/// A measured row: its runs' median time, its spread and its last run.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Median wall time, seconds.
    pub wall_s: f64,
    /// The speedup's interval, the ceiling and the share of it.
    pub spread: Spread,
    /// The last run (its answer, GIL statistics and note).
    pub last: Run,
}

/// Runs the rows `rows` round by round; `run(i, round)` runs row `i` once (`None`: the row
/// cannot run any more, e.g. its interpreter failed). `probe`, for CPU-bound rows, samples the
/// ceiling before each round. Returns each row's figures (`None` for a row that never ran), or
/// the first failure; a run whose answer differs from the row's first is a wrong answer.
pub fn measure(
    rows: &[(Who, Variant)],
    rounds: Rounds,
    mut probe: Option<&mut Probe>,
    run: &mut dyn FnMut(usize, usize) -> Result<Option<Run>>,
) -> Result<Vec<Option<Measured>>> {
    let started = Instant::now();
    // Per row: each round's wall time (None when it did not run), and its last run.
    let mut walls: Vec<Vec<Option<f64>>> = vec![Vec::new(); rows.len()];
    let mut last: Vec<Option<Run>> = vec![None; rows.len()];
    let mut ceilings: Vec<Vec<(usize, f64)>> = Vec::new();
    let mut round = 0;
    while round < rounds.least || (started.elapsed() < rounds.budget && round < rounds.most) {
        let round_started = Instant::now();
        ceilings.push(
            probe
                .as_deref_mut()
                .map(|p| p.sample().0)
                .unwrap_or_default(),
        );
        let mut order: Vec<usize> = (0..rows.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let out = run(i, round)?;
            if let (Some(out), Some(first)) = (&out, &last[i])
                && out.total != first.total
            {
                let (who, variant) = &rows[i];
                return Err(Error::WrongAnswer {
                    what: format!("round {} of {who}, {variant}", round + 1),
                    got: out.total.to_string(),
                    expected: first.total.to_string(),
                });
            }
            walls[i].push(out.as_ref().map(|r| r.wall_s));
            if let Some(out) = out {
                last[i] = Some(out);
            }
        }
        if let Some(p) = probe.as_deref_mut() {
            p.fit(round_started.elapsed());
        }
        round += 1;
    }
    Ok((0..rows.len())
        .map(|i| {
            let base = base_of(rows, i)?;
            let spread = spread(&walls[i], &walls[base], &ceilings, rows[i].1.workers())?;
            Some(Measured {
                wall_s: stats::median(&walls[i].iter().flatten().copied().collect::<Vec<_>>()),
                spread,
                last: last[i].clone()?,
            })
        })
        .collect())
}

/// The row of the same family with one thread: the one row `i` is compared with.
fn base_of(rows: &[(Who, Variant)], i: usize) -> Option<usize> {
    let family = rows[i].0.family();
    rows.iter()
        .position(|(w, v)| w.family() == family && *v == Variant::Threads(1))
}

/// A row's spread from its per-round times, its base row's, and each round's ceilings; `None`
/// when no round ran both.
pub fn spread(
    walls: &[Option<f64>],
    base: &[Option<f64>],
    ceilings: &[Vec<(usize, f64)>],
    workers: usize,
) -> Option<Spread> {
    let mut ratios = Vec::new();
    let mut shares = Vec::new();
    let mut seen = Vec::new();
    for (r, (w, b)) in walls.iter().zip(base).enumerate() {
        let (Some(w), Some(b)) = (w, b) else { continue };
        ratios.push(b / w);
        let at = ceilings
            .get(r)
            .and_then(|c| c.iter().find(|c| c.0 == workers));
        if let Some(&(_, c)) = at.filter(|_| workers > 1) {
            seen.push(c);
            shares.push(b / w / c);
        }
    }
    if ratios.is_empty() {
        return None;
    }
    let bases: Vec<f64> = base.iter().flatten().copied().collect();
    let range = |xs: &[f64]| {
        (
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let interval =
        |xs: &[f64]| (!xs.is_empty()).then(|| stats::median_interval(xs, BOOTSTRAP_ROUNDS));
    Some(Spread {
        speedup: stats::median_interval(&ratios, BOOTSTRAP_ROUNDS),
        ceiling: interval(&seen),
        vs_ceiling: interval(&shares),
        ceiling_seen: (!seen.is_empty()).then(|| range(&seen)),
        base_seen: range(&bases),
        runs: walls.iter().flatten().count(),
    })
}

#[cfg(test)]
mod tests;
