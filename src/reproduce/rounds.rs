//! Rows measured round by round, on the shared engine ([`crate::measure`]): every row of a
//! group runs once per round beside the one-thread row of its family, its speedup the median
//! of its paired ratios, at equal CPU speed where the CPU times allow.
//!
//! A round runs every row of the group, forwards in one round and backwards in the next (the
//! engine's policy, one baseline run a round: CPython's runs take seconds). When the rounds
//! planned are over, rounds go on for the rows whose verdict is not decided yet
//! ([`Decided`]: an interval that holds 1, or reaches within the margin from below, and is
//! still wide, or one the noise hides), each such round running only those rows and their
//! families' one-thread rows, until every row is decided, or the rows' runs have taken half as
//! long again, or the group's most rounds (at least twice the rounds before) have run: a
//! CPython row timed three times gets an interval of about its slowest and fastest ratio, and a
//! row losing 10% to one thread then says "no faster" or "slower" by chance.
//!
//! Before each round of CPU-bound rows the machine's ceiling is sampled
//! ([`Probe`]): a row of W > 1 workers gets the ceiling at W over its rounds, and its share of
//! it (each round's ratio over that round's ceiling).

use std::time::Duration;

use super::row::{Spread, Variant, Who};
use crate::backend::gil::GilStats;
use crate::error::{Error, Result};
use crate::measure::ceiling::Probe;
use crate::measure::rounds::{Measurement, Pairing, Timing};
use crate::measure::sample::{Figures, Sample, range};
use crate::measure::stop::Decided;
use crate::stats;

/// One run of a row.
#[derive(Debug, Clone)]
pub struct RowRun {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// The answer (its headline figure: indices counted, items slept).
    pub total: u128,
    /// What the GIL model saw (`gil` and `gil-legacy` rows).
    pub gil: Option<GilStats>,
    /// A remark on how the run went (e.g. CPython's start method).
    pub note: Option<String>,
    /// CPU time of the run (user and system, every thread of the job), seconds; `None` where
    /// part of it cannot be counted (worker processes this process does not reap).
    pub cpu_s: Option<f64>,
}

/// How many rounds a group runs: at least `least`, then more until `budget` has passed, at
/// most `most`; then rounds of the undecided rows only, half as long again as those at most,
/// up to `most` rounds in all or twice the rounds before, whichever is more.
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
pub struct MeasuredRow {
    /// Median wall time, seconds.
    pub wall_s: f64,
    /// The speedup's interval, the ceiling and the share of it.
    pub spread: Spread,
    /// The last run (its answer, GIL statistics and note).
    pub last: RowRun,
}

/// Runs the rows `rows` round by round; `run(i, round)` runs row `i` once (`None`: the row
/// cannot run any more, e.g. its interpreter failed). `cpus`, for CPU-bound rows, is the CPU
/// count that bounds them, and the machine's ceiling is sampled before each round. Returns each
/// row's figures (`None` for a row that never ran) and the time the ceiling probes took, or the
/// first failure; a run whose answer differs from the row's first is a wrong answer.
pub fn measure(
    rows: &[(Who, Variant)],
    rounds: Rounds,
    cpus: Option<usize>,
    run: &mut dyn FnMut(usize, usize) -> Result<Option<RowRun>>,
) -> Result<(Vec<Option<MeasuredRow>>, Duration)> {
    let pairing: Vec<Pairing> = (0..rows.len())
        .map(|i| Pairing {
            baseline: base_of(rows, i).unwrap_or(i),
            workers: rows[i].1.workers(),
            pinned: false,
        })
        .collect();
    let workers: Vec<usize> = pairing.iter().map(|p| p.workers).collect();
    let probe = cpus.map(|_| Probe::new(&workers));
    let mut m = Measurement::new(pairing, None, 0, probe);
    let mut stop = Decided::new(rounds.least, rounds.budget, rounds.most, cpus);
    let mut last: Vec<Option<RowRun>> = vec![None; rows.len()];
    m.run(&mut stop, &mut |_, slot, round| {
        let i = slot.row;
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
        let timed = out.as_ref().map(|r| Timing {
            wall_s: r.wall_s,
            cpu_s: r.cpu_s,
        });
        if let Some(out) = out {
            last[i] = Some(out);
        }
        Ok(timed)
    })?;
    let spent = m.probe().map_or(Duration::ZERO, Probe::spent);
    let measured = (0..rows.len())
        .map(|i| {
            let samples = m.samples(i);
            let spread = spread(samples, m.rows()[i].baseline == i, cpus)?;
            Some(MeasuredRow {
                wall_s: stats::median(&samples.iter().map(|s| s.wall_s).collect::<Vec<_>>()),
                spread,
                last: last[i].clone()?,
            })
        })
        .collect();
    Ok((measured, spent))
}

/// The row of the same family with one thread: the one row `i` is compared with.
fn base_of(rows: &[(Who, Variant)], i: usize) -> Option<usize> {
    let family = rows[i].0.family();
    rows.iter()
        .position(|(w, v)| w.family() == family && *v == Variant::Threads(1))
}

/// A row's spread from its samples (see [`Figures`]); `baseline` for the one-thread row of its
/// family, whose speedup is 1 by definition; `cpus`, the CPU count, for a CPU-bound row. `None`
/// when it never ran, or no round ran both it and its baseline.
pub fn spread(samples: &[Sample], baseline: bool, cpus: Option<usize>) -> Option<Spread> {
    let f = Figures::of(samples);
    let walls: Vec<f64> = samples.iter().map(|s| s.wall_s).collect();
    let (speedup, base_seen) = if baseline {
        (stats::Estimate::exact(1.0), range(&walls)?)
    } else {
        (f.speedup?, f.base_seen?)
    };
    Some(Spread {
        speedup,
        ceiling: f.ceiling,
        vs_ceiling: f.vs_ceiling,
        ceiling_seen: f.ceiling_seen,
        base_seen,
        runs: f.runs,
        cpus: f.busy,
        at_equal_speed: f.at_equal_speed.filter(|_| !baseline),
        cpu_count: cpus,
    })
}

#[cfg(test)]
mod tests;
