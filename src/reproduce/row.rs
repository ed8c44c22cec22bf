//! The typed rows of `reproduce`'s tables: who ran a row and how, what it measured, and the
//! speedups within a group of rows; and the GIL section's comparisons.
//!
//! Rows are typed so that verdicts look them up by value, not by the words a table shows. The
//! JSON form keeps those words (`family`, `variant`, `workers`; `metric`, `unit`), as a reader
//! of the tables sees them.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::backend::BackendKind;
use crate::backend::gil::GilStats;
use crate::measure::judge::{self, Bounds, Verdict};
use crate::stats::Estimate;

/// The seed's published time for 1 thread (a 2017 laptop, CPython 3).
pub const SEED_ONE_THREAD_S: f64 = 7.474;
/// The seed's published time for 2 processes.
pub const SEED_TWO_PROCESSES_S: f64 = 3.767;
/// The end of the range the seed post counted, from 0: every published row's result.
pub const SEED_END: u64 = 100_000_000;

/// Who ran a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The figures published with the seed experiment.
    SeedPost,
    /// CPython on this machine, running parlab's copy of the seed script.
    CPython {
        /// `sys.version` of the interpreter, e.g. `3.11.7`.
        version: String,
    },
    /// One of parlab's backends.
    Parlab(BackendKind),
}

impl Who {
    /// The group of rows this one belongs to, as the `who` column shows it. parlab's backends
    /// without a GIL model form one group, `parlab`, so that its processes are compared with
    /// its threads.
    pub fn family(&self) -> String {
        match self {
            Who::SeedPost => "seed post (2017 laptop)".into(),
            Who::CPython { version } => format!("CPython {version}"),
            Who::Parlab(kind @ (BackendKind::Gil | BackendKind::GilLegacy)) => {
                format!("parlab {kind}")
            }
            Who::Parlab(_) => "parlab".into(),
        }
    }
}

impl Who {
    /// One of parlab's backends.
    pub fn is_parlab(&self) -> bool {
        matches!(self, Who::Parlab(_))
    }
}

impl fmt::Display for Who {
    /// The family, except that each of parlab's backends is named.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Parlab(kind) => write!(f, "parlab {kind}"),
            other => f.write_str(&other.family()),
        }
    }
}

/// How a row's job was split: over how many threads or processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Threads of one process.
    Threads(usize),
    /// Processes, one part each.
    Processes(usize),
    /// CPython subinterpreters of one process, each with its own GIL (3.12+).
    Subinterpreters(usize),
}

impl Variant {
    /// Threads or processes.
    pub fn workers(self) -> usize {
        match self {
            Variant::Threads(n) | Variant::Processes(n) | Variant::Subinterpreters(n) => n,
        }
    }
}

impl fmt::Display for Variant {
    /// `1 thread`, `4 threads`, `2 processes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, one, many) = match *self {
            Variant::Threads(n) => (n, "thread", "threads"),
            Variant::Processes(n) => (n, "process", "processes"),
            Variant::Subinterpreters(n) => (n, "subinterpreter", "subinterpreters"),
        };
        write!(f, "{n} {}", if n == 1 { one } else { many })
    }
}

/// One row of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReproduceRow {
    /// Who ran it.
    pub who: Who,
    /// Over how many threads or processes.
    pub variant: Variant,
    /// The job's answer, when the row ran (or was published with one).
    pub result: Option<u128>,
    /// Wall time, seconds.
    pub wall_s: Option<f64>,
    /// Speed against the one-thread row of its family (its time divided by this row's).
    pub speedup: Option<f64>,
    /// A remark, e.g. for figures published only as a screenshot.
    pub note: Option<String>,
    /// What the GIL model saw, for `gil` and `gil-legacy` rows.
    pub gil: Option<GilStats>,
    /// How the speedup varied over the rounds, and the machine's ceiling beside it: measured
    /// rows only.
    pub spread: Option<Spread>,
}

