//! Kernels: the work done for every index, each with an exact integer answer.
//!
//! A kernel maps a part `start..end` to a [`Total`]; totals of consecutive parts combine with
//! [`Total::then`] in part order into the total of the whole range. Every result is an integer,
//! so any backend that drops, repeats or mis-cuts a part gives a different answer and is caught.
//!
//! This file holds [`Kernel`] and its dispatch to one file per kernel (`count`, `sum`,
//! `primes`, `pi`, `collatz`, `sleep`); [`Total`] lives in `total`, the written form
//! (`sleep:250us`) in `parse`, and the hooks the GIL models give kernels ([`Ticker`]) in
//! `ticker`.

pub mod collatz;
pub mod count;
mod parse;
pub mod pi;
pub mod primes;
pub mod sleep;
pub mod sum;
mod ticker;
mod total;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::span::Span;

pub use parse::KERNEL_NAMES;
pub use ticker::{NoTicks, SLEEP_CHECK, Ticker};
pub(crate) use ticker::{in_blocks, nap};
pub use total::Total;
pub(crate) use total::as_string;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_neutral_on_both_sides_for_every_kernel() {
        let span = Span::new(5, 12).unwrap();
        for k in Kernel::ALL {
            let t = k.run(span).unwrap();
            assert_eq!(k.zero().then(t), t, "{k}");
            assert_eq!(t.then(k.zero()), t, "{k}");
            // A non-empty range has a non-zero total in every kernel, so the checks above
            // compare something.
            assert!(t.headline() > 0, "{k}: {t}");
        }
    }
}
