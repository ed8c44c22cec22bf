//! Fidelity: each GIL model held against the interpreter it models (`gil-legacy` against
//! Python 2.7, `gil` against each 3.x with its GIL), measure by measure, and the closing
//! summary of every interpreter's speedup at 2 workers.
//!
//! Every figure is an interval, and so is every judgement. A Python 2 turn lasts either
//! microseconds or a scheduler tick, and which one a probe meets is chance on a shared machine:
//! the probes run in rounds, interleaved across engines ([`PROBE_ROUNDS`]), and each measure is
//! the median of its rounds with a bootstrap interval ([`crate::measure::interval`]). A measure is
//! within its target only when its whole ratio interval is; outside only when none of it is;
//! otherwise the rounds cannot tell ([`Judgement`]).
//!
//! Pure functions of the rows and probes, so that every figure can be checked on made-up ones.

use serde::Serialize;

use super::row::{Metric, ReproduceRow, Variant, Who};
use crate::backend::BackendKind;
use crate::backend::gil::GilStats;
use crate::backend::gil::convoy::Convoy;
use crate::cpython::{Holds, Rates};
use crate::stats::Estimate;

/// Rounds of every engine's GIL probes. Three give an interval (the rounds' range, for a
/// median of three) at the cost of one probe, each round lasting a third of it.
pub const PROBE_ROUNDS: usize = 3;

/// One interpreter's GIL probes, one entry a round.
#[derive(Debug, Clone)]
pub struct PythonProbe {
    /// The interpreter's label, e.g. `3.12.1`.
    pub python: String,
    /// Its major version: 2 is held against `gil-legacy`, 3 against `gil`.
    pub major: u32,
    /// Whether it has a GIL at all (a free-threaded build has none to model).
    pub gil_enabled: bool,
    /// Hold time per turn, each round's.
    pub holds: Vec<Holds>,
    /// The convoy probe, each round's.
    pub rates: Vec<Rates>,
}

/// One model's GIL probes, one entry a round.
#[derive(Debug, Clone)]
pub struct ModelProbe {
    /// What the lock saw with two CPU-bound threads, each round.
    pub stats: Vec<GilStats>,
    /// The convoy probe, each round's.
    pub convoy: Vec<Convoy>,
}

/// The median of `xs` (one figure a round) with its interval; `None` without a figure.
fn over_rounds(xs: impl IntoIterator<Item = f64>) -> Option<Estimate> {
    let xs: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    crate::measure::interval(&xs)
}

/// How many times the I/O thread's rate falls beside a CPU-bound thread, in one round.
fn fall(alone: f64, beside: f64) -> Option<f64> {
    (beside > 0.0).then(|| alone / beside)
}

/// The figure for `metric` over the rounds of either engine's probes, in the metric's unit:
/// from each round's hold per turn (`[median, p90]`, seconds; absent when no hand-off was seen)
/// and each round's convoy rates (`(alone, beside)`, pairs per second).
fn figure(
    metric: Metric,
    holds: impl Iterator<Item = [Option<f64>; 2]>,
    rates: impl Iterator<Item = (f64, f64)>,
) -> Option<Estimate> {
    let ms = |s: Option<f64>| s.map(|s| s * 1e3);
    match metric {
        Metric::HoldMedian => over_rounds(holds.filter_map(|[m, _]| ms(m))),
        Metric::HoldP90 => over_rounds(holds.filter_map(|[_, p]| ms(p))),
        Metric::IoAlone => over_rounds(rates.map(|(a, _)| a)),
        Metric::IoBesideCpu => over_rounds(rates.map(|(_, b)| b)),
        Metric::ConvoyFall => over_rounds(rates.filter_map(|(a, b)| fall(a, b))),
    }
}

impl PythonProbe {
    /// The interpreter's figure for `metric` over its rounds, in the metric's unit.
    pub fn figure(&self, metric: Metric) -> Option<Estimate> {
        figure(
            metric,
            self.holds.iter().map(|h| [h.hold_median_s, h.hold_p90_s]),
            self.rates
                .iter()
                .map(|r| (r.alone_per_s, r.beside_cpu_per_s)),
        )
    }
}

