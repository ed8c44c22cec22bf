//! `collatz`: total and maximum stopping time over the range.
//!
//! The stopping time of n is the number of steps (n -> n/2 if even, 3n+1 if odd) until n
//! reaches 1; by convention 0 and 1 take 0 steps. The kernel reports the sum of the stopping
//! times, the longest one and the first index that takes it. Trajectories are followed in
//! `u128`; a trajectory that would leave it is reported as an overflow, never wrapped.

use super::{NoTicks, Ticker};
use crate::error::{Error, Result};

/// The combined figures of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Collatz {
    /// Sum of the stopping times; a string in JSON, since it may exceed 2^64.
    #[serde(serialize_with = "super::as_string")]
    pub steps: u128,
    /// Longest stopping time (0 for an empty range).
    pub max_steps: u32,
    /// First index with the longest stopping time (`None` for an empty range).
    pub argmax: Option<u64>,
}

/// Stopping time of `n`.
pub fn stopping_time(n: u64) -> Result<u32> {
    if n <= 1 {
        return Ok(0);
    }
    let mut x = n as u128;
    let mut steps = 0u32;
    while x != 1 {
        if x.is_multiple_of(2) {
            let tz = x.trailing_zeros();
            x >>= tz;
            steps += tz;
        } else {
            x = x
                .checked_mul(3)
                .and_then(|v| v.checked_add(1))
                .ok_or_else(|| Error::Overflow {
                    kernel: "collatz",
                    index: n,
                    detail: "the trajectory exceeds 2^128".into(),
                })?;
            steps += 1;
        }
    }
    Ok(steps)
}

/// The figures of `start..end`.
pub fn collatz(start: u64, end: u64) -> Result<Collatz> {
    collatz_with(start, end, &mut NoTicks)
}

/// [`collatz`] with a check point after every index (a trajectory is some 100-300 ns).
pub fn collatz_with(start: u64, end: u64, ticker: &mut impl Ticker) -> Result<Collatz> {
    let mut out = Collatz::default();
    for n in start..end {
        ticker.tick();
        let s = stopping_time(n)?;
        out.steps += s as u128;
        if out.argmax.is_none() || s > out.max_steps {
            out.max_steps = s;
            out.argmax = Some(n);
        }
    }
    Ok(out)
}

impl Collatz {
    /// Combines the figures of a range with those of the range just after it. On equal maxima
    /// the earlier index wins, which is why totals are combined in part order.
    pub fn then(self, later: Collatz) -> Collatz {
        let take_later = match (self.argmax, later.argmax) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(_)) => later.max_steps > self.max_steps,
        };
        let (max_steps, argmax) = if take_later {
            (later.max_steps, later.argmax)
        } else {
            (self.max_steps, self.argmax)
        };
        Collatz {
            steps: self.steps + later.steps,
            max_steps,
            argmax,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_stopping_times() {
        // OEIS A006577: 27 takes 111 steps, 97 takes 118.
        assert_eq!(stopping_time(27).unwrap(), 111);
        assert_eq!(stopping_time(97).unwrap(), 118);
        assert_eq!(stopping_time(1).unwrap(), 0);
        assert_eq!(stopping_time(2).unwrap(), 1);
    }

    #[test]
    fn record_below_one_million() {
        // OEIS A006877: below 10^6 the longest is 524 steps, at 837799.
        let c = collatz(0, 1_000_000).unwrap();
        assert_eq!((c.max_steps, c.argmax), (524, Some(837_799)));
    }

    #[test]
    fn combining_keeps_the_earliest_maximum() {
        let whole = collatz(0, 10_000).unwrap();
        let halves = collatz(0, 5_000)
            .unwrap()
            .then(collatz(5_000, 10_000).unwrap());
        assert_eq!(whole, halves);
        // 6171 takes 261 steps, a record (A006877) unbeaten below 10971.
        assert_eq!((whole.max_steps, whole.argmax), (261, Some(6171)));
        let tie = Collatz {
            steps: 1,
            max_steps: 5,
            argmax: Some(3),
        }
        .then(Collatz {
            steps: 1,
            max_steps: 5,
            argmax: Some(9),
        });
        assert_eq!(tie.argmax, Some(3));
        assert_eq!(Collatz::default().then(tie), tie);
        assert_eq!(tie.then(Collatz::default()), tie);
    }

    #[test]
    fn top_of_u64_does_not_overflow() {
        let c = collatz(u64::MAX - 100, u64::MAX).unwrap();
        assert!(c.max_steps > 0);
    }
}
