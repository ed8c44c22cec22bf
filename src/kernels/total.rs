//! [`Total`]: the exact answer of a kernel over a range, how totals of consecutive parts
//! combine, and how one is read back from `parlab run --json`.
//!
//! Every total is made of integers, so two backends agree exactly or not at all: a dropped,
//! repeated or mis-cut part always shows.

use std::fmt;

use serde::Serialize;

use super::Kernel;
use super::collatz;

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
                " hit{} of {} (pi ~ {:.6})",
                if hits == 1 { "" } else { "s" },
                crate::units::count(points, "point"),
                4.0 * hits as f64 / points as f64
            ),
            Total::Collatz(c) => {
                let s = if self.headline() == 1 { "" } else { "s" };
                match c.argmax {
                    Some(n) => write!(
                        f,
                        " step{s} in total; longest {}, first at {n}",
                        crate::units::count(c.max_steps, "step")
                    ),
                    None => write!(f, " step{s} in total (empty range)"),
                }
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;

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
    #[should_panic(expected = "different kernels")]
    fn totals_of_different_kernels_do_not_combine() {
        Total::Count { count: 1 }.then(Total::Primes { primes: 1 });
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
        // A count beyond u64 is not a count.
        let v = serde_json::json!({ "headline": u128::MAX.to_string(), "result": {} });
        assert_eq!(Total::from_json(&Kernel::Count, &v), None);
    }

    #[test]
    fn json_shape_is_tagged_by_kernel() {
        let j = serde_json::to_string(&Total::Pi { hits: 3, points: 4 }).unwrap();
        assert_eq!(j, r#"{"kernel":"pi","hits":3,"points":4}"#);
    }

    #[test]
    fn display_gives_the_headline_then_the_details() {
        assert_eq!(
            Total::Pi { hits: 3, points: 4 }.to_string(),
            "3 hits of 4 points (pi ~ 3.000000)"
        );
        assert_eq!(Total::Sum { sum: 5050 }.to_string(), "5050");
        assert_eq!(
            Total::Collatz(collatz::Collatz::default()).to_string(),
            "0 steps in total (empty range)"
        );
    }
}
