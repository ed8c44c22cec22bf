//! A kernel's written form, as on the command line and in reports: `count`, `sleep:250us`.
//!
//! Parsing and printing are inverse, so a kernel read back from a report is the one that ran.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{DEFAULT_SLEEP, Kernel};
use crate::error::{Error, Result};
use crate::units::{format_duration, parse_duration};

/// Names accepted by [`Kernel::from_str`], for error messages and listings.
pub const KERNEL_NAMES: &str = "count, sum, primes, pi, collatz, sleep[:DURATION]";

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kernel::Sleep { per_item_ns } => {
                write!(
                    f,
                    "sleep:{}",
                    format_duration(Duration::from_nanos(*per_item_ns))
                )
            }
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Kernel {
    type Err = Error;

    /// Parses a kernel name; `sleep` takes an optional duration (`sleep:250us`, `sleep:2ms`).
    fn from_str(s: &str) -> Result<Self> {
        let (name, param) = match s.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (s, None),
        };
        let kernel = match name {
            "count" => Kernel::Count,
            "sum" => Kernel::Sum,
            "primes" => Kernel::Primes,
            "pi" => Kernel::Pi,
            "collatz" => Kernel::Collatz,
            "sleep" => {
                let d = match param {
                    Some(p) => parse_duration(p)?,
                    None => DEFAULT_SLEEP,
                };
                return Ok(Kernel::Sleep {
                    per_item_ns: d.as_nanos() as u64,
                });
            }
            _ => {
                return Err(Error::invalid(
                    "kernel",
                    s,
                    format!("expected one of: {KERNEL_NAMES}"),
                ));
            }
        };
        match param {
            None => Ok(kernel),
            Some(_) => Err(Error::invalid(
                "kernel",
                s,
                format!("kernel '{name}' takes no parameter; only sleep does (sleep:2ms)"),
            )),
        }
    }
}

crate::named::string_form!(Kernel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        crate::named::assert_names_round_trip(&Kernel::ALL, "fib", "collatz");
        assert_eq!(
            "sleep:250us".parse::<Kernel>().unwrap(),
            Kernel::Sleep {
                per_item_ns: 250_000
            }
        );
        assert_eq!(
            "sleep".parse::<Kernel>().unwrap().to_string(),
            format!("sleep:{}", format_duration(DEFAULT_SLEEP))
        );
    }

    #[test]
    fn rejects_unknown_kernels_listing_the_valid_ones() {
        let e = "count:3".parse::<Kernel>().unwrap_err().to_string();
        assert!(e.contains("takes no parameter"), "{e}");
        assert!("sleep:forever".parse::<Kernel>().is_err());
        assert!("sleep:2h".parse::<Kernel>().is_err());
        assert!("sleep:-1ms".parse::<Kernel>().is_err());
    }

    #[test]
    fn kernels_are_strings_in_json() {
        let k = Kernel::Sleep {
            per_item_ns: 2_000_000,
        };
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(j, r#""sleep:2ms""#);
        assert_eq!(serde_json::from_str::<Kernel>(&j).unwrap(), k);
        assert!(serde_json::from_str::<Kernel>(r#""fib""#).is_err());
    }
}
