//! Kernels: the work done for every index, each with an exact integer answer.
//!
//! A kernel maps a part `start..end` to a [`Total`]; totals of consecutive parts combine with
//! [`Total::then`] in part order into the total of the whole range. Every result is an integer,
//! so any backend that drops, repeats or mis-cuts a part gives a different answer and is caught.

pub mod collatz;
pub mod count;
pub mod pi;
pub mod primes;
pub mod sleep;
pub mod sum;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::span::Span;
use crate::units::{format_duration, parse_duration};

/// Hooks a kernel calls while it runs.
///
/// Kernels call [`Ticker::tick`] at their loop back-edges, every 30 ns to 0.5 µs of work
/// ([`Ticker::SCALE`]), and run their blocking calls through [`Ticker::blocking`]. The GIL models use these hooks to
/// hand the lock over; every other backend uses [`NoTicks`], which compiles to nothing.
pub trait Ticker {
    /// False for a ticker whose hooks do nothing, so kernels can run their plain loops.
    const ACTIVE: bool = true;

    /// How coarse the check points of tight loops (`count`, `sum`, `pi`) are: 1 puts one about
    /// every 30 ns of work, as often as an interpreter checks between bytecodes; larger values
    /// space them out by that factor.
    const SCALE: u64 = 1;

    /// A check point at a loop back-edge.
    fn tick(&mut self) {}

    /// Runs a blocking call (the `sleep` kernel's sleep).
    fn blocking(&mut self, call: &mut dyn FnMut()) {
        call()
    }
}

/// A [`Ticker`] that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTicks;

impl Ticker for NoTicks {
    const ACTIVE: bool = false;
}

/// The kernels parlab can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Kernel {
    /// The seed's loop: one increment per index.
    Count,
    /// Sum of the indices, as `u128`.
    Sum,
    /// Number of primes in the range.
    Primes,
    /// Monte Carlo hits inside the quarter circle.
    Pi,
    /// Total and maximum Collatz stopping time.
    Collatz,
    /// A blocking sleep per index (I/O-bound); the result is the number of items.
    Sleep {
        /// Nanoseconds slept per index.
        per_item_ns: u64,
    },
}

/// Names accepted by [`Kernel::from_str`], for error messages and listings.
pub const KERNEL_NAMES: &str = "count, sum, primes, pi, collatz, sleep[:DURATION]";

/// Default time slept per item by `sleep`.
pub const DEFAULT_SLEEP: Duration = Duration::from_millis(1);

impl Kernel {
    /// Every kernel, `sleep` with its default duration.
    pub const ALL: [Kernel; 6] = [
        Kernel::Count,
        Kernel::Sum,
        Kernel::Primes,
        Kernel::Pi,
        Kernel::Collatz,
        Kernel::Sleep {
            per_item_ns: DEFAULT_SLEEP.as_nanos() as u64,
        },
    ];