impl ModelProbe {
    /// The model's figure for `metric` over its rounds, in the metric's unit.
    pub fn figure(&self, metric: Metric) -> Option<Estimate> {
        figure(
            metric,
            self.stats
                .iter()
                .map(|s| [Some(s.hold_median_s), Some(s.hold_p90_s)]),
            self.convoy
                .iter()
                .map(|c| (c.alone_per_s, c.beside_cpu_per_s)),
        )
    }
}

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Wall time of 2 threads over 1 thread.
    T2,
    /// Wall time of 4 threads over 1 thread.
    T4,
    /// Median hold time per turn, two CPU-bound threads, ms.
    Hold,
    /// How many times an I/O thread's rate falls beside a CPU-bound thread.
    Convoy,
}

/// What a measure's ratio interval says against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Judgement {
    /// The whole interval lies within the target.
    #[serde(rename = "within")]
    Within,
    /// The whole interval lies outside the target.
    #[serde(rename = "outside")]
    Outside,
    /// The interval straddles an edge of the target: the rounds cannot tell.
    #[serde(rename = "cannot tell")]
    CannotTell,
}

impl Judgement {
    /// In words, as the table shows it: `within`, `outside`, `cannot tell`.
    pub fn word(self) -> &'static str {
        match self {
            Judgement::Within => "within",
            Judgement::Outside => "outside",
            Judgement::CannotTell => "cannot tell",
        }
    }
}

impl Measure {
    /// In words, as the table and JSON show it.
    pub fn describe(self) -> &'static str {
        match self {
            Measure::T2 => "T2/T1 (wall, 2 threads over 1)",
            Measure::T4 => "T4/T1 (wall, 4 threads over 1)",
            Measure::Hold => "hold per turn, median ms",
            Measure::Convoy => "convoy: I/O rate alone / beside CPU",
        }
    }

    /// The ratios (model over interpreter) within the target: 15% on the thread ratios, 10%
    /// on the hold time, 2x on the convoy. A hair of slack, so that exactly 15% (or 10%) off
    /// counts as within.
    pub fn target(self) -> (f64, f64) {
        const HAIR: f64 = 1e-9;
        match self {
            Measure::T2 | Measure::T4 => (0.85 - HAIR, 1.15 + HAIR),
            Measure::Hold => (0.90 - HAIR, 1.10 + HAIR),
            Measure::Convoy => (0.5, 2.0),
        }
    }

    /// What the ratio's interval says: within only when all of it is, outside only when
    /// none of it is.
    pub fn judge(self, ratio: &Estimate) -> Judgement {
        let (lo, hi) = self.target();
        if ratio.low >= lo && ratio.high <= hi {
            Judgement::Within
        } else if ratio.high < lo || ratio.low > hi {
            Judgement::Outside
        } else {
            Judgement::CannotTell
        }
    }
}

/// `model / python` with a conservative interval: from the model's low over the interpreter's
/// high to the model's high over the interpreter's low. The two sides' rounds are not paired in
/// any way that cancels noise (a probe meets a Python 2 turn of microseconds or of a scheduler
/// tick by chance, each engine on its own), so the ratio is no surer than both sides together.
pub fn ratio(model: &Estimate, python: &Estimate) -> Estimate {
    let over = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
    Estimate {
        value: over(model.value, python.value),
        low: over(model.low, python.high),
        high: over(model.high, python.low),
    }
}

/// One line of the fidelity table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fidelity {
    /// The model: `gil` or `gil-legacy`.
    pub model: String,
    /// The interpreter, e.g. `CPython 2.7.18`.
    pub python: String,
    /// What is compared ([`Measure::describe`]).
    pub measure: String,
    /// The model's figure: the median of its rounds, with its 95% interval.
    pub model_value: Estimate,
    /// The interpreter's figure.
    pub python_value: Estimate,
    /// The model's figure over the interpreter's, with the interval [`ratio`] gives.
    pub ratio: Estimate,
    /// True only when the whole ratio interval is within the measure's target.
    pub within_target: bool,
    /// What the ratio's interval says against the target.
    pub judgement: Judgement,
}

