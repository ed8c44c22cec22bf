//! The figures probes report: timings of repeated runs ([`Stats`]), one measured line of a
//! table ([`ProbeFigure`]), and the words that compare two figures in a conclusion.

use std::time::Instant;

use serde::Serialize;

use crate::error::Result;

/// Microseconds per second.
pub(super) const US: f64 = 1e6;
/// Milliseconds per second.
pub(super) const MS: f64 = 1e3;

/// Timings of repeated runs of one thing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Runs.
    pub n: usize,
}

impl Stats {
    /// Stats of `values` (at least one).
    pub fn of(values: Vec<f64>) -> Stats {
        assert!(!values.is_empty(), "no measurement");
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        Stats {
            median: crate::stats::median(&values),
            min,
            max,
            n: values.len(),
        }
    }

    /// One value.
    pub fn single(v: f64) -> Stats {
        Stats::of(vec![v])
    }

    /// CPython's stats object `{median_s, min_s, max_s, n}`, in `scale` units per second.
    pub(super) fn from_python(v: &serde_json::Value, scale: f64) -> Option<Stats> {
        Some(Stats {
            median: v["median_s"].as_f64()? * scale,
            min: v["min_s"].as_f64()? * scale,
            max: v["max_s"].as_f64()? * scale,
            n: v["n"].as_u64()? as usize,
        })
    }
}

/// One measured figure. In JSON: `what`, `unit`, then either `median`, `min`, `max` and `n`, or
/// `error` (why there are no figures).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeFigure {
    /// What was measured.
    pub what: String,
    /// Unit of the figures ("us", "ms", "msgs/s", "KiB").
    pub unit: &'static str,
    /// The figures, or why there are none.
    pub value: std::result::Result<Stats, String>,
}

impl Serialize for ProbeFigure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            what: &'a str,
            unit: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            median: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            min: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            max: Option<f64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            n: Option<usize>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
        }
        let ok = self.value.as_ref().ok();
        Shown {
            what: &self.what,
            unit: self.unit,
            median: ok.map(|v| v.median),
            min: ok.map(|v| v.min),
            max: ok.map(|v| v.max),
            n: ok.map(|v| v.n),
            error: self.value.as_ref().err().map(String::as_str),
        }
        .serialize(s)
    }
}

impl ProbeFigure {
    pub(super) fn new(what: impl Into<String>, unit: &'static str, value: Stats) -> ProbeFigure {
        ProbeFigure {
            what: what.into(),
            unit,
            value: Ok(value),
        }
    }

    /// A row that was not measured, and why: a skip always says so.
    pub(super) fn skipped(
        what: impl Into<String>,
        unit: &'static str,
        why: impl Into<String>,
    ) -> ProbeFigure {
        ProbeFigure {
            what: what.into(),
            unit,
            value: Err(why.into()),
        }
    }

    /// The median, if measured.
    pub fn median(&self) -> Option<f64> {
        self.value.as_ref().ok().map(|s| s.median)
    }
}

/// Times `f` `reps` times (after one warm-up run), in the unit `scale` per second; Ctrl-C or
/// SIGTERM ends it between two runs.
pub(super) fn time_reps(reps: usize, scale: f64, f: impl FnMut() -> Result<()>) -> Result<Stats> {
    time_samples(reps, scale, f).map(Stats::of)
}

/// Each of `reps` timings of `f` (after one warm-up run), as [`time_reps`] takes them: for a
/// figure that needs the samples themselves (an interval).
pub(super) fn time_samples(
    reps: usize,
    scale: f64,
    mut f: impl FnMut() -> Result<()>,
) -> Result<Vec<f64>> {
    f()?;
    let mut xs = Vec::with_capacity(reps);
    for _ in 0..reps {
        check_interrupt()?;
        let t0 = Instant::now();
        f()?;
        xs.push(t0.elapsed().as_secs_f64() * scale);
    }
    Ok(xs)
}

/// The interruption, if Ctrl-C or SIGTERM asked the probes to stop.
pub(super) fn check_interrupt() -> Result<()> {
    match crate::interrupt::requested() {
        Some(signal) => Err(crate::interrupt::error(signal)),
        None => Ok(()),
    }
}

/// `a` as a multiple of `b`: "12x", "1.5x", "0.042x" (never "0.0x").
pub(super) fn times(a: f64, b: f64) -> String {
    if a <= 0.0 || b <= 0.0 || !(a / b).is_finite() {
        return "-".into();
    }
    factor(a / b)
}

/// How `a` compares with `b`: "3.2x `more`" when larger, "3.2x `less`" when smaller, the factor
/// always the larger over the smaller, so that a large gap reads as such.
pub(super) fn versus(a: f64, b: f64, more: &str, less: &str) -> String {
    if a <= 0.0 || b <= 0.0 || !(a / b).is_finite() {
        return "-".into();
    }
    if a >= b {
        format!("{} {more}", factor(a / b))
    } else {
        format!("{} {less}", factor(b / a))
    }
}

/// A ratio with two significant digits below 10, whole above.
fn factor(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}x")
    } else if r >= 1.0 {
        format!("{r:.1}x")
    } else {
        // Two significant digits: 0.5 -> 0.50, 0.042 -> 0.042.
        let decimals = (1.0 - r.log10().floor()) as usize;
        format!("{r:.decimals$}x")
    }
}

/// A rate in messages per second, in M or k.
pub(super) fn per_second(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} M", v / 1e6)
    } else {
        format!("{:.0} k", v / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_take_the_one_median_and_the_extremes() {
        let s = Stats::of(vec![4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s.median, crate::stats::median(&[1.0, 2.0, 3.0, 4.0]));
        assert_eq!((s.min, s.max, s.n), (1.0, 4.0, 4));
        assert_eq!(Stats::single(7.0).median, 7.0);
    }

    #[test]
    fn python_stats_are_scaled() {
        let v = serde_json::json!({ "median_s": 0.002, "min_s": 0.001, "max_s": 0.004, "n": 3 });
        let s = Stats::from_python(&v, MS).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.0, 1.0, 4.0, 3));
        assert_eq!(Stats::from_python(&serde_json::json!({}), MS), None);
    }

    #[test]
    fn ratios_never_read_zero() {
        assert_eq!(times(30.0, 2.0), "15x");
        assert_eq!(times(3.0, 2.0), "1.5x");
        assert_eq!(times(1.0, 2.0), "0.50x");
        assert_eq!(times(1.0, 24.0), "0.042x");
        assert_eq!(times(1.0, 0.0), "-");
    }

    #[test]
    fn comparisons_give_the_larger_factor_and_the_direction() {
        assert_eq!(versus(1.0, 24.0, "faster", "slower"), "24x slower");
        assert_eq!(versus(3.0, 2.0, "faster", "slower"), "1.5x faster");
        assert_eq!(versus(0.0, 2.0, "faster", "slower"), "-");
        assert_eq!(per_second(4_200_000.0), "4.2 M");
        assert_eq!(per_second(85_000.0), "85 k");
    }
}