/// A measured row's speedup as an interval, from paired runs: in each round the row ran
/// beside the one-thread row of its family, and each round's ratio cancels what the machine
/// did in that round. With the machine's ceiling at the row's workers, measured before each
/// round, and the share of it reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The median paired ratio with its 95% bootstrap interval.
    pub speedup: Estimate,
    /// What a perfectly parallel loop reached at the row's workers (CPU-bound rows of more
    /// than one worker).
    pub ceiling: Option<Estimate>,
    /// Speedup over the same round's ceiling: the share of what the machine allowed.
    pub vs_ceiling: Option<Estimate>,
    /// The lowest and highest ceiling sampled in the row's rounds.
    pub ceiling_seen: Option<(f64, f64)>,
    /// The shortest and longest run of the family's one-thread row, seconds.
    pub base_seen: (f64, f64),
    /// Runs of the row.
    pub runs: usize,
    /// CPUs the row kept busy: its CPU time over its wall time (rows whose CPU time is counted
    /// in full: threads of this process, CPython's threads).
    pub cpus: Option<Estimate>,
    /// The speedup at equal CPU speed: each round's ratio divided by how much faster the row's
    /// CPUs ran than the one-thread run's ([`crate::measure::Figures`]); the verdict's figure.
    pub at_equal_speed: Option<Estimate>,
    /// The machine's CPU count, for a CPU-bound row: its speedup is bounded by them and by the
    /// CPUs it kept busy; `None` for work that waits.
    pub cpu_count: Option<usize>,
}

impl Spread {
    /// The speedup the verdict judges: at equal CPU speed where the CPU times were counted,
    /// else as the clock measured it.
    pub fn judged(&self) -> Estimate {
        self.at_equal_speed.unwrap_or(self.speedup)
    }

    /// What bounds the row: for a CPU-bound row, the CPU count, the machine's ceiling at its
    /// workers where a round kept a sample of it, and the CPUs it kept busy, so that a row whose
    /// every ceiling sample was dropped (a busy machine) is still bounded; for work that waits,
    /// only a ceiling given by hand.
    pub fn bounds(&self) -> Bounds {
        match self.cpu_count {
            Some(cpus) => Bounds {
                busy: self.cpus,
                ..Bounds::cpu_bound(cpus, self.ceiling)
            },
            None => Bounds {
                ceiling: self.ceiling,
                ..Bounds::default()
            },
        }
    }

    /// The judge's verdict on the row: its [judged](Spread::judged) speedup against its
    /// [bounds](Spread::bounds).
    pub fn verdict(&self) -> Verdict {
        judge::judge(&self.judged(), self.bounds())
    }
}

impl ReproduceRow {
    /// A row of `who` and `variant` with nothing in it yet.
    pub fn new(who: Who, variant: Variant) -> ReproduceRow {
        ReproduceRow {
            who,
            variant,
            result: None,
            wall_s: None,
            speedup: None,
            note: None,
            gil: None,
            spread: None,
        }
    }

    /// The judge's verdict on the row: its spread's, or the judge's on a published row's exact
    /// ratio.
    pub fn verdict(&self) -> Option<Verdict> {
        match self.spread {
            Some(s) => Some(s.verdict()),
            None => self
                .judged_estimate()
                .map(|e| judge::judge(&e, Bounds::default())),
        }
    }

    /// The speedup with its interval, as the verdicts judge it: a measured row's paired
    /// interval ([`Spread::judged`]), or the published rows' exact ratio.
    pub fn judged_estimate(&self) -> Option<Estimate> {
        self.spread
            .map(|s| s.judged())
            .or(self.speedup.map(Estimate::exact))
    }
}

impl Serialize for ReproduceRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            family: String,
            variant: String,
            workers: usize,
            result: Option<u128>,
            wall_s: Option<f64>,
            speedup: Option<Estimate>,
            speedup_by_clock: Option<Estimate>,
            cpus: Option<Estimate>,
            ceiling: Option<Estimate>,
            vs_ceiling: Option<Estimate>,
            verdict: Option<&'static str>,
            runs: Option<usize>,
            note: &'a Option<String>,
            gil: &'a Option<GilStats>,
        }
        Shown {
            family: self.who.family(),
            variant: self.variant.to_string(),
            workers: self.variant.workers(),
            result: self.result,
            wall_s: self.wall_s,
            speedup: self.judged_estimate(),
            speedup_by_clock: self.spread.map(|s| s.speedup),
            cpus: self.spread.and_then(|s| s.cpus),
            ceiling: self.spread.and_then(|s| s.ceiling),
            vs_ceiling: self.spread.and_then(|s| s.vs_ceiling),
            verdict: self
                .spread
                .filter(|_| self.variant != Variant::Threads(1))
                .map(|s| s.verdict().word()),
            runs: self.spread.map(|s| s.runs),
            note: &self.note,
            gil: &self.gil,
        }
        .serialize(s)
    }
}