impl Fidelity {
    /// The line for `measure` of `model` against `python` from their estimates.
    fn of(model: &str, python: String, measure: Measure, m: Estimate, p: Estimate) -> Fidelity {
        let r = ratio(&m, &p);
        let judgement = measure.judge(&r);
        Fidelity {
            model: model.into(),
            python,
            measure: measure.describe().into(),
            model_value: m,
            python_value: p,
            ratio: r,
            within_target: judgement == Judgement::Within,
            judgement,
        }
    }
}

/// Wall time of `variant` over 1 thread in `who`'s rows (1 / its speedup), with the interval
/// the row's paired speedup gives.
fn over_one(rows: &[ReproduceRow], who: &Who, variant: Variant) -> Option<Estimate> {
    let s = rows
        .iter()
        .find(|r| r.who == *who && r.variant == variant)?
        .judged_estimate()?;
    (s.value > 0.0).then(|| ratio(&Estimate::exact(1.0), &s))
}

/// The fidelity table: for each interpreter with a GIL, its model's value beside its own for
/// every measure both have.
pub fn table(
    rows: &[ReproduceRow],
    pythons: &[PythonProbe],
    gil: &ModelProbe,
    legacy: &ModelProbe,
) -> Vec<Fidelity> {
    let mut out = Vec::new();
    for p in pythons.iter().filter(|p| p.gil_enabled) {
        let (kind, model) = if p.major == 2 {
            (BackendKind::GilLegacy, legacy)
        } else {
            (BackendKind::Gil, gil)
        };
        let py = Who::CPython {
            version: p.python.clone(),
        };
        let me = Who::Parlab(kind);
        let pairs = [
            (
                Measure::T2,
                over_one(rows, &me, Variant::Threads(2)),
                over_one(rows, &py, Variant::Threads(2)),
            ),
            (
                Measure::T4,
                over_one(rows, &me, Variant::Threads(4)),
                over_one(rows, &py, Variant::Threads(4)),
            ),
            (
                Measure::Hold,
                model.figure(Metric::HoldMedian),
                p.figure(Metric::HoldMedian),
            ),
            (
                Measure::Convoy,
                model.figure(Metric::ConvoyFall),
                p.figure(Metric::ConvoyFall),
            ),
        ];
        for (measure, m, c) in pairs {
            if let (Some(m), Some(c)) = (m, c)
                && c.value > 0.0
            {
                out.push(Fidelity::of(&kind.to_string(), py.family(), measure, m, c));
            }
        }
    }
    out
}

/// One interpreter's speedups at 2 workers, for the closing summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeedupSummary {
    /// The interpreter, e.g. `CPython 3.12.1`.
    pub python: String,
    /// 2 threads against 1 thread.
    pub threads: Option<f64>,
    /// 2 processes against 1 thread.
    pub processes: Option<f64>,
    /// 2 subinterpreters against 1 thread (3.12+).
    pub subinterpreters: Option<f64>,
}

/// Every CPython family's speedups at 2 workers, in the rows' order.
pub fn summary(rows: &[ReproduceRow]) -> Vec<SpeedupSummary> {
    let mut out: Vec<SpeedupSummary> = Vec::new();
    for r in rows {
        let Who::CPython { .. } = &r.who else {
            continue;
        };
        let family = r.who.family();
        if out.iter().any(|s| s.python == family) {
            continue;
        }
        let at = |v| {
            rows.iter()
                .find(|x| x.who == r.who && x.variant == v)
                .and_then(|x| x.speedup)
        };
        out.push(SpeedupSummary {
            python: family,
            threads: at(Variant::Threads(2)),
            processes: at(Variant::Processes(2)),
            subinterpreters: at(Variant::Subinterpreters(2)),
        });
    }
    out
}

#[cfg(test)]
mod tests;
