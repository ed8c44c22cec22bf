//! Fidelity: each GIL model held against the interpreter it models (`gil-legacy` against
//! Python 2.7, `gil` against each 3.x with its GIL), measure by measure, and the closing
//! summary of every interpreter's speedup at 2 workers.
//!
//! Pure functions of the rows and probes, so that every figure can be checked on made-up ones.

use serde::Serialize;

use super::row::{Row, Variant, Who};
use crate::backend::BackendKind;
use crate::backend::gil::GilStats;
use crate::backend::gil::convoy::Convoy;
use crate::cpython::{Holds, Rates};

/// One interpreter's GIL probes.
#[derive(Debug, Clone)]
pub struct PythonProbe {
    /// The interpreter's label, e.g. `3.12.1`.
    pub python: String,
    /// Its major version: 2 is held against `gil-legacy`, 3 against `gil`.
    pub major: u32,
    /// Whether it has a GIL at all (a free-threaded build has none to model).
    pub gil_enabled: bool,
    /// Hold time per turn.
    pub holds: Holds,
    /// The convoy probe.
    pub rates: Rates,
}

/// One model's GIL probes.
#[derive(Debug, Clone)]
pub struct ModelProbe {
    /// What the lock saw with two CPU-bound threads.
    pub stats: GilStats,
    /// The convoy probe.
    pub convoy: Convoy,
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

    /// Whether the model's value over the interpreter's, `ratio`, is within the target:
    /// 15% on the thread ratios, 10% on the hold time, 2x on the convoy.
    pub fn within(self, ratio: f64) -> bool {
        match self {
            // A hair of slack, so that exactly 15% (or 10%) off counts as within.
            Measure::T2 | Measure::T4 => (ratio - 1.0).abs() <= 0.15 + 1e-9,
            Measure::Hold => (ratio - 1.0).abs() <= 0.10 + 1e-9,
            Measure::Convoy => (0.5..=2.0).contains(&ratio),
        }
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
    /// The model's value.
    pub model_value: f64,
    /// The interpreter's value.
    pub python_value: f64,
    /// `model_value / python_value`.
    pub ratio: f64,
    /// Within the measure's target.
    pub within_target: bool,
}

/// Wall time of `variant` over 1 thread in `who`'s rows (1 / its speedup).
fn over_one(rows: &[Row], who: &Who, variant: Variant) -> Option<f64> {
    let s = rows
        .iter()
        .find(|r| r.who == *who && r.variant == variant)?
        .speedup?;
    (s > 0.0).then(|| 1.0 / s)
}

fn fall(c: (f64, f64)) -> Option<f64> {
    (c.1 > 0.0).then(|| c.0 / c.1)
}

/// The fidelity table: for each interpreter with a GIL, its model's value beside its own for
/// every measure both have.
pub fn table(
    rows: &[Row],
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
                Some(model.stats.hold_median_s * 1e3),
                p.holds.hold_median_s.map(|s| s * 1e3),
            ),
            (
                Measure::Convoy,
                fall((model.convoy.alone_per_s, model.convoy.beside_cpu_per_s)),
                fall((p.rates.alone_per_s, p.rates.beside_cpu_per_s)),
            ),
        ];
        for (measure, m, c) in pairs {
            if let (Some(m), Some(c)) = (m, c)
                && c > 0.0
            {
                let ratio = m / c;
                out.push(Fidelity {
                    model: kind.to_string(),
                    python: py.family(),
                    measure: measure.describe().into(),
                    model_value: m,
                    python_value: c,
                    ratio,
                    within_target: measure.within(ratio),
                });
            }
        }
    }
    out
}

/// One interpreter's speedups at 2 workers, for the closing summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
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
pub fn summary(rows: &[Row]) -> Vec<Summary> {
    let mut out: Vec<Summary> = Vec::new();
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
        out.push(Summary {
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