/// The seed post's rows: what it published, and what it said of the rest.
pub fn seed_post() -> Vec<ReproduceRow> {
    let row = |variant, wall_s, note: Option<&str>| ReproduceRow {
        result: Some(SEED_END.into()),
        wall_s,
        note: note.map(String::from),
        ..ReproduceRow::new(Who::SeedPost, variant)
    };
    vec![
        row(Variant::Threads(1), Some(SEED_ONE_THREAD_S), None),
        row(
            Variant::Threads(2),
            None,
            Some("slower than 1 thread (published only as a screenshot)"),
        ),
        row(
            Variant::Threads(4),
            None,
            Some("slower again (published only as a screenshot)"),
        ),
        row(Variant::Processes(2), Some(SEED_TWO_PROCESSES_S), None),
    ]
}

/// Sets the speedup of every timed row against the one-thread row of its family: a measured
/// row's median paired ratio (at equal CPU speed where its CPU times were counted), a
/// published row's ratio of times.
pub fn add_speedups(rows: &mut [ReproduceRow]) {
    let bases: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.variant == Variant::Threads(1))
        .filter_map(|r| Some((r.who.family(), r.wall_s?)))
        .collect();
    for r in rows.iter_mut() {
        let family = r.who.family();
        let base = bases.iter().find(|(f, _)| *f == family).map(|(_, s)| *s);
        if let Some(spread) = r.spread {
            r.speedup = Some(spread.judged().value);
        } else if let (Some(wall), Some(base)) = (r.wall_s, base) {
            r.speedup = Some(base / wall);
        }
    }
}

/// A property of the GIL measured in CPython and in the `gil` model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Median time a CPU-bound thread keeps the lock per turn, beside another.
    HoldMedian,
    /// The same, 90th percentile.
    HoldP90,
    /// Blocking write+read pairs per second of a thread alone.
    IoAlone,
    /// The same beside a CPU-bound thread: the convoy effect.
    IoBesideCpu,
    /// How many times the I/O thread's rate falls beside the CPU-bound thread: each probe
    /// round's rate alone over its rate beside, the median over the rounds.
    ConvoyFall,
}

impl Metric {
    /// Every metric, in the table's order.
    pub const ALL: [Metric; 5] = [
        Metric::HoldMedian,
        Metric::HoldP90,
        Metric::IoAlone,
        Metric::IoBesideCpu,
        Metric::ConvoyFall,
    ];

    /// What is measured, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Metric::HoldMedian => "GIL hold per turn, 2 CPU-bound threads, median",
            Metric::HoldP90 => "GIL hold per turn, 2 CPU-bound threads, p90",
            Metric::IoAlone => "I/O thread alone: write+read pairs",
            Metric::IoBesideCpu => "I/O thread beside 1 CPU-bound thread: write+read pairs",
            Metric::ConvoyFall => "convoy: the I/O rate alone over beside, per round",
        }
    }

    /// Unit of the figures.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::HoldMedian | Metric::HoldP90 => "ms",
            Metric::IoAlone | Metric::IoBesideCpu => "per s",
            Metric::ConvoyFall => "x",
        }
    }
}

/// One measured property of the GIL, in CPython and in the model: the medians of their probe
/// rounds, with intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilComparison {
    /// What is measured.
    pub metric: Metric,
    /// CPython's figure, when CPython ran.
    pub cpython: Option<Estimate>,
    /// The `gil` model's figure.
    pub parlab: Estimate,
}

impl Serialize for GilComparison {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown {
            metric: &'static str,
            unit: &'static str,
            cpython: Option<Estimate>,
            parlab: Estimate,
        }
        Shown {
            metric: self.metric.describe(),
            unit: self.metric.unit(),
            cpython: self.cpython,
            parlab: self.parlab,
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests;