    /// The kernel's name, without parameters.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Count => "count",
            Kernel::Sum => "sum",
            Kernel::Primes => "primes",
            Kernel::Pi => "pi",
            Kernel::Collatz => "collatz",
            Kernel::Sleep { .. } => "sleep",
        }
    }

    /// True for kernels that block rather than compute.
    pub fn is_blocking(&self) -> bool {
        matches!(self, Kernel::Sleep { .. })
    }

    /// Computes the total of one part.
    pub fn run(&self, span: Span) -> Result<Total> {
        self.run_with(span, &mut NoTicks)
    }

    /// Computes the total of one part, calling `ticker` at the kernel's check points and
    /// around its blocking calls.
    pub fn run_with(&self, span: Span, ticker: &mut impl Ticker) -> Result<Total> {
        let Span { start, end } = span;
        Ok(match *self {
            Kernel::Count => Total::Count {
                count: count::count_with(start, end, ticker),
            },
            Kernel::Sum => Total::Sum {
                sum: sum::sum_with(start, end, ticker),
            },
            Kernel::Primes => Total::Primes {
                primes: primes::primes_with(start, end, ticker),
            },
            Kernel::Pi => Total::Pi {
                hits: pi::pi_with(start, end, ticker),
                points: end - start,
            },
            Kernel::Collatz => Total::Collatz(collatz::collatz_with(start, end, ticker)?),
            Kernel::Sleep { per_item_ns } => Total::Sleep {
                items: sleep::sleep_with(start, end, Duration::from_nanos(per_item_ns), ticker),
            },
        })
    }

    /// The total of an empty range, the neutral element of [`Total::then`].
    pub fn zero(&self) -> Total {
        match self {
            Kernel::Count => Total::Count { count: 0 },
            Kernel::Sum => Total::Sum { sum: 0 },
            Kernel::Primes => Total::Primes { primes: 0 },
            Kernel::Pi => Total::Pi { hits: 0, points: 0 },
            Kernel::Collatz => Total::Collatz(collatz::Collatz::default()),
            Kernel::Sleep { .. } => Total::Sleep { items: 0 },
        }
    }
}

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

