//! Durations, percentages and figures, parsed and printed: one parser for every duration flag
//! and kernel spec (and one for those that must be above zero), one for every percentage flag,
//! one exact form that round-trips (`250us`), one human form for tables and notes (`12.3 ms`),
//! and one form for a measured figure in a table.

use std::ops::RangeBounds;
use std::time::Duration;

use crate::error::{Error, Result};

/// Parses a duration such as `1ms`, `250us`, `0.5s` or `100ns` (at most one hour), rounded to
/// whole nanoseconds; a value above zero that rounds to none is refused, never taken for zero.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let allowed = "expected a duration such as 1ms, 250us, 2s or 500ns, at most 1h";
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale_ns: f64 = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return Err(Error::invalid("duration", text, allowed)),
    };
    let value: f64 = num
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| Error::invalid("duration", text, allowed))?;
    let ns = value * scale_ns;
    if ns > 3600e9 {
        return Err(Error::invalid("duration", text, allowed));
    }
    // Durations are whole nanoseconds: one above zero that rounds to none is not zero.
    if ns > 0.0 && ns.round() == 0.0 {
        return Err(Error::invalid(
            "duration",
            text,
            "above zero but below 1ns, the finest step of a duration",
        ));
    }
    Ok(Duration::from_nanos(ns.round() as u64))
}

/// Parses a duration as [`parse_duration`] does, refusing zero: a limit or an interval of no
/// time at all. `what` names it in the error (`timeout`, `max time`).
pub fn parse_positive_duration(what: &'static str, text: &str) -> Result<Duration> {
    match parse_duration(text)? {
        d if d.is_zero() => Err(Error::invalid(
            what,
            text,
            "must be above zero (1ns or more)",
        )),
        d => Ok(d),
    }
}

/// How a percentage flag reads a number written without `%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bare {
    /// As a share: `0.05` is 5%.
    Share,
    /// As percent: `20` is 20%.
    Percent,
}

/// Parses a percentage, `N%` (N percent) or a bare number read as `bare` says, into a share
/// (0.05 for 5%) that must lie `within`; anything else is an error for `what` that says what
/// is `allowed`.
pub fn parse_percentage(
    what: &'static str,
    text: &str,
    bare: Bare,
    within: impl RangeBounds<f64>,
    allowed: &str,
) -> Result<f64> {
    let t = text.trim();
    let (digits, per) = match t.strip_suffix('%') {
        Some(pct) => (pct, 100.0),
        None if bare == Bare::Percent => (t, 100.0),
        None => (t, 1.0),
    };
    match digits.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && within.contains(&(v / per)) => Ok(v / per),
        _ => Err(Error::invalid(what, text, allowed)),
    }
}

/// Formats a duration in the largest unit that keeps it an integer.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if ns >= scale && ns.is_multiple_of(scale) {
            return format!("{}{unit}", ns / scale);
        }
    }
    format!("{ns}ns")
}

/// A count and its noun, plural unless the count is one: `1 hand-off`, `3 hand-offs`,
/// `0 cells`. The noun takes an `s`.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Seconds in the unit that reads best, e.g. `12.3 ms`.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}

/// A measured figure with about four significant digits, as tables show it (`0.512`, `51.2`,
/// `5120`).
pub fn figure(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(count(1u32, "hand-off"), "1 hand-off");
        assert_eq!(count(0u32, "cell"), "0 cells");
        assert_eq!(count(3u64, "worker"), "3 workers");
        assert_eq!(parse_duration("1ms").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_duration("0.5s").unwrap(), Duration::from_millis(500));
        assert_eq!(format_duration(Duration::from_micros(250)), "250us");
        assert_eq!(format_duration(Duration::from_nanos(1500)), "1500ns");
        assert_eq!(parse_duration("0.6ns").unwrap(), Duration::from_nanos(1));
        assert_eq!(parse_duration("0ns").unwrap(), Duration::ZERO);
        for tiny in ["0.0000001ns", "0.4ns", "0.000000000001s"] {
            let e = parse_duration(tiny).unwrap_err();
            assert!(e.to_string().contains("below 1ns"), "{e}");
        }
    }

    #[test]
    fn positive_durations_refuse_zero() {
        assert_eq!(
            parse_positive_duration("timeout", "2s").unwrap(),
            Duration::from_secs(2)
        );
        let e = parse_positive_duration("timeout", "0ms").unwrap_err();
        assert!(e.is_usage());
        assert!(e.to_string().contains("'0ms'"), "{e}");
        assert!(e.to_string().contains("above zero"), "{e}");
        assert!(parse_positive_duration("timeout", "soon").is_err());
    }

    #[test]
    fn percentages_read_a_bare_number_as_asked() {
        let share = |t| parse_percentage("precision", t, Bare::Share, 0.0..1.0, "a share");
        let pct = |t| parse_percentage("gate", t, Bare::Percent, 0.0..=10.0, "a percentage");
        assert_eq!(share("5%").unwrap(), 0.05);
        assert_eq!(share(" 5 % ").unwrap(), 0.05);
        assert_eq!(share("0.05").unwrap(), 0.05);
        assert_eq!(pct("20%").unwrap(), 0.2);
        assert_eq!(pct("20").unwrap(), 0.2);
        assert_eq!(pct("1000%").unwrap(), 10.0);
        assert_eq!(pct("0").unwrap(), 0.0);
        for bad in ["", "%", "5", "100%", "-1%", "NaN", "inf", "5%%", "five"] {
            let e = share(bad).unwrap_err();
            assert!(e.to_string().contains("a share"), "{bad}: {e}");
        }
        for bad in ["1001", "-5%", "NaN%", "x%"] {
            assert!(pct(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn figures_keep_about_four_significant_digits() {
        assert_eq!(figure(0.51234), "0.512");
        assert_eq!(figure(51.234), "51.234");
        assert_eq!(figure(512.34), "512.3");
        assert_eq!(figure(51234.5), "51234");
    }

    #[test]
    fn seconds_pick_the_unit_that_reads_best() {
        assert_eq!(seconds(2.5), "2.500 s");
        assert_eq!(seconds(0.0123), "12.30 ms");
        assert_eq!(seconds(0.0000123), "12.3 us");
    }
}