impl TryFrom<String> for Kernel {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<Kernel> for String {
    fn from(k: Kernel) -> String {
        k.to_string()
    }
}

/// The exact result of a kernel over a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kernel", rename_all = "lowercase")]
pub enum Total {
    /// `count`: number of indices counted.
    Count {
        /// Indices counted.
        count: u64,
    },
    /// `sum`: sum of the indices.
    Sum {
        /// Sum of the indices; a string in JSON, since it may exceed 2^64.
        #[serde(serialize_with = "as_string")]
        sum: u128,
    },
    /// `primes`: number of primes.
    Primes {
        /// Primes found.
        primes: u64,
    },
    /// `pi`: hits inside the quarter circle among `points`.
    Pi {
        /// Points inside the quarter circle.
        hits: u64,
        /// Points drawn.
        points: u64,
    },
    /// `collatz`: stopping-time figures.
    Collatz(collatz::Collatz),
    /// `sleep`: number of items slept on.
    Sleep {
        /// Items slept on.
        items: u64,
    },
}

/// Writes a `u128` as a decimal string: JSON numbers beyond 2^64 are lost by most readers.
pub(crate) fn as_string<S: serde::Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl Total {
    /// Combines this total with the total of the part right after it.
    ///
    /// Panics if the totals come from different kernels: a backend bug, never user input.
    pub fn then(self, later: Total) -> Total {
        match (self, later) {
            (Total::Count { count: a }, Total::Count { count: b }) => Total::Count { count: a + b },
            (Total::Sum { sum: a }, Total::Sum { sum: b }) => Total::Sum { sum: a + b },
            (Total::Primes { primes: a }, Total::Primes { primes: b }) => {
                Total::Primes { primes: a + b }
            }
            (Total::Pi { hits: a, points: p }, Total::Pi { hits: b, points: q }) => Total::Pi {
                hits: a + b,
                points: p + q,
            },
            (Total::Collatz(a), Total::Collatz(b)) => Total::Collatz(a.then(b)),
            (Total::Sleep { items: a }, Total::Sleep { items: b }) => Total::Sleep { items: a + b },
            (a, b) => panic!("cannot combine totals of different kernels: {a:?} and {b:?}"),
        }
    }

    /// Reads back a total from `parlab run --json` output (`headline` and `result` fields).
    /// The headline is a string, so sums beyond 2^64 survive JSON.
    pub fn from_json(kernel: &Kernel, v: &serde_json::Value) -> Option<Total> {
        let headline: u128 = v["headline"].as_str()?.parse().ok()?;
        let r = &v["result"];
        let small = || u64::try_from(headline).ok();
        Some(match kernel {
            Kernel::Count => Total::Count { count: small()? },
            Kernel::Sum => Total::Sum { sum: headline },
            Kernel::Primes => Total::Primes { primes: small()? },
            Kernel::Pi => Total::Pi {
                hits: small()?,
                points: r["points"].as_u64()?,
            },
            Kernel::Collatz => Total::Collatz(collatz::Collatz {
                steps: headline,
                max_steps: u32::try_from(r["max_steps"].as_u64()?).ok()?,
                argmax: r["argmax"].as_u64(),
            }),
            Kernel::Sleep { .. } => Total::Sleep { items: small()? },
        })
    }

    /// The headline number: what `Result:` prints.
    pub fn headline(&self) -> u128 {
        match *self {
            Total::Count { count: n } | Total::Primes { primes: n } | Total::Sleep { items: n } => {
                n as u128
            }
            Total::Sum { sum: n } => n,
            Total::Pi { hits, .. } => hits as u128,
            Total::Collatz(c) => c.steps,
        }
    }
}

impl fmt::Display for Total {
    /// The headline number, then details where the kernel has more than one figure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.headline())?;
        match *self {
            Total::Pi { hits, points } if points > 0 => write!(
                f,
                " hits of {points} points (pi ~ {:.6})",
                4.0 * hits as f64 / points as f64
            ),
            Total::Collatz(c) => match c.argmax {
                Some(n) => write!(
                    f,
                    " steps in total; longest {} steps, first at {n}",
                    c.max_steps
                ),
                None => write!(f, " steps in total (empty range)"),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kernel::ALL {
            assert_eq!(k.to_string().parse::<Kernel>().unwrap(), k);
        }
        assert_eq!(
            "sleep:250us".parse::<Kernel>().unwrap(),
            Kernel::Sleep {
                per_item_ns: 250_000
            }
        );
    }

    #[test]
    fn rejects_unknown_kernels_listing_the_valid_ones() {
        let e = "fib".parse::<Kernel>().unwrap_err().to_string();
        assert!(e.contains("'fib'") && e.contains("collatz"), "{e}");
        assert!("count:3".parse::<Kernel>().is_err());
        assert!("sleep:forever".parse::<Kernel>().is_err());
        assert!("sleep:2h".parse::<Kernel>().is_err());
        assert!("sleep:-1ms".parse::<Kernel>().is_err());
    }

    #[test]
    fn totals_combine_in_order() {
        let k = Kernel::Pi;
        let parts = [Span::new(0, 10).unwrap(), Span::new(10, 100).unwrap()];
        let t = parts
            .iter()
            .fold(k.zero(), |acc, s| acc.then(k.run(*s).unwrap()));
        assert_eq!(t, k.run(Span::new(0, 100).unwrap()).unwrap());
    }

    #[test]
    fn totals_read_back_from_run_json() {
        for (k, t) in [
            (Kernel::Sum, Total::Sum { sum: u128::MAX / 3 }),
            (Kernel::Pi, Total::Pi { hits: 3, points: 4 }),
            (
                Kernel::Collatz,
                Total::Collatz(collatz::Collatz {
                    steps: 9,
                    max_steps: 7,
                    argmax: Some(3),
                }),
            ),
            (Kernel::Collatz, Total::Collatz(collatz::Collatz::default())),
        ] {
            let v = serde_json::json!({ "headline": t.headline().to_string(), "result": t });
            assert_eq!(Total::from_json(&k, &v), Some(t));
        }
        // Sums beyond 2^64 are strings in JSON, so they survive any reader.
        let big = serde_json::to_value(Total::Sum { sum: u128::MAX }).unwrap();
        assert_eq!(big["sum"], u128::MAX.to_string());
        {}
    }

    #[test]
    fn json_shape_is_tagged_by_kernel() {
        let j = serde_json::to_string(&Total::Pi { hits: 3, points: 4 }).unwrap();
        assert_eq!(j, r#"{"kernel":"pi","hits":3,"points":4}"#);
    }
}
